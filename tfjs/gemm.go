package tfjs

import "github.com/tell-project/tell/nn"

// gemm computes c (m×n) = a (m×k) · b (k×n), all row-major and dense, on
// the nn engine's SGEMM, on the calling goroutine: a Runner's products are
// small (the iris model's largest is 2048×64×32), and splitting them over
// two cores cost more in hand-offs than it gained (iris on 2 cores: 4.8 ms
// wall and twice the CPU against 4.0 ms on one; BlazeFace at 256×256 gained
// 3% wall for twice the CPU). Callers that want several cores run several
// Runners.
func gemm(m, n, k int, a, b, c []float32) {
	nn.GemmSerial(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
}

// gemmT is gemm with either operand transposed and explicit leading
// dimensions of the stored matrices.
func gemmT(ta, tb bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32) {
	nn.GemmSerial(ta, tb, m, n, k, 1, a, lda, b, ldb, 0, c, n)
}
