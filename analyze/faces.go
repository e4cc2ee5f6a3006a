package analyze

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/tell-project/tell/au"
	"github.com/tell-project/tell/blazeface"
	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/profile"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/report"
	"github.com/tell-project/tell/spot"
)

// Several faces. Every face of a video is its own faceRun: its own
// neutral reference and AU estimator, spotter, window of recent frames,
// timeline and events, with a face_id that stays with the person. Frames go
// to the faces in id order; frames.csv gets one row per face per frame.
//
// Face 0 is the face the one-face pipeline follows: found by the
// Landmarker (Options.Landmarker) exactly as before, so a one-face input
// gives the same outputs whether or not several faces are looked for.
// With Options.Faces, BlazeFace looks for more faces once a second (see
// discover); a face
// not held by a track and seen at the same place on two consecutive frames
// starts a new track. A face that is lost (hidden by another passing in
// front, turned away, gone) is remembered for forgetAfter seconds: it is
// looked for among BlazeFace's faces near where it was going, and taken
// back only if its Signature matches the one it had (so two people who
// cross keep their ids). Two tracks that come to hold the same face (one
// face's points dragged onto the other's as it passed in front) are
// parted: the one that looks less like itself is taken for lost.

// faceRun is one face's pipeline in a video.
type faceRun struct {
	*run
	id    int
	known *Interval // the known interval (face 0 only)
	ring  []frameRec
	// native is the side of the report's native crops (0 before the first
	// reference); nativeBudget the bytes its window's crops may take.
	native, nativeBudget int
	tl                   *report.Timeline
	lost                 []lostSpan
	nLost                int
	// refFrame is the frame of the current neutral reference: an event's
	// AU baseline is not taken before it.
	refFrame int
	// seenFrames is the number of frames this face has seen (its window's
	// newest frame + 1).
	seenFrames int

	// The stream's per-face state.
	sp           *spot.Spotter
	est          *au.Estimator
	m            au.Measurement
	in           *spotInput
	cuts         cutDetector
	prevCrop     []uint8
	havePrevCrop bool
	lastOK       bool
	lostRun      int
	failRun      int
	pending      bool // the known interval is still to be described
	zero         []float32

	// Identity and place, for several faces.
	sig, lastSig face.Signature // at the neutral reference; at the last tracked frame
	hasSig       bool
	box          [4]float64 // landmarks' box (x0, y0, x1, y1) at the last tracked frame
	vel          [2]float64 // box centre's motion per frame
	lastSeen     int        // last frame tracked (−1: never)
	first        int        // frame the track began
	// seed is the BlazeFace face a new track starts from, fitted on the
	// frame the track first sees.
	seed *blazeface.Face
	// last holds the face's landmarks in the last frame where it was seen
	// (haveLast), where a lost face is looked for first.
	last     [68][2]float32
	haveLast bool
}

// forgetAfter is how long, in seconds, a lost face other than face 0 is
// looked for before its track ends.
const forgetAfter = 5.0

// newFaceRun returns face id's pipeline with a window of window frames.
func (r *run) newFaceRun(id, window, first int) (*faceRun, error) {
	sp, err := newSpotter(r.fps)
	if err != nil {
		return nil, err
	}
	n := au.NumAUs
	f := &faceRun{run: r, id: id, sp: sp, in: newSpotInput(), prevCrop: make([]uint8, cropSize*cropSize),
		zero: make([]float32, n), lastSeen: -1, first: first, nativeBudget: nativeBudget}
	if id == 0 {
		f.known = r.known
		f.pending = f.known != nil
	} else if r.opt.MaxFaces > 1 {
		// Face 0 keeps the one-face budget; the others share another.
		f.nativeBudget = nativeBudget / (r.opt.MaxFaces - 1)
	}
	f.ring = make([]frameRec, window)
	for i := range f.ring {
		f.ring[i] = frameRec{both: make([]float32, n), right: make([]float32, n), left: make([]float32, n), crop: make([]uint8, cropSize*cropSize)}
	}
	f.tl = report.NewTimeline(n, 1200)
	// Frames before the track began are untracked in its timeline.
	for range first {
		f.tl.Add(f.zero, 0, false)
		f.tl.AddExpression(nil)
	}
	return f, nil
}

