// ceiling.cc: how many int8 multiply-adds per second the instructions themselves allow, as opposed to
// what a GEMM reaches. Built twice by bench/gemm/ceiling.sh:
//  - natively (gcc, x86 intrinsics): _mm_madd_epi16 + _mm_add_epi32, the pair that V8 emits for
//    wasm's i32x4.dot_i16x8_s + i32x4.add, with independent accumulators and register operands;
//  - as wasm (emcc -msimd128), run by V8 (node): the same dot + add pair on operands loaded from a
//    small L1-resident buffer ("dot+add, int16 operands": 16 SIMD ALU ops per 64 MACs, the least
//    any i32x4.dot_i16x8_s GEMM can issue), and our production kernel itself
//    (WasmSimd128_Kernel2x4Depth8WideRhs::Run from src/gemm/kernel_wasmsimd.h: + two uint8 -> int16
//    load-extends, 18 ops per 64 MACs, and its per-call lane reduction and stores).
// Every loop stores its accumulators, so nothing is optimized away. One thread.
#include <cstdint>
#include <cstdio>
#include <ctime>

#if defined(__wasm_simd128__)
#include <emscripten.h>
#include <wasm_simd128.h>

#include "gemm/kernel_wasmsimd.h"

// 2 rows x 4 columns x depth 8 per iteration, int16 on both sides (plain 128-bit loads).
static void DotAddInt16(int32_t* out, const int16_t* a, const int16_t* b, int depth) {
  v128_t c00 = wasm_i32x4_splat(0), c01 = c00, c02 = c00, c03 = c00;
  v128_t c10 = c00, c11 = c00, c12 = c00, c13 = c00;
#pragma clang loop unroll(disable)
  for (int d = 0; d < depth; d += 8) {
    const v128_t a0 = wasm_v128_load(a), a1 = wasm_v128_load(a + 8);
    v128_t x = wasm_v128_load(b);
    c00 = wasm_i32x4_add(c00, wasm_i32x4_dot_i16x8(a0, x));
    c10 = wasm_i32x4_add(c10, wasm_i32x4_dot_i16x8(a1, x));
    x = wasm_v128_load(b + 8);
    c01 = wasm_i32x4_add(c01, wasm_i32x4_dot_i16x8(a0, x));
    c11 = wasm_i32x4_add(c11, wasm_i32x4_dot_i16x8(a1, x));
    x = wasm_v128_load(b + 16);
    c02 = wasm_i32x4_add(c02, wasm_i32x4_dot_i16x8(a0, x));
    c12 = wasm_i32x4_add(c12, wasm_i32x4_dot_i16x8(a1, x));
    x = wasm_v128_load(b + 24);
    c03 = wasm_i32x4_add(c03, wasm_i32x4_dot_i16x8(a0, x));
    c13 = wasm_i32x4_add(c13, wasm_i32x4_dot_i16x8(a1, x));
    a += 16;
    b += 32;
  }
  wasm_v128_store(out, wasm_i32x4_add(wasm_i32x4_add(c00, c01), wasm_i32x4_add(c02, c03)));
  wasm_v128_store(out + 4, wasm_i32x4_add(wasm_i32x4_add(c10, c11), wasm_i32x4_add(c12, c13)));
}

enum { kDepth = 768 };
static int16_t a16[2 * kDepth], b16[4 * kDepth];
static uint8_t a8[2 * kDepth];
static int32_t out[8];

// Runs `reps` passes of 2x4xkDepth through one loop and returns the multiply-adds done. The loops
// are entered once per pass, like a kernel per tile, so V8 tiers them up.
extern "C" {
EMSCRIPTEN_KEEPALIVE double ceiling_run(int which, int reps) {
  const edgebert::WasmSimd128_Kernel2x4Depth8WideRhs kernel;  // no static constructors: no ctors run here
  for (int r = 0; r < reps; ++r) {
    if (which == 0) {
      DotAddInt16(out, a16, b16, kDepth);
    } else {
      const gemmlowp::KernelBase& k = kernel;  // called through the interface, as gemm_u8.cc does
      k.Run(out, 1, 2, a8, reinterpret_cast<const uint8_t*>(b16), 0, kDepth);
    }
  }
  return static_cast<double>(reps) * 8 * kDepth;
}

EMSCRIPTEN_KEEPALIVE int ceiling_checksum(void) { return out[0] + out[7]; }
}

#else  // native x86
#include <immintrin.h>

static double Now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void) {
  // Core clock from a dependent chain of 1-cycle scalar adds (4 per iteration).
  const long n = 200000000;
  uint64_t x = 1;
  double t0 = Now();
  for (long i = 0; i < n; ++i) __asm__ volatile("add $1,%0\n add $1,%0\n add $1,%0\n add $1,%0" : "+r"(x));
  const double ghz = 4.0 * n / (Now() - t0) / 1e9;

  // pmaddwd + paddd pairs with 6 independent accumulators, register operands (no loads).
  __m128i a = _mm_set1_epi16(3), b = _mm_set1_epi16(5);
  __m128i c0 = _mm_setzero_si128(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
  const long m = 50000000;
  t0 = Now();
  for (long i = 0; i < m; ++i) {
    __asm__ volatile(
        "vpmaddwd %6,%7,%%xmm10\n vpaddd %%xmm10,%0,%0\n vpmaddwd %6,%7,%%xmm11\n vpaddd %%xmm11,%1,%1\n"
        "vpmaddwd %6,%7,%%xmm12\n vpaddd %%xmm12,%2,%2\n vpmaddwd %6,%7,%%xmm13\n vpaddd %%xmm13,%3,%3\n"
        "vpmaddwd %6,%7,%%xmm14\n vpaddd %%xmm14,%4,%4\n vpmaddwd %6,%7,%%xmm15\n vpaddd %%xmm15,%5,%5\n"
        : "+x"(c0), "+x"(c1), "+x"(c2), "+x"(c3), "+x"(c4), "+x"(c5)
        : "x"(a), "x"(b)
        : "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
  }
  const double t = Now() - t0;
  const double gmacs = 48.0 * m / t / 1e9;  // 6 pairs x 8 multiply-adds per iteration
  printf("{\"clock_ghz\":%.2f,\"native_dot_add_gmacs\":%.1f,\"macs_per_cycle\":%.1f,\"checksum\":%d}\n", ghz,
         gmacs, gmacs / ghz, _mm_cvtsi128_si32(_mm_add_epi32(c0, c5)));
  return 0;
}
#endif
