package nn

import (
	"context"
	"testing"
)

// BenchmarkRefStep times one training step of the reference model.
func BenchmarkRefStep(b *testing.B) {
	r, err := BenchRef(context.Background(), DefaultRefConfig(), 32, 1, b.N)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(r.MedianMS, "ms/step")
}

func TestBenchRefLossFalls(t *testing.T) {
	cfg := tinyRefConfig()
	r, err := BenchRef(context.Background(), cfg, 8, 0, 30)
	if err != nil {
		t.Fatal(err)
	}
	if !(r.LastLoss < r.FirstLoss) || len(r.StepMS) != 30 {
		t.Fatalf("loss %v -> %v over %d steps", r.FirstLoss, r.LastLoss, len(r.StepMS))
	}
}

// BenchmarkBlock times forward+backward of one reference-size transformer
// block (batch 32 × 50 tokens × width 128).
func BenchmarkBlock(b *testing.B) {
	blk := NewBlock("blk", 128, 4, 512, NewRNG(1))
	x := randTensor(2, 1, 32, 50, 128)
	dy := randTensor(3, 1, 32, 50, 128)
	for i := 0; i < b.N; i++ {
		blk.Forward(x)
		blk.Backward(dy)
	}
}
