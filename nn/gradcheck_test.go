package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// gradCase is one finite-difference check: run evaluates the scalar loss
// (float64 for a clean difference); the analytic gradient of every checked
// slice must already be computed.
type gradCase struct {
	name     string
	values   []float32 // perturbed in place
	analytic []float32
}

// checkGrads compares analytic gradients with central differences at up to
// maxPoints coordinates of each slice.
func checkGrads(t *testing.T, cases []gradCase, run func() float64, eps float32, maxPoints int) {
	t.Helper()
	base := run()
	for _, c := range cases {
		if len(c.values) != len(c.analytic) {
			t.Fatalf("%s: %d values, %d gradients", c.name, len(c.values), len(c.analytic))
		}
		scale := 0.0
		for _, g := range c.analytic {
			scale = math.Max(scale, math.Abs(float64(g)))
		}
		// The float32 forward pass rounds the loss: two ulps of it over the
		// step is the noise floor of a central difference.
		floor := 2 * math.Abs(base) * 1.2e-7 / float64(eps)
		step := max(1, len(c.values)/maxPoints)
		bad := 0
		for i := 0; i < len(c.values); i += step {
			old := c.values[i]
			c.values[i] = old + eps
			lp := run()
			c.values[i] = old - eps
			lm := run()
			c.values[i] = old
			num := (lp - lm) / float64(2*eps)
			ana := float64(c.analytic[i])
			if math.Abs(num-ana) > 2e-3*scale+3e-2*math.Abs(num)+1e-5+floor {
				if bad < 5 {
					t.Errorf("%s[%d]: analytic %.6g, numeric %.6g (scale %.3g)", c.name, i, ana, num, scale)
				}
				bad++
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d coordinates off", c.name, bad, (len(c.values)+step-1)/step)
		}
	}
	run() // leave layers in the unperturbed state
}

// randTensor returns a tensor of N(0, std²) values from a fixed seed.
func randTensor(seed uint64, std float64, shape ...int) *Tensor {
	t := NewTensor(shape...)
	normalInit(t.Data, std, NewRNG(seed))
	return t
}

// dot returns Σ a·b in float64: the projection loss used by the checks.
func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func paramCases(ps []*Param) []gradCase {
	var cs []gradCase
	for _, p := range ps {
		cs = append(cs, gradCase{p.Name, p.Data, append([]float32(nil), p.Grad...)})
	}
	return cs
}

// layer is the forward/backward shape every tensor→tensor layer has.
type layer interface {
	Forward(*Tensor) *Tensor
	Backward(*Tensor) *Tensor
}

// checkLayer runs the projection-loss check on a layer's input and params.
func checkLayer(t *testing.T, l layer, params []*Param, x *Tensor, eps float32) {
	t.Helper()
	y := l.Forward(x)
	r := randTensor(99, 1, y.Shape...)
	ZeroGrad(params)
	dx := l.Backward(r)
	cases := append([]gradCase{{"x", x.Data, append([]float32(nil), dx.Data...)}}, paramCases(params)...)
	checkGrads(t, cases, func() float64 { return dot(l.Forward(x).Data, r.Data) }, eps, 60)
}

func TestGradLinear(t *testing.T) {
	rng := NewRNG(1)
	l := NewLinear("fc", 7, 5, true, rng)
	checkLayer(t, l, l.Params(), randTensor(2, 1, 3, 4, 7), 1e-2)
	nb := NewLinear("fc", 9, 4, false, rng)
	checkLayer(t, nb, nb.Params(), randTensor(3, 1, 6, 9), 1e-2)
}

func TestGradLayerNorm(t *testing.T) {
	ln := NewLayerNorm("ln", 16)
	normalInit(ln.G.Data, 1, NewRNG(4))
	normalInit(ln.B.Data, 1, NewRNG(5))
	checkLayer(t, ln, ln.Params(), randTensor(6, 2, 5, 16), 1e-2)
}

func TestGradGELU(t *testing.T) {
	checkLayer(t, &GELU{}, nil, randTensor(7, 2, 4, 33), 1e-2)
}

func TestGradReLU(t *testing.T) {
	x := randTensor(8, 1, 5, 20)
	for i, v := range x.Data { // keep away from the kink
		if math.Abs(float64(v)) < 0.05 {
			x.Data[i] = 0.5
		}
	}
	checkLayer(t, &ReLU{}, nil, x, 1e-2)
}

func TestGradDropout(t *testing.T) {
	d := NewDropout(0.3, 11)
	x := randTensor(9, 1, 8, 16)
	// A fixed mask: re-seed before every forward.
	reseed := &reseeded{d: d, seed: 11}
	checkLayer(t, reseed, nil, x, 1e-2)
	y := d.Forward(x)
	zeros := 0
	for i, v := range y.Data {
		if v == 0 {
			zeros++
		} else if math.Abs(float64(v-x.Data[i]/0.7)) > 1e-6 {
			t.Fatalf("kept value %g, want %g", v, x.Data[i]/0.7)
		}
	}
	if zeros < 20 || zeros > 60 {
		t.Errorf("%d of 128 dropped at p=0.3", zeros)
	}
	d.Training = false
	if got := d.Forward(x); got != x {
		t.Error("eval-mode dropout is not the identity")
	}
}

type reseeded struct {
	d    *Dropout
	seed uint64
}

func (r *reseeded) Forward(x *Tensor) *Tensor {
	r.d.rng = NewRNG(r.seed)
	return r.d.Forward(x)
}
func (r *reseeded) Backward(dy *Tensor) *Tensor { return r.d.Backward(dy) }

func TestGradEmbedding(t *testing.T) {
	e := NewEmbedding("tok", 10, 6, NewRNG(12))
	ids := []int32{1, 3, 3, 9, 0, 1}
	y, err := e.Forward(ids, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	r := randTensor(13, 1, y.Shape...)
	ZeroGrad(e.Params())
	e.Backward(r)
	checkGrads(t, paramCases(e.Params()), func() float64 {
		y, _ := e.Forward(ids, 2, 3)
		return dot(y.Data, r.Data)
	}, 1e-2, 60)
	if _, err := e.Forward([]int32{10}, 1); err == nil {
		t.Error("id 10 of a 10-word vocabulary accepted")
	}
}

func TestGradAttention(t *testing.T) {
	a := NewAttention("attn", 16, 4, NewRNG(14))
	checkLayer(t, a, a.Params(), randTensor(15, 1, 2, 5, 16), 1e-2)
	// Padding mask: the last two keys of batch 1 are ignored.
	a.KeyMask = []bool{true, true, true, true, true, true, true, true, false, false}
	checkLayer(t, a, a.Params(), randTensor(16, 1, 2, 5, 16), 1e-2)
	// Masked keys must not influence the output.
	x := randTensor(17, 1, 2, 5, 16)
	y0 := append([]float32(nil), a.Forward(x).Data...)
	x.Data[(1*5+4)*16+3] += 5
	y1 := a.Forward(x).Data
	for i := 0; i < 5*16; i++ {
		if y0[i] != y1[i] {
			t.Fatal("batch 0 changed by an edit in batch 1")
		}
	}
	for tk := 0; tk < 4; tk++ {
		for j := 0; j < 16; j++ {
			if i := (5+tk)*16 + j; math.Abs(float64(y0[i]-y1[i])) > 1e-6 {
				t.Fatalf("masked key changed token %d", tk)
			}
		}
	}
}

func TestGradBlock(t *testing.T) {
	b := NewBlock("blk", 16, 2, 32, NewRNG(18))
	checkLayer(t, b, b.Params(), randTensor(19, 1, 2, 6, 16), 1e-2)
}

func TestGradPooling(t *testing.T) {
	checkLayer(t, &MeanTokens{}, nil, randTensor(20, 1, 3, 4, 5), 1e-2)
	checkLayer(t, &MaxTokens{}, nil, randTensor(21, 1, 3, 4, 5), 1e-3)
	checkLayer(t, &Token{Index: 0}, nil, randTensor(22, 1, 3, 4, 5), 1e-2)
	checkLayer(t, &Token{Index: 2}, nil, randTensor(22, 1, 3, 4, 5), 1e-2)
}

func TestGradCrossEntropy(t *testing.T) {
	targets := []int{0, 2, 1, 2, 3}
	for _, ce := range []*CrossEntropy{
		{},
		{Smoothing: 0.1},
		{Weights: []float32{1, 2, 0.5, 3}},
		{Weights: []float32{1, 2, 0.5, 3}, Smoothing: 0.2},
	} {
		x := randTensor(23, 2, 5, 4)
		_, d, err := ce.Forward(x, targets)
		if err != nil {
			t.Fatal(err)
		}
		checkGrads(t, []gradCase{{"logits", x.Data, append([]float32(nil), d.Data...)}}, func() float64 {
			l, _, _ := ce.Forward(x, targets)
			return float64(l)
		}, 1e-2, 60)
	}
}

func TestGradFocal(t *testing.T) {
	targets := []int{0, 2, 1, 2, 3}
	for _, f := range []*Focal{{Gamma: 0}, {Gamma: 2}, {Gamma: 0.5}, {Gamma: 1.5, Alpha: []float32{0.25, 1, 2, 0.5}}} {
		x := randTensor(24, 2, 5, 4)
		_, d, err := f.Forward(x, targets)
		if err != nil {
			t.Fatal(err)
		}
		checkGrads(t, []gradCase{{"logits", x.Data, append([]float32(nil), d.Data...)}}, func() float64 {
			l, _, _ := f.Forward(x, targets)
			return float64(l)
		}, 1e-2, 60)
	}
}

// TestFocalCertain: a row already certain of its target (p = 1 in
// floating point) has zero loss and zero gradient for every γ, including
// 0 < γ < 1, where (1−p)^(γ−1) is infinite.
func TestFocalCertain(t *testing.T) {
	x := FromData([]float32{100, 0, -50, 3, 200, 1}, 2, 3)
	for _, g := range []float32{0, 0.25, 0.5, 0.9, 1, 2} {
		f := &Focal{Gamma: g}
		l, d, err := f.Forward(x, []int{0, 1})
		if err != nil {
			t.Fatal(err)
		}
		if math.IsNaN(float64(l)) || l != 0 {
			t.Errorf("γ=%v: loss %v, want 0", g, l)
		}
		for i, v := range d.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || math.Abs(float64(v)) > 1e-20 {
				t.Errorf("γ=%v: gradient[%d] = %v, want 0", g, i, v)
			}
		}
	}
}

// TestLinearWidth: an input whose last axis is not In is refused with the
// layer's name instead of being multiplied with the wrong stride.
func TestLinearWidth(t *testing.T) {
	l := NewLinear("head", 4, 3, true, rand.New(rand.NewPCG(1, 2)))
	l.Forward(NewTensor(2, 4)) // fine
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(fmt.Sprint(r), "head") || !strings.Contains(fmt.Sprint(r), "width 5, want 4") {
			t.Errorf("recovered %v, want a panic naming the layer and the widths", r)
		}
	}()
	l.Forward(NewTensor(2, 5))
}

