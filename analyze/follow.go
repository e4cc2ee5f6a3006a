package analyze

import (
	"math"
	"slices"

	"github.com/tell-project/tell/au"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/spot"
)

// Following a face through a stream: how the pipeline decides when the
// neutral reference must change, and what it tells the spotter besides the
// movement.
//
//   - A frame identical to the previous one (a still inserted between
//     clips, a duplicated frame) is not measured again: it repeats the last
//     measurement and tells the spotter so (spot.Frame.Repeat). When the
//     picture moves again after a frozen stretch, the first new frame
//     becomes the neutral reference: a montage of clips cut from onset to
//     offset with stills between them starts each clip on its onset.
//   - A cut (the face region changes far more between two frames than it
//     does from frame to frame) also takes a fresh reference, found by the
//     detector in the new frame.
//   - Every new reference resets the spotter (its displacements restart
//     from zero).
//   - A blink (au.Estimator.Blink) masks the eyelid regions.

// newSpotter returns the spotter for the face regions of package au.
func newSpotter(fps float64) (*spot.Spotter, error) {
	return spot.New(spot.Options{FPS: fps, Regions: au.NumRegions, Eyelids: au.EyelidRegions()})
}

// spotInput fills the spotter's frame from a measurement.
type spotInput struct {
	x     []float32
	valid []bool
}

func newSpotInput() *spotInput {
	return &spotInput{x: make([]float32, 2*au.NumRegions), valid: make([]bool, au.NumRegions)}
}

// frame returns the spotter input for a frame: ok says whether the face was
// measured, repeat whether the frame repeats the previous one.
func (in *spotInput) frame(est *au.Estimator, m *au.Measurement, ok, repeat bool) spot.Frame {
	if !ok {
		return spot.Frame{}
	}
	m.RegionDisplacement(in.x, in.valid)
	return spot.Frame{X: in.x, Valid: in.valid, Face: true, Repeat: repeat, Blink: est.Blink(m)}
}

// sameFrame reports whether a and b hold the same picture. It stops at the
// first difference, so for ordinary frames it costs next to nothing.
func sameFrame(a, b *raster.Gray) bool {
	if a == nil || b == nil || a.W != b.W || a.H != b.H {
		return false
	}
	for y := 0; y < a.H; y++ {
		if !slices.Equal(a.Pix[y*a.Stride:y*a.Stride+a.W], b.Pix[y*b.Stride:y*b.Stride+b.W]) {
			return false
		}
	}
	return true
}

// cropChange is the mean absolute grey-level difference of two aligned
// face crops.
func cropChange(a, b []uint8) float64 {
	var s int
	for i := range a {
		d := int(a[i]) - int(b[i])
		if d < 0 {
			d = -d
		}
		s += d
	}
	return float64(s) / float64(max(1, len(a)))
}

// Cut detection. Between consecutive frames of one shot the aligned face
// crop changes by sensor noise and movement, a grey level or two; a blink
// changes a small part of it. A cut to another face or place changes all
// of it: tens of grey levels.
const (
	cutMin      = 10 // grey levels: below this a change is never a cut
	cutRatio    = 5  // a cut is this many times the typical change
	cutHistory  = 32 // frames the typical change is taken over
	cutMinTypic = 1  // floor of the typical change, grey levels
	// cutWarmUp is how many changes are seen before any is called a cut:
	// the typical change of a moving face is not 1 grey level, and with
	// none known a face moving 1.5 px a frame or more was called a cut on
	// every frame after the first (each cut forgets the history).
	cutWarmUp = 4
)

// cutDetector flags frames whose crop change is far above the typical one.
type cutDetector struct {
	hist [cutHistory]float64
	n    int
	buf  [cutHistory]float64
}

// observe adds a frame's change and reports whether it is a cut. A cut
// does not enter the history.
func (c *cutDetector) observe(d float64) bool {
	k := min(c.n, cutHistory)
	if k >= cutWarmUp {
		b := c.buf[:k]
		copy(b, c.hist[:k])
		slices.Sort(b)
		typ := math.Max(cutMinTypic, b[k/2])
		if d >= cutMin && d >= cutRatio*typ {
			return true
		}
	}
	c.hist[c.n%cutHistory] = d
	c.n++
	return false
}

// reset forgets the history (a new shot).
func (c *cutDetector) reset() { c.n = 0 }
