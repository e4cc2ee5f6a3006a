package merclip

import (
	"fmt"
	"math/rand/v2"

	"github.com/tell-project/tell/model"
)

// Region is one of the four face regions of LocalStaticFaceMix.
type Region int

// The regions, as MER-CLIP defines them on an aligned H×W face.
const (
	Forehead   Region = iota // rows [0, H/4), all columns
	Chin                     // rows [3H/4, H), all columns
	LeftCheek                // rows [H/4, 3H/4), columns [0, W/2)
	RightCheek               // rows [H/4, 3H/4), columns [W/2, W)
	numRegions
)

func (r Region) String() string {
	switch r {
	case Forehead:
		return "forehead"
	case Chin:
		return "chin"
	case LeftCheek:
		return "left cheek"
	case RightCheek:
		return "right cheek"
	}
	return fmt.Sprintf("Region(%d)", int(r))
}

// Bounds returns the half-open rows [y0,y1) and columns [x0,x1) of the region
// on an h×w image (integer division, as the paper's code slices tensors).
func (r Region) Bounds(h, w int) (y0, y1, x0, x1 int) {
	switch r {
	case Forehead:
		return 0, h / 4, 0, w
	case Chin:
		return 3 * h / 4, h, 0, w
	case LeftCheek:
		return h / 4, 3 * h / 4, 0, w / 2
	case RightCheek:
		return h / 4, 3 * h / 4, w / 2, w
	}
	panic(fmt.Sprintf("merclip: bad region %d", int(r)))
}

// MixRegion sets region r of every frame of x to alpha·x + (1−alpha)·static,
// where static is one frame (Channels×H×W) of a static face; for motion
// channels the static face contributes zero. Values outside the region are
// left untouched. static may be nil when every channel is motion.
func MixRegion(x []float32, l model.Layout, static []float32, r Region, alpha float32) {
	y0, y1, x0, x1 := r.Bounds(l.H, l.W)
	plane := l.H * l.W
	for f := 0; f < l.Frames; f++ {
		for c := 0; c < l.Channels; c++ {
			dst := x[(f*l.Channels+c)*plane : (f*l.Channels+c+1)*plane]
			motion := c < len(l.Motion) && l.Motion[c]
			var src []float32
			if !motion {
				src = static[c*plane : (c+1)*plane]
			}
			for y := y0; y < y1; y++ {
				row := dst[y*l.W : (y+1)*l.W]
				if motion {
					for i := x0; i < x1; i++ {
						row[i] *= alpha
					}
					continue
				}
				srow := src[y*l.W : (y+1)*l.W]
				for i := x0; i < x1; i++ {
					row[i] = alpha*row[i] + (1-alpha)*srow[i]
				}
			}
		}
	}
}

// Mixer is LocalStaticFaceMix: with probability P, a training sample gets
// one random region replaced by a blend with a static face drawn from the
// pool, which holds the static faces of the training fold only (one frame
// each: a clip's first frame, or the image of an image-only row). The pool
// is the only source, so a test sample can never leak into training.
type Mixer struct {
	P, Alpha float32
	Layout   model.Layout
	pool     [][]float32
}

// NewMixer builds a mixer whose static faces are the given training-fold
// statics (each Layout.StaticLen() long; entries may be nil when every
// channel is motion).
func NewMixer(p, alpha float64, l model.Layout, trainStatics [][]float32) (*Mixer, error) {
	for i, s := range trainStatics {
		if s != nil && len(s) != l.StaticLen() {
			return nil, fmt.Errorf("merclip: static face %d has %d values, want %d", i, len(s), l.StaticLen())
		}
		if s == nil && l.HasAppearance() {
			return nil, fmt.Errorf("merclip: static face %d missing for a layout with appearance channels", i)
		}
	}
	return &Mixer{P: float32(p), Alpha: float32(alpha), Layout: l, pool: trainStatics}, nil
}

// Apply augments x in place. It returns the region used and the pool index of
// the static face, or region −1 when the sample was left alone.
func (m *Mixer) Apply(rng *rand.Rand, x []float32) (Region, int) {
	if m == nil || len(m.pool) == 0 || rng.Float32() >= m.P {
		return -1, -1
	}
	j := rng.IntN(len(m.pool))
	r := Region(rng.IntN(int(numRegions)))
	MixRegion(x, m.Layout, m.pool[j], r, m.Alpha)
	return r, j
}
