package face

import (
	"image"
	"math"
	"testing"

	"github.com/tell-project/tell/raster"
)

// nearScene renders the astronaut portrait into 640×360 video frames, the
// face's centre at a chosen place, turned by a chosen angle, and knows
// where its landmarks then lie: the predictor's landmarks on the portrait
// itself, carried by the same geometry (independent of the search).
type nearScene struct {
	src    *image.NRGBA
	ref    Shape   // landmarks on the portrait
	cx, cy float64 // face centre on the portrait
	s      float64 // portrait pixels per frame pixel
}

func newNearScene(t *testing.T) *nearScene {
	t.Helper()
	src, ref := astronautFace(t, testDetector(t), testPredictor(t))
	b := fitShape(&ref)
	// The face's landmark box 150 px wide in the frame.
	return &nearScene{src: src, ref: ref, cx: b.cx, cy: b.cy, s: b.scale / 150}
}

// frame renders the face centred at (fx, fy), turned by deg degrees, and
// returns the frame and the landmarks' true places in it.
func (sc *nearScene) frame(fx, fy, deg float64) (*raster.Gray, Shape) {
	th := deg * math.Pi / 180
	g := cropGeom{sc.cx, sc.cy, fx, fy, sc.s, math.Cos(th), math.Sin(th)}
	var truth Shape
	for i, p := range sc.ref {
		dx, dy := p.X-sc.cx, p.Y-sc.cy
		ux, uy := g.cos*dx+g.sin*dy, -g.sin*dx+g.cos*dy
		truth[i] = Point{fx + ux/sc.s, fy + uy/sc.s}
	}
	return raster.FromImage(renderCrop(sc.src, g, 640, 360, false)), truth
}

// shapeError is the mean landmark distance in inter-ocular distances.
func shapeError(a, b *Shape) float64 {
	var d float64
	for i := range a {
		d += math.Hypot(a[i].X-b[i].X, a[i].Y-b[i].Y)
	}
	return d / NumLandmarks / interOcular(b)
}

func TestFindNear(t *testing.T) {
	sc := newNearScene(t)
	fd := NewFinder(testDetector(t), testPredictor(t), FindAuto)
	_, last := sc.frame(300, 170, 0)
	for _, c := range []struct {
		name         string
		fx, fy, deg  float64
		found        bool
		maxIODError  float64
		turnedResult bool
	}{
		{"still", 300, 170, 0, true, 0.03, false},
		{"moved a third of the face right and down", 350, 200, 0, true, 0.03, false},
		{"turned 10°", 305, 170, 10, true, 0.04, false},
		{"turned 24°", 300, 175, 24, true, 0.04, true},
		{"turned -22° and moved", 270, 160, -22, true, 0.04, true},
		{"chin at the bottom edge", 300, 280, 0, true, 0.03, false},
		{"gone to the other side of the frame", 540, 170, 0, false, 0, false},
	} {
		img, truth := sc.frame(c.fx, c.fy, c.deg)
		f, ok := fd.FindNear(img, &last)
		if ok != c.found {
			t.Errorf("%s: found %v, want %v", c.name, ok, c.found)
			continue
		}
		if !ok {
			continue
		}
		if f.Path != PathNear {
			t.Errorf("%s: path %v, want %v", c.name, f.Path, PathNear)
		}
		if e := shapeError(&f.Shape, &truth); e > c.maxIODError {
			t.Errorf("%s: landmarks %.3f IOD from the truth, want ≤ %.2f", c.name, e, c.maxIODError)
		}
		// An upright detection's landmarks are the predictor's in its box,
		// as Find places a plain detection's.
		if !c.turnedResult && f.Shape != testPredictor(t).Predict(img, f.Box) {
			t.Errorf("%s: landmarks are not the predictor's in the returned box %v", c.name, f.Box)
		}
	}
	if _, ok := fd.FindNear(raster.NewGray(640, 360), &last); ok {
		t.Error("a face found in a blank frame")
	}
	var far Shape
	for i := range far {
		far[i] = Point{1e6, 1e6}
	}
	if _, ok := fd.FindNear(raster.NewGray(640, 360), &far); ok {
		t.Error("a face found far outside the frame")
	}
}

// TestFindWideFrame: in a frame much wider than a face, FindAuto takes the
// plain detection of a large face as it is (no face crop is looked for
// around it), still fits a face cut by the frame's edge, and does not look
// for a face larger than the frame (which it did before: a padded rescan
// and whole-frame fits on every frame of a video without a face).
func TestFindWideFrame(t *testing.T) {
	sc := newNearScene(t)
	fd := NewFinder(testDetector(t), testPredictor(t), FindAuto)
	if CropShaped(640, 360) || !CropShaped(280, 340) || !CropShaped(640, 480) {
		t.Fatal("CropShaped: 640×360 is no face crop; 280×340 and 640×480 may be")
	}
	img, truth := sc.frame(320, 170, 0)
	f, ok := fd.Find(img)
	if !ok || f.Path != PathDetected {
		t.Fatalf("large face in a wide frame: found %v by %v, want %v", ok, f.Path, PathDetected)
	}
	if e := shapeError(&f.Shape, &truth); e > 0.03 {
		t.Errorf("large face: landmarks %.3f IOD from the truth", e)
	}
	img, truth = sc.frame(320, 300, 0)
	f, ok = fd.Find(img)
	if !ok {
		t.Fatal("a face cut by the bottom edge of a wide frame: not found")
	}
	if e := shapeError(&f.Shape, &truth); e > 0.06 {
		t.Errorf("cut face (%v): landmarks %.3f IOD from the truth", f.Path, e)
	}
	big := *sc
	big.s = sc.s * 150 / 400 // a landmark box 400 px wide: taller than the frame
	img, _ = big.frame(320, 170, 0)
	if f, ok := fd.Find(img); ok {
		t.Errorf("a face larger than a wide frame found by %v", f.Path)
	}
	// The same face in a frame shaped like a face crop is found.
	crop := raster.NewGray(360, 360)
	for y := range 360 {
		copy(crop.Pix[y*360:y*360+360], img.Pix[y*img.Stride+140:y*img.Stride+500])
	}
	if f, ok := fd.Find(crop); !ok || (f.Path != PathPadded && f.Path != PathFrame) {
		t.Errorf("a face larger than a square frame: found %v by %v", ok, f.Path)
	}
}
