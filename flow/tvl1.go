package flow

import (
	"context"
	"fmt"
	"math"
	"runtime"

	"github.com/tell-project/tell/raster"
)

// TVL1 is a reusable TV-L1 optical flow estimator. It keeps its pyramid and
// work buffers between calls, so computing flow for a stream of same-sized
// pairs allocates nothing after the first. A TVL1 is not safe for
// concurrent use; make one per goroutine. Close releases its workers.
type TVL1 struct {
	p    Params
	team *team

	// Pyramid, finest first.
	lw, lh []int
	i0, i1 [][]float32

	// Work buffers with the capacity of the finest level; each level uses
	// a prefix. u1/u2 is the current flow, g1/g2 the other pair of a
	// ping-pong (upsampling, median filtering).
	u1, u2, g1, g2     []float32
	pad                []float32 // I1 and its centred gradient, interleaved and padded (see padLo)
	wx, wy, rhoc, invg []float32 // per warp: warped gradient, constant residual, 1/|∇I1|²
	p11, p12, p21, p22 []float32 // dual variables
	zero               []float32 // a row of zeros (divergence at the top row)
	errs               []float32 // per chunk partial flow change
	cols               [][]int32 // per participant median scratch (Go kernels)
	capW, capH         int       // size the buffers were made for
	taps               []colTap  // resizeBilinear's column scratch
	i0Built            bool      // i0 holds the pyramid of the last first image

	// Level being processed, read by the chunk kernels.
	w, h       int
	l          int
	lt, taut   float32
	theta      float32
	medianSize int
	simd       bool             // use the AVX2 row kernels
	mscratch   []*medianScratch // per participant median scratch (AVX2 kernels)
	iterations int              // inner iterations run by the last Compute (for tests and tuning)
}

// band kinds.
const (
	kindGradient = iota
	kindWarp
	kindIterate
	kindMedian
)

// NewTVL1 returns an estimator with parameters p.
func NewTVL1(p Params) (*TVL1, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	n := p.Workers
	if n == 0 {
		n = runtime.GOMAXPROCS(0)
	}
	t := &TVL1{p: p, team: newTeam(n), simd: hasSIMD()}
	t.errs = make([]float32, t.team.maxChunks())
	// Workers hold the team, not t: stop them once t is unreachable even
	// if the caller forgets Close.
	runtime.AddCleanup(t, func(tm *team) { tm.close() }, t.team)
	return t, nil
}

// Params returns the estimator's parameters.
func (t *TVL1) Params() Params { return t.p }

// Close stops the estimator's worker goroutines. It must not be used after.
func (t *TVL1) Close() { t.team.close() }

// Iterations returns the number of inner iterations the last Compute ran,
// summed over levels and warps (the epsilon criterion stops most warps
// early).
func (t *TVL1) Iterations() int { return t.iterations }

// Compute returns the flow from a to b: a(x) ≈ b(x + flow(x)).
func (t *TVL1) Compute(ctx context.Context, a, b *raster.Gray) (*Field, error) {
	f := &Field{}
	if err := t.ComputeInto(ctx, a, b, f); err != nil {
		return nil, err
	}
	return f, nil
}

// ComputeInto is Compute writing into dst, whose slices are reused when
// large enough: with a reused dst a stream of pairs allocates nothing.
//
// Images must have the same size, at least 3×3. Constant images (no texture
// to track) give exactly zero flow.
func (t *TVL1) ComputeInto(ctx context.Context, a, b *raster.Gray, dst *Field) error {
	if err := checkPair(a, b); err != nil {
		return err
	}
	t.prepare(a, b)
	t.iterations = 0
	nl := len(t.lw)
	// Zero flow at the coarsest level.
	cw, ch := t.lw[nl-1], t.lh[nl-1]
	clear(t.u1[:cw*ch])
	clear(t.u2[:cw*ch])
	for l := nl - 1; l >= 0; l-- {
		if err := t.level(ctx, l); err != nil {
			return err
		}
		if l == 0 {
			break
		}
		// Upsample to the next finer level, scaling the vectors.
		fw, fh := t.lw[l-1], t.lh[l-1]
		sx := float32(fw) / float32(t.lw[l])
		sy := float32(fh) / float32(t.lh[l])
		resizeBilinear(t.u1[:t.lw[l]*t.lh[l]], t.lw[l], t.lh[l], t.g1[:fw*fh], fw, fh, sx, &t.taps)
		resizeBilinear(t.u2[:t.lw[l]*t.lh[l]], t.lw[l], t.lh[l], t.g2[:fw*fh], fw, fh, sy, &t.taps)
		t.u1, t.g1 = t.g1, t.u1
		t.u2, t.g2 = t.g2, t.u2
	}
	w, h := t.lw[0], t.lh[0]
	dst.resize(w, h)
	copy(dst.U, t.u1[:w*h])
	copy(dst.V, t.u2[:w*h])
	return nil
}

