package nn

import (
	"math"
	"testing"
)

func TestGradBatchNorm(t *testing.T) {
	for _, shape := range [][]int{{4, 3, 2, 5}, {6, 4}} {
		bn := NewBatchNorm("bn", shape[1])
		normalInit(bn.G.Data, 1, NewRNG(60))
		normalInit(bn.B.Data, 1, NewRNG(61))
		checkLayer(t, errLayer{t, bn.Forward, bn.Backward}, bn.Params(), randTensor(62, 2, shape...), 1e-2)
		bn.Training = false
		checkLayer(t, errLayer{t, bn.Forward, bn.Backward}, bn.Params(), randTensor(63, 2, shape...), 1e-2)
	}
}

// TestBatchNormNormalises: in training the output of every channel has the
// batch mean β and standard deviation |γ| (a property independent of PyTorch).
func TestBatchNormNormalises(t *testing.T) {
	bn := NewBatchNorm("bn", 2)
	bn.G.Data[0], bn.G.Data[1], bn.B.Data[0], bn.B.Data[1] = 2, -0.5, 1, 3
	x := randTensor(64, 3, 5, 2, 3, 3)
	y, err := bn.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	for c := 0; c < 2; c++ {
		var s, s2, n float64
		for b := 0; b < 5; b++ {
			for _, v := range y.Data[(b*2+c)*9 : (b*2+c+1)*9] {
				s += float64(v)
				s2 += float64(v) * float64(v)
				n++
			}
		}
		mean := s / n
		sd := math.Sqrt(s2/n - mean*mean)
		if math.Abs(mean-float64(bn.B.Data[c])) > 1e-4 || math.Abs(sd-math.Abs(float64(bn.G.Data[c]))) > 1e-3 {
			t.Errorf("channel %d: mean %.5f sd %.5f, want %v and %v", c, mean, sd, bn.B.Data[c], math.Abs(float64(bn.G.Data[c])))
		}
	}
	if _, err := bn.Forward(NewTensor(1, 2)); err == nil {
		t.Error("training on one value per channel accepted")
	}
	if _, err := bn.Forward(NewTensor(2, 3, 1, 1)); err == nil {
		t.Error("3 channels accepted by a 2-channel layer")
	}
	if got := bn.Buffers(); len(got) != 2 || got["bn.running_mean"] == nil || got["bn.running_var"] == nil {
		t.Errorf("buffers %v", got)
	}
}

func TestTorchBatchNorm(t *testing.T) {
	var g struct {
		BatchNorm struct {
			Weight, Bias, X, Y, R, DX, DWeight, DBias []float32
			Shape                                     []int
			RunningMean                               []float32 `json:"running_mean"`
			RunningVar                                []float32 `json:"running_var"`
			RunningMean0                              []float32 `json:"running_mean0"`
			RunningVar0                               []float32 `json:"running_var0"`
			XE, YE                                    []float32
		}
	}
	loadGoldenInto(t, &g)
	b := g.BatchNorm
	bn := NewBatchNorm("bn", b.Shape[1])
	copy(bn.G.Data, b.Weight)
	copy(bn.B.Data, b.Bias)
	// The running statistics after the generator's first training step; the
	// step below must update them as PyTorch did.
	copy(bn.RunMean, b.RunningMean0)
	copy(bn.RunVar, b.RunningVar0)
	y, err := bn.Forward(FromData(b.X, b.Shape...))
	if err != nil {
		t.Fatal(err)
	}
	near(t, "y", y.Data, b.Y, 2e-5)
	ZeroGrad(bn.Params())
	dx := bn.Backward(FromData(b.R, b.Shape...))
	near(t, "dx", dx.Data, b.DX, 5e-5)
	near(t, "dweight", bn.G.Grad, b.DWeight, 5e-5)
	near(t, "dbias", bn.B.Grad, b.DBias, 5e-5)
	near(t, "running_mean", bn.RunMean, b.RunningMean, 1e-5)
	near(t, "running_var", bn.RunVar, b.RunningVar, 1e-5)
	bn.Training = false
	ye, err := bn.Forward(FromData(b.XE, 2, b.Shape[1], b.Shape[2], b.Shape[3]))
	if err != nil {
		t.Fatal(err)
	}
	near(t, "eval y", ye.Data, b.YE, 2e-5)
}
