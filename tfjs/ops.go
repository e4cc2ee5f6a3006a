package tfjs

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/tell-project/tell/nn"
)

// opDef is how this package checks and executes one TensorFlow op.
type opDef struct {
	nin     int                                                      // inputs: exactly nin, or at least -nin when negative
	check   func(n *mnode) error                                     // load-time attribute checks
	compile func(c *compiler, n *mnode, in []*value) (*value, error) // shape inference, buffers, step
}

var opDefs = map[string]*opDef{
	"Const":        {nin: 0, compile: compileConst},
	"Placeholder":  {nin: 0},
	"Identity":     {nin: 1, compile: compileAlias},
	"Snapshot":     {nin: 1, compile: compileAlias},
	"StopGradient": {nin: 1, compile: compileAlias},

	"Conv2D":                     {nin: 2, check: checkConv, compile: compileConv},
	"_FusedConv2D":               {nin: -3, check: checkConv, compile: compileConv},
	"DepthwiseConv2dNative":      {nin: 2, check: checkConv, compile: compileConv},
	"FusedDepthwiseConv2dNative": {nin: -3, check: checkConv, compile: compileConv},
	"MaxPool":                    {nin: 1, check: checkPool, compile: compilePool},
	"AvgPool":                    {nin: 1, check: checkPool, compile: compilePool},
	"FusedBatchNorm":             {nin: 5, check: checkBatchNorm, compile: compileBatchNorm},
	"FusedBatchNormV3":           {nin: 5, check: checkBatchNorm, compile: compileBatchNorm},

	"AddV2":   {nin: 2, compile: elementwise(opAdd)},
	"Add":     {nin: 2, compile: elementwise(opAdd)},
	"BiasAdd": {nin: 2, check: checkFormat, compile: elementwise(opAdd)},
	"Sub":     {nin: 2, compile: elementwise(opSub)},
	"Mul":     {nin: 2, compile: elementwise(opMul)},
	"RealDiv": {nin: 2, compile: elementwise(opDiv)},
	"Div":     {nin: 2, compile: elementwise(opDiv)},
	"Maximum": {nin: 2, compile: elementwise(opMax)},
	"Minimum": {nin: 2, compile: elementwise(opMin)},
	"Prelu":   {nin: 2, compile: elementwise(opPrelu)},

	"Relu":      {nin: 1, compile: unary(actRelu)},
	"Relu6":     {nin: 1, compile: unary(actRelu6)},
	"Elu":       {nin: 1, compile: unary(actElu)},
	"Sigmoid":   {nin: 1, compile: unary(actSigmoid)},
	"Tanh":      {nin: 1, compile: unary(actTanh)},
	"LeakyRelu": {nin: 1, compile: unary(actLeaky)},

	"Softmax":        {nin: 1, compile: compileSoftmax},
	"Mean":           {nin: 2, compile: reduce(redMean)},
	"Sum":            {nin: 2, compile: reduce(redSum)},
	"Max":            {nin: 2, compile: reduce(redMax)},
	"Reshape":        {nin: 2, compile: compileReshape},
	"Squeeze":        {nin: 1, compile: compileSqueeze},
	"ExpandDims":     {nin: 2, compile: compileExpandDims},
	"ConcatV2":       {nin: -2, compile: compileConcat},
	"Pad":            {nin: 2, compile: compilePad},
	"PadV2":          {nin: 3, compile: compilePad},
	"ResizeBilinear": {nin: 2, compile: compileResize},
	"MatMul":         {nin: 2, compile: compileMatMul},
	"_FusedMatMul":   {nin: -3, check: checkFusedMatMul, compile: compileMatMul},
}

// Attribute access.

func (n *mnode) str(k string) (string, bool) {
	a, ok := n.Attr[k]
	if !ok || a.Kind != 's' {
		return "", false
	}
	return string(a.S), true
}

func (n *mnode) ints(k string) ([]int64, bool) {
	a, ok := n.Attr[k]
	if !ok || a.Kind != 'l' {
		return nil, false
	}
	return a.List.I, true
}

func (n *mnode) boolean(k string) bool {
	a, ok := n.Attr[k]
	return ok && a.Kind == 'b' && a.B
}

func (n *mnode) float(k string, def float64) float64 {
	if a, ok := n.Attr[k]; ok && a.Kind == 'f' {
		return a.F
	}
	return def
}

func checkFormat(n *mnode) error {
	if f, ok := n.str("data_format"); ok && f != "NHWC" {
		return fmt.Errorf("data_format %q: only NHWC is supported", f)
	}
	return nil
}

// Activations (fused or standalone).
type actKind int

const (
	actNone actKind = iota
	actRelu
	actRelu6
	actElu
	actSigmoid
	actTanh
	actLeaky
	actPrelu
)

var fusedActs = map[string]actKind{"Relu": actRelu, "Relu6": actRelu6, "Elu": actElu, "Sigmoid": actSigmoid, "LeakyRelu": actLeaky, "Prelu": actPrelu}

// fusion reads _Fused* ops' fused_ops: BiasAdd, then at most one activation.
type fusion struct {
	bias  bool
	act   actKind
	leaky float32
	args  int // extra inputs: bias, and Prelu's alpha
}

func parseFusion(n *mnode) (fusion, error) {
	var f fusion
	a, ok := n.Attr["fused_ops"]
	if !ok {
		return f, nil
	}
	ops := a.List.S
	if len(ops) == 0 {
		return f, nil
	}
	if string(ops[0]) != "BiasAdd" {
		return f, fmt.Errorf("fused ops %q: only BiasAdd followed by an activation are supported", joinBytes(ops))
	}
	f.bias, f.args = true, 1
	if len(ops) > 2 {
		return f, fmt.Errorf("fused ops %q: at most one activation after BiasAdd", joinBytes(ops))
	}
	if len(ops) == 2 {
		act, ok := fusedActs[string(ops[1])]
		if !ok {
			return f, fmt.Errorf("fused activation %q is not supported", ops[1])
		}
		f.act = act
		if act == actPrelu {
			f.args = 2
		}
		f.leaky = float32(n.float("leakyrelu_alpha", 0.2))
	}
	if na, ok := n.Attr["num_args"]; ok && na.Kind == 'i' && int(na.I) != f.args {
		return f, fmt.Errorf("num_args %d, but fused ops %q take %d", na.I, joinBytes(ops), f.args)
	}
	return f, nil
}

func joinBytes(b [][]byte) string {
	s := ""
	for i, x := range b {
		if i > 0 {
			s += ","
		}
		s += string(x)
	}
	return s
}

// Convolutions.

type convAttrs struct {
	sh, sw, dh, dw int
	pad            string
	explicit       [4]int // top, bottom, left, right
	fusion
}

