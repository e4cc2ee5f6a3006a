package face

import (
	"math"

	"github.com/tell-project/tell/raster"
)

// Face is one tracked face in one frame.
type Face struct {
	ID         int     // stable across frames while the track lives
	Box        Rect    // landmark box (Detector convention)
	Score      float32 // detector score of the latest confirmation
	Shape      Shape   // 68 landmarks
	Redetected bool    // true when this frame ran a full-image detection
}

// TrackerOptions tune a Tracker. Zero fields take the defaults.
type TrackerOptions struct {
	// RedetectEvery forces a full-image detection every N frames to pick up
	// new faces (default 30; negative: only when a track is lost).
	RedetectEvery int
	// MaxMissed is how many frames in a row a track may fail its local check
	// before it is dropped (default 2).
	MaxMissed int
	// Search is the local search window's half-size in box sides around the
	// last box (default 0.6).
	Search float64
}

// Tracker follows faces through a video. While a face barely moves it only
// re-checks it with the detector in a small window around its last box and
// a narrow range of sizes (about 1% of a full scan); it runs a full-image
// detection on the first frame, every RedetectEvery frames, and whenever a
// track is lost. A Tracker holds per-video state: use one per stream, from
// one goroutine; the Detector and Predictor it uses may be shared.
type Tracker struct {
	det    *Detector
	pred   *Predictor
	opt    TrackerOptions
	tracks []track
	nextID int
	frame  int
	buf    []uint8
}

type track struct {
	id     int
	box    Rect
	score  float32
	shape  Shape
	missed int
}

// NewTracker returns a tracker using det for detection and pred for
// landmarks.
func NewTracker(det *Detector, pred *Predictor, opt TrackerOptions) *Tracker {
	if opt.RedetectEvery == 0 {
		opt.RedetectEvery = 30
	}
	if opt.MaxMissed <= 0 {
		opt.MaxMissed = 2
	}
	if opt.Search <= 0 {
		opt.Search = 0.6
	}
	return &Tracker{det: det, pred: pred, opt: opt}
}

// Update processes the next frame and returns the faces in it, ordered by ID.
func (t *Tracker) Update(img *raster.Gray) []Face {
	full := len(t.tracks) == 0 || (t.opt.RedetectEvery > 0 && t.frame%t.opt.RedetectEvery == 0)
	t.frame++
	lost := false
	if !full {
		for i := range t.tracks {
			tr := &t.tracks[i]
			if d, ok := t.localDetect(img, tr.box); ok {
				tr.box, tr.score, tr.missed = d.Box, d.Score, 0
			} else {
				tr.missed++
				lost = true
			}
		}
	}
	if full || lost {
		t.match(t.det.Detect(img))
	}
	out := make([]Face, 0, len(t.tracks))
	kept := t.tracks[:0]
	for _, tr := range t.tracks {
		if tr.missed > t.opt.MaxMissed {
			continue
		}
		if tr.missed == 0 {
			tr.shape = t.pred.Predict(img, tr.box)
			out = append(out, Face{ID: tr.id, Box: tr.box, Score: tr.score, Shape: tr.shape, Redetected: full || lost})
		}
		kept = append(kept, tr)
	}
	t.tracks = kept
	return out
}

// match assigns full-image detections to tracks greedily by overlap (IoU ≥
// 0.3); unmatched detections start new tracks, unmatched tracks miss.
func (t *Tracker) match(dets []Detection) {
	used := make([]bool, len(dets))
	for i := range t.tracks {
		tr := &t.tracks[i]
		best, bestIoU := -1, 0.3
		for j, d := range dets {
			if !used[j] {
				if v := IoU(tr.box, d.Box); v >= bestIoU {
					best, bestIoU = j, v
				}
			}
		}
		if best >= 0 {
			used[best] = true
			tr.box, tr.score, tr.missed = dets[best].Box, dets[best].Score, 0
		} else if tr.missed == 0 {
			tr.missed = 1
		}
	}
	for j, d := range dets {
		if !used[j] {
			t.tracks = append(t.tracks, track{id: t.nextID, box: d.Box, score: d.Score})
			t.nextID++
		}
	}
}

// localDetect runs the detector in a window around box, for sizes within
// ±25% of the current one, and returns the detection nearest the box.
func (t *Tracker) localDetect(img *raster.Gray, box Rect) (Detection, bool) {
	side := float64(box.W) / pigoToDlibScale // back to pigo's window size
	cx := float64(box.X) + float64(box.W)/2
	cy := float64(box.Y) + float64(box.H)/2 - side*pigoToDlibShift
	half := side * (0.5 + t.opt.Search)
	x0, y0 := clampInt(int(cx-half), 0, img.W), clampInt(int(cy-half), 0, img.H)
	x1, y1 := clampInt(int(math.Ceil(cx+half)), 0, img.W), clampInt(int(math.Ceil(cy+half)), 0, img.H)
	w, h := x1-x0, y1-y0
	if w < 8 || h < 8 {
		return Detection{}, false
	}
	if cap(t.buf) < w*h {
		t.buf = make([]uint8, w*h)
	}
	buf := t.buf[:w*h]
	toBytes(buf, img, x0, y0, w, h)
	dets := t.det.detectBytes(buf, w, h, int(side*0.8), int(math.Ceil(side*1.25)), x0, y0, 1)
	best, bestD := -1, math.Inf(1)
	for i, d := range dets {
		dx := float64(d.Box.X+d.Box.W/2) - cx
		dy := float64(d.Box.Y+d.Box.H/2) - float64(box.Y+box.H/2)
		if dist := dx*dx + dy*dy; dist < bestD {
			best, bestD = i, dist
		}
	}
	if best < 0 {
		return Detection{}, false
	}
	return dets[best], true
}

// IoU is the intersection over union of two boxes.
func IoU(a, b Rect) float64 {
	ix := min(a.X+a.W, b.X+b.W) - max(a.X, b.X)
	iy := min(a.Y+a.H, b.Y+b.H) - max(a.Y, b.Y)
	if ix <= 0 || iy <= 0 {
		return 0
	}
	inter := float64(ix * iy)
	return inter / (float64(a.W*a.H+b.W*b.H) - inter)
}

func clampInt(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}
