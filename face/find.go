package face

import (
	"fmt"
	"math"
	"sync"

	pigo "github.com/esimov/pigo/core"

	"github.com/tell-project/tell/profile"
	"github.com/tell-project/tell/raster"
)

// FinderVersion names what Finder.Find returns: it changes whenever a
// change to the Finder moves any face or landmark it finds, so that caches
// of aligned faces (tell prepare's) are not reused across such a change.
// TestFinderVersion fails when Find's results change and this does not.
const FinderVersion = "finder-7"

// FindMode says how a Finder looks for a face.
type FindMode uint8

// Find modes.
const (
	// FindAuto scans the image; when that finds no face whole in the frame
	// it scans the image padded on every side, and, when the image's content
	// is a face crop (a face fitted in the whole frame passes the detector's
	// check), takes the whole frame as the face. An image much wider or
	// taller than a face (CropShaped false: a 16:9 video frame) is never
	// taken for a face crop: there only faces the plain scan finds are
	// fitted, those cut by the frame's edge on the padded image.
	FindAuto FindMode = iota
	// FindDetect scans and rescans padded, but never assumes a crop.
	FindDetect
	// FindFull takes the image as a face crop: the face is fitted in the
	// whole frame even when the detector's check fails (for data known to
	// be crops).
	FindFull
)

// ParseFindMode reads "auto", "detect" or "full".
func ParseFindMode(s string) (FindMode, error) {
	switch s {
	case "auto", "":
		return FindAuto, nil
	case "detect":
		return FindDetect, nil
	case "full":
		return FindFull, nil
	}
	return FindAuto, fmt.Errorf("face: mode %q: want auto, detect or full", s)
}

func (m FindMode) String() string {
	switch m {
	case FindDetect:
		return "detect"
	case FindFull:
		return "full"
	}
	return "auto"
}

// Path says how a Finder found a face.
type Path uint8

// Paths, from the most to the least direct.
const (
	PathNone     Path = iota
	PathDetected      // the detector found the face whole in the frame
	PathPadded        // the detector found it in the image padded on every side
	PathFrame         // the face was fitted in the whole frame (a face crop)
	PathNear          // found near its last place in an earlier frame (FindNear)
)

func (p Path) String() string {
	switch p {
	case PathDetected:
		return "detected"
	case PathPadded:
		return "padded rescan"
	case PathFrame:
		return "whole frame"
	case PathBlazeFace:
		return "BlazeFace"
	case PathNear:
		return "near last place"
	}
	return "none"
}

// Found is a face a Finder found.
type Found struct {
	// Box is the landmark box in image coordinates; it may extend past the
	// image's edges.
	Box Rect
	// Shape holds the 68 landmarks in image coordinates; points may lie
	// outside the image, as dlib allows.
	Shape Shape
	// Score is the detector's score: of the detection (PathDetected) or of
	// its check of the fitted face (PathPadded, PathFrame); below 0 when a
	// FindFull fit did not pass the check.
	Score float32
	Path  Path
}

