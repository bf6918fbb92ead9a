// topk.h: the few largest-magnitude entries of a row (the int8 path's outlier features).
#pragma once

namespace edgebert {

// Writes to idx[0..count) the columns of the min(t, k) largest |x[i]| of x (k values), by
// decreasing magnitude; ties keep the lower column first. NaN compares false: one among the first
// t entries is taken (at the end of the list so far), later ones never. Returns count = min(t, k).
// 0 <= t <= kTopAbsMax.
constexpr int kTopAbsMax = 16;
int TopAbs(const float* x, int k, int t, int* idx);

// Scalar reference: the same selection, one element at a time.
int TopAbsReference(const float* x, int k, int t, int* idx);

// sum x[i]^2 in double over k floats (SIMD: four fp32 lanes per group of 16 widened to double per
// group, so the result is within 4 * 2^-24 relative of the exact sum); the reference is plain
// double. With absmax: also max |x[i]| (NaN entries ignored; 0 for k = 0).
double SumOfSquares(const float* x, int k, float* absmax = nullptr);
double SumOfSquaresReference(const float* x, int k, float* absmax = nullptr);

}  // namespace edgebert
