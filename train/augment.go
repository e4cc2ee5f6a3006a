package train

import (
	"math"
	"math/rand/v2"

	"github.com/tell-project/tell/facs"
	"github.com/tell-project/tell/model"
)

// The channels of a flow layout are u (horizontal motion), v (vertical
// motion) and optical strain, then the apex frame when Input.Apex is set;
// image layouts have one grey channel.

// Mirror flips x (one sample of layout l) left to right in place. For flow
// layouts the horizontal motion u changes sign, so the result is the flow
// of the mirrored face; v, strain and appearance only move.
func Mirror(x []float32, l model.Layout) {
	plane := l.H * l.W
	for f := 0; f < l.Frames; f++ {
		for c := 0; c < l.Channels; c++ {
			ch := x[(f*l.Channels+c)*plane : (f*l.Channels+c+1)*plane]
			neg := c == 0 && len(l.Motion) > 0 && l.Motion[0]
			for y := 0; y < l.H; y++ {
				row := ch[y*l.W : (y+1)*l.W]
				for i, j := 0, l.W-1; i < j; i, j = i+1, j-1 {
					row[i], row[j] = row[j], row[i]
				}
				if neg {
					for i := range row {
						row[i] = -row[i]
					}
				}
			}
		}
	}
}

// MirrorAUs returns the AU code of the mirrored face: left and right sides
// swapped (L12 ↔ R12); bilateral and asymmetric AUs are unchanged.
func MirrorAUs(c facs.Code) facs.Code {
	out := facs.Code{Terms: make([]facs.Term, len(c.Terms))}
	for i, t := range c.Terms {
		nt := make(facs.Term, len(t))
		for j, a := range t {
			switch a.Side {
			case facs.Left:
				a.Side = facs.Right
			case facs.Right:
				a.Side = facs.Left
			}
			nt[j] = a
		}
		out.Terms[i] = nt
	}
	return out
}

// Jitter is a small random similarity transform (shift, rotation, scale)
// about the image centre, for augmentation.
type Jitter struct {
	Shift  float64 // largest shift in pixels along each axis
	Rotate float64 // largest rotation in degrees
	Scale  float64 // largest relative scale change (0.05: ±5%)
}

// Zero reports whether the jitter does nothing.
func (j Jitter) Zero() bool { return j.Shift == 0 && j.Rotate == 0 && j.Scale == 0 }

// Draw returns a transform drawn uniformly within the jitter's bounds.
func (j Jitter) Draw(rng *rand.Rand) Transform {
	uni := func(a float64) float64 { return (2*rng.Float64() - 1) * a }
	return Transform{Theta: uni(j.Rotate) * math.Pi / 180, Scale: 1 + uni(j.Scale), TX: uni(j.Shift), TY: uni(j.Shift)}
}

// Apply writes a transform drawn from rng, applied to src, into dst.
func (j Jitter) Apply(rng *rand.Rand, dst, src []float32, l model.Layout) {
	j.Draw(rng).Apply(dst, src, l)
}

// Transform is a similarity transform about the image centre: rotation
// Theta (radians, clockwise on screen since y points down), scale, then a
// shift of (TX, TY) pixels.
type Transform struct {
	Theta, Scale, TX, TY float64
}

// Apply writes the transformed src (one sample of layout l) to dst (same
// length; not src). Pixels are resampled bilinearly, with zero outside the
// image; for flow layouts the motion vectors (u, v) are rotated and scaled
// with the face, while strain and appearance only move.
func (t Transform) Apply(dst, src []float32, l model.Layout) {
	cos, sin := math.Cos(t.Theta)*t.Scale, math.Sin(t.Theta)*t.Scale
	// Output pixel p comes from input A⁻¹(p − c − t) + c, A = s·R(θ).
	det := cos*cos + sin*sin
	ia, ib, ic, id := cos/det, sin/det, -sin/det, cos/det
	cx, cy := float64(l.W-1)/2, float64(l.H-1)/2
	plane := l.H * l.W
	flow := len(l.Motion) > 1 && l.Motion[0] && l.Motion[1]
	for f := 0; f < l.Frames; f++ {
		base := f * l.Channels * plane
		for y := 0; y < l.H; y++ {
			for x := 0; x < l.W; x++ {
				dx, dy := float64(x)-cx-t.TX, float64(y)-cy-t.TY
				sx, sy := ia*dx+ib*dy+cx, ic*dx+id*dy+cy
				for c := 0; c < l.Channels; c++ {
					dst[base+c*plane+y*l.W+x] = bilinear(src[base+c*plane:base+(c+1)*plane], l.W, l.H, sx, sy)
				}
				if flow {
					u, v := dst[base+y*l.W+x], dst[base+plane+y*l.W+x]
					dst[base+y*l.W+x] = float32(cos*float64(u) - sin*float64(v))
					dst[base+plane+y*l.W+x] = float32(sin*float64(u) + cos*float64(v))
				}
			}
		}
	}
}

// bilinear samples p (w×h) at (x, y) with zero outside.
func bilinear(p []float32, w, h int, x, y float64) float32 {
	x0, y0 := math.Floor(x), math.Floor(y)
	fx, fy := float32(x-x0), float32(y-y0)
	ix, iy := int(x0), int(y0)
	at := func(i, j int) float32 {
		if i < 0 || j < 0 || i >= w || j >= h {
			return 0
		}
		return p[j*w+i]
	}
	top := at(ix, iy)*(1-fx) + at(ix+1, iy)*fx
	bot := at(ix, iy+1)*(1-fx) + at(ix+1, iy+1)*fx
	return top*(1-fy) + bot*fy
}
