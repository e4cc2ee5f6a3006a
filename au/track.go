package au

import (
	"math"

	"github.com/tell-project/tell/raster"
)

// pyramid is a two-level Gaussian pyramid of a crop of a frame. Level 0 is
// the crop lightly smoothed (a 3×3 binomial filter, to tame sensor noise);
// level 1 halves it. ox, oy is the crop's origin in frame pixels.
type pyramid struct {
	ox, oy int
	lv     [2]*raster.Gray
	tmp    *raster.Gray
}

// build fills p from frame over the box (x0, y0, w, h), reusing buffers.
func (p *pyramid) build(frame *raster.Gray, x0, y0, w, h int) {
	p.ox, p.oy = x0, y0
	p.lv[0] = ensure(p.lv[0], w, h)
	p.tmp = ensure(p.tmp, w, h)
	tmp, dst := p.tmp, p.lv[0]
	// Horizontal [1 2 1]/4 then vertical, replicate padding through At
	// where the taps leave the frame (rows and columns inside it read the
	// frame directly: the same values).
	for y := 0; y < h; y++ {
		sy := y + y0
		out := tmp.Pix[y*w : y*w+w]
		if sy < 0 || sy >= frame.H {
			for x := range out {
				sx := x + x0
				out[x] = 0.25*frame.At(sx-1, sy) + 0.5*frame.At(sx, sy) + 0.25*frame.At(sx+1, sy)
			}
			continue
		}
		// Columns whose three taps lie inside the frame: lo ≤ x < hi.
		lo, hi := min(max(1-x0, 0), w), min(max(frame.W-1-x0, 0), w)
		for x := 0; x < lo; x++ {
			sx := x + x0
			out[x] = 0.25*frame.At(sx-1, sy) + 0.5*frame.At(sx, sy) + 0.25*frame.At(sx+1, sy)
		}
		if lo < hi {
			src := frame.Pix[sy*frame.Stride+x0+lo-1 : sy*frame.Stride+x0+hi+1]
			n := hi - lo
			blur3(out[lo:hi], src[:n], src[1:n+1], src[2:n+2])
		}
		for x := max(hi, lo); x < w; x++ {
			sx := x + x0
			out[x] = 0.25*frame.At(sx-1, sy) + 0.5*frame.At(sx, sy) + 0.25*frame.At(sx+1, sy)
		}
	}
	for y := 0; y < h; y++ {
		ym, yp := max(y-1, 0), min(y+1, h-1)
		blur3(dst.Pix[y*w:y*w+w], tmp.Pix[ym*w:ym*w+w], tmp.Pix[y*w:y*w+w], tmp.Pix[yp*w:yp*w+w])
	}
	w2, h2 := w/2, h/2
	p.lv[1] = ensure(p.lv[1], w2, h2)
	l1 := p.lv[1]
	for y := 0; y < h2; y++ {
		halve(l1.Pix[y*w2:y*w2+w2], dst.Pix[2*y*w:2*y*w+2*w2], dst.Pix[(2*y+1)*w:(2*y+1)*w+2*w2])
	}
}

// blur3Go sets out[x] = ¼·p[x] + ½·q[x] + ¼·r[x] (the [1 2 1]/4 filter;
// blur3's reference and tail).
func blur3Go(out, p, q, r []float32) {
	p, q, r = p[:len(out)], q[:len(out)], r[:len(out)]
	for x := range out {
		out[x] = 0.25*p[x] + 0.5*q[x] + 0.25*r[x]
	}
}

// halveGo sets out[x] to the mean of the 2×2 block at 2x of rows r0 and
// r1, summed in reading order (halve's reference and tail).
func halveGo(out, r0, r1 []float32) {
	r0, r1 = r0[:2*len(out)], r1[:2*len(out)]
	for x := range out {
		out[x] = 0.25 * (r0[2*x] + r0[2*x+1] + r1[2*x] + r1[2*x+1])
	}
}

func ensure(g *raster.Gray, w, h int) *raster.Gray {
	if g == nil || cap(g.Pix) < w*h {
		return raster.NewGray(w, h)
	}
	g.W, g.H, g.Stride, g.Pix = w, h, w, g.Pix[:w*h]
	return g
}

// template is a reference patch around one point at one pyramid level, mean
// subtracted, with its gradients and the inverse of its 2×2 Hessian, for
// inverse-compositional Lucas-Kanade (Baker & Matthews 2004).
type template struct {
	t, gx, gy     []float32
	t2            float32 // Σ t², in t's order
	h00, h01, h11 float32 // inverse Hessian
	r             int     // window radius
	ok            bool
}