func parseConv(n *mnode) (convAttrs, error) {
	var a convAttrs
	if err := checkFormat(n); err != nil {
		return a, err
	}
	s, ok := n.ints("strides")
	if !ok || len(s) != 4 || s[0] != 1 || s[3] != 1 || s[1] < 1 || s[2] < 1 || s[1] > 1<<16 || s[2] > 1<<16 {
		return a, fmt.Errorf("strides %v: want [1, sh, sw, 1]", s)
	}
	a.sh, a.sw = int(s[1]), int(s[2])
	a.dh, a.dw = 1, 1
	if d, ok := n.ints("dilations"); ok && len(d) > 0 {
		if len(d) != 4 || d[0] != 1 || d[3] != 1 || d[1] < 1 || d[2] < 1 || d[1] > 1<<16 || d[2] > 1<<16 {
			return a, fmt.Errorf("dilations %v: want [1, dh, dw, 1]", d)
		}
		a.dh, a.dw = int(d[1]), int(d[2])
	}
	a.pad, _ = n.str("padding")
	switch a.pad {
	case "SAME", "VALID":
	case "EXPLICIT":
		e, _ := n.ints("explicit_paddings")
		if len(e) != 8 || e[0] != 0 || e[1] != 0 || e[6] != 0 || e[7] != 0 {
			return a, fmt.Errorf("explicit_paddings %v: want 8 values, zero for batch and channels", e)
		}
		for i := 0; i < 4; i++ {
			if e[2+i] < 0 || e[2+i] > 1<<16 {
				return a, fmt.Errorf("explicit_paddings %v out of range", e)
			}
			a.explicit[i] = int(e[2+i])
		}
	default:
		return a, fmt.Errorf("padding %q: want SAME, VALID or EXPLICIT", a.pad)
	}
	f, err := parseFusion(n)
	if err != nil {
		return a, err
	}
	a.fusion = f
	if (n.Op == "_FusedConv2D" || n.Op == "FusedDepthwiseConv2dNative") && len(n.in) != 2+f.args {
		return a, fmt.Errorf("%d inputs, want %d for fused ops", len(n.in), 2+f.args)
	}
	return a, nil
}

func checkConv(n *mnode) error { _, err := parseConv(n); return err }

// outSize is the output length and leading padding of a convolution or
// pooling window along one axis, as TensorFlow computes them.
func outSize(in, k, s, d int, pad string, before, after int) (out, padBefore int, err error) {
	ek := (k-1)*d + 1
	switch pad {
	case "VALID":
		if in < ek {
			return 0, 0, fmt.Errorf("input %d smaller than the window %d", in, ek)
		}
		return (in-ek)/s + 1, 0, nil
	case "SAME":
		out = (in + s - 1) / s
		total := max((out-1)*s+ek-in, 0)
		return out, total / 2, nil
	default: // EXPLICIT
		n := in + before + after
		if n < ek {
			return 0, 0, fmt.Errorf("padded input %d smaller than the window %d", n, ek)
		}
		return (n-ek)/s + 1, before, nil
	}
}

// convGeom is the geometry of one convolution.
type convGeom struct {
	n, h, w, c     int // input NHWC
	kh, kw, co     int // filter; co output channels
	mult           int // depthwise channel multiplier
	sh, sw, dh, dw int
	pt, pl         int
	oh, ow         int
}

func constFloat(v *value, what string) ([]float32, error) {
	if v.konst == nil || v.konst.DType != "float32" {
		return nil, fmt.Errorf("%s must be a float32 constant", what)
	}
	return v.konst.F32, nil
}

func compileConv(c *compiler, n *mnode, in []*value) (*value, error) {
	a, err := parseConv(n)
	if err != nil {
		return nil, err
	}
	x := in[0]
	if len(x.shape) != 4 || x.data == nil {
		return nil, fmt.Errorf("input shape %v: want a float NHWC tensor", x.shape)
	}
	filt, err := constFloat(in[1], "the filter")
	if err != nil {
		return nil, err
	}
	fs := in[1].shape
	if len(fs) != 4 || fs[0] < 1 || fs[1] < 1 {
		return nil, fmt.Errorf("filter shape %v: want [kh, kw, in, out]", fs)
	}
	depthwise := n.Op == "DepthwiseConv2dNative" || n.Op == "FusedDepthwiseConv2dNative"
	g := convGeom{n: x.shape[0], h: x.shape[1], w: x.shape[2], c: x.shape[3], kh: fs[0], kw: fs[1],
		sh: a.sh, sw: a.sw, dh: a.dh, dw: a.dw, mult: 1}
	if fs[2] != g.c {
		return nil, fmt.Errorf("filter %v takes %d channels, input %v has %d", fs, fs[2], x.shape, g.c)
	}
	if depthwise {
		g.mult = fs[3]
		g.co = g.c * g.mult
	} else {
		g.co = fs[3]
	}
	if g.co < 1 {
		return nil, fmt.Errorf("filter %v has no output channels", fs)
	}
	if g.oh, g.pt, err = outSize(g.h, g.kh, g.sh, g.dh, a.pad, a.explicit[0], a.explicit[1]); err != nil {
		return nil, fmt.Errorf("height: %w", err)
	}
	if g.ow, g.pl, err = outSize(g.w, g.kw, g.sw, g.dw, a.pad, a.explicit[2], a.explicit[3]); err != nil {
		return nil, fmt.Errorf("width: %w", err)
	}
	var bias, alpha []float32
	if a.bias {
		if bias, err = constFloat(in[2], "the bias"); err != nil {
			return nil, err
		}
		if len(bias) != g.co {
			return nil, fmt.Errorf("bias of %d values for %d channels", len(bias), g.co)
		}
	}
	if a.act == actPrelu {
		if alpha, err = constFloat(in[3], "the PReLU alpha"); err != nil {
			return nil, err
		}
		if len(alpha) != g.co && len(alpha) != 1 {
			return nil, fmt.Errorf("PReLU alpha of %d values for %d channels", len(alpha), g.co)
		}
	}
	if _, err := elems([]int{g.n, g.oh, g.ow, g.co}); err != nil {
		return nil, err
	}
	out := c.alloc([]int{g.n, g.oh, g.ow, g.co})
	rows := g.n * g.oh * g.ow
	act := a.fusion
	if depthwise {
		xd, od := x.data, out.data
		c.step(func() {
			depthwiseConv(&g, xd, filt, bias, od)
			epilogue(od, rows, g.co, nil, act.act, act.leaky, alpha)
		})
		return out, nil
	}
	pointwise := g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0 && g.oh == g.h && g.ow == g.w
	k := g.kh * g.kw * g.c
	// The product runs in blocks of output pixels, each finished (bias,
	// activation, fused ops) while it is in cache; each output value is
	// the same sum in the same order as one product over the whole image
	// would give.
	npix := g.oh * g.ow
	blk := convBlock(npix, k, g.co)
	if !pointwise {
		if _, err := elems([]int{blk, k}); err != nil {
			return nil, err
		}
		c.needScratch(blk * k)
	}
	r := c.r
	xd, od := x.data, out.data
	pf := r.m.packedFilter(in[1].konst, k, g.co)
	fu := &fusable{node: n.id, owner: n.id, row: g.co}
	out.fuse = fu
	c.step(func() {
		for b := 0; b < g.n; b++ {
			xb := xd[b*g.h*g.w*g.c : (b+1)*g.h*g.w*g.c]
			base := b * npix * g.co
			for p0 := 0; p0 < npix; p0 += blk {
				p1 := min(npix, p0+blk)
				ob := od[base+p0*g.co : base+p1*g.co]
				if pointwise {
					nn.GemmPackedSerial(p1-p0, xb[p0*g.c:p1*g.c], g.c, pf, ob, g.co)
				} else {
					cols := r.scratch[:(p1-p0)*k]
					im2col(&g, xb, cols, p0, p1)
					nn.GemmPackedSerial(p1-p0, cols, k, pf, ob, g.co)
				}
				epilogue(ob, p1-p0, g.co, bias, act.act, act.leaky, alpha)
				fu.run(base+p0*g.co, base+p1*g.co)
			}
		}
	})
	return out, nil
}

