// sgemm.h: a small fp32 matrix product for attention (q k^T and p v per head), SIMD-blocked.
#pragma once

namespace edgebert {

// c (m, n) = alpha * (a (m, k) b (k, n)), all row-major with leading dimensions lda, ldb, ldc
// (elements). Every c[i][j] is summed in the order p = 0, 1, ..., k - 1 and multiplied by alpha
// last, whatever the blocking, so results do not depend on m, n or where (i, j) falls in a tile
// (trailing zero terms of a longer k leave a sum unchanged). c must not overlap a or b.
void Sgemm(int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb, float* c,
           int ldc);

// The scalar reference: the same sums in the same order, plain loops.
void SgemmReference(int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
                    float* c, int ldc);

}  // namespace edgebert