// Finder finds the main face of an image and its 68 landmarks, including in
// face crops (CASME II cropped, MEGC apex crops, aligned datasets) where the
// face fills the frame or is cut by its edges and a plain scan finds none:
//
//  1. the detector scans the image; a face whose box lies inside the frame
//     and whose landmarks pass the check below gets them exactly as dlib
//     would place them (PathDetected). When that face is large for the
//     image (box ≥ 0.3 of its shorter side), steps 2 and 3 run too and a
//     face at least 1.3 times larger holding its centre wins: in a face
//     crop the nose and mouth alone can pass for a face;
//  2. otherwise the image is padded on every side (by half its longer side,
//     edge pixels replicated) so that a face larger than the frame fits a
//     detector window; each detection is fitted (landmarks, then twice a box
//     refitted to the landmarks) and checked: the fitted face is turned
//     upright and scaled to a small patch where the detector must find it
//     again, at the place and size the fit says (PathPadded); when the
//     fit's box reaches past the frame and that fails, the patch is tried
//     again with the part outside the frame read from the face's mirror
//     image across its midline;
//  3. when that fails too (FindAuto, FindFull), faces of 0.8, 1 and 1.25
//     times the frame at nine positions are fitted and checked alike
//     (PathFrame); FindAuto keeps a fit only when the check passes, so an
//     image without a face yields none.
//
// The fits that pass best are averaged and refitted once more in the box
// the check's detection gives. The fits of steps 2 and 3 run on the padded
// canvas; the final landmarks run in that box on the image itself, pixels
// outside it reading 0 as in dlib, and may lie outside the image.
//
// In FindAuto, an image that is not CropShaped (a 16:9 video frame) is
// not taken for a face crop: step 1 takes its best face whatever its size,
// step 2 fits only the plain scan's faces cut by the frame's edge (no scan
// of the padded image) and step 3 does not run. A face larger than such a
// frame goes unfound; a whole-frame search of a frame without a face costs
// one plain scan.
//
// FindNear looks for a face of an earlier frame near where it was.
//
// A Finder is safe for concurrent use.
type Finder struct {
	det  *Detector
	pred *Predictor
	mode FindMode
	pool sync.Pool // *findScratch
}

// NewFinder returns a Finder using det and pred.
func NewFinder(det *Detector, pred *Predictor, mode FindMode) *Finder {
	f := &Finder{det: det, pred: pred, mode: mode}
	f.pool.New = func() any { return &findScratch{patch: make([]uint8, checkSize*checkSize)} }
	return f
}

// Mode returns the Finder's mode.
func (f *Finder) Mode() FindMode { return f.mode }

type findScratch struct {
	patch  []uint8
	dets   []pigo.Detection
	canvas []float32 // the padded image's pixels, reused
	near   []uint8   // FindNear's search patch
}

// Tuning, fixed on crops of the astronaut portrait (face.find_test.go) and
// checked on real face crops (MEGC2019 apex frames; see docs/measured.md).
const (
	padFraction    = 0.5 // padding on every side, in units of the longer image side
	edgeMargin     = 0.1 // a detected box this close to an edge (in box sides) goes to step 2
	canvasMinScore = 2   // detector threshold on the padded canvas (its checks follow)
	refits         = 2   // box refitted to the landmarks this many times per fit
	ensembleQ      = 2   // fits within this score of the best are averaged
	minCheckScore  = 10  // a fit whose check scores below this is no face (real face crops score 20–600, non-faces up to 7)
	checkSize      = 96  // side of the upright patch the check scans
	checkBox       = 44  // landmark-box side in that patch
	nestedFraction = 0.3 // a plain face this large (box side / shorter image side) is compared with the crop's
	nestedScale    = 1.3 // a crop face this much larger holding its centre wins
)

// cropAspect bounds the shape of a face crop: a face is about 1.2 times
// as tall as wide, and the crops datasets ship are 1:1 to 1:1.25, so an
// image whose longer side exceeds 1.4 times its shorter leaves much of it
// to something else than the face (a 16:9 video frame).
const cropAspect = 1.4

// CropShaped reports whether a w×h image may be a face crop (its longer
// side at most 1.4 times its shorter): FindAuto looks for a face filling or
// overflowing the frame only in such images.
func CropShaped(w, h int) bool {
	return float64(max(w, h)) <= cropAspect*float64(min(w, h))
}

// frameFills and frameOffsets place the whole-frame candidates: face box
// side as a fraction of the shorter image side (the box is 0.93 of the
// landmarks' extent), centre offsets in the same unit.
var (
	frameFills   = []float64{0.8, 1, 1.25}
	frameOffsets = []float64{-0.1, 0, 0.1}
)

// Find returns the main face of img, or ok=false.
func (f *Finder) Find(img *raster.Gray) (Found, bool) { return f.FindWith(img, FindOptions{}) }