// convBlock is how many output pixels a convolution computes at once: about
// 64 Ki values of im2col rows or output (256 KiB: a block's rows, output
// and filter stay in the 2 MiB L2 while it is finished, and BlazeFace's
// 5×5 stem needs 256 KiB of scratch, not 4.7 MiB), a multiple of the
// micro-kernel's six rows, at least 96. Smaller blocks measured slower:
// each product has a fixed cost (packing the filter).
func convBlock(npix, k, co int) int {
	b := max(96, (65536/max(k, co)+5)/6*6)
	return min(b, npix)
}

// im2col writes one row per output pixel p in [p0, p1): the kh·kw·c input
// values under the window (zero outside the image), in the filter's HWI
// order.
func im2col(g *convGeom, x, cols []float32, p0, p1 int) {
	k := g.kh * g.kw * g.c
	for p := p0; p < p1; p++ {
		oy, ox := p/g.ow, p%g.ow
		row := cols[(p-p0)*k : (p-p0+1)*k]
		for ky := 0; ky < g.kh; ky++ {
			iy := oy*g.sh + ky*g.dh - g.pt
			if g.dw == 1 {
				// The window's in-image columns are adjacent in
				// both x and the row: one copy per kernel row.
				seg := row[ky*g.kw*g.c : (ky+1)*g.kw*g.c]
				ix0 := ox*g.sw - g.pl
				lo, hi := max(0, -ix0), min(g.kw, g.w-ix0)
				if iy < 0 || iy >= g.h || lo >= hi {
					clear(seg)
					continue
				}
				clear(seg[:lo*g.c])
				copy(seg[lo*g.c:hi*g.c], x[(iy*g.w+ix0+lo)*g.c:])
				clear(seg[hi*g.c:])
				continue
			}
			for kx := 0; kx < g.kw; kx++ {
				ix := ox*g.sw + kx*g.dw - g.pl
				dst := row[(ky*g.kw+kx)*g.c : (ky*g.kw+kx+1)*g.c]
				if iy < 0 || iy >= g.h || ix < 0 || ix >= g.w {
					clear(dst)
					continue
				}
				copy(dst, x[(iy*g.w+ix)*g.c:])
			}
		}
	}
}

// depthwiseConv computes out = bias + Σ taps, tap by tap along each output
// row; out is overwritten.
func depthwiseConv(g *convGeom, x, w, bias, out []float32) {
	rowLen := g.ow * g.co
	for b := 0; b < g.n; b++ {
		xb := x[b*g.h*g.w*g.c:]
		for oy := 0; oy < g.oh; oy++ {
			orow := out[((b*g.oh)+oy)*rowLen : ((b*g.oh)+oy+1)*rowLen]
			if bias != nil {
				// One copy, then the filled part doubled: 7 copies
				// for a 128-pixel row instead of 128.
				copy(orow, bias)
				for n := g.co; n < len(orow); n *= 2 {
					copy(orow[n:], orow[:n])
				}
			} else {
				clear(orow)
			}
			if g.mult == 1 && dwRowFast(g.c) {
				// The in-image kernel rows are consecutive: all of
				// them at once, each output in registers throughout.
				ky0, ky1 := g.kh, 0
				for ky := 0; ky < g.kh; ky++ {
					if iy := oy*g.sh + ky*g.dh - g.pt; iy >= 0 && iy < g.h {
						ky0, ky1 = min(ky0, ky), ky+1
					}
				}
				if ky0 < ky1 {
					iy0 := oy*g.sh + ky0*g.dh - g.pt
					dwKernelRows(g, orow, xb[iy0*g.w*g.c:], w[ky0*g.kw*g.co:], ky1-ky0)
				}
				continue
			}
			for ky := 0; ky < g.kh; ky++ {
				iy := oy*g.sh + ky*g.dh - g.pt
				if iy < 0 || iy >= g.h {
					continue
				}
				for kx := 0; kx < g.kw; kx++ {
					off := kx*g.dw - g.pl // ix = ox*sw + off
					lo := 0
					if off < 0 {
						lo = (-off + g.sw - 1) / g.sw
					}
					hi := min(g.ow, (g.w-1-off)/g.sw+1)
					if g.w-1-off < 0 {
						hi = 0
					}
					if lo >= hi {
						continue
					}
					wt := w[(ky*g.kw+kx)*g.co : (ky*g.kw+kx+1)*g.co]
					src := xb[(iy*g.w+lo*g.sw+off)*g.c:]
					if g.mult == 1 {
						dwTap(orow[lo*g.co:], src, wt, hi-lo, g.c, g.sw*g.c)
						continue
					}
					for ox := lo; ox < hi; ox++ {
						s := src[(ox-lo)*g.sw*g.c:]
						d := orow[ox*g.co:]
						for ch := 0; ch < g.c; ch++ {
							for m := 0; m < g.mult; m++ {
								d[ch*g.mult+m] += s[ch] * wt[ch*g.mult+m]
							}
						}
					}
				}
			}
		}
	}
}

// dwKernelRows adds nrow kernel rows' taps (weights from wr, input rows
// from xr, g.dh rows apart) to an output row of a one-multiplier depthwise
// convolution: each output element gets its in-image taps in (ky, kx)
// order, as tap-by-tap passes give them, but runs of pixels with the same
// in-image taps go to dwRows at once.
func dwKernelRows(g *convGeom, orow, xr, wr []float32, nrow int) {
	taps := func(ox int) (lo, hi int) {
		first := ox*g.sw - g.pl // ix of kx = 0
		if first < 0 {
			lo = (-first + g.dw - 1) / g.dw
		}
		hi = 0
		if last := g.w - 1 - first; last >= 0 {
			hi = min(g.kw, last/g.dw+1)
		}
		return lo, hi
	}
	// Pixels in [a, b) have every tap in the image; the few outside it
	// go one by one.
	a := min(g.ow, (g.pl+g.sw-1)/g.sw)
	b := a
	if last := g.w - 1 + g.pl - (g.kw-1)*g.dw; last >= 0 {
		b = max(a, min(g.ow, last/g.sw+1))
	}
	run := func(ox, n int) {
		lo, hi := taps(ox)
		if lo < hi {
			src := xr[(ox*g.sw-g.pl+lo*g.dw)*g.c:]
			dwRows(orow[ox*g.co:], src, wr[lo*g.co:], n, g.c, g.sw*g.c, hi-lo, g.dw*g.c, nrow, g.dh*g.w*g.c, g.kw*g.co)
		}
	}
	for ox := 0; ox < a; ox++ {
		run(ox, 1)
	}
	if b > a {
		run(a, b-a)
	}
	for ox := b; ox < g.ow; ox++ {
		run(ox, 1)
	}
}

var (
	inf32    = float32(math.Inf(1))
	negInf32 = float32(math.Inf(-1))
)

