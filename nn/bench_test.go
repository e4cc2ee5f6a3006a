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
