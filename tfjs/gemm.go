package tfjs

import "github.com/tell-project/tell/nn"

// gemmT computes c (m×n, dense) = op(a) · op(b), either operand transposed,
// with explicit leading dimensions of the stored matrices, on the nn
// engine's SGEMM on the calling goroutine: a Runner's products are small
// (the iris model's largest is 2048×64×32), and splitting them over two
// cores cost more in hand-offs than it gained (iris on 2 cores: 4.8 ms
// wall and twice the CPU against 4.0 ms on one; BlazeFace at 256×256
// gained 3% wall for twice the CPU). Callers that want several cores run
// several Runners. Convolutions multiply by their filters packed once
// (Model.packedFilter, nn.GemmPackedSerial), with the same results.
func gemmT(ta, tb bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32) {
	nn.GemmSerial(ta, tb, m, n, k, 1, a, lda, b, ldb, 0, c, n)
}