func TestGradInfoNCE(t *testing.T) {
	l := NewInfoNCE("clip")
	l.LogScale.Data[0] = 1.2
	a, b := randTensor(25, 1, 6, 8), randTensor(26, 1, 6, 8)
	ZeroGrad(l.Params())
	_, da, db, err := l.Forward(a, b)
	if err != nil {
		t.Fatal(err)
	}
	cases := []gradCase{
		{"a", a.Data, append([]float32(nil), da.Data...)},
		{"b", b.Data, append([]float32(nil), db.Data...)},
		{"logit_scale", l.LogScale.Data, append([]float32(nil), l.LogScale.Grad...)},
	}
	checkGrads(t, cases, func() float64 {
		v, _, _, _ := l.Forward(a, b)
		return float64(v)
	}, 1e-2, 60)
}

// TestBlockQueries: a block restricted to the first query tokens gives
// exactly (bit for bit) the full block's output rows and input gradient when
// the full block's other outputs get no gradient, parameter gradients equal
// to rounding (the weight products sum over fewer rows, in other blocks),
// and passes the finite-difference check. The shapes give the vectorised
// exp and GELU ragged tails that differ between the two.
func TestBlockQueries(t *testing.T) {
	for _, c := range []struct{ b, t, d, heads, q int }{{3, 5, 16, 2, 2}, {4, 17, 32, 4, 1}, {2, 50, 128, 4, 1}} {
		full := NewBlock("blk", c.d, c.heads, 2*c.d, NewRNG(27))
		part := NewBlock("blk", c.d, c.heads, 2*c.d, NewRNG(27))
		part.Queries = c.q
		x := randTensor(28, 1, c.b, c.t, c.d)
		yf := full.Forward(x)
		yp := part.Forward(x)
		if yp.Shape[1] != c.q {
			t.Fatalf("shape %v", yp.Shape)
		}
		dyp := randTensor(29, 1, c.b, c.q, c.d)
		dyf := NewTensor(c.b, c.t, c.d)
		for b := 0; b < c.b; b++ {
			for q := 0; q < c.q; q++ {
				for j := 0; j < c.d; j++ {
					i := (b*c.t+q)*c.d + j
					if yf.Data[i] != yp.Data[(b*c.q+q)*c.d+j] {
						t.Fatalf("%v: output differs at b%d q%d: %v vs %v", c, b, q, yf.Data[i], yp.Data[(b*c.q+q)*c.d+j])
					}
					dyf.Data[i] = dyp.Data[(b*c.q+q)*c.d+j]
				}
			}
		}
		ZeroGrad(full.Params())
		ZeroGrad(part.Params())
		dxf := full.Backward(dyf)
		dxp := part.Backward(dyp)
		for i := range dxf.Data {
			if dxf.Data[i] != dxp.Data[i] {
				t.Fatalf("%v: dx differs at %d: %v vs %v", c, i, dxf.Data[i], dxp.Data[i])
			}
		}
		for k, p := range full.Params() {
			for i, g := range p.Grad {
				if d := g - part.Params()[k].Grad[i]; d > 1e-5 || d < -1e-5 {
					t.Fatalf("%v: %s grad differs", c, p.Name)
				}
			}
		}
		if c.d <= 32 {
			checkLayer(t, part, part.Params(), x, 1e-2)
		}
	}
}

// TestBlockForwardPair: blocks chained through ForwardPair (each output
// handed on unsummed, added inside the next block's first norm) give the
// bits of blocks chained through Forward, a query-restricted last block
// included.
func TestBlockForwardPair(t *testing.T) {
	mk := func() []*Block {
		rng := NewRNG(31)
		var bs []*Block
		for i := 0; i < 3; i++ {
			bs = append(bs, NewBlock("blk", 32, 4, 64, rng))
		}
		bs[2].Queries = 1
		return bs
	}
	x := randTensor(32, 1, 3, 11, 32)
	y := x
	for _, b := range mk() {
		y = b.Forward(y)
	}
	v, r := x, (*Tensor)(nil)
	for _, b := range mk() {
		v, r = b.ForwardPair(v, r)
	}
	if len(v.Data) != len(y.Data) {
		t.Fatalf("shapes %v %v", v.Shape, y.Shape)
	}
	for i := range y.Data {
		if s := v.Data[i] + r.Data[i]; s != y.Data[i] {
			t.Fatalf("[%d]: pair sums to %v, Forward gives %v", i, s, y.Data[i])
		}
	}
}