// close releases the face's estimator.
func (f *faceRun) close() {
	if f.est != nil {
		f.est.Close()
		f.est = nil
	}
}

// measure is au.Estimator.Measure, or the test's replacement.
func (f *faceRun) measure(g *raster.Gray) error {
	if f.opt.measure != nil {
		return f.opt.measure(f.est, g, &f.m)
	}
	return f.est.Measure(g, &f.m)
}

// newReference makes the face in g the neutral reference (f.est nil when
// there is none) and restarts the spotter, whose open event ends.
func (f *faceRun) newReference(ctx context.Context, g *raster.Gray, idx int, why string) error {
	defer f.lane.Leave(f.lane.Enter(profile.Scoring))
	for _, iv := range f.sp.Reset() {
		f.spotted(ctx, iv, idx-1)
	}
	f.cuts.reset()
	f.havePrevCrop = false
	f.close()
	lm, ok, err := f.find(g, idx)
	if err != nil {
		return fmt.Errorf("frame %d: face detection: %w", f.num(idx), err)
	}
	if !ok {
		return nil
	}
	f.last, f.haveLast = lm, true
	f.lane.Enter(profile.Landmarks)
	e, err := f.newEstimator(g, lm)
	if err != nil {
		f.log.Warn("face found but unusable", "face", f.id, "frame", f.num(idx), "err", err)
		return nil
	}
	e.SetLane(f.lane)
	f.log.Info(why, "face", f.id, "frame", f.num(idx), "iod_px", math.Round(e.IOD()*10)/10)
	f.allocNative(e.IOD())
	f.refFrame = idx
	f.est = e
	if f.multi != nil {
		s := shapeOf(&lm)
		sig := face.SignatureOf(g, &s)
		if !f.hasSig {
			f.sig, f.hasSig = sig, true
		}
		f.lastSig = sig
	}
	return nil
}

// find looks for this face in g: a new track's seed landmarks, else face 0
// by the Landmarker as in the one-face pipeline (a face another track
// holds, or unlike face 0's signature once there are other tracks, is not
// taken), else among BlazeFace's faces near where the face was going.
func (f *faceRun) find(g *raster.Gray, idx int) ([68][2]float32, bool, error) {
	if f.seed != nil {
		fd := f.multi.mf.Fit(g, *f.seed)
		f.seed = nil
		return shapeLandmarks(&fd.Shape), true, nil
	}
	if f.id == 0 {
		var last *[68][2]float32
		if f.haveLast {
			last = &f.last
		}
		lm, _, ok, err := f.findFace(g, last)
		if err != nil {
			return lm, false, err
		}
		if f.multi == nil || len(f.faces) == 1 && ok {
			return lm, ok, nil
		}
		if ok && !f.heldByOther(lmBox(&lm)) && (!f.hasSig || f.looksLike(g, &lm)) {
			return lm, true, nil
		}
	}
	if f.multi == nil {
		return [68][2]float32{}, false, nil
	}
	if f.lastSeen == idx-1 && f.lastSeen >= 0 {
		// Tracked a frame ago (a cut, head movement or a still ended the
		// reference): refit where the face was, if it still looks itself.
		prev := shapeOf(&f.m.Landmarks)
		s := f.multi.mf.Refit(g, &prev)
		lm := shapeLandmarks(&s)
		if !f.heldByOther(lmBox(&lm)) && f.looksLike(g, &lm) {
			return lm, true, nil
		}
	}
	if !f.multi.searchFrame(idx) {
		return [68][2]float32{}, false, nil
	}
	return f.multi.search(f, g, idx)
}

// shapeOf converts landmarks to a face.Shape.
func shapeOf(lm *[68][2]float32) face.Shape {
	var s face.Shape
	for i, p := range lm {
		s[i] = face.Point{X: float64(p[0]), Y: float64(p[1])}
	}
	return s
}

