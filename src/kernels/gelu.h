// gelu.h: erf and GELU (0.5 x (1 + erf(x / sqrt 2)), transformers' "gelu") over arrays, SIMD with
// scalar references.
#pragma once

#include <cstddef>

namespace edgebert {

// y[i] = erf(x[i]) with absolute error below 4e-7 (about 6 fp32 ulp of values near 1; measured
// 3.8e-7 max over a dense grid, tests/kernels_gelu_test.cc); exactly +-1 for |x| >= 4 (the true
// value is within 1.6e-8 of it). y may equal x.
void ErfFast(const float* x, size_t n, float* y);

// In place: x = 0.5 x (1 + erf(x / sqrt 2)) with ErfFast's erf: absolute error below
// 0.5 |x| * 4e-7 + 1 ulp of the result (at most ~1.2e-6, for |x| near 5.6; exact 0 / x beyond).
void GeluErf(float* x, size_t n);

// Scalar references with std::erf, in the encoder's former expression order.
void ErfReference(const float* x, size_t n, float* y);
void GeluErfReference(float* x, size_t n);

}  // namespace edgebert