// checkPair validates the input images.
func checkPair(a, b *raster.Gray) error {
	if a == nil || b == nil {
		return fmt.Errorf("flow: nil image")
	}
	if a.W != b.W || a.H != b.H {
		return fmt.Errorf("flow: image sizes differ: %dx%d and %dx%d", a.W, a.H, b.W, b.H)
	}
	if a.W < 3 || a.H < 3 {
		return fmt.Errorf("flow: image %dx%d too small, need at least 3x3", a.W, a.H)
	}
	for i, g := range []*raster.Gray{a, b} {
		name := "first"
		if i == 1 {
			name = "second"
		}
		if g.Stride < g.W || len(g.Pix) < (g.H-1)*g.Stride+g.W {
			return fmt.Errorf("flow: malformed %dx%d %s image (stride %d, %d pixels)", g.W, g.H, name, g.Stride, len(g.Pix))
		}
		// Intensities are 0..255 by convention; anything non-finite or
		// absurdly large would only turn the flow into NaN.
		for y := 0; y < g.H; y++ {
			for x, v := range g.Pix[y*g.Stride : y*g.Stride+g.W] {
				if !(v > -1e6 && v < 1e6) {
					return fmt.Errorf("flow: %s image: pixel (%d,%d) = %v, want a finite intensity", name, x, y, v)
				}
			}
		}
	}
	return nil
}

// prepare sizes the buffers and builds both pyramids.
func (t *TVL1) prepare(a, b *raster.Gray) {
	w, h := a.W, a.H
	if w != t.capW || h != t.capH {
		t.alloc(w, h)
	}
	// A stream of pairs against one reference (tell's flow evidence: the
	// neutral crop against every frame) keeps its first image's pyramid:
	// it is rebuilt only when a's pixels differ in any bit from the last.
	same := t.i0Built
	for y := 0; y < h; y++ {
		src, dst := a.Pix[y*a.Stride:y*a.Stride+w], t.i0[0][y*w:(y+1)*w]
		if same && !sameBits(src, dst) {
			same = false
		}
		if !same {
			copy(dst, src)
		}
		copy(t.i1[0][y*w:(y+1)*w], b.Pix[y*b.Stride:y*b.Stride+w])
	}
	for l := 1; l < len(t.lw); l++ {
		if !same {
			resizeBilinear(t.i0[l-1], t.lw[l-1], t.lh[l-1], t.i0[l], t.lw[l], t.lh[l], 1, &t.taps)
		}
		resizeBilinear(t.i1[l-1], t.lw[l-1], t.lh[l-1], t.i1[l], t.lw[l], t.lh[l], 1, &t.taps)
	}
	t.i0Built = true
}

