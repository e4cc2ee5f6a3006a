package cnn

import (
	"testing"

	"github.com/tell-project/tell/nn"
)

// TestTrunkMatchesLayers: the fused trunk computes what nn's Conv2d, ReLU,
// BatchNorm and two Pool2d compute in sequence, forward and backward, in
// training and evaluation mode, with a negative γ (the arg-min case), a zero
// γ and an input whose side is not a multiple of the pools.
func TestTrunkMatchesLayers(t *testing.T) {
	for _, size := range [][2]int{{28, 28}, {13, 11}} {
		for _, bnOn := range []bool{true, false} {
			tr := newTrunk(3, 4, bnOn, nn.NewRNG(7))
			conv := nn.NewConv2d("conv", 3, 4, 3, 1, 1, nn.NewRNG(1))
			copy(conv.W.Data, tr.conv.Data)
			copy(conv.B.Data, tr.bias.Data)
			bn := nn.NewBatchNorm("bn", 4)
			for c, g := range []float32{1.3, -0.7, 0, 0.4} {
				tr.bn.G.Data[c], bn.G.Data[c] = g, g
				tr.bn.B.Data[c], bn.B.Data[c] = 0.1*float32(c), 0.1*float32(c)
			}
			var relu nn.ReLU
			mp, ap := nn.Pool2d{K: 3, Stride: 3, Pad: 1, Max: true}, nn.Pool2d{K: 2, Stride: 2}
			x := nn.FromData(wave(5*3*size[0]*size[1], 11), 5, 3, size[0], size[1])
			for _, training := range []bool{true, false} {
				tr.training, bn.Training = training, training
				got, err := tr.forward(x)
				if err != nil {
					t.Fatal(err)
				}
				h, _ := conv.Forward(x)
				h = relu.Forward(h)
				if bnOn {
					h, _ = bn.Forward(h)
				}
				h, _ = mp.Forward(h)
				want, _ := ap.Forward(h)
				name := map[bool]string{true: "training", false: "evaluation"}[training]
				if len(got.Shape) != 4 || got.Shape[2] != want.Shape[2] || got.Shape[3] != want.Shape[3] {
					t.Fatalf("%v %s: shape %v, layers %v", size, name, got.Shape, want.Shape)
				}
				near(t, name+" y", got.Data, want.Data, 2e-5)
				near(t, name+" running mean", tr.bn.RunMean, bn.RunMean, 1e-5)
				near(t, name+" running var", tr.bn.RunVar, bn.RunVar, 1e-5)
				dy := nn.FromData(wave(len(want.Data), 5), want.Shape...)
				nn.ZeroGrad(tr.params())
				nn.ZeroGrad(append(conv.Params(), bn.Params()...))
				tr.backwardParams(dy)
				d := ap.Backward(dy)
				d = mp.Backward(d)
				if bnOn {
					d = bn.Backward(d)
				}
				conv.BackwardParams(relu.Backward(d))
				near(t, name+" dW", tr.conv.Grad, conv.W.Grad, 1e-4)
				near(t, name+" db", tr.bias.Grad, conv.B.Grad, 1e-4)
				if bnOn {
					near(t, name+" dγ", tr.bn.G.Grad, bn.G.Grad, 1e-4)
					near(t, name+" dβ", tr.bn.B.Grad, bn.B.Grad, 1e-4)
				}
			}
		}
	}
}
