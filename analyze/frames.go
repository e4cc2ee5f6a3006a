package analyze

import (
	"fmt"

	"github.com/tell-project/tell/raster"
)

// modelFrameBudget bounds the whole grey frames kept for a flow model
// (tell analyze --model): a model takes each event's onset and apex frames
// exactly as tell prepare reads a frames row's, so they are kept as read,
// the most recent ones within this many bytes (at 640×480, 218 frames:
// over a second at 200 fps, longer than any micro-expression's onset to
// apex).
const modelFrameBudget = 256 << 20

// frameKeep holds the most recent whole frames, reusing its buffers.
type frameKeep struct {
	buf []*raster.Gray
	idx []int // the frame index each buffer holds, −1 for none
}

// newFrameKeep sizes the keep for w×h frames: at most ringLen frames (the
// analysis window) and modelFrameBudget bytes, at least 2.
func newFrameKeep(w, h, ringLen int) *frameKeep {
	n := min(ringLen, max(2, modelFrameBudget/max(1, 4*w*h)))
	k := &frameKeep{buf: make([]*raster.Gray, n), idx: make([]int, n)}
	for i := range k.idx {
		k.idx[i] = -1
	}
	return k
}

// put keeps a copy of frame idx.
func (k *frameKeep) put(idx int, g *raster.Gray) {
	s := idx % len(k.buf)
	d := k.buf[s]
	if d == nil || d.W != g.W || d.H != g.H {
		d = raster.NewGray(g.W, g.H)
		k.buf[s] = d
	}
	for y := 0; y < g.H; y++ {
		copy(d.Pix[y*d.Stride:y*d.Stride+g.W], g.Pix[y*g.Stride:y*g.Stride+g.W])
	}
	k.idx[s] = idx
}

// get returns frame idx, or an error saying it is no longer kept.
func (k *frameKeep) get(idx int) (*raster.Gray, error) {
	s := idx % len(k.buf)
	if idx < 0 || k.idx[s] != idx {
		return nil, fmt.Errorf("frame %d is no longer kept (a flow model keeps the last %d whole frames, %d MB)", idx+1, len(k.buf), modelFrameBudget>>20)
	}
	return k.buf[s], nil
}
