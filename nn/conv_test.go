package nn

import "testing"

// errLayer adapts layers whose Forward can fail to the checkLayer shape.
type errLayer struct {
	t   *testing.T
	fwd func(*Tensor) (*Tensor, error)
	bwd func(*Tensor) *Tensor
}

func (e errLayer) Forward(x *Tensor) *Tensor {
	y, err := e.fwd(x)
	if err != nil {
		e.t.Fatal(err)
	}
	return y
}
func (e errLayer) Backward(dy *Tensor) *Tensor { return e.bwd(dy) }

func TestGradConv2d(t *testing.T) {
	for _, c := range []struct{ in, out, k, s, p, h, w int }{
		{2, 3, 3, 1, 1, 5, 6},
		{3, 4, 4, 4, 0, 8, 8},
		{1, 2, 3, 2, 1, 7, 5},
	} {
		conv := NewConv2d("conv", c.in, c.out, c.k, c.s, c.p, NewRNG(50))
		checkLayer(t, errLayer{t, conv.Forward, conv.Backward}, conv.Params(), randTensor(51, 1, 2, c.in, c.h, c.w), 1e-2)
	}
}

// TestConv2dKnownAnswer: a 3×3 all-ones kernel with padding 1 sums each
// pixel's neighbourhood (worked by hand on a 3×3 image).
func TestConv2dKnownAnswer(t *testing.T) {
	conv := NewConv2d("c", 1, 1, 3, 1, 1, NewRNG(1))
	for i := range conv.W.Data {
		conv.W.Data[i] = 1
	}
	conv.B.Data[0] = 0.5
	x := FromData([]float32{1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3)
	y, err := conv.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{12, 21, 16, 27, 45, 33, 24, 39, 28}
	for i, w := range want {
		if y.Data[i] != w+0.5 {
			t.Fatalf("y = %v, want %v + 0.5", y.Data, want)
		}
	}
}

// TestPatchEmbedIsConv: PatchEmbed equals Conv2d(k=stride=P) flattened.
func TestPatchEmbedIsConv(t *testing.T) {
	pe := NewPatchEmbed("p", 3, 4, 5, NewRNG(52))
	conv := NewConv2d("c", 3, 5, 4, 4, 0, NewRNG(53))
	copy(conv.W.Data, pe.Proj.W.Data)
	copy(conv.B.Data, pe.Proj.B.Data)
	x := randTensor(54, 1, 2, 3, 8, 12)
	tok, err := pe.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	img, err := conv.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	for b := 0; b < 2; b++ {
		for d := 0; d < 5; d++ {
			for p := 0; p < 6; p++ {
				a, c := tok.Data[(b*6+p)*5+d], img.Data[(b*5+d)*6+p]
				if diff := a - c; diff > 1e-5 || diff < -1e-5 {
					t.Fatalf("b%d d%d patch %d: %v vs %v", b, d, p, a, c)
				}
			}
		}
	}
	r := randTensor(56, 1, tok.Shape...)
	ZeroGrad(pe.Params())
	pe.Backward(r)
	checkGrads(t, paramCases(pe.Params()), func() float64 {
		y, _ := pe.Forward(x)
		return dot(y.Data, r.Data)
	}, 1e-2, 60)
}

func TestGradPool2d(t *testing.T) {
	for _, p := range []*Pool2d{{K: 2, Stride: 2, Max: true}, {K: 3, Stride: 2}, {K: 2, Stride: 1},
		{K: 3, Stride: 3, Pad: 1, Max: true}, {K: 2, Stride: 2, Pad: 1}, {K: 3, Stride: 2, Pad: 1}} {
		checkLayer(t, errLayer{t, p.Forward, p.Backward}, nil, randTensor(55, 1, 2, 3, 5, 6), 1e-3)
	}
	if _, err := (&Pool2d{K: 4, Stride: 1}).Forward(NewTensor(1, 1, 3, 3)); err == nil {
		t.Error("window larger than the image accepted")
	}
	if _, err := (&Pool2d{K: 2, Stride: 1, Pad: 2}).Forward(NewTensor(1, 1, 3, 3)); err == nil {
		t.Error("padding over half the window accepted")
	}
}

func TestGradDepthwiseConv2d(t *testing.T) {
	for _, c := range []struct{ ch, k, s, p, h, w int }{
		{3, 3, 1, 1, 5, 6},
		{2, 3, 2, 1, 7, 5},
		{4, 2, 2, 0, 6, 6},
	} {
		d := NewDepthwiseConv2d("dw", c.ch, c.k, c.s, c.p, NewRNG(57))
		checkLayer(t, errLayer{t, d.Forward, d.Backward}, d.Params(), randTensor(58, 1, 2, c.ch, c.h, c.w), 1e-2)
	}
}

// TestDepthwiseIsGroupedConv: a depthwise convolution equals a full
// convolution whose kernel is zero between different channels.
func TestDepthwiseIsGroupedConv(t *testing.T) {
	d := NewDepthwiseConv2d("dw", 3, 3, 2, 1, NewRNG(59))
	full := NewConv2d("c", 3, 3, 3, 2, 1, NewRNG(1))
	clear(full.W.Data)
	for c := 0; c < 3; c++ {
		copy(full.W.Data[(c*3+c)*9:(c*3+c+1)*9], d.W.Data[c*9:(c+1)*9])
	}
	copy(full.B.Data, d.B.Data)
	x := randTensor(60, 1, 2, 3, 7, 6)
	a, err := d.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	b, err := full.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "depthwise vs full", a.Data, b.Data, 1e-5)
}

// TestConv2dBackwardParams: the parameter-only backward accumulates the
// same gradients as the full one.
func TestConv2dBackwardParams(t *testing.T) {
	conv := NewConv2d("c", 2, 3, 3, 2, 1, NewRNG(61))
	x := randTensor(62, 1, 2, 2, 7, 6)
	y, err := conv.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	r := randTensor(63, 1, y.Shape...)
	ZeroGrad(conv.Params())
	conv.Backward(r)
	w, b := append([]float32(nil), conv.W.Grad...), append([]float32(nil), conv.B.Grad...)
	ZeroGrad(conv.Params())
	conv.BackwardParams(r)
	near(t, "dW", conv.W.Grad, w, 0)
	near(t, "db", conv.B.Grad, b, 0)
}