// step runs one frame through the face's pipeline: frozen is the number of
// repeated frames before this one. It reports whether the face was
// tracked in this frame.
func (f *faceRun) step(ctx context.Context, src Source, idx int, g *raster.Gray, repeat bool, frozen int) (bool, error) {
	lane := f.lane
	lane.Enter(profile.Spotting)
	var err error
	if !repeat && frozen >= 2 && f.est != nil {
		if err = f.newReference(ctx, g, idx, "picture moves after a still; neutral reference set"); err != nil {
			return false, err
		}
	}
	if f.known != nil && idx == f.known.Onset && (f.est == nil || f.refFrame != idx) {
		if err = f.newReference(ctx, g, idx, "onset; neutral reference set"); err != nil {
			return false, err
		}
	}
	if f.est == nil && !repeat && f.searching(idx) {
		if err = f.newReference(ctx, g, idx, "face found; neutral reference set"); err != nil {
			return false, err
		}
	}
	ok := false
	if f.est != nil && repeat {
		ok = f.lastOK
	} else if f.est != nil {
		// A cut: the face region, sampled where the face was, changed
		// wholesale since the last frame.
		cur := f.ring[idx%len(f.ring)].crop
		lane.Enter(profile.FaceCrops)
		f.est.Crop(g, cropSize, cur)
		lane.Enter(profile.Spotting)
		if f.havePrevCrop && f.cuts.observe(cropChange(cur, f.prevCrop)) {
			if err = f.newReference(ctx, g, idx, "cut; neutral reference set"); err != nil {
				return false, err
			}
		}
	}
	if f.est != nil && !repeat {
		err := f.measure(g)
		if errors.Is(err, au.ErrLost) && f.reseed(g) {
			err = f.measure(g)
		}
		if errors.Is(err, au.ErrLost) && f.lostRun == 0 && f.refFrame != idx {
			// The tracker lost a face it held on the last frame (a fast
			// turn or movement): look for it at once, as after a cut.
			if err := f.newReference(ctx, g, idx, "face lost by the tracker; neutral reference set"); err != nil {
				return false, err
			}
			if f.est != nil {
				err = f.measure(g)
			}
		}
		ok = err == nil
		if err != nil && !errors.Is(err, au.ErrLost) {
			f.measureErrs++
			f.failRun++
			if f.measureErrs == 1 {
				f.log.Warn("AU measurement failed", "face", f.id, "frame", f.num(idx), "err", err)
			} else {
				f.log.Debug("AU measurement failed", "face", f.id, "frame", f.num(idx), "err", err)
			}
			if f.failRun >= max(25, int(f.fps)) {
				f.flush(ctx, idx)
				return false, fmt.Errorf("frame %d: AU measurement failed on %d frames in a row: %w", f.num(idx), f.failRun, err)
			}
		} else {
			f.failRun = 0
		}
		if ok {
			f.lostRun = 0
			if !f.sp.Open() && drifted(&f.m) {
				// A quiet face whose head has moved far from the
				// reference gets a fresh reference, so hours of slow
				// drift do not accumulate into false AUs.
				if err := f.newReference(ctx, g, idx, "reference renewed after head movement"); err != nil {
					return false, err
				}
				ok = f.est != nil && f.measure(g) == nil
			}
		} else {
			f.lostRun++
			if f.lostRun > int(f.fps/2) {
				f.log.Warn("face lost", "face", f.id, "frame", f.num(idx))
				f.close()
			}
		}
	}
	f.lastOK = ok
	rec := &f.ring[idx%len(f.ring)]
	rec.ok = ok
	m := &f.m
	if ok {
		copy(rec.both, m.Intensity)
		copy(rec.right, m.Right)
		copy(rec.left, m.Left)
		lane.Enter(profile.FaceCrops)
		f.est.Crop(g, cropSize, rec.crop)
		if f.native > 0 {
			f.est.Crop(g, f.native, rec.native)
		}
		lane.Enter(profile.Spotting)
		copy(f.prevCrop, rec.crop)
		f.havePrevCrop = true
		f.last, f.haveLast = m.Landmarks, true
		f.seen(g, idx)
	} else {
		copy(rec.both, f.zero)
		copy(rec.right, f.zero)
		copy(rec.left, f.zero)
		f.markLost(idx)
	}
	conf := float32(0)
	if f.est != nil {
		conf = m.Confidence
	}
	// The appearance net, gaze, frames.csv's row and the timeline: on the
	// post stage (pipeline.go), which sets rec's reading.
	if err := f.post.put(f, idx, ok, conf, m, g, src); err != nil {
		return false, err
	}
	f.seenFrames = idx + 1
	ivs, err := f.sp.Push(idx, f.in.frame(f.est, m, ok, repeat))
	if err != nil {
		return false, err
	}
	lane.Enter(profile.Scoring)
	for _, iv := range ivs {
		f.spotted(ctx, iv, idx)
	}
	if f.pending && f.sp.Last() >= f.known.Offset {
		if err := f.describe(ctx, idx); err != nil {
			return false, err
		}
		f.pending = false
	}
	return ok, nil
}