// epilogue adds bias (per column, may be nil) and applies act to a
// rows×cols matrix in place.
func epilogue(out []float32, rows, cols int, bias []float32, act actKind, leaky float32, alpha []float32) {
	lo, hi := negInf32, inf32
	clampOnly := true
	switch act {
	case actRelu:
		lo = 0
	case actRelu6:
		lo, hi = 0, 6
	case actNone:
	default:
		clampOnly = false
	}
	if act == actPrelu && bias != nil && len(alpha) == cols {
		biasPrelu(out, bias, alpha, rows, cols, 0)
		return
	}
	switch {
	case bias != nil:
		biasClamp(out, bias, rows, cols, lo, hi)
	case lo != negInf32 || hi != inf32:
		vclamp(out, out, lo, hi)
	}
	if clampOnly {
		return
	}
	if act == actPrelu {
		// Branch-free, as binVec's Prelu; alpha has one value per
		// column (or one for all).
		for r := 0; r < rows; r++ {
			row := out[r*cols : (r+1)*cols]
			if len(alpha) == cols {
				vprelu(row, row, alpha)
				continue
			}
			for j, v := range row {
				row[j] = max(v, 0) + alpha[j%len(alpha)]*min(v, 0)
			}
		}
		return
	}
	applyAct(out, out, act, leaky)
}

// applyAct writes act(src) into dst.
func applyAct(dst, src []float32, act actKind, leaky float32) {
	src = src[:len(dst)]
	switch act {
	case actNone:
		copy(dst, src)
	case actRelu:
		vclamp(dst, src, 0, inf32)
	case actRelu6:
		vclamp(dst, src, 0, 6)
	case actElu:
		for i, v := range src {
			if v < 0 {
				v = float32(math.Expm1(float64(v)))
			}
			dst[i] = v
		}
	case actSigmoid:
		for i, v := range src {
			dst[i] = float32(1 / (1 + math.Exp(-float64(v))))
		}
	case actTanh:
		for i, v := range src {
			dst[i] = float32(math.Tanh(float64(v)))
		}
	case actLeaky:
		for i, v := range src {
			if v < 0 {
				v *= leaky
			}
			dst[i] = v
		}
	}
}

// Pooling.

type poolAttrs struct {
	kh, kw, sh, sw int
	pad            string
}

func parsePool(n *mnode) (poolAttrs, error) {
	var a poolAttrs
	if err := checkFormat(n); err != nil {
		return a, err
	}
	k, _ := n.ints("ksize")
	s, _ := n.ints("strides")
	ok := func(v []int64) bool {
		return len(v) == 4 && v[0] == 1 && v[3] == 1 && v[1] >= 1 && v[2] >= 1 && v[1] <= 1<<16 && v[2] <= 1<<16
	}
	if !ok(k) {
		return a, fmt.Errorf("ksize %v: want [1, kh, kw, 1]", k)
	}
	if !ok(s) {
		return a, fmt.Errorf("strides %v: want [1, sh, sw, 1]", s)
	}
	a.kh, a.kw, a.sh, a.sw = int(k[1]), int(k[2]), int(s[1]), int(s[2])
	a.pad, _ = n.str("padding")
	if a.pad != "SAME" && a.pad != "VALID" {
		return a, fmt.Errorf("padding %q: want SAME or VALID", a.pad)
	}
	return a, nil
}

func checkPool(n *mnode) error { _, err := parsePool(n); return err }

func compilePool(c *compiler, n *mnode, in []*value) (*value, error) {
	a, err := parsePool(n)
	if err != nil {
		return nil, err
	}
	x := in[0]
	if len(x.shape) != 4 || x.data == nil {
		return nil, fmt.Errorf("input shape %v: want a float NHWC tensor", x.shape)
	}
	N, H, W, C := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	oh, pt, err := outSize(H, a.kh, a.sh, 1, a.pad, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("height: %w", err)
	}
	ow, pl, err := outSize(W, a.kw, a.sw, 1, a.pad, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("width: %w", err)
	}
	out := c.alloc([]int{N, oh, ow, C})
	isMax := n.Op == "MaxPool"
	xd, od := x.data, out.data
	c.step(func() {
		for b := 0; b < N; b++ {
			for oy := 0; oy < oh; oy++ {
				y0, y1 := max(oy*a.sh-pt, 0), min(oy*a.sh-pt+a.kh, H)
				for ox := 0; ox < ow; ox++ {
					x0, x1 := max(ox*a.sw-pl, 0), min(ox*a.sw-pl+a.kw, W)
					dst := od[((b*oh+oy)*ow+ox)*C : ((b*oh+oy)*ow+ox+1)*C]
					first := true
					for iy := y0; iy < y1; iy++ {
						for ix := x0; ix < x1; ix++ {
							src := xd[((b*H+iy)*W+ix)*C : ((b*H+iy)*W+ix+1)*C]
							switch {
							case first:
								copy(dst, src)
								first = false
							case isMax:
								vmax(dst, dst, src)
							default:
								vadd(dst, dst, src)
							}
						}
					}
					if !isMax {
						// TensorFlow averages over the window's pixels inside
						// the image (padding does not count).
						cnt := float32((y1 - y0) * (x1 - x0))
						for j := range dst {
							dst[j] /= cnt
						}
					}
				}
			}
		}
	})
	return out, nil
}

// Batch normalisation (inference): y = (x - mean)·scale/√(var+ε) + offset.

func checkBatchNorm(n *mnode) error {
	if err := checkFormat(n); err != nil {
		return err
	}
	if n.boolean("is_training") {
		return errors.New("is_training: only inference is supported")
	}
	return nil
}

func compileBatchNorm(c *compiler, n *mnode, in []*value) (*value, error) {
	x := in[0]
	if len(x.shape) == 0 || x.data == nil {
		return nil, fmt.Errorf("input shape %v: want a float tensor", x.shape)
	}
	C := x.shape[len(x.shape)-1]
	var p [4][]float32
	for i, what := range []string{"scale", "offset", "mean", "variance"} {
		v, err := constFloat(in[1+i], "the "+what)
		if err != nil {
			return nil, err
		}
		if len(v) != C {
			return nil, fmt.Errorf("%s of %d values for %d channels", what, len(v), C)
		}
		p[i] = v
	}
	eps := n.float("epsilon", 1e-3)
	s, t := make([]float32, C), make([]float32, C)
	for j := 0; j < C; j++ {
		inv := float32(1 / math.Sqrt(float64(p[3][j])+eps))
		s[j] = p[0][j] * inv
		t[j] = p[1][j] - p[2][j]*s[j]
	}
	out := c.alloc(slices.Clone(x.shape))
	rows := len(x.data) / max(C, 1)
	xd, od := x.data, out.data
	c.step(func() {
		for r := 0; r < rows; r++ {
			xr, or := xd[r*C:(r+1)*C], od[r*C:(r+1)*C]
			for j, v := range xr {
				or[j] = v*s[j] + t[j]
			}
		}
	})
	return out, nil
}

// Element-wise ops.

type binOp int

const (
	opAdd binOp = iota
	opSub
	opMul
	opDiv
	opMax
	opMin
	opPrelu
)

