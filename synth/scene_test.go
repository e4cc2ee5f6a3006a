package synth

import (
	"math"
	"testing"

	"github.com/tell-project/tell/raster"
)

// testPortrait is a 200×200 image whose pixel (x, y) encodes x and y, with
// its "face" at (100, 80), side 50.
func testPortrait() Portrait {
	img := raster.NewRGB(200, 200)
	for y := 0; y < 200; y++ {
		for x := 0; x < 200; x++ {
			p := img.Pix[y*img.Stride+3*x:]
			p[0], p[1], p[2] = uint8(x), uint8(y), 200
		}
	}
	return Portrait{Name: "grid", Img: img, CX: 100, CY: 80, Side: 50}
}

// TestScenePlacement: the pasted faces lie whole in the image and apart,
// the pixel at each face's centre comes from the portrait's face centre,
// and a pixel one side to the right on screen comes from where the turn
// and mirror say.
func TestScenePlacement(t *testing.T) {
	ps := []Portrait{testPortrait()}
	cfg := SceneConfig{W: 640, H: 480, MinFaces: 3, MaxFaces: 3, MinSide: 50, MaxSide: 50, Rolls: []float64{0, 90}, Seed: 7}
	for i := 0; i < 10; i++ {
		img, placed, err := Scene(ps, nil, cfg, i)
		if err != nil {
			t.Fatal(err)
		}
		if len(placed) != 3 {
			t.Fatalf("scene %d: %d faces", i, len(placed))
		}
		for j, p := range placed {
			r := headRadius * p.Side
			if p.CX < r || p.CY < r || p.CX > 640-r || p.CY > 480-r {
				t.Errorf("scene %d face %d at (%.0f,%.0f) not whole in the image", i, j, p.CX, p.CY)
			}
			for _, q := range placed[j+1:] {
				if math.Hypot(p.CX-q.CX, p.CY-q.CY) < r+headRadius*q.Side {
					t.Errorf("scene %d: faces overlap", i)
				}
			}
			at := func(x, y float64) (float64, float64) {
				px := img.Pix[int(y)*img.Stride+3*int(x):]
				return float64(px[0]), float64(px[1])
			}
			sx, sy := at(p.CX, p.CY)
			if math.Abs(sx-100) > 1.5 || math.Abs(sy-80) > 1.5 {
				t.Errorf("scene %d face %d: centre shows portrait (%.0f,%.0f), want (100,80)", i, j, sx, sy)
			}
			// 20 px to the right on screen: the portrait's +x (−x when
			// mirrored) unturned; its −y turned 90° clockwise.
			gx, gy := at(p.CX+20, p.CY)
			wx, wy := 120.0, 80.0
			switch {
			case p.Roll == 0 && p.Mirror:
				wx = 80
			case p.Roll == 90 && !p.Mirror:
				wx, wy = 100, 60
			case p.Roll == 90 && p.Mirror:
				wx, wy = 100, 60
			}
			if math.Abs(gx-wx) > 1.5 || math.Abs(gy-wy) > 1.5 {
				t.Errorf("scene %d face %d (roll %v mirror %v): right of centre shows (%.0f,%.0f), want (%.0f,%.0f)", i, j, p.Roll, p.Mirror, gx, gy, wx, wy)
			}
		}
	}
	a, pa, _ := Scene(ps, nil, cfg, 3)
	b, pb, _ := Scene(ps, nil, cfg, 3)
	if string(a.Pix) != string(b.Pix) || len(pa) != len(pb) || pa[0] != pb[0] {
		t.Error("same scene twice differs")
	}
}

// TestCrowdCrossing: two heads walking through each other: apart at the
// ends (nothing hidden), the far one hidden at the crossing, and each
// visible face's centre pixel shows its portrait's face centre.
func TestCrowdCrossing(t *testing.T) {
	p := testPortrait()
	q := testPortrait()
	for i := 2; i < len(q.Img.Pix); i += 3 {
		q.Img.Pix[i] = 50 // blue tells the two apart
	}
	c, err := NewCrowd([]Portrait{p, q}, nil, 400, 200, 31, 30, []Walker{
		{Source: 0, From: [2]float64{60, 100}, To: [2]float64{340, 100}, Side: 60, Depth: 1},
		{Source: 1, From: [2]float64{340, 100}, To: [2]float64{60, 100}, Side: 60, Depth: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 30} {
		for _, f := range c.Truth(i) {
			if f.Hidden != 0 {
				t.Errorf("frame %d walker %d hidden %.2f apart", i, f.Walker, f.Hidden)
			}
		}
	}
	mid := c.Truth(15)
	if mid[1].Hidden < 0.9 || mid[0].Hidden != 0 {
		t.Errorf("crossing: hidden %.2f (near) and %.2f (far)", mid[0].Hidden, mid[1].Hidden)
	}
	for _, i := range []int{0, 15, 30} {
		img := c.Frame(i)
		for _, f := range c.Truth(i) {
			if f.Hidden > 0 {
				continue
			}
			px := img.Pix[int(f.CY)*img.Stride+3*int(f.CX):]
			want := uint8(200)
			if f.Walker == 1 {
				want = 50
			}
			if math.Abs(float64(px[0])-100) > 2 || math.Abs(float64(px[1])-80) > 2 || px[2] != want {
				t.Errorf("frame %d walker %d: centre pixel %v", i, f.Walker, px[:3])
			}
		}
	}
	if _, err := NewCrowd([]Portrait{p}, nil, 400, 200, 10, 30, []Walker{{Source: 3, Side: 60}}); err == nil {
		t.Error("walker of a missing portrait accepted")
	}
}