// searching reports whether a face without a reference looks for one in
// frame idx: face 0 always (as the one-face pipeline does), others when
// their search runs (multiFaces.search says when).
func (f *faceRun) searching(idx int) bool {
	return f.id == 0 || f.seed != nil || (f.multi != nil && f.multi.searchFrame(idx))
}

// seen records where the tracked face is, for several faces.
func (f *faceRun) seen(g *raster.Gray, idx int) {
	if f.multi == nil {
		return
	}
	b := lmBox(&f.m.Landmarks)
	if f.lastSeen >= 0 && idx-f.lastSeen == 1 {
		cx0, cy0 := (f.box[0]+f.box[2])/2, (f.box[1]+f.box[3])/2
		cx1, cy1 := (b[0]+b[2])/2, (b[1]+b[3])/2
		// Smoothed, so one jittery frame does not set the course.
		f.vel[0] = 0.7*f.vel[0] + 0.3*(cx1-cx0)
		f.vel[1] = 0.7*f.vel[1] + 0.3*(cy1-cy0)
	}
	f.box, f.lastSeen = b, idx
	s := shapeOf(&f.m.Landmarks)
	f.lastSig = face.SignatureOf(g, &s)
}

// tracked reports whether the face is tracked now.
func (f *faceRun) tracked() bool { return f.est != nil && f.lastOK }

// forgotten reports whether a lost face's track has ended.
func (f *faceRun) forgotten(idx int) bool {
	if f.id == 0 || f.est != nil {
		return false
	}
	since := f.lastSeen
	if since < 0 {
		since = f.first
	}
	return float64(idx-since) > forgetAfter*f.fps
}

// heldByOther reports whether another face holds box b: tracked there
// now, or lost there within the last half second (a face passing behind
// another, or re-referenced after a cut, still owns its place).
func (f *faceRun) heldByOther(b [4]float64) bool {
	for _, o := range f.faces {
		if o == f || o.lastSeen < 0 {
			continue
		}
		recent := o.tracked() || float64(f.seenFrames-o.lastSeen) <= f.fps/2
		if recent && boxIoU(o.box, b) > 0.3 {
			return true
		}
	}
	return false
}

// looksLike reports whether the face with landmarks lm in g looks like
// this face did (its signature at the reference or when last tracked).
func (f *faceRun) looksLike(g *raster.Gray, lm *[68][2]float32) bool {
	return f.similarity(g, lm) >= sameFace
}

func (f *faceRun) similarity(g *raster.Gray, lm *[68][2]float32) float64 {
	s := shapeOf(lm)
	sig := face.SignatureOf(g, &s)
	return max(sig.Similarity(&f.sig), sig.Similarity(&f.lastSig))
}

// sameFace is the signature similarity above which a face found again is
// taken for the same person: the same portrait at other sizes and turns
// gives 0.96–1.00, two different people up to 0.79 (face.Signature).
const sameFace = 0.85

// lmBox is the bounding box (x0, y0, x1, y1) of 68 landmarks.
func lmBox(lm *[68][2]float32) [4]float64 {
	b := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	for _, p := range lm {
		b[0], b[1] = math.Min(b[0], float64(p[0])), math.Min(b[1], float64(p[1]))
		b[2], b[3] = math.Max(b[2], float64(p[0])), math.Max(b[3], float64(p[1]))
	}
	return b
}

// boxIoU is the intersection over union of two (x0, y0, x1, y1) boxes.
func boxIoU(a, b [4]float64) float64 {
	iw := math.Min(a[2], b[2]) - math.Max(a[0], b[0])
	ih := math.Min(a[3], b[3]) - math.Max(a[1], b[1])
	if iw <= 0 || ih <= 0 {
		return 0
	}
	in := iw * ih
	return in / ((a[2]-a[0])*(a[3]-a[1]) + (b[2]-b[0])*(b[3]-b[1]) - in)
}