// FindOptions ask FindWith for more than Find does.
type FindOptions struct {
	// Near, when set, holds the face's landmarks in an earlier frame:
	// FindNear's search runs first, the whole-frame search only when it
	// finds nothing.
	Near *Shape
	// NearOnly skips the whole-frame search: FindNear.
	NearOnly bool
	// Lane, when set, is charged with the search's CPU time by stage:
	// detect, crop search (steps 2 and 3 of Find), landmarks.
	Lane *profile.Lane
}

// FindWith finds the main face of img as FindNear and Find do, by o.
func (f *Finder) FindWith(img *raster.Gray, o FindOptions) (Found, bool) {
	if img.W < 8 || img.H < 8 {
		return Found{}, false
	}
	defer o.Lane.Leave(o.Lane.Enter(profile.Detect))
	if o.Near != nil {
		if r, ok := f.findNear(img, o.Near, o.Lane); ok || o.NearOnly {
			return r, ok
		}
	}
	sc := f.pool.Get().(*findScratch)
	defer f.pool.Put(sc)

	// Step 1: a face the detector finds whole in the frame, whose landmarks
	// pass the check, is taken as dlib would place it; the padded canvas is
	// not needed (the check samples with edges replicated, as the canvas
	// has them).
	type plainFit struct {
		shape Shape
		q     float32
		det   Detection
	}
	var plains []plainFit
	var cut []Detection // detections that touch the frame's edges
	var inner *Found    // a large plain face that may be part of a crop
	crops := f.mode != FindAuto || CropShaped(img.W, img.H)
	if f.mode != FindFull {
		for _, d := range f.det.Detect(img) {
			if !boxInside(d.Box, img.W, img.H) {
				cut = append(cut, d)
				continue
			}
			prev := o.Lane.Enter(profile.Landmarks)
			s := f.pred.Predict(img, d.Box)
			o.Lane.Leave(prev)
			q, _ := f.check(img, Rect{0, 0, img.W, img.H}, &s, sc)
			plains = append(plains, plainFit{shape: s, q: q, det: d})
		}
		// Among the detections that pass the check, the detector's most
		// confident, as before face crops were handled (the check's own
		// score favours smaller boxes inside the same face).
		best := -1
		for i, x := range plains {
			if x.q >= minCheckScore && (best < 0 || x.det.Score > plains[best].det.Score) {
				best = i
			}
		}
		if best >= 0 {
			x := plains[best]
			r := Found{Box: x.det.Box, Shape: x.shape, Score: x.det.Score, Path: PathDetected}
			if !crops || float64(x.det.Box.W) < nestedFraction*float64(min(img.W, img.H)) {
				return r, true
			}
			// A large face in a small image may be a part of a face crop
			// (nose and mouth pass for a face): a face found in the crop
			// around it wins.
			inner = &r
		}
	}
	var crop Found
	ok := false
	if crops || len(cut) > 0 {
		prev := o.Lane.Enter(profile.CropSearch)
		crop, ok = f.findCrop(img, cut, crops, sc)
		o.Lane.Leave(prev)
	}
	passed := ok && crop.Score >= minCheckScore
	switch {
	case inner != nil:
		if passed && nests(crop.Box, inner.Box) {
			return crop, true
		}
		return *inner, true
	case passed:
		return crop, true
	}
	// When no fit passes the check, a plain detection is still taken (the
	// detector found it whole in the frame; before face crops were handled
	// that was all), and FindFull takes the best fit.
	plain := -1
	for i, x := range plains {
		if plain < 0 || x.det.Score > plains[plain].det.Score {
			plain = i
		}
	}
	if plain >= 0 {
		x := plains[plain]
		return Found{Box: x.det.Box, Shape: x.shape, Score: x.det.Score, Path: PathDetected}, true
	}
	return crop, ok
}

// nests reports whether a face box holds the centre of a box at most
// 1/nestedScale its size: the smaller one is a part of that face.
func nests(outer, inner Rect) bool {
	cx, cy := inner.X+inner.W/2, inner.Y+inner.H/2
	return float64(outer.W) >= nestedScale*float64(inner.W) &&
		cx >= outer.X && cx < outer.X+outer.W && cy >= outer.Y && cy < outer.Y+outer.H
}

