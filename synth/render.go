package synth

import (
	"image"
	"image/draw"
	"math"
	"math/rand/v2"

	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/raster"
)

// Face is a source face image with its 68 landmarks.
type Face struct {
	// R, G, B planes of the image, row-major, 0..255.
	W, H    int
	R, G, B []float32
	LM      [68][2]float32
}

// NewFace converts img to planes and keeps its landmarks.
func NewFace(img image.Image, lm [68][2]float32) *Face {
	b := img.Bounds()
	rgba := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(rgba, rgba.Bounds(), img, b.Min, draw.Src)
	f := &Face{W: b.Dx(), H: b.Dy(), LM: lm}
	n := f.W * f.H
	f.R, f.G, f.B = make([]float32, n), make([]float32, n), make([]float32, n)
	for i := 0; i < n; i++ {
		f.R[i] = float32(rgba.Pix[4*i])
		f.G[i] = float32(rgba.Pix[4*i+1])
		f.B[i] = float32(rgba.Pix[4*i+2])
	}
	return f
}

// frame of the face: origin, unit axes (x along the eyes, y down), IOD.
type faceFrame struct {
	cx, cy float64 // face centre (mean of eyes and mouth)
	ex, ey [2]float64
	iod    float64
}

func frameOf(lm *[68][2]float32) faceFrame {
	l, r := face.EyeCentres(lm)
	var m [2]float64
	for i := 48; i < 68; i++ {
		m[0] += float64(lm[i][0]) / 20
		m[1] += float64(lm[i][1]) / 20
	}
	dx, dy := r[0]-l[0], r[1]-l[1]
	iod := math.Hypot(dx, dy)
	ex := [2]float64{dx / iod, dy / iod}
	return faceFrame{
		cx: (l[0] + r[0] + m[0]) / 3, cy: (l[1] + r[1] + m[1]) / 3,
		ex: ex, ey: [2]float64{-ex[1], ex[0]}, iod: iod,
	}
}

// field is a displacement field (in source pixels) over a box of the source.
type field struct {
	x0, y0 int
	dx, dy *raster.Gray
}

// buildField sums the anchors of the given AUs at their intensities into one
// field, amplitudes in source pixels per unit intensity given by amp.
func buildField(f *Face, aus []ActiveAU, amp func(float64) float64) *field {
	ff := frameOf(&f.LM)
	type bump struct{ px, py, vx, vy, inv2s2, reach float64 }
	var bumps []bump
	for _, a := range aus {
		for _, an := range auFields[a.AU] {
			if a.Side == "R" && an.side == sideLeft || a.Side == "L" && an.side == sideRight {
				continue
			}
			var px, py float64
			for _, p := range an.pts {
				px += float64(f.LM[p][0])
				py += float64(f.LM[p][1])
			}
			px /= float64(len(an.pts))
			py /= float64(len(an.pts))
			px += (an.off[0]*ff.ex[0] + an.off[1]*ff.ey[0]) * ff.iod
			py += (an.off[0]*ff.ex[1] + an.off[1]*ff.ey[1]) * ff.iod
			a0 := amp(a.Intensity)
			vx := (an.dir[0]*ff.ex[0] + an.dir[1]*ff.ey[0]) * a0
			vy := (an.dir[0]*ff.ex[1] + an.dir[1]*ff.ey[1]) * a0
			s := an.sigma * ff.iod
			bumps = append(bumps, bump{px, py, vx, vy, 1 / (2 * s * s), 3 * s})
		}
	}
	// Box: the landmarks' bounding box plus a margin that covers every bump.
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, b := range bumps {
		minX, maxX = math.Min(minX, b.px-b.reach), math.Max(maxX, b.px+b.reach)
		minY, maxY = math.Min(minY, b.py-b.reach), math.Max(maxY, b.py+b.reach)
	}
	if len(bumps) == 0 {
		return nil
	}
	x0, y0 := int(math.Floor(minX))-1, int(math.Floor(minY))-1
	w, h := int(math.Ceil(maxX))+2-x0, int(math.Ceil(maxY))+2-y0
	fl := &field{x0: x0, y0: y0, dx: raster.NewGray(w, h), dy: raster.NewGray(w, h)}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			sx, sy := float64(x+x0), float64(y+y0)
			var ux, uy float64
			for _, b := range bumps {
				ddx, ddy := sx-b.px, sy-b.py
				d2 := ddx*ddx + ddy*ddy
				if d2 > b.reach*b.reach {
					continue
				}
				g := math.Exp(-d2 * b.inv2s2)
				ux += g * b.vx
				uy += g * b.vy
			}
			fl.dx.Pix[y*w+x] = float32(ux)
			fl.dy.Pix[y*w+x] = float32(uy)
		}
	}
	return fl
}

