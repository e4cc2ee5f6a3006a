package cnn

import (
	"testing"

	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/nn"
)

// BenchmarkStep measures one training step (forward, backward) of the
// default model on a batch of 64 flows of 28×28.
func BenchmarkStep(b *testing.B) {
	info := model.Info{Kind: model.KindFlow, Layout: model.DefaultInput().Layout(model.KindFlow), Classes: []string{"a", "b", "c"}}
	m, err := NewModel(DefaultConfig(), 1, info)
	if err != nil {
		b.Fatal(err)
	}
	const B = 64
	xs := make([][]float32, B)
	ys := make([]int, B)
	for i := range xs {
		xs[i] = make([]float32, info.Layout.Len())
		for j := range xs[i] {
			xs[i][j] = float32((i*7+j*13)%17)/17 - 0.5
		}
		ys[i] = i % 3
	}
	var ce nn.CrossEntropy
	m.setTraining(true)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		nn.ZeroGrad(m.Params())
		s, err := m.forward(m.batch(xs))
		if err != nil {
			b.Fatal(err)
		}
		_, d, _ := ce.Forward(s, ys)
		m.backward(d, nil, nil)
	}
}