// findCrop runs steps 2 and 3 of Find: the padded rescan (cut holds the
// plain scan's detections cut by an edge) and the whole-frame fits. ok is
// true when a fit passes the check (Score ≥ minCheckScore) or, in
// FindFull, whenever there is a fit. Unless crops (the image may be a face
// crop), only the cut detections are fitted: no face larger than the frame
// is looked for.
func (f *Finder) findCrop(img *raster.Gray, cut []Detection, crops bool, sc *findScratch) (Found, bool) {
	p := int(padFraction*float64(max(img.W, img.H)) + 0.5)
	canvas := padReplicate(img, p, &sc.canvas)
	inner := Rect{p, p, img.W, img.H}
	type fit struct {
		shape Shape
		q     float32
		box   Rect
		path  Path
	}
	var fits []fit
	try := func(box Rect, path Path) {
		s := f.pred.Predict(canvas, box)
		for range refits {
			s = f.pred.Predict(canvas, boxFromShape(&s))
		}
		q, b := f.check(canvas, inner, &s, sc)
		fits = append(fits, fit{shape: s, q: q, box: b, path: path})
	}
	if f.mode != FindFull {
		for _, d := range cut {
			try(Rect{d.Box.X + p, d.Box.Y + p, d.Box.W, d.Box.H}, PathPadded)
		}
		if crops {
			for _, d := range f.detectCanvas(canvas, min(img.W, img.H)) {
				try(d.Box, PathPadded)
			}
		}
	}
	if f.mode != FindDetect && crops {
		s := float64(min(img.W, img.H))
		for _, fill := range frameFills {
			side := 0.93 * fill * s
			for _, oy := range frameOffsets {
				for _, ox := range frameOffsets {
					cx := float64(p) + float64(img.W)/2 + ox*s
					// The landmark box sits a little above the face's
					// centre (brows to chin): 0.06 of its extent.
					cy := float64(p) + float64(img.H)/2 + oy*s - 0.06*fill*s
					try(Rect{X: int(math.Round(cx - side/2)), Y: int(math.Round(cy - side/2)), W: int(math.Round(side)), H: int(math.Round(side))}, PathFrame)
				}
			}
		}
	}
	// The fit the check scores best wins, averaged with the fits that
	// score near it.
	top := -1
	for i, x := range fits {
		if top < 0 || x.q > fits[top].q {
			top = i
		}
	}
	if top < 0 || (fits[top].q < minCheckScore && f.mode != FindFull) {
		return Found{}, false
	}
	best := fits[top]
	var mean Shape
	n := 0.0
	for _, x := range fits {
		if x.q >= best.q-ensembleQ {
			for i := range mean {
				mean[i].X += x.shape[i].X
				mean[i].Y += x.shape[i].Y
			}
			n++
		}
	}
	for i := range mean {
		mean[i].X /= n
		mean[i].Y /= n
	}
	shape := f.pred.Predict(canvas, boxFromShape(&mean))
	box := boxFromShape(&shape)
	q, b := f.check(canvas, inner, &shape, sc)
	if q >= minCheckScore {
		// Place the final landmarks in the box the detector gives the
		// face, the convention the model was trained with, on the image
		// itself: pixels outside it read 0, as dlib reads them (on the
		// MEGC2019 apex crops this brings the landmarks to within 1% of
		// the inter-ocular distance of dlib's own, median, from 3.7% on
		// the edge-replicated canvas).
		box = b
		shape = f.pred.Predict(img, Rect{box.X - p, box.Y - p, box.W, box.H})
		for i := range shape {
			shape[i].X += float64(p)
			shape[i].Y += float64(p)
		}
	}
	q = max(q, best.q)
	for i := range shape {
		shape[i].X -= float64(p)
		shape[i].Y -= float64(p)
	}
	box.X -= p
	box.Y -= p
	return Found{Box: box, Shape: shape, Score: q, Path: best.path}, true
}