// at returns the displacement at source position (x, y); zero outside.
func (fl *field) at(x, y float32) (float32, float32) {
	if fl == nil {
		return 0, 0
	}
	lx, ly := x-float32(fl.x0), y-float32(fl.y0)
	if lx < 0 || ly < 0 || lx > float32(fl.dx.W-1) || ly > float32(fl.dx.H-1) {
		return 0, 0
	}
	return fl.dx.Bilinear(lx, ly), fl.dy.Bilinear(lx, ly)
}

// view maps output pixels to source pixels: a scale about the face centre,
// then a small head motion (rotation and translation in output pixels).
type view struct {
	w, h       int
	scale      float64
	cx, cy     float64 // source point at the output centre
	tx, ty, th float64 // head motion: output px, radians
}

// toSource maps output (x, y) to source coordinates.
func (v *view) toSource(x, y float64) (float64, float64) {
	x -= float64(v.w)/2 + v.tx
	y -= float64(v.h)/2 + v.ty
	c, s := math.Cos(-v.th), math.Sin(-v.th)
	x, y = c*x-s*y, s*x+c*y
	return v.cx + x/v.scale, v.cy + y/v.scale
}

// toOutput maps source (x, y) to output coordinates (inverse of toSource).
func (v *view) toOutput(x, y float64) (float64, float64) {
	x = (x - v.cx) * v.scale
	y = (y - v.cy) * v.scale
	c, s := math.Cos(v.th), math.Sin(v.th)
	x, y = c*x-s*y, s*x+c*y
	return x + float64(v.w)/2 + v.tx, y + float64(v.h)/2 + v.ty
}

// render draws one frame into dst (size v.w×v.h): the source warped by the
// field scaled by k, seen through v, with gain, and Gaussian noise of std
// noise drawn from rng.
func render(dst *image.RGBA, f *Face, fl *field, k float32, v *view, gain float32, noise float64, rng *rand.Rand) {
	src := [3]*raster.Gray{
		{W: f.W, H: f.H, Stride: f.W, Pix: f.R},
		{W: f.W, H: f.H, Stride: f.W, Pix: f.G},
		{W: f.W, H: f.H, Stride: f.W, Pix: f.B},
	}
	// The map is affine: step along rows with increments.
	sx0, sy0 := v.toSource(0, 0)
	sx1, sy1 := v.toSource(1, 0)
	sx2, sy2 := v.toSource(0, 1)
	ax, ay := float32(sx1-sx0), float32(sy1-sy0)
	bx, by := float32(sx2-sx0), float32(sy2-sy0)
	for y := 0; y < v.h; y++ {
		px := float32(sx0) + float32(y)*bx
		py := float32(sy0) + float32(y)*by
		row := dst.Pix[y*dst.Stride : y*dst.Stride+4*v.w]
		for x := 0; x < v.w; x++ {
			qx, qy := px, py
			if k != 0 {
				ux, uy := fl.at(px, py)
				// Backward warp: skin displaced by u shows at p what was at p-u
				// (first order; the fields are smooth and small).
				qx -= k * ux
				qy -= k * uy
			}
			for c := 0; c < 3; c++ {
				val := src[c].Bilinear(qx, qy) * gain
				if noise > 0 {
					val += float32(rng.NormFloat64() * noise)
				}
				row[4*x+c] = clamp8(val)
			}
			row[4*x+3] = 255
			px += ax
			py += ay
		}
	}
}

func clamp8(v float32) uint8 {
	v += 0.5
	if v <= 0 {
		return 0
	}
	if v >= 255 {
		return 255
	}
	return uint8(v)
}
