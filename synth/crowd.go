package synth

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/tell-project/tell/raster"
)

// Walker is one portrait's head moving through a Crowd clip: from From to
// To (face centres, image pixels) at constant speed over the clip, with a
// small sway, at a fixed face side, turn and mirror. Depth orders the heads:
// a larger Depth is farther away and drawn behind.
type Walker struct {
	Source   int
	From, To [2]float64
	Side     float64
	Roll     float64
	Mirror   bool
	Depth    float64
}

// Crowd is a clip of several portraits' heads moving and crossing over a
// background, with the truth of every frame: where each face is and how
// much of it is hidden behind heads in front. Frames render on demand.
//
// Limits: heads are flat discs pasted in depth order (no shading, no
// motion blur); the faces keep their expression (no AU truth here: this
// is for finding and following faces).
type Crowd struct {
	W, H    int
	Frames  int
	FPS     float64
	Walkers []Walker
	ps      []Portrait
	bg      *raster.RGB
	sway    []float64 // per walker: phase
}

// CrowdFace is one face in one frame of a Crowd: where it is (as Scene's
// Placed) and the fraction of its box hidden by heads in front, 0..1.
type CrowdFace struct {
	Walker int
	Placed
	Hidden float64
}

// NewCrowd makes a clip of the walkers over bg (a grey gradient when nil),
// w×h, frames long at fps.
func NewCrowd(ps []Portrait, bg *raster.RGB, w, h, frames int, fps float64, walkers []Walker) (*Crowd, error) {
	if len(walkers) == 0 || frames < 1 || w < 16 || h < 16 || !(fps > 0) {
		return nil, fmt.Errorf("synth: crowd: %d walkers, %d frames, %dx%d at %v fps", len(walkers), frames, w, h, fps)
	}
	for i, wk := range walkers {
		if wk.Source < 0 || wk.Source >= len(ps) || !(wk.Side > 4) {
			return nil, fmt.Errorf("synth: crowd: walker %d: source %d of %d, side %v", i, wk.Source, len(ps), wk.Side)
		}
	}
	c := &Crowd{W: w, H: h, Frames: frames, FPS: fps, Walkers: walkers, ps: ps}
	c.bg = raster.NewRGB(w, h)
	if bg != nil {
		fill(c.bg, bg, rand.New(rand.NewPCG(1, 2)))
	} else {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				v := uint8(70 + 110*(x+y)/(w+h))
				p := c.bg.Pix[y*c.bg.Stride+3*x:]
				p[0], p[1], p[2] = v, v, v+10
			}
		}
	}
	for i := range walkers {
		c.sway = append(c.sway, 1.7*float64(i))
	}
	return c, nil
}

// Truth returns the faces of frame i (from 0) in walker order.
func (c *Crowd) Truth(i int) []CrowdFace {
	t := 0.0
	if c.Frames > 1 {
		t = float64(i) / float64(c.Frames-1)
	}
	out := make([]CrowdFace, len(c.Walkers))
	for k, w := range c.Walkers {
		// A sway of 3% of the side, about once a second.
		s := 0.03 * w.Side * math.Sin(2*math.Pi*float64(i)/c.FPS+c.sway[k])
		out[k] = CrowdFace{Walker: k, Placed: Placed{
			Source: w.Source, Side: w.Side, Roll: w.Roll, Mirror: w.Mirror,
			CX: w.From[0] + t*(w.To[0]-w.From[0]) + s,
			CY: w.From[1] + t*(w.To[1]-w.From[1]) + s/2,
		}}
	}
	for k := range out {
		out[k].Hidden = c.hidden(out, k)
	}
	return out
}

// hidden estimates the fraction of face k's box covered by the head discs
// of the walkers in front of it, on a 16×16 grid of the box.
func (c *Crowd) hidden(fs []CrowdFace, k int) float64 {
	f := fs[k]
	n, cov := 0, 0
	for gy := 0; gy < 16; gy++ {
		for gx := 0; gx < 16; gx++ {
			x := f.CX + (float64(gx)+0.5-8)/16*f.Side
			y := f.CY + (float64(gy)+0.5-8)/16*f.Side
			n++
			for j, o := range fs {
				if j != k && c.Walkers[j].Depth < c.Walkers[k].Depth && math.Hypot(x-o.CX, y-o.CY) < headRadius*o.Side {
					cov++
					break
				}
			}
		}
	}
	return float64(cov) / float64(n)
}

// Frame renders frame i (from 0): the background, then the heads from the
// farthest to the nearest.
func (c *Crowd) Frame(i int) *raster.RGB {
	out := &raster.RGB{W: c.W, H: c.H, Stride: c.bg.Stride, Pix: append([]uint8(nil), c.bg.Pix...)}
	fs := c.Truth(i)
	order := make([]int, len(fs))
	for k := range order {
		order[k] = k
	}
	// Farthest first; ties in walker order.
	for a := 1; a < len(order); a++ {
		for b := a; b > 0 && c.Walkers[order[b]].Depth > c.Walkers[order[b-1]].Depth; b-- {
			order[b], order[b-1] = order[b-1], order[b]
		}
	}
	for _, k := range order {
		Paste(out, &c.ps[fs[k].Source], fs[k].Placed, 1)
	}
	return out
}