// boxInside reports whether a detected box, with a margin, lies inside a
// w×h image: the landmark model then sees the face's surroundings.
func boxInside(b Rect, w, h int) bool {
	m := int(edgeMargin * float64(b.W))
	return b.X >= m && b.Y >= m && b.X+b.W+m <= w && b.Y+b.H+m <= h
}

// detectCanvas scans the padded canvas for faces at least half the image's
// shorter side s (smaller ones the plain scan finds), with a lower
// threshold: every hit is checked afterwards.
func (f *Finder) detectCanvas(canvas *raster.Gray, s int) []Detection {
	d := *f.det
	d.opt.MinScore = canvasMinScore
	d.opt.MinSize = max(scanMinWindow, s/2)
	d.opt.MaxSize = 0
	return d.Detect(canvas)
}

// padReplicate returns img on a canvas p pixels larger on every side, the
// edge pixels replicated outwards, in *buf's storage (grown as needed).
func padReplicate(img *raster.Gray, p int, buf *[]float32) *raster.Gray {
	w, h := img.W+2*p, img.H+2*p
	if cap(*buf) < w*h {
		*buf = make([]float32, w*h)
	}
	out := &raster.Gray{W: w, H: h, Stride: w, Pix: (*buf)[:w*h]}
	for y := 0; y < out.H; y++ {
		sy := min(max(y-p, 0), img.H-1)
		src := img.Pix[sy*img.Stride : sy*img.Stride+img.W]
		row := out.Pix[y*out.Stride : y*out.Stride+out.W]
		l, r := src[0], src[img.W-1]
		for x := 0; x < p; x++ {
			row[x] = l
			row[p+img.W+x] = r
		}
		copy(row[p:p+img.W], src)
	}
	return out
}

// boxFit is the similarity that takes dlib's mean shape (in box units) to
// a shape: scale (box side in pixels), rotation, and the box centre.
type boxFit struct{ scale, cos, sin, cx, cy float64 }

func fitShape(s *Shape) boxFit {
	var mx, my, sx, sy float64
	for i := range s {
		mx += meanShape[i].X
		my += meanShape[i].Y
		sx += s[i].X
		sy += s[i].Y
	}
	mx, my, sx, sy = mx/NumLandmarks, my/NumLandmarks, sx/NumLandmarks, sy/NumLandmarks
	var a, b, n float64
	for i := range s {
		px, py := meanShape[i].X-mx, meanShape[i].Y-my
		qx, qy := s[i].X-sx, s[i].Y-sy
		a += px*qx + py*qy
		b += px*qy - py*qx
		n += px*px + py*py
	}
	a, b = a/n, b/n
	sc := math.Hypot(a, b)
	if sc == 0 {
		return boxFit{scale: 0, cos: 1}
	}
	ux, uy := 0.5-mx, 0.5-my
	return boxFit{scale: sc, cos: a / sc, sin: b / sc, cx: sx + a*ux - b*uy, cy: sy + b*ux + a*uy}
}

// boxFromShape is the box in which the model's mean shape best matches s.
func boxFromShape(s *Shape) Rect {
	t := fitShape(s)
	return Rect{X: int(math.Round(t.cx - t.scale/2)), Y: int(math.Round(t.cy - t.scale/2)), W: max(1, int(math.Round(t.scale))), H: max(1, int(math.Round(t.scale)))}
}

// check turns the face of a fit upright in a checkSize patch where its
// landmark box is checkBox pixels wide and runs the detector there, at the
// sizes and places near what the fit says. It returns the detector's score
// (-1 when it finds nothing) and the detection as a landmark box in canvas
// coordinates.
//
// When that fails and the fit's landmark box reaches past the image
// (inner, in canvas coordinates), the patch is made again with the part
// outside the image read from the face's mirror image across its own
// midline where that lies inside: a face cut by a side edge is completed
// by its other half, which the detector takes for a face far better than
// replicated edge pixels (faces filling 120–130% of a crop that cuts them
// on two sides). Fits inside the image, and fits that pass, are checked
// as before.
func (f *Finder) check(canvas *raster.Gray, inner Rect, s *Shape, sc *findScratch) (float32, Rect) {
	q, b := f.checkPatch(canvas, inner, s, sc, false)
	if q < minCheckScore && cutBy(inner, s) {
		if qm, bm := f.checkPatch(canvas, inner, s, sc, true); qm >= minCheckScore {
			return qm, bm
		}
	}
	return q, b
}

