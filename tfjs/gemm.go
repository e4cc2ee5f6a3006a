package tfjs

import "github.com/tell-project/tell/nn"

// gemm computes c (m×n) = a (m×k) · b (k×n), all row-major and dense, on
// the nn engine's SGEMM.
func gemm(m, n, k int, a, b, c []float32) {
	nn.Gemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
}

// gemmT is gemm with either operand transposed and explicit leading
// dimensions of the stored matrices.
func gemmT(ta, tb bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32) {
	nn.Gemm(ta, tb, m, n, k, 1, a, lda, b, ldb, 0, c, n)
}