// sameBits reports whether a and b (of a's length) hold the same bits.
func sameBits(a, b []float32) bool {
	b = b[:len(a)]
	for i, v := range a {
		if math.Float32bits(v) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// alloc makes every buffer for w×h inputs.
func (t *TVL1) alloc(w, h int) {
	t.capW, t.capH = w, h
	t.i0Built = false
	t.lw, t.lh = t.lw[:0], t.lh[:0]
	lw, lh := w, h
	for l := 0; l < t.p.Scales; l++ {
		if l > 0 {
			// Levels shrink by ScaleStep, rounded as OpenCV's resize does;
			// levels under 16 px end the pyramid.
			lw = int(math.Round(float64(lw) * t.p.ScaleStep))
			lh = int(math.Round(float64(lh) * t.p.ScaleStep))
			if lw < 16 || lh < 16 {
				break
			}
		}
		t.lw = append(t.lw, lw)
		t.lh = append(t.lh, lh)
	}
	t.i0 = make([][]float32, len(t.lw))
	t.i1 = make([][]float32, len(t.lw))
	for l := range t.lw {
		t.i0[l] = make([]float32, t.lw[l]*t.lh[l])
		t.i1[l] = make([]float32, t.lw[l]*t.lh[l])
	}
	n := w * h
	bufs := []*[]float32{&t.u1, &t.u2, &t.g1, &t.g2, &t.wx, &t.wy, &t.rhoc, &t.invg, &t.p11, &t.p12, &t.p21, &t.p22}
	for _, b := range bufs {
		*b = make([]float32, n)
	}
	t.zero = make([]float32, w)
	t.pad = make([]float32, (w+padLo+padHi)*(h+padLo+padHi)*4)
	t.cols = make([][]int32, t.team.n)
	t.mscratch = make([]*medianScratch, t.team.n)
	for i := range t.cols {
		t.cols[i] = make([]int32, (w+4)*5)
		t.mscratch[i] = newMedianScratch(w, h)
	}
}

// level runs the warps and iterations of pyramid level l on t.u1/t.u2.
func (t *TVL1) level(ctx context.Context, l int) error {
	p := &t.p
	t.l, t.w, t.h = l, t.lw[l], t.lh[l]
	w, h := t.w, t.h
	n := w * h
	t.lt = float32(p.Lambda * p.Theta)
	t.taut = float32(p.Tau / p.Theta)
	t.theta = float32(p.Theta)
	scaledEps := float32(p.Epsilon * p.Epsilon * float64(n))
	nb := t.team.chunks(w, h)

	t.team.do(t, kindGradient, nb, h)
	padRows(t.pad, w, h)
	clear(t.p11[:n])
	clear(t.p12[:n])
	clear(t.p21[:n])
	clear(t.p22[:n])
	for warp := 0; warp < p.Warps; warp++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("flow: %w", err)
		}
		t.team.do(t, kindWarp, nb, h)
		e := float32(math.MaxFloat32)
		for outer := 0; e > scaledEps && outer < p.OuterIterations; outer++ {
			if p.MedianFiltering > 1 {
				t.medianSize = p.MedianFiltering
				t.team.do(t, kindMedian, nb, h)
				t.u1, t.g1 = t.g1, t.u1
				t.u2, t.g2 = t.g2, t.u2
			}
			for inner := 0; e > scaledEps && inner < p.InnerIterations; inner++ {
				t.team.do(t, kindIterate, nb, h)
				// The dual update of each chunk's last row needs the next
				// chunk's new flow: it runs here, after all chunks.
				e = 0
				for b := 0; b < nb; b++ {
					t.dualRow((b+1)*h/nb - 1)
					e += t.errs[b]
				}
				t.iterations++
			}
		}
	}
	return nil
}

// band implements runner.
func (t *TVL1) band(kind, chunk, worker, y0, y1 int) {
	switch kind {
	case kindGradient:
		gradientPadded(t.i1[t.l], t.w, t.h, t.pad, y0, y1)
	case kindWarp:
		t.warpRows(y0, y1)
	case kindIterate:
		var e float32
		for y := y0; y < y1; y++ {
			e += t.primalRow(y)
			if y > y0 {
				t.dualRow(y - 1)
			}
		}
		t.errs[chunk] = e
	case kindMedian:
		n := t.w * t.h
		if t.simd {
			medianSIMD(t.u1[:n], t.g1[:n], t.w, t.h, t.medianSize, y0, y1, t.mscratch[worker])
			medianSIMD(t.u2[:n], t.g2[:n], t.w, t.h, t.medianSize, y0, y1, t.mscratch[worker])
		} else {
			median(t.u1[:n], t.g1[:n], t.w, t.h, t.medianSize, y0, y1, t.cols[worker])
			median(t.u2[:n], t.g2[:n], t.w, t.h, t.medianSize, y0, y1, t.cols[worker])
		}
	}
}