// binVec writes a op b into dst, element by element (equal lengths).
func binVec(op binOp, dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	switch op {
	case opAdd:
		vadd(dst, a, b)
	case opMul:
		vmul(dst, a, b)
	case opSub:
		for i := range dst {
			dst[i] = a[i] - b[i]
		}
	case opDiv:
		for i := range dst {
			dst[i] = a[i] / b[i]
		}
	case opMax:
		vmax(dst, a, b)
	case opMin:
		for i := range dst {
			dst[i] = min(a[i], b[i])
		}
	case opPrelu:
		vprelu(dst, a, b)
	}
}

// binRows writes a op b into dst for each row of len(b) values (dst and a
// whole rows): bin1's operations, the loop chosen once per call.
func binRows(op binOp, dst, a, b []float32) {
	L := len(b)
	a = a[:len(dst)]
	switch op {
	case opSub:
		for r := 0; r+L <= len(dst); r += L {
			o, x := dst[r:r+L], a[r:r+L]
			for j, y := range b {
				o[j] = x[j] - y
			}
		}
	case opMul:
		for r := 0; r+L <= len(dst); r += L {
			o, x := dst[r:r+L], a[r:r+L]
			for j, y := range b {
				o[j] = x[j] * y
			}
		}
	default:
		for r := 0; r+L <= len(dst); r += L {
			o, x := dst[r:r+L], a[r:r+L]
			for j, y := range b {
				o[j] = bin1(op, x[j], y)
			}
		}
	}
}

// binScalar writes a op s (or s op a when rev) into dst.
func binScalar(op binOp, dst, a []float32, s float32, rev bool) {
	a = a[:len(dst)]
	switch {
	case op == opDiv && !rev:
		for i, v := range a {
			dst[i] = v / s
		}
		return
	case op == opMul:
		for i, v := range a {
			dst[i] = v * s
		}
		return
	case op == opSub && !rev:
		for i, v := range a {
			dst[i] = v - s
		}
		return
	}
	for i, v := range a {
		x, y := v, s
		if rev {
			x, y = s, v
		}
		dst[i] = bin1(op, x, y)
	}
}

func bin1(op binOp, x, y float32) float32 {
	switch op {
	case opAdd:
		return x + y
	case opSub:
		return x - y
	case opMul:
		return x * y
	case opDiv:
		return x / y
	case opMax:
		return max(x, y)
	case opMin:
		return min(x, y)
	default: // opPrelu
		if x < 0 {
			return x * y
		}
		return x
	}
}

