// dot_i16.h: int16 products for attention (q k^T and p v per head), with int32 sums and one float
// scale per row of each operand. Integer sums are exact, so a result depends neither on the blocking
// nor on the order of the terms: zero terms appended to the depth (padded keys) change no bit.
#pragma once

#include <cstdint>

namespace edgebert {

// Depths are multiples of this (callers zero-pad).
constexpr int kDotI16Depth = 8;

// c[i][j] = float(sum_t a[i][t] b[j][t]) * ra[i] * rb[j] for i < m, j < n, t < depth: a (m, depth)
// and b (n, depth) row-major int16 with leading dimensions lda, ldb (elements), c (m, n) float with
// ldc. depth is a multiple of kDotI16Depth. The caller bounds the values so that sum_t |a[i][t]
// b[j][t]| < 2^31 for every pair of rows (then every partial sum fits in int32; rows quantized with
// DotI16NormLimit's norm do, by Cauchy-Schwarz); then the result is the reference's bit for bit.
void DotI16(int m, int n, int depth, const int16_t* a, int lda, const int16_t* b, int ldb, const float* ra,
            const float* rb, float* c, int ldc);

// The scalar reference: int64 sums, then the same two float products in the same order.
void DotI16Reference(int m, int n, int depth, const int16_t* a, int lda, const int16_t* b, int ldb,
                     const float* ra, const float* rb, float* c, int ldc);

// A norm limit for rows of n values quantized by QuantizeRowI16: with the rounding (0.5 a value at
// most) their L2 norms stay below 46340, so that the dot product of any two such rows, and all its
// partial sums, are below 46340^2 < 2^31 in magnitude.
float DotI16NormLimit(int n);

// out[t] = round(x[t] / scale) for t < n and 0 for n <= t < padded, with the smallest scale that keeps
// max|out| <= limit and, if norm_limit > 0, ||x / scale||_2 <= norm_limit: scale = max(max|x| / limit,
// ||x||_2 / norm_limit). Returns scale, or 0 when every x is 0 (then out is all 0). 1 <= limit <=
// 32767; x finite.
float QuantizeRowI16(const float* x, int n, int limit, float norm_limit, int16_t* out, int padded);

}  // namespace edgebert
