package analyze

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/raster"
)

// jumpSource shows the astronaut's head in a 640×360 frame that jumps
// 40 px right and 16 px down at frame jumpAt: further than the tracker
// follows from one frame to the next (a fast head movement, a camera's
// jolt).
type jumpSource struct {
	face   *raster.Gray
	t, n   int
	jumpAt int
}

func (s *jumpSource) Next(ctx context.Context) (*raster.Gray, error) {
	if s.t >= s.n {
		return nil, io.EOF
	}
	dx, dy := 150, 20
	if s.t >= s.jumpAt {
		dx, dy = 190, 36
	}
	s.t++
	g := raster.NewGray(640, 360)
	for i := range g.Pix {
		g.Pix[i] = 90
	}
	// The portrait's head and shoulders, x 100–400, y 0–320.
	for y := 0; y < 320 && y+dy < 360; y++ {
		copy(g.Pix[(y+dy)*640+dx:(y+dy)*640+dx+300], s.face.Pix[y*s.face.Stride+100:y*s.face.Stride+400])
	}
	return g, nil
}
func (s *jumpSource) FPS() float64 { return 30 }
func (s *jumpSource) Frames() int  { return s.n }
func (s *jumpSource) Close() error { return nil }

// TestJumpFoundNear: a face that jumps further than the tracker follows is
// searched for near its last place and followed on at once against the
// same neutral reference (before, it was counted lost for half a second
// and then taken as a new reference).
func TestJumpFoundNear(t *testing.T) {
	lm := dlibLandmarker(t)
	img, err := portrait.Astronaut()
	if err != nil {
		t.Fatal(err)
	}
	src := &jumpSource{face: raster.FromImage(img), n: 40, jumpAt: 20}
	res, err := RunSource(context.Background(), src, "jump", Options{Out: t.TempDir(), Landmarker: lm})
	if err != nil {
		t.Fatal(err)
	}
	if res.Tracked != res.Frames {
		t.Errorf("tracked %d of %d frames, want all; notes %q", res.Tracked, res.Frames, res.Notes)
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "found again near its last place") {
		t.Errorf("notes %q: want the face found again near its last place", res.Notes)
	}
}
