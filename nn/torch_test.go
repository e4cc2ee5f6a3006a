package nn

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// torchGolden holds values computed by PyTorch 1.13 (testdata/torch_golden.py).
type torchGolden struct {
	CE struct {
		Logits    []float32
		Targets   []int
		Weights   []float32
		Smoothing float32
		Loss      float64
		Grad      []float32
	}
	Block struct {
		Dim, Heads, MLP int
		Shape           []int
		X, Y, R, DX     []float32
		State, Grads    map[string][]float32
	}
	AdamW struct {
		P0     []float32
		Grads  [][]float32
		After  [][]float32
		LR, WD float32
	}
	InfoNCE struct {
		A, B       []float32
		LogitScale float32 `json:"logit_scale"`
		Loss       float64
		DA, DB     []float32
		DScale     float64
	}
}

func loadGolden(t *testing.T) *torchGolden {
	t.Helper()
	b, err := os.ReadFile("testdata/torch_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g torchGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

func near(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > tol*math.Max(1, math.Abs(float64(want[i]))) {
			t.Fatalf("%s[%d] = %v, PyTorch %v", what, i, got[i], want[i])
		}
	}
}

func TestTorchCrossEntropy(t *testing.T) {
	g := loadGolden(t).CE
	ce := &CrossEntropy{Weights: g.Weights, Smoothing: g.Smoothing}
	l, d, err := ce.Forward(FromData(g.Logits, len(g.Targets), len(g.Weights)), g.Targets)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(float64(l)-g.Loss) > 1e-5 {
		t.Fatalf("loss %v, PyTorch %v", l, g.Loss)
	}
	near(t, "dlogits", d.Data, g.Grad, 1e-5)
}

// TestTorchBlock: Block with PyTorch's weights reproduces
// TransformerEncoderLayer(norm_first=True, gelu) forward and backward.
func TestTorchBlock(t *testing.T) {
	g := loadGolden(t).Block
	b := NewBlock("blk", g.Dim, g.Heads, g.MLP, NewRNG(1))
	names := map[string]*Param{
		"self_attn.in_proj_weight": b.Attn.QKV.W, "self_attn.in_proj_bias": b.Attn.QKV.B,
		"self_attn.out_proj.weight": b.Attn.Proj.W, "self_attn.out_proj.bias": b.Attn.Proj.B,
		"linear1.weight": b.FC1.W, "linear1.bias": b.FC1.B, "linear2.weight": b.FC2.W, "linear2.bias": b.FC2.B,
		"norm1.weight": b.LN1.G, "norm1.bias": b.LN1.B, "norm2.weight": b.LN2.G, "norm2.bias": b.LN2.B,
	}
	for k, p := range names {
		if len(g.State[k]) != len(p.Data) {
			t.Fatalf("%s: %d values for %s %v", k, len(g.State[k]), p.Name, p.Shape)
		}
		copy(p.Data, g.State[k])
	}
	x := FromData(g.X, g.Shape...)
	y := b.Forward(x)
	near(t, "y", y.Data, g.Y, 2e-5)
	ZeroGrad(b.Params())
	dx := b.Backward(FromData(g.R, g.Shape...))
	near(t, "dx", dx.Data, g.DX, 5e-5)
	for k, p := range names {
		near(t, "grad "+k, p.Grad, g.Grads[k], 5e-5)
	}
}

func TestTorchAdamW(t *testing.T) {
	g := loadGolden(t).AdamW
	p := NewParam("p", len(g.P0))
	copy(p.Data, g.P0)
	o := NewAdamW([]*Param{p}, g.LR, g.WD)
	for s, gr := range g.Grads {
		copy(p.Grad, gr)
		o.Update()
		near(t, "step", p.Data, g.After[s], 1e-6)
	}
}

func TestTorchInfoNCE(t *testing.T) {
	g := loadGolden(t).InfoNCE
	l := NewInfoNCE("clip")
	l.LogScale.Data[0] = g.LogitScale
	ZeroGrad(l.Params())
	loss, da, db, err := l.Forward(FromData(g.A, 4, 6), FromData(g.B, 4, 6))
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(float64(loss)-g.Loss) > 1e-5 {
		t.Fatalf("loss %v, PyTorch %v", loss, g.Loss)
	}
	near(t, "da", da.Data, g.DA, 1e-5)
	near(t, "db", db.Data, g.DB, 1e-5)
	if math.Abs(float64(l.LogScale.Grad[0])-g.DScale) > 1e-5 {
		t.Fatalf("dscale %v, PyTorch %v", l.LogScale.Grad[0], g.DScale)
	}
}

// loadGoldenInto decodes testdata/torch_golden.json into v (a struct with
// the sections a test needs).
func loadGoldenInto(t *testing.T, v any) {
	t.Helper()
	b, err := os.ReadFile("testdata/torch_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func TestTorchPool2dPadding(t *testing.T) {
	var g struct {
		Pool struct {
			X, Max, DMax, Avg, DAvg []float32
			RMax                    []float32 `json:"rmax"`
			RAvg                    []float32 `json:"ravg"`
			Shape                   []int
			MaxShape                []int `json:"max_shape"`
			AvgShape                []int `json:"avg_shape"`
		}
	}
	loadGoldenInto(t, &g)
	p := g.Pool
	for _, c := range []struct {
		pool     *Pool2d
		y, r, dx []float32
		shape    []int
		name     string
	}{
		{&Pool2d{K: 3, Stride: 3, Pad: 1, Max: true}, p.Max, p.RMax, p.DMax, p.MaxShape, "max"},
		{&Pool2d{K: 2, Stride: 2, Pad: 1}, p.Avg, p.RAvg, p.DAvg, p.AvgShape, "avg"},
	} {
		x := FromData(append([]float32(nil), p.X...), p.Shape...)
		y, err := c.pool.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		if len(y.Shape) != 4 || y.Shape[2] != c.shape[2] || y.Shape[3] != c.shape[3] {
			t.Fatalf("%s: shape %v, PyTorch %v", c.name, y.Shape, c.shape)
		}
		near(t, c.name, y.Data, c.y, 1e-6)
		dx := c.pool.Backward(FromData(c.r, c.shape...))
		near(t, c.name+" dx", dx.Data, c.dx, 1e-6)
	}
}

func TestTorchDepthwiseConv2d(t *testing.T) {
	var g struct {
		Depthwise struct {
			Weight, Bias, X, Y, R, DX, DWeight, DBias []float32
			Shape                                     []int
			YShape                                    []int `json:"y_shape"`
		}
	}
	loadGoldenInto(t, &g)
	d := g.Depthwise
	c := NewDepthwiseConv2d("dw", d.Shape[1], 3, 2, 1, NewRNG(1))
	copy(c.W.Data, d.Weight)
	copy(c.B.Data, d.Bias)
	y, err := c.Forward(FromData(d.X, d.Shape...))
	if err != nil {
		t.Fatal(err)
	}
	if y.Shape[2] != d.YShape[2] || y.Shape[3] != d.YShape[3] {
		t.Fatalf("shape %v, PyTorch %v", y.Shape, d.YShape)
	}
	near(t, "y", y.Data, d.Y, 2e-5)
	ZeroGrad(c.Params())
	dx := c.Backward(FromData(d.R, d.YShape...))
	near(t, "dx", dx.Data, d.DX, 2e-5)
	near(t, "dweight", c.W.Grad, d.DWeight, 5e-5)
	near(t, "dbias", c.B.Grad, d.DBias, 5e-5)
}
