// simd.h: 4-lane fp32/int32 vectors for src/kernels/, written with the GCC/Clang vector extension so
// that one source compiles to WebAssembly SIMD128 (emcc -msimd128) and to SSE natively: the kernels
// that run in the browser are the very code the native tests exercise.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#elif defined(__SSE__)
#include <xmmintrin.h>
#endif

namespace edgebert {
namespace simd {

typedef float F4 __attribute__((vector_size(16)));
typedef int32_t I4 __attribute__((vector_size(16)));
typedef uint32_t U4 __attribute__((vector_size(16)));

// Unaligned loads and stores (memcpy of 16 bytes compiles to one v128.load / movups).
inline F4 Load(const float* p) {
  F4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void Store(float* p, F4 v) { std::memcpy(p, &v, sizeof v); }
// The first n (0..4) floats at p, the other lanes 0.
inline F4 LoadPartial(const float* p, int n) {
  F4 v = {0.f, 0.f, 0.f, 0.f};
  for (int i = 0; i < n; ++i) v[i] = p[i];
  return v;
}
inline void StorePartial(float* p, F4 v, int n) {
  for (int i = 0; i < n; ++i) p[i] = v[i];
}
inline F4 Splat(float x) { return F4{x, x, x, x}; }
// v, hidden from the optimizers. In wasm, LLVM and wasm-opt write a vector constant (v128.const) at
// each use, also inside loops, and V8 builds each from immediates (several instructions); a constant
// passed through Keep before a loop is read once from the stack into a local (a register or a stack
// slot: one load at most per use). Natively it is v.
template <typename V>
inline V Keep(V v) {
#if defined(__wasm_simd128__)
  volatile V slot = v;
  return slot;
#else
  return v;
#endif
}
inline I4 SplatI(int32_t x) { return I4{x, x, x, x}; }
inline I4 AsInt(F4 v) {
  I4 r;
  std::memcpy(&r, &v, sizeof r);
  return r;
}
// Left shift of every lane's bit pattern (as unsigned: no signed-overflow questions).
inline I4 ShiftLeftBits(I4 v, int bits) {
  U4 u;
  std::memcpy(&u, &v, sizeof u);
  u <<= bits;
  std::memcpy(&v, &u, sizeof v);
  return v;
}
inline F4 AsFloat(I4 v) {
  F4 r;
  std::memcpy(&r, &v, sizeof r);
  return r;
}
#if defined(__wasm_simd128__)
inline v128_t ToV128(F4 v) {
  v128_t r;
  std::memcpy(&r, &v, sizeof r);
  return r;
}
inline F4 FromV128(v128_t v) {
  F4 r;
  std::memcpy(&r, &v, sizeof r);
  return r;
}
#endif
// mask lanes are all ones or all zeros (the result of a vector comparison).
inline F4 Select(I4 mask, F4 a, F4 b) { return AsFloat((mask & AsInt(a)) | (~mask & AsInt(b))); }
// Lane-wise max/min that keep `a` where the comparison is false (b > a ? b : a; NaN in b is
// ignored): one instruction in both targets (f32x4.pmax/pmin, maxps/minps with swapped operands).
inline F4 Max(F4 a, F4 b) {
#if defined(__wasm_simd128__)
  return FromV128(wasm_f32x4_pmax(ToV128(a), ToV128(b)));
#elif defined(__SSE__)
  return _mm_max_ps(b, a);
#else
  return Select(b > a, b, a);
#endif
}
inline F4 Min(F4 a, F4 b) {
#if defined(__wasm_simd128__)
  return FromV128(wasm_f32x4_pmin(ToV128(a), ToV128(b)));
#elif defined(__SSE__)
  return _mm_min_ps(b, a);
#else
  return Select(b < a, b, a);
#endif
}
// Whether any lane of a comparison result is set.
inline bool AnyTrue(I4 mask) {
#if defined(__wasm_simd128__)
  v128_t m;
  std::memcpy(&m, &mask, sizeof m);
  return wasm_v128_any_true(m);
#else
  return (mask[0] | mask[1] | mask[2] | mask[3]) != 0;
#endif
}
inline F4 Abs(F4 v) { return AsFloat(AsInt(v) & SplatI(0x7fffffff)); }
inline F4 ToFloat(I4 v) { return __builtin_convertvector(v, F4); }
// Round half away from zero to int32 (|v| < 2^31): truncation of v + copysign(0.5, v).
inline I4 RoundToInt(F4 v) {
  const F4 half = AsFloat((AsInt(v) & SplatI(static_cast<int32_t>(0x80000000u))) | AsInt(Splat(0.5f)));
  return __builtin_convertvector(v + half, I4);
}

// 8 int16 lanes, for the int16 dot products of attention (kernels/dot_i16.h).
typedef int16_t I16x8 __attribute__((vector_size(16)));
inline I16x8 LoadI16(const int16_t* p) {
  I16x8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
// The bits of v as another 16-byte type (vector types of the two targets' intrinsics and ours).
template <typename To, typename From>
inline To BitCast(From v) {
  static_assert(sizeof(To) == sizeof(From), "same size");
  To r;
  std::memcpy(&r, &v, sizeof r);
  return r;
}
// Sums of adjacent products: lane i = a[2i] b[2i] + a[2i+1] b[2i+1] in int32 (i32x4.dot_i16x8_s,
// pmaddwd). Exact unless both pairs are -32768 * -32768, which the callers' bounds exclude.
inline I4 MulAddPairs(I16x8 a, I16x8 b) {
#if defined(__wasm_simd128__)
  return BitCast<I4>(wasm_i32x4_dot_i16x8(BitCast<v128_t>(a), BitCast<v128_t>(b)));
#elif defined(__SSE2__)
  return BitCast<I4>(_mm_madd_epi16(BitCast<__m128i>(a), BitCast<__m128i>(b)));
#else
  I4 out;
  for (int i = 0; i < 4; ++i) out[i] = int32_t{a[2 * i]} * b[2 * i] + int32_t{a[2 * i + 1]} * b[2 * i + 1];
  return out;
#endif
}
// [a0 a1 a2 a3 b0 b1 b2 b3] as int16, saturating (i16x8.narrow_i32x4_s, packssdw).
inline I16x8 NarrowToI16(I4 a, I4 b) {
#if defined(__wasm_simd128__)
  return BitCast<I16x8>(wasm_i16x8_narrow_i32x4(BitCast<v128_t>(a), BitCast<v128_t>(b)));
#elif defined(__SSE2__)
  return BitCast<I16x8>(_mm_packs_epi32(BitCast<__m128i>(a), BitCast<__m128i>(b)));
#else
  I16x8 r;
  for (int i = 0; i < 4; ++i) {
    r[i] = static_cast<int16_t>(a[i] > 32767 ? 32767 : a[i] < -32768 ? -32768 : a[i]);
    r[i + 4] = static_cast<int16_t>(b[i] > 32767 ? 32767 : b[i] < -32768 ? -32768 : b[i]);
  }
  return r;
#endif
}
inline void StoreI16(int16_t* p, I16x8 v) { std::memcpy(p, &v, sizeof v); }
// [sum of a's lanes, sum of b's, sum of c's, sum of d's] (int32 sums are exact in any order).
inline I4 SumLanes4(I4 a, I4 b, I4 c, I4 d) {
  const I4 ab = __builtin_shufflevector(a, b, 0, 4, 1, 5) + __builtin_shufflevector(a, b, 2, 6, 3, 7);
  const I4 cd = __builtin_shufflevector(c, d, 0, 4, 1, 5) + __builtin_shufflevector(c, d, 2, 6, 3, 7);
  return __builtin_shufflevector(ab, cd, 0, 1, 4, 5) + __builtin_shufflevector(ab, cd, 2, 3, 6, 7);
}
// Sum of the lanes in a fixed order: (l0 + l2) + (l1 + l3).
inline float HorizontalSum(F4 v) { return (v[0] + v[2]) + (v[1] + v[3]); }
inline float HorizontalMax(F4 v) {
  const float a = v[0] > v[2] ? v[0] : v[2];
  const float b = v[1] > v[3] ? v[1] : v[3];
  return a > b ? a : b;
}

}  // namespace simd
}  // namespace edgebert
