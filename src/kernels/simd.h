// simd.h: 4-lane fp32/int32 vectors for src/kernels/, written with the GCC/Clang vector extension so
// that one source compiles to WebAssembly SIMD128 (emcc -msimd128) and to SSE natively: the kernels
// that run in the browser are the very code the native tests exercise.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
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
// Sum of the lanes in a fixed order: (l0 + l2) + (l1 + l3).
inline float HorizontalSum(F4 v) { return (v[0] + v[2]) + (v[1] + v[3]); }
inline float HorizontalMax(F4 v) {
  const float a = v[0] > v[2] ? v[0] : v[2];
  const float b = v[1] > v[3] ? v[1] : v[3];
  return a > b ? a : b;
}

}  // namespace simd
}  // namespace edgebert