// makeTemplate samples a (2r+1)² patch of g centred at (cx, cy).
func makeTemplate(g *raster.Gray, cx, cy float32, r int) template {
	n := 2*r + 1
	tp := template{t: make([]float32, n*n), gx: make([]float32, n*n), gy: make([]float32, n*n), r: r}
	var mean float32
	var a, b, c float64
	i := 0
	for dy := -r; dy <= r; dy++ {
		for dx := -r; dx <= r; dx++ {
			x, y := cx+float32(dx), cy+float32(dy)
			v := g.Bilinear(x, y)
			tp.t[i] = v
			mean += v
			gx := 0.5 * (g.Bilinear(x+1, y) - g.Bilinear(x-1, y))
			gy := 0.5 * (g.Bilinear(x, y+1) - g.Bilinear(x, y-1))
			tp.gx[i], tp.gy[i] = gx, gy
			a += float64(gx * gx)
			b += float64(gx * gy)
			c += float64(gy * gy)
			i++
		}
	}
	mean /= float32(n * n)
	for i := range tp.t {
		tp.t[i] -= mean
	}
	for _, v := range tp.t {
		tp.t2 += v * v
	}
	det := a*c - b*b
	// A flat patch cannot be tracked; keep it out of the fits.
	if det <= 1e-6*(a+c)*(a+c) || a+c < float64(n*n) {
		return tp
	}
	tp.h00, tp.h01, tp.h11 = float32(c/det), float32(-b/det), float32(a/det)
	tp.ok = true
	return tp
}

// sampleWindow fills buf with the (2r+1)² window of g at (qx, qy) by
// bilinear interpolation; all taps share the fractional weights. It returns
// false when the window leaves the image.
func sampleWindow(g *raster.Gray, qx, qy float32, r int, buf []float32) bool {
	o, w, ok := windowAt(g, qx, qy, r)
	if !ok {
		return false
	}
	n := 2*r + 1
	w00, w10, w01, w11 := w[0], w[1], w[2], w[3]
	i := 0
	for y := 0; y < n; y++ {
		r0 := g.Pix[o+y*g.Stride:]
		r1 := g.Pix[o+(y+1)*g.Stride:]
		for x := 0; x < n; x++ {
			buf[i] = w00*r0[x] + w10*r0[x+1] + w01*r1[x] + w11*r1[x+1]
			i++
		}
	}
	return true
}

// windowAt returns where the (2r+1)² window of g at (qx, qy) starts in
// g.Pix and its bilinear weights (top-left, top-right, bottom-left,
// bottom-right), or false when the window leaves the image.
func windowAt(g *raster.Gray, qx, qy float32, r int) (int, [4]float32, bool) {
	fx, fy := float32(math.Floor(float64(qx))), float32(math.Floor(float64(qy)))
	ix, iy := int(fx)-r, int(fy)-r
	n := 2*r + 1
	if ix < 0 || iy < 0 || ix+n >= g.W || iy+n >= g.H {
		return 0, [4]float32{}, false
	}
	ax, ay := qx-fx, qy-fy
	return iy*g.Stride + ix, [4]float32{(1 - ax) * (1 - ay), ax * (1 - ay), (1 - ax) * ay, ax * ay}, true
}

// trackPoint refines (qx, qy) so that the window of g there matches tp.
// It returns the position, the normalised residual (RMS error over the
// template's RMS) and whether it converged inside the image.
func trackPoint(g *raster.Gray, tp *template, qx, qy float32, buf []float32) (float32, float32, float32, bool) {
	if !tp.ok {
		return qx, qy, 1, false
	}
	r := tp.r
	buf = buf[:(2*r+1)*(2*r+1)]
	var rms float32
	for it := 0; it < 12; it++ {
		if !sampleWindow(g, qx, qy, r, buf) {
			return qx, qy, 1, false
		}
		var mean float32
		for _, v := range buf {
			mean += v
		}
		mean /= float32(len(buf))
		// Photometric gain by least squares, so that an illumination change
		// does not read as motion.
		var it2 float32
		tt := tp.t[:len(buf)]
		for i, v := range buf {
			it2 += (v - mean) * tt[i]
		}
		t2 := tp.t2
		gain := float32(1)
		if it2 > 0 && t2 > 0 {
			gain = it2 / t2
		}
		inv := 1 / gain
		var bx, by, e2 float32
		gx, gy := tp.gx[:len(buf)], tp.gy[:len(buf)]
		for i, v := range buf {
			e := (v-mean)*inv - tt[i]
			bx += gx[i] * e
			by += gy[i] * e
			e2 += e * e
		}
		rms = float32(math.Sqrt(float64(e2 / (t2 + 1e-6))))
		dx := tp.h00*bx + tp.h01*by
		dy := tp.h01*bx + tp.h11*by
		qx -= dx
		qy -= dy
		if dx*dx+dy*dy < 1e-4 {
			break
		}
		if dx*dx+dy*dy > 100 {
			return qx, qy, 1, false
		}
	}
	return qx, qy, rms, true
}
