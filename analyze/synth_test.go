package analyze

import (
	"context"
	"io"

	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/synth"
)

// clipSource streams a synthetic clip without files.
type clipSource struct {
	c *synth.Clip
	t int
	// lostFrom..lostTo render blank frames (a face leaving the picture).
	lostFrom, lostTo int
}

func (s *clipSource) Next(ctx context.Context) (*raster.Gray, error) {
	if s.t >= s.c.Frames {
		return nil, io.EOF
	}
	t := s.t
	s.t++
	if t >= s.lostFrom && t < s.lostTo {
		g := raster.NewGray(s.c.W, s.c.H)
		for i := range g.Pix {
			g.Pix[i] = 128
		}
		return g, nil
	}
	return raster.FromImage(s.c.Frame(t, nil)), nil
}
func (s *clipSource) FPS() float64 { return s.c.FPS }
func (s *clipSource) Frames() int  { return s.c.Frames }
func (s *clipSource) Close() error { return nil }

// truthLandmarker stands in for face detection in these tests: it returns
// the clip's true landmarks of frame 0 when the frame is not blank. The
// tracker still measures every frame from pixels.
type truthLandmarker struct{ c *synth.Clip }

func (l truthLandmarker) Landmarks(g *raster.Gray) ([68][2]float32, bool, error) {
	var lo, hi float32 = 255, 0
	for _, v := range g.Pix {
		lo, hi = min(lo, v), max(hi, v)
	}
	if hi-lo < 10 {
		return [68][2]float32{}, false, nil
	}
	return l.c.Landmarks(0), true, nil
}