// primalRow updates the flow of row y: the thresholding step (v), then
// u = v + θ·div p. It returns the row's squared flow change.
func (t *TVL1) primalRow(y int) float32 {
	w := t.w
	o := y * w
	if t.simd && w > 9 {
		// The kernel does the whole row (pixel 0, blocks of 8, and an
		// overlapping masked last block).
		p12u, p22u := t.zero, t.zero
		if y > 0 {
			p12u, p22u = t.p12[o-w:], t.p22[o-w:]
		}
		// Field by field: a composite literal is built apart and copied in
		// 16-byte moves whose loads wait on the 8-byte stores just made (no
		// store forwarding), on every row.
		var a primalArgs
		a.u1, a.u2, a.gx, a.gy, a.rc, a.ig = &t.u1[o], &t.u2[o], &t.wx[o], &t.wy[o], &t.rhoc[o], &t.invg[o]
		a.p11, a.p12, a.p21, a.p22, a.p12u, a.p22u = &t.p11[o], &t.p12[o], &t.p21[o], &t.p22[o], &p12u[0], &p22u[0]
		a.n, a.lt, a.th = w, t.lt, t.theta
		_ = t.u1[o+w-1] // the kernel reads and writes w values from each pointer
		primalAVX2(&a)
		return a.err
	}
	u1 := t.u1[o : o+w]
	u2 := t.u2[o : o+w]
	u2 = u2[:len(u1)]
	gx := t.wx[o : o+w]
	gx = gx[:len(u1)]
	gy := t.wy[o : o+w]
	gy = gy[:len(u1)]
	rc := t.rhoc[o : o+w]
	rc = rc[:len(u1)]
	ig := t.invg[o : o+w]
	ig = ig[:len(u1)]
	p11 := t.p11[o : o+w]
	p11 = p11[:len(u1)]
	p12 := t.p12[o : o+w]
	p12 = p12[:len(u1)]
	p21 := t.p21[o : o+w]
	p21 = p21[:len(u1)]
	p22 := t.p22[o : o+w]
	p22 = p22[:len(u1)]
	var p12u, p22u []float32
	if y > 0 {
		p12u = t.p12[o-w : o]
		p22u = t.p22[o-w : o]
	} else {
		p12u = t.zero[:w]
		p22u = t.zero[:w]
	}
	p12u = p12u[:len(u1)]
	p22u = p22u[:len(u1)]
	lt, th := t.lt, t.theta
	var e, l11, l21 float32
	for x := 0; x < len(u1); x++ {
		a1, a2 := u1[x], u2[x]
		ix, iy := gx[x], gy[x]
		// Thresholding: the minimiser of the linearised L1 data term plus
		// (u-v)²/2θ moves v along ∇I1 by -ρ/|∇I1|² clamped to ±λθ.
		rho := rc[x] + ix*a1 + iy*a2
		fi := -rho * ig[x]
		if fi > lt {
			fi = lt
		} else if fi < -lt {
			fi = -lt
		}
		q11, q21 := p11[x], p21[x]
		div1 := q11 - l11 + p12[x] - p12u[x]
		div2 := q21 - l21 + p22[x] - p22u[x]
		l11, l21 = q11, q21
		n1 := a1 + fi*ix + th*div1
		n2 := a2 + fi*iy + th*div2
		d1, d2 := n1-a1, n2-a2
		e += d1*d1 + d2*d2
		u1[x], u2[x] = n1, n2
	}
	return e
}