// checkPatch is one try of check, with the patch's outside part mirrored
// or not.
func (f *Finder) checkPatch(canvas *raster.Gray, inner Rect, s *Shape, sc *findScratch, mirror bool) (float32, Rect) {
	t := fitShape(s)
	if t.scale < 4 {
		return -1, Rect{}
	}
	k := t.scale / checkBox // canvas pixels per patch pixel
	const half = float64(checkSize) / 2
	for y := 0; y < checkSize; y++ {
		uy := (float64(y) - half + 0.5) * k
		for x := 0; x < checkSize; x++ {
			ux := (float64(x) - half + 0.5) * k
			px := t.cx + t.cos*ux - t.sin*uy
			py := t.cy + t.sin*ux + t.cos*uy
			if mirror && !inRect(inner, px, py) {
				if mx, my := t.cx-t.cos*ux-t.sin*uy, t.cy-t.sin*ux+t.cos*uy; inRect(inner, mx, my) {
					px, py = mx, my
				}
			}
			v := canvas.Bilinear(float32(px), float32(py)) + 0.5
			sc.patch[y*checkSize+x] = uint8(min(max(v, 0), 255))
		}
	}
	// The landmark box (side checkBox, centred) is a pigo window of side
	// checkBox/0.82 centred 0.14 of its side higher (see Detector).
	ps := checkBox / pigoToDlibScale
	raw := f.det.cascade.RunCascade(pigo.CascadeParams{
		MinSize: int(0.85 * ps), MaxSize: int(1.15 * ps), ShiftFactor: 0.05, ScaleFactor: 1.05,
		ImageParams: pigo.ImageParams{Pixels: sc.patch, Rows: checkSize, Cols: checkSize, Dim: checkSize},
	}, 0)
	ecx, ecy := half, half-pigoToDlibShift*ps
	sc.dets = sc.dets[:0]
	for _, d := range raw {
		if math.Abs(float64(d.Col)-ecx) <= 0.15*ps && math.Abs(float64(d.Row)-ecy) <= 0.15*ps {
			sc.dets = append(sc.dets, d)
		}
	}
	if len(sc.dets) == 0 {
		return -1, Rect{}
	}
	var bd pigo.Detection
	bd.Q = -1
	for _, d := range f.det.cascade.ClusterDetections(sc.dets, f.det.opt.IoU) {
		if d.Q > bd.Q {
			bd = d
		}
	}
	// The window back in the canvas, then as a landmark box.
	ux, uy := (float64(bd.Col)-half+0.5)*k, (float64(bd.Row)-half+0.5)*k
	side := float64(bd.Scale) * k
	cx := t.cx + t.cos*ux - t.sin*uy - pigoToDlibShift*side*t.sin
	cy := t.cy + t.sin*ux + t.cos*uy + pigoToDlibShift*side*t.cos
	d := pigoToDlibScale * side
	return bd.Q, Rect{X: int(math.Round(cx - d/2)), Y: int(math.Round(cy - d/2)), W: int(math.Round(d)), H: int(math.Round(d))}
}

// inRect reports whether the point (x, y) lies within r's pixels.
func inRect(r Rect, x, y float64) bool {
	return x >= float64(r.X) && y >= float64(r.Y) && x <= float64(r.X+r.W-1) && y <= float64(r.Y+r.H-1)
}

// cutBy reports whether the landmark box fitted to s reaches past r.
func cutBy(r Rect, s *Shape) bool {
	t := fitShape(s)
	h := t.scale / 2
	return !inRect(r, t.cx-h, t.cy-h) || !inRect(r, t.cx+h, t.cy+h)
}
