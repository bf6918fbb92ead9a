// softmax.h: exp and row softmax for attention, SIMD (kernels/simd.h) with scalar references.
#pragma once

#include <cstdint>

namespace edgebert {

// y[i] = exp(x[i]) for softmax arguments (x - max <= 0): relative error below 3e-7 (about 2.5 fp32
// ulp; tests/kernels_softmax_test.cc checks it against double exp on a dense grid) for x in
// [-86.5, 88]; exactly 0 for x < -86.5 (the true value is below 2.7e-38: nothing a softmax sum of
// terms <= 1 can see) and exp(88) for x > 88. NaN in gives an unspecified value. y may equal x.
void ExpFast(const float* x, int n, float* y);

// In place over one row of n >= 1 values: x = exp(x - max) * (1 / sum), with ExpFast's exp. The sum
// adds x[j] into lane j % 4 of a vector and the lanes last, so appending entries whose exp is 0
// (masked keys set to -FLT_MAX) leaves every result bit for bit the same.
void Softmax(float* x, int n);

// Softmax quantized for DotI16: out[j] = round(p[j] * limit) with p as Softmax computes it (up to the
// float rounding of p * limit), 0 for masked keys; x is left holding the exps. sum_j out[j] <= limit +
// n / 2. 1 <= limit <= 32767.
void SoftmaxToI16(float* x, int n, int limit, int16_t* out);

// Scalar references: std::exp, sums in index order.
void ExpReference(const float* x, int n, float* y);
void SoftmaxReference(float* x, int n);
void SoftmaxToI16Reference(float* x, int n, int limit, int16_t* out);

}  // namespace edgebert