// broadcast returns the NumPy broadcast of two shapes.
func broadcast(a, b []int) ([]int, error) {
	r := max(len(a), len(b))
	out := make([]int, r)
	for i := 0; i < r; i++ {
		da, db := 1, 1
		if j := len(a) - r + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - r + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db, db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// isSuffix reports whether the (trailing-aligned) shape b equals the last
// dimensions of out, ignoring leading ones of b.
func isSuffix(b, out []int) bool {
	for len(b) > 0 && b[0] == 1 && len(b) > 1 {
		b = b[1:]
	}
	if len(b) > len(out) {
		return false
	}
	return slices.Equal(b, out[len(out)-len(b):])
}

func floatIn(v *value, what string) error {
	if v.data == nil {
		return fmt.Errorf("%s is not a float tensor", what)
	}
	return nil
}

func elementwise(op binOp) func(c *compiler, n *mnode, in []*value) (*value, error) {
	return func(c *compiler, n *mnode, in []*value) (*value, error) {
		a, b := in[0], in[1]
		if err := floatIn(a, "first input"); err != nil {
			return nil, err
		}
		if err := floatIn(b, "second input"); err != nil {
			return nil, err
		}
		shape, err := broadcast(a.shape, b.shape)
		if err != nil {
			return nil, err
		}
		if _, err := elems(shape); err != nil {
			return nil, err
		}
		if v := c.fuseBinary(op, n, in, shape); v != nil {
			return v, nil
		}
		out := c.alloc(shape)
		ad, bd, od := a.data, b.data, out.data
		row := 1
		if len(shape) > 0 {
			row = max(1, shape[len(shape)-1])
		}
		fu := &fusable{node: n.id, owner: n.id, row: row}
		switch {
		case len(ad) == len(od) && len(bd) == len(od):
			out.fuse = fu
			c.step(func() {
				fu.chunks(len(od), func(lo, hi int) { binVec(op, od[lo:hi], ad[lo:hi], bd[lo:hi]) })
			})
		case len(bd) == 1 && len(ad) == len(od):
			c.step(func() { binScalar(op, od, ad, bd[0], false) })
		case len(ad) == 1 && len(bd) == len(od):
			c.step(func() { binScalar(op, od, bd, ad[0], true) })
		case len(ad) == len(od) && isSuffix(b.shape, shape) && len(bd) > 0:
			L := len(bd)
			out.fuse = fu // row is L: chunks are whole rows
			if op == opAdd {
				c.step(func() {
					fu.chunks(len(od), func(lo, hi int) {
						copy(od[lo:hi], ad[lo:hi])
						biasClamp(od[lo:hi], bd, (hi-lo)/L, L, negInf32, inf32)
					})
				})
				break
			}
			if L < 8 && op != opPrelu {
				// Rows too short for the vector kernels, which would
				// run their Go loops a call per row: the same
				// operations inline (binVec's Go loops are bin1's
				// but for PReLU, kept on the per-row path).
				c.step(func() {
					fu.chunks(len(od), func(lo, hi int) { binRows(op, od[lo:hi], ad[lo:hi], bd) })
				})
				break
			}
			c.step(func() {
				fu.chunks(len(od), func(lo, hi int) {
					for r := lo; r < hi; r += L {
						binVec(op, od[r:r+L], ad[r:r+L], bd)
					}
				})
			})
		default:
			st := newStrider(shape, a.shape, b.shape)
			c.step(func() { st.run(op, od, ad, bd) })
		}
		return out, nil
	}
}

// fuseBinary folds the element-wise op n into the step that writes one of
// its inputs when it may (see compiler.fusable): the op then runs in place
// on each block of that input as it is written, with the arithmetic it
// would have had as a step of its own, and n's value is that input's.
// It returns nil when n must be a step of its own.
func (c *compiler) fuseBinary(op binOp, n *mnode, in []*value, shape []int) *value {
	b := in[1]
	// x is written in place; y is the other operand, ready before x's step.
	for i, x := range in {
		f := c.fusable(n, i, x)
		if f == nil || !slices.Equal(x.shape, shape) {
			continue
		}
		y := in[1-i]
		if !c.ready(n.in[1-i], f) {
			continue
		}
		xd, yd := x.data, y.data
		switch {
		case len(yd) == len(xd):
			if i == 0 {
				f.add(n.id, func(lo, hi int) { binVec(op, xd[lo:hi], xd[lo:hi], yd[lo:hi]) })
			} else {
				f.add(n.id, func(lo, hi int) { binVec(op, xd[lo:hi], yd[lo:hi], xd[lo:hi]) })
			}
			if op == opAdd {
				f.sum = yd // x + y = y + x, bit for bit
			}
		case len(yd) == 1:
			s := yd[0]
			f.add(n.id, func(lo, hi int) { binScalar(op, xd[lo:hi], xd[lo:hi], s, i == 1) })
		case i == 0 && len(yd) > 0 && f.row%len(yd) == 0 && isSuffix(b.shape, shape):
			L := len(yd)
			if op == opAdd {
				f.add(n.id, func(lo, hi int) { biasClamp(xd[lo:hi], yd, (hi-lo)/L, L, negInf32, inf32) })
				break
			}
			if op == opPrelu && f.sum != nil {
				// A shortcut's AddV2 then this PReLU: one pass for both
				// (the same sum, then the same PReLU).
				zd := f.sum
				f.posts = f.posts[:len(f.posts)-1]
				f.add(n.id, func(lo, hi int) { biasPrelu(xd[lo:hi], zd[lo:hi], yd, (hi-lo)/L, L, L) })
				break
			}
			f.add(n.id, func(lo, hi int) {
				for r := lo; r < hi; r += L {
					binVec(op, xd[r:r+L], xd[r:r+L], yd)
				}
			})
		default:
			continue
		}
		return x
	}
	return nil
}

// fusable is a tensor whose writing step runs later element-wise ops
// (posts) on each block it writes, while the block is in cache, instead of
// each op making its own pass over the whole tensor.
type fusable struct {
	node  int                // the node whose step writes the tensor
	owner int                // the node whose value the tensor is now: node, or the last op fused
	row   int                // blocks are whole multiples of row elements
	posts []func(lo, hi int) // in order, on elements [lo, hi) of the tensor
	sum   []float32          // when the last post adds a whole tensor to this one: that tensor
}

// add makes p, node id's op, the next post; the tensor is id's value now.
func (f *fusable) add(id int, p func(lo, hi int)) {
	f.posts = append(f.posts, p)
	f.owner = id
	f.sum = nil
}

// run applies the posts to elements [lo, hi), a whole number of rows.
func (f *fusable) run(lo, hi int) {
	for _, p := range f.posts {
		p(lo, hi)
	}
}

// fusedChunk is the block size of element-wise steps (in values; 16 KiB).
const fusedChunk = 4096

// chunks calls op on blocks of about fusedChunk values (whole rows)
// covering [0, n), each followed by the posts.
func (f *fusable) chunks(n int, op func(lo, hi int)) {
	step := max(f.row, fusedChunk/f.row*f.row)
	for lo := 0; lo < n; lo += step {
		hi := min(n, lo+step)
		op(lo, hi)
		f.run(lo, hi)
	}
}

// fusable returns the writer of x (node n's input i) when n may run inside
// it: x's writer takes posts, x is that input's own value (not reached
// through an alias such as Identity, whose source others may read), n is
// the only reader of that input (so no other op sees x before or after n
// changes it) and it is not a model output (whose value the caller reads
// as it was).
func (c *compiler) fusable(n *mnode, i int, x *value) *fusable {
	p := n.in[i]
	if !c.fuse || x.fuse == nil || x.fuse.owner != p.id || c.uses[p.id] != 1 || c.last[p.id] == keepAlive {
		return nil
	}
	return x.fuse
}

// ready reports whether node q's value is complete before f's step runs:
// a constant, an input, or a node compiled before f's writer.
func (c *compiler) ready(q *mnode, f *fusable) bool {
	return q.Op == "Placeholder" || c.r.vals[q.id].konst != nil || q.id < f.node
}

// strider walks a broadcast element-wise op over any shapes.
type strider struct {
	shape  []int
	sa, sb []int // element strides of a and b per output axis (0 = broadcast)
	idx    []int
}

func newStrider(out, a, b []int) *strider {
	s := &strider{shape: out, sa: bstrides(out, a), sb: bstrides(out, b), idx: make([]int, len(out))}
	return s
}

func bstrides(out, a []int) []int {
	st := make([]int, len(out))
	acc := 1
	for i := len(out) - 1; i >= 0; i-- {
		j := len(a) - len(out) + i
		if j >= 0 && a[j] != 1 {
			st[i] = acc
		}
		if j >= 0 {
			acc *= a[j]
		}
	}
	return st
}

func (s *strider) run(op binOp, out, a, b []float32) {
	clear(s.idx)
	ia, ib := 0, 0
	r := len(s.shape)
	for o := range out {
		out[o] = bin1(op, a[ia], b[ib])
		for k := r - 1; k >= 0; k-- {
			s.idx[k]++
			ia += s.sa[k]
			ib += s.sb[k]
			if s.idx[k] < s.shape[k] {
				break
			}
			ia -= s.sa[k] * s.shape[k]
			ib -= s.sb[k] * s.shape[k]
			s.idx[k] = 0
		}
	}
}

func unary(act actKind) func(c *compiler, n *mnode, in []*value) (*value, error) {
	return func(c *compiler, n *mnode, in []*value) (*value, error) {
		x := in[0]
		if err := floatIn(x, "input"); err != nil {
			return nil, err
		}
		leaky := float32(n.float("alpha", 0.2))
		if f := c.fusable(n, 0, x); f != nil {
			xd := x.data
			f.add(n.id, func(lo, hi int) { applyAct(xd[lo:hi], xd[lo:hi], act, leaky) })
			return x, nil
		}
		out := c.alloc(slices.Clone(x.shape))
		xd, od := x.data, out.data
		row := 1
		if len(x.shape) > 0 {
			row = max(1, x.shape[len(x.shape)-1])
		}
		fu := &fusable{node: n.id, owner: n.id, row: row}
		out.fuse = fu
		c.step(func() {
			fu.chunks(len(od), func(lo, hi int) { applyAct(od[lo:hi], xd[lo:hi], act, leaky) })
		})
		return out, nil
	}
}

// compileSoftmax: softmax over the last axis.
func compileSoftmax(c *compiler, n *mnode, in []*value) (*value, error) {
	x := in[0]
	if err := floatIn(x, "input"); err != nil {
		return nil, err
	}
	if len(x.shape) == 0 || x.shape[len(x.shape)-1] == 0 {
		return nil, fmt.Errorf("input shape %v: softmax needs a last axis", x.shape)
	}
	L := x.shape[len(x.shape)-1]
	out := c.alloc(slices.Clone(x.shape))
	xd, od := x.data, out.data
	c.step(func() {
		for r := 0; r < len(xd); r += L {
			nn.SoftmaxInto(od[r:r+L], xd[r:r+L], 1)
		}
	})
	return out, nil
}

// Reductions over constant axes.

type redKind int

const (
	redSum redKind = iota
	redMean
	redMax
)

// constInts reads an int32 constant input.
func constInts(v *value, what string) ([]int, error) {
	if v.konst == nil || v.konst.DType != "int32" {
		return nil, fmt.Errorf("%s must be an int32 constant", what)
	}
	out := make([]int, len(v.konst.I32))
	for i, x := range v.konst.I32 {
		out[i] = int(x)
	}
	return out, nil
}

func normAxis(a, rank int) (int, error) {
	if a < -rank || a >= rank {
		return 0, fmt.Errorf("axis %d out of range for rank %d", a, rank)
	}
	if a < 0 {
		a += rank
	}
	return a, nil
}

func reduce(kind redKind) func(c *compiler, n *mnode, in []*value) (*value, error) {
	return func(c *compiler, n *mnode, in []*value) (*value, error) {
		x := in[0]
		if err := floatIn(x, "input"); err != nil {
			return nil, err
		}
		axes, err := constInts(in[1], "the reduction axes")
		if err != nil {
			return nil, err
		}
		rank := len(x.shape)
		red := make([]bool, rank)
		for _, a := range axes {
			k, err := normAxis(a, rank)
			if err != nil {
				return nil, err
			}
			red[k] = true
		}
		keep := n.boolean("keep_dims")
		var shape, kept []int // kept: output shape with reduced axes as 1
		count := 1
		for i, d := range x.shape {
			if red[i] {
				count *= d
				kept = append(kept, 1)
				if keep {
					shape = append(shape, 1)
				}
				continue
			}
			kept = append(kept, d)
			shape = append(shape, d)
		}
		if count == 0 {
			return nil, fmt.Errorf("reduction over an empty axis of %v", x.shape)
		}
		out := c.alloc(shape)
		st := &strider{shape: slices.Clone(x.shape), sa: bstrides(x.shape, kept), idx: make([]int, rank)}
		xd, od := x.data, out.data
		c.step(func() {
			init := float32(0)
			if kind == redMax {
				init = negInf32
			}
			for i := range od {
				od[i] = init
			}
			clear(st.idx)
			io := 0
			for _, v := range xd {
				if kind == redMax {
					od[io] = max(od[io], v)
				} else {
					od[io] += v
				}
				for k := rank - 1; k >= 0; k-- {
					st.idx[k]++
					io += st.sa[k]
					if st.idx[k] < st.shape[k] {
						break
					}
					io -= st.sa[k] * st.shape[k]
					st.idx[k] = 0
				}
			}
			if kind == redMean {
				cnt := float32(count)
				for i := range od {
					od[i] /= cnt
				}
			}
		})
		return out, nil
	}
}

// Shape ops (no copy: the output aliases the input).

func compileConst(c *compiler, n *mnode, in []*value) (*value, error) {
	t := n.Value
	v := &value{shape: t.Shape, konst: t}
	if t.DType == "float32" {
		v.data = t.F32
	}
	if _, err := elems(t.Shape); err != nil || len(t.Shape) == 0 && t.Len() != 1 || t.Len() != mustElems(t.Shape) {
		return nil, fmt.Errorf("constant of shape %v holds %d values", t.Shape, t.Len())
	}
	return v, nil
}

func mustElems(s []int) int {
	n, err := elems(s)
	if err != nil {
		return -1
	}
	return n
}

func compileAlias(c *compiler, n *mnode, in []*value) (*value, error) { return in[0], nil }

func reshaped(x *value, shape []int) *value {
	v := &value{shape: shape, data: x.data, buf: x.buf}
	if x.konst != nil {
		k := *x.konst
		k.Shape = shape
		v.konst = &k
	}
	return v
}

func compileReshape(c *compiler, n *mnode, in []*value) (*value, error) {
	x := in[0]
	want, err := constInts(in[1], "the shape")
	if err != nil {
		return nil, err
	}
	total := mustElems(x.shape)
	shape := make([]int, len(want))
	free, known := -1, 1
	for i, d := range want {
		switch {
		case d == -1 && free < 0:
			free = i
		case d < 0:
			return nil, fmt.Errorf("shape %v: bad dimension %d", want, d)
		default:
			shape[i] = d
			if d > 0 && known > maxElems/d {
				return nil, fmt.Errorf("shape %v too large", want)
			}
			known *= d
		}
	}
	if free >= 0 {
		if known == 0 || total%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v into %v", x.shape, want)
		}
		shape[free] = total / known
	} else if known != total {
		return nil, fmt.Errorf("cannot reshape %v (%d values) into %v", x.shape, total, want)
	}
	return reshaped(x, shape), nil
}

func compileSqueeze(c *compiler, n *mnode, in []*value) (*value, error) {
	x := in[0]
	dims, _ := n.ints("squeeze_dims")
	if len(dims) == 0 {
		dims, _ = n.ints("axis")
	}
	drop := make([]bool, len(x.shape))
	for _, d := range dims {
		k, err := normAxis(int(d), len(x.shape))
		if err != nil {
			return nil, err
		}
		if x.shape[k] != 1 {
			return nil, fmt.Errorf("cannot squeeze axis %d of %v", d, x.shape)
		}
		drop[k] = true
	}
	var shape []int
	for i, d := range x.shape {
		if len(dims) == 0 && d == 1 || drop[i] {
			continue
		}
		shape = append(shape, d)
	}
	return reshaped(x, shape), nil
}

func compileExpandDims(c *compiler, n *mnode, in []*value) (*value, error) {
	x := in[0]
	ax, err := constInts(in[1], "the axis")
	if err != nil {
		return nil, err
	}
	if len(ax) != 1 {
		return nil, fmt.Errorf("axis %v: want one value", ax)
	}
	k, err := normAxis(ax[0], len(x.shape)+1)
	if err != nil {
		return nil, err
	}
	shape := slices.Insert(slices.Clone(x.shape), k, 1)
	return reshaped(x, shape), nil
}

func compileConcat(c *compiler, n *mnode, in []*value) (*value, error) {
	parts, axv := in[:len(in)-1], in[len(in)-1]
	ax, err := constInts(axv, "the axis")
	if err != nil {
		return nil, err
	}
	if len(ax) != 1 {
		return nil, fmt.Errorf("axis %v: want one value", ax)
	}
	first := parts[0]
	rank := len(first.shape)
	k, err := normAxis(ax[0], rank)
	if err != nil {
		return nil, err
	}
	shape := slices.Clone(first.shape)
	shape[k] = 0
	for i, p := range parts {
		if err := floatIn(p, fmt.Sprintf("input %d", i)); err != nil {
			return nil, err
		}
		if len(p.shape) != rank {
			return nil, fmt.Errorf("input %d has shape %v, input 0 %v", i, p.shape, first.shape)
		}
		for j := range p.shape {
			if j != k && p.shape[j] != first.shape[j] {
				return nil, fmt.Errorf("input %d has shape %v, input 0 %v", i, p.shape, first.shape)
			}
		}
		shape[k] += p.shape[k]
	}
	outer := 1
	for _, d := range shape[:k] {
		outer *= d
	}
	out := c.alloc(shape)
	inner := make([]int, len(parts))
	datas := make([][]float32, len(parts))
	for i, p := range parts {
		inner[i] = mustElems(p.shape[k:])
		datas[i] = p.data
	}
	od := out.data
	c.step(func() {
		o := 0
		for r := 0; r < outer; r++ {
			for i, d := range datas {
				L := inner[i]
				copy(od[o:o+L], d[r*L:(r+1)*L])
				o += L
			}
		}
	})
	return out, nil
}

func compilePad(c *compiler, n *mnode, in []*value) (*value, error) {
	x := in[0]
	if err := floatIn(x, "input"); err != nil {
		return nil, err
	}
	p, err := constInts(in[1], "the paddings")
	if err != nil {
		return nil, err
	}
	rank := len(x.shape)
	if len(p) != 2*rank || rank == 0 {
		return nil, fmt.Errorf("paddings of %d values for rank %d", len(p), rank)
	}
	var fill float32
	if len(in) == 3 {
		v, err := constFloat(in[2], "the constant value")
		if err != nil {
			return nil, err
		}
		if len(v) != 1 {
			return nil, fmt.Errorf("constant value of %d values", len(v))
		}
		fill = v[0]
	}
	shape := make([]int, rank)
	for i, d := range x.shape {
		if p[2*i] < 0 || p[2*i+1] < 0 || p[2*i] > 1<<20 || p[2*i+1] > 1<<20 {
			return nil, fmt.Errorf("paddings %v: negative or huge", p)
		}
		shape[i] = d + p[2*i] + p[2*i+1]
	}
	if _, err := elems(shape); err != nil {
		return nil, err
	}
	out := c.alloc(shape)
	// Copy row by row (a row is the last axis); ostr are output strides.
	ostr := make([]int, rank)
	acc := 1
	for i := rank - 1; i >= 0; i-- {
		ostr[i] = acc
		acc *= shape[i]
	}
	L := x.shape[rank-1]
	rows := 0
	if L > 0 {
		rows = len(x.data) / L
	}
	idx := make([]int, rank)
	xd, od := x.data, out.data
	c.step(func() {
		for i := range od {
			od[i] = fill
		}
		clear(idx)
		for r := 0; r < rows; r++ {
			o := p[2*(rank-1)]
			for k := 0; k < rank-1; k++ {
				o += (idx[k] + p[2*k]) * ostr[k]
			}
			copy(od[o:o+L], xd[r*L:(r+1)*L])
			for k := rank - 2; k >= 0; k-- {
				idx[k]++
				if idx[k] < x.shape[k] {
					break
				}
				idx[k] = 0
			}
		}
	})
	return out, nil
}

// compileResize is ResizeBilinear as TensorFlow.js's WASM backend runs it
// (XNNPACK in TensorFlow legacy mode): source = dst·(in/out) in float32,
// or (in−1)/(out−1) with align_corners; half_pixel_centers uses
// (dst+½)·scale−½ as TensorFlow does.
func compileResize(c *compiler, n *mnode, in []*value) (*value, error) {
	x := in[0]
	if len(x.shape) != 4 || x.data == nil {
		return nil, fmt.Errorf("input shape %v: want a float NHWC tensor", x.shape)
	}
	size, err := constInts(in[1], "the size")
	if err != nil {
		return nil, err
	}
	if len(size) != 2 || size[0] < 1 || size[1] < 1 || size[0] > 1<<16 || size[1] > 1<<16 {
		return nil, fmt.Errorf("size %v: want two positive values", size)
	}
	N, H, W, C := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	oh, ow := size[0], size[1]
	align, half := n.boolean("align_corners"), n.boolean("half_pixel_centers")
	if align && half {
		return nil, errors.New("align_corners and half_pixel_centers together")
	}
	ys, xs := ResizeTaps(H, oh, align, half), ResizeTaps(W, ow, align, half)
	out := c.alloc([]int{N, oh, ow, C})
	xd, od := x.data, out.data
	c.step(func() { resizeBilinear(xd, od, N, H, W, C, ys, xs) })
	return out, nil
}

// Tap is one output coordinate of a bilinear resize: the two source
// indices and the weight of the second.
type Tap struct {
	I0, I1 int
	F      float32
}

// ResizeTaps computes the source taps of a bilinear resize from in to out
// samples along one axis, as ResizeBilinear does (see compileResize).
func ResizeTaps(in, out int, alignCorners, halfPixel bool) []Tap {
	return ResizeTapsInto(make([]Tap, out), in, alignCorners, halfPixel)
}

// ResizeTapsInto is ResizeTaps writing into taps (its length is the output
// size) and returning it.
func ResizeTapsInto(taps []Tap, in int, alignCorners, halfPixel bool) []Tap {
	out := len(taps)
	scale := float32(in) / float32(out)
	if alignCorners && out > 1 {
		scale = float32(in-1) / float32(out-1)
	}
	for o := range taps {
		var src float32
		if halfPixel {
			src = (float32(o)+0.5)*scale - 0.5
		} else {
			src = float32(o) * scale
		}
		f0 := float32(math.Floor(float64(src)))
		i0 := int(f0)
		frac := src - f0
		if i0 < 0 {
			i0, frac = 0, 0
		}
		i0 = min(i0, in-1)
		i1 := min(i0+1, in-1)
		taps[o] = Tap{I0: i0, I1: i1, F: frac}
	}
	return taps
}

func resizeBilinear(x, out []float32, N, H, W, C int, ys, xs []Tap) {
	oh, ow := len(ys), len(xs)
	for b := 0; b < N; b++ {
		xb := x[b*H*W*C:]
		for oy, ty := range ys {
			r0 := xb[ty.I0*W*C:]
			r1 := xb[ty.I1*W*C:]
			dst := out[((b*oh)+oy)*ow*C:]
			for ox, tx := range xs {
				d := dst[ox*C : (ox+1)*C]
				tl, tr := r0[tx.I0*C:tx.I0*C+C], r0[tx.I1*C:tx.I1*C+C]
				bl, br := r1[tx.I0*C:tx.I0*C+C], r1[tx.I1*C:tx.I1*C+C]
				for j := range d {
					top := tl[j] + (tr[j]-tl[j])*tx.F
					bot := bl[j] + (br[j]-bl[j])*tx.F
					d[j] = top + (bot-top)*ty.F
				}
			}
		}
	}
}

// Matrix products.

func checkFusedMatMul(n *mnode) error {
	f, err := parseFusion(n)
	if err != nil {
		return err
	}
	if len(n.in) != 2+f.args {
		return fmt.Errorf("%d inputs, want %d for fused ops", len(n.in), 2+f.args)
	}
	return nil
}

func compileMatMul(c *compiler, n *mnode, in []*value) (*value, error) {
	a, b := in[0], in[1]
	if err := floatIn(a, "first input"); err != nil {
		return nil, err
	}
	if err := floatIn(b, "second input"); err != nil {
		return nil, err
	}
	if len(a.shape) != 2 || len(b.shape) != 2 {
		return nil, fmt.Errorf("shapes %v × %v: want matrices", a.shape, b.shape)
	}
	ta, tb := n.boolean("transpose_a"), n.boolean("transpose_b")
	m, k := a.shape[0], a.shape[1]
	if ta {
		m, k = k, m
	}
	k2, nn := b.shape[0], b.shape[1]
	if tb {
		k2, nn = nn, k2
	}
	if k != k2 {
		return nil, fmt.Errorf("shapes %v × %v do not multiply", a.shape, b.shape)
	}
	f, err := parseFusion(n)
	if err != nil {
		return nil, err
	}
	var bias, alpha []float32
	if f.bias {
		if bias, err = constFloat(in[2], "the bias"); err != nil {
			return nil, err
		}
		if len(bias) != nn {
			return nil, fmt.Errorf("bias of %d values for %d columns", len(bias), nn)
		}
	}
	if f.act == actPrelu {
		if alpha, err = constFloat(in[3], "the PReLU alpha"); err != nil {
			return nil, err
		}
		if len(alpha) != nn && len(alpha) != 1 {
			return nil, fmt.Errorf("PReLU alpha of %d values for %d columns", len(alpha), nn)
		}
	}
	out := c.alloc([]int{m, nn})
	ad, bd, od := a.data, b.data, out.data
	lda, ldb := a.shape[1], b.shape[1]
	c.step(func() {
		gemmT(ta, tb, m, nn, k, ad, lda, bd, ldb, od)
		epilogue(od, m, nn, bias, f.act, f.leaky, alpha)
	})
	return out, nil
}