// dualRow updates the dual variables of row y from the forward gradient of
// the flow: p = (p + τ/θ ∇u) / (1 + τ/θ |∇u|).
func (t *TVL1) dualRow(y int) {
	w := t.w
	o := y * w
	if t.simd && w > 8 {
		on := o + w // the row below; on the last row itself (zero derivative)
		if y+1 >= t.h {
			on = o
		}
		_ = t.u1[on+w-1] // the kernel reads w values from each pointer
		var a dualArgs   // field by field, as in primalRow
		a.u1, a.u2, a.u1n, a.u2n = &t.u1[o], &t.u2[o], &t.u1[on], &t.u2[on]
		a.p11, a.p12, a.p21, a.p22 = &t.p11[o], &t.p12[o], &t.p21[o], &t.p22[o]
		a.n, a.tt = w, t.taut
		dualAVX2(&a) // all but the last column
		x, xn := o+w-1, on+w-1
		tt := t.taut
		u1y := t.u1[xn] - t.u1[x]
		u2y := t.u2[xn] - t.u2[x]
		r1 := 1 / (1 + tt*abs32(u1y))
		r2 := 1 / (1 + tt*abs32(u2y))
		t.p11[x] *= r1
		t.p12[x] = (t.p12[x] + tt*u1y) * r1
		t.p21[x] *= r2
		t.p22[x] = (t.p22[x] + tt*u2y) * r2
		return
	}
	u1 := t.u1[o : o+w]
	u2 := t.u2[o : o+w]
	u2 = u2[:len(u1)]
	var u1n, u2n []float32
	if y+1 < t.h {
		u1n = t.u1[o+w : o+2*w]
		u2n = t.u2[o+w : o+2*w]
	} else {
		// Last row: the vertical derivative is zero (Neumann boundary).
		u1n, u2n = u1, u2
	}
	u1n = u1n[:len(u1)]
	u2n = u2n[:len(u1)]
	p11 := t.p11[o : o+w]
	p11 = p11[:len(u1)]
	p12 := t.p12[o : o+w]
	p12 = p12[:len(u1)]
	p21 := t.p21[o : o+w]
	p21 = p21[:len(u1)]
	p22 := t.p22[o : o+w]
	p22 = p22[:len(u1)]
	tt := t.taut
	x := 0
	for ; x+1 < len(u1); x++ {
		a1, a2 := u1[x], u2[x]
		u1x, u1y := u1[x+1]-a1, u1n[x]-a1
		u2x, u2y := u2[x+1]-a2, u2n[x]-a2
		r1 := 1 / (1 + tt*sqrt32(u1x*u1x+u1y*u1y))
		r2 := 1 / (1 + tt*sqrt32(u2x*u2x+u2y*u2y))
		p11[x] = (p11[x] + tt*u1x) * r1
		p12[x] = (p12[x] + tt*u1y) * r1
		p21[x] = (p21[x] + tt*u2x) * r2
		p22[x] = (p22[x] + tt*u2y) * r2
	}
	if x < len(u1) { // last column: the horizontal derivative is zero
		u1y := u1n[x] - u1[x]
		u2y := u2n[x] - u2[x]
		r1 := 1 / (1 + tt*abs32(u1y))
		r2 := 1 / (1 + tt*abs32(u2y))
		p11[x] *= r1
		p12[x] = (p12[x] + tt*u1y) * r1
		p21[x] *= r2
		p22[x] = (p22[x] + tt*u2y) * r2
	}
}

func sqrt32(v float32) float32 { return float32(math.Sqrt(float64(v))) }

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

// warpRows warps I1 and its gradient by the current flow (bicubic) and
// stores what the iterations need: the warped gradient, the constant part
// of the linearised residual ρ = I1w + ∇I1w·(u-u0) - I0, and 1/|∇I1w|².
func (t *TVL1) warpRows(y0, y1 int) {
	w := t.w
	i0all := t.i0[t.l]
	for y := y0; y < y1; y++ {
		o := y * w
		u1 := t.u1[o : o+w]
		u2 := t.u2[o : o+w]
		gx := t.wx[o : o+w]
		gy := t.wy[o : o+w]
		rc := t.rhoc[o : o+w]
		ig := t.invg[o : o+w]
		i0 := i0all[o : o+w]
		// The warped image itself goes to rhoc first, then becomes ρ's
		// constant part in place.
		if t.simd {
			var a warpArgs // field by field, as in primalRow
			a.pad, a.pw, a.u1, a.u2 = &t.pad[0], w+padLo+padHi, &u1[0], &u2[0]
			a.v, a.vx, a.vy, a.w, a.y, a.fw, a.fh = &rc[0], &gx[0], &gy[0], w, float32(y), float32(w), float32(t.h)
			warpRowAVX(&a)
		} else {
			warpPadded(t.pad, w, t.h, y, u1, u2, rc, gx, gy)
		}
		u2 = u2[:len(u1)]
		gx = gx[:len(u1)]
		gy = gy[:len(u1)]
		rc = rc[:len(u1)]
		ig = ig[:len(u1)]
		i0 = i0[:len(u1)]
		for x, a1 := range u1 {
			vx, vy := gx[x], gy[x]
			g := vx*vx + vy*vy
			rc[x] = rc[x] - vx*a1 - vy*u2[x] - i0[x]
			if g > 1.1920929e-07 { // FLT_EPSILON, as OpenCV
				ig[x] = 1 / g
			} else {
				ig[x] = 0
			}
		}
	}
}
