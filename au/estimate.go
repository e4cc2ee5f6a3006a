// Package au measures facial Action Unit intensities per frame, on
// OpenFace's 0–5 range with a presence flag, from how the face's skin moved
// relative to a neutral reference.
//
// Limits, first: the intensities are a fixed linear map of skin
// displacement (IntensityPerPixel), not calibrated against OpenFace or
// against FACS-coded intensities, so a 2 here is not OpenFace's 2; the
// movement basis is written by hand from FACS's descriptions, not learnt;
// nothing is measured from appearance (wrinkles, bulges, teeth), so AUs
// that are mostly appearance (AU6's crow's feet, AU9's wrinkles, AU14's
// dimple, AU23's thinned lips, AU45's closed lid) are weak; a clip needs a
// neutral first frame (a still image is measured against a mean shape
// instead); near-frontal faces only; it has been validated on synthetic
// clips only (tell bench au: per-AU F1 on clips of a generator built
// independently of this basis), never on FACS-coded real faces.
//
// Method: 77 points (the 68 landmarks plus forehead, cheek, chin and
// nasolabial points) are tracked from the neutral reference frame into every
// frame with inverse-compositional Lucas-Kanade on a two-level pyramid of a
// face crop (sparse optical flow; always against the reference, so nothing
// drifts). The head's rigid motion is a robust similarity fitted on stable
// points and removed; the remaining displacements, in face coordinates
// normalised to an inter-ocular distance of 100 px, are decomposed by
// non-negative least squares on a basis of per-AU movements written from
// FACS's descriptions (left and right separately for lateral AUs).
//
// A second, independent measurement comes from dense TV-L1 optical flow
// (package flow, fast preset) between the aligned neutral crop and the
// aligned current crop at FlowSize px: the mean flow over a small disc
// around each point (its landmark-defined region), with the rigid motion
// left after alignment removed by a similarity fitted on the stable points,
// goes through the same basis and solver; each AU's mean optical strain is
// kept too. The lip-corner AUs, which geometry confuses with each other,
// (AU12, AU20) are reported only as strongly as the flow confirms (see fuse). A single
// image has no neutral frame: MeasureShape decomposes the landmarks against a
// canonical neutral shape instead.
package au

import (
	"errors"
	"fmt"
	"math"

	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/profile"
	"github.com/tell-project/tell/raster"
)

// IntensityPerPixel converts a basis coefficient (canonical px at IOD 100)
// to an intensity on OpenFace's 0–5 range: 10 canonical px (a tenth of the
// eye distance) is the maximum, 5. It is a fixed linear map chosen by hand,
// not calibrated against OpenFace or FACS-coded intensities: a 2 on this
// scale is not OpenFace's 2. (Not to be confused with Measurement.Scale,
// the head's scale.)
const IntensityPerPixel = 0.5

// PresenceThreshold is the intensity (0–5) from which an AU counts as present.
const PresenceThreshold = 0.45

// maxResidual is the normalised Lucas–Kanade residual from which a point
// counts as lost.
const maxResidual = 0.6

// ErrLost reports that the face could not be tracked in a frame.
var ErrLost = errors.New("au: face lost")

// Measurement is the result for one frame.
type Measurement struct {
	Landmarks [68][2]float32 // tracked landmarks, frame pixels
	// Intensity, Right and Left are per AUs entry on the 0–5 scale;
	// Intensity is the stronger side. Midline AUs have Right = Left.
	Intensity, Right, Left []float32
	Present                []bool
	// Motion is the RMS non-rigid displacement over all points, canonical px
	// (IOD 100); the spotting signal.
	Motion float32
	// Expression is the RMS displacement explained by the AU basis, same
	// units; less noisy than Motion.
	Expression float32
	// Confidence is how well the face was followed in this frame, in [0,1]:
	// the mean over all tracked points of 1 − r/rmax, where r is a point's
	// normalised Lucas–Kanade residual and rmax (0.6) the residual at which
	// a point counts as lost (lost points count 0). 1 is a perfect match of
	// every point's patch with the reference; it falls with blur, occlusion,
	// lighting the gain model cannot absorb, and points lost.
	Confidence float32
	// Pose relative to the reference: the head's scale (1 = as in the
	// reference), rotation (radians), translation (px).
	Scale, Rotation, TX, TY float32
	// Geometric, FlowIntensity and Strain are the evidence Intensity was
	// fused from, per AUs entry: the LK landmark-geometry intensity, the
	// intensity measured from dense TV-L1 flow in the AU's regions (0–5,
	// stronger side) and the mean optical strain there (dimensionless).
	// FlowAge is the number of frames since the flow was last computed
	// (0: this frame); -1 when no flow evidence is available.
	Geometric, FlowIntensity, Strain []float32
	FlowAge                          int
	// Displacement is each tracked point's non-rigid displacement from the
	// reference, in the reference face's axes (x along the eyes, y down),
	// canonical px (IOD 100, so 1 unit is 1 % of the eye distance), indexed
	// 2·point, 2·point+1 over NumPoints points; Tracked says which points
	// followed this frame (an untracked point's displacement is 0).
	Displacement []float32
	Tracked      []bool
}

func newMeasurement() Measurement {
	n := NumAUs
	return Measurement{Intensity: make([]float32, n), Right: make([]float32, n), Left: make([]float32, n), Present: make([]bool, n),
		Geometric: make([]float32, n), FlowIntensity: make([]float32, n), Strain: make([]float32, n), FlowAge: -1,
		Displacement: make([]float32, 2*numPoints), Tracked: make([]bool, numPoints)}
}

// Estimator measures frames against one neutral reference. It keeps
// buffers between calls and is not safe for concurrent use.
type Estimator struct {
	refPts [][2]float64 // reference positions of all tracked points, frame px
	ex, ey [2]float64   // reference face axes
	iod    float64
	box    [4]int // reference crop x0, y0, w, h
	r      int
	tpl    [2][]template
	pyr    pyramid
	buf    []float32
	// The templates in groups tracked eight at a time (lanes.go), where
	// the lane sums run in assembly, and their scratch.
	groups  [2][]laneGroup
	laneBuf []float32
	// Each point's tracked position in the pyramid's frame, residual and
	// verdict, from either tracker (trackLanes, trackOne).
	trackQ   [][2]float32
	trackRes []float32
	trackOK  []bool

	cur     [][2]float64
	ok      []bool
	prev    similarity
	prevPts [][2]float64
	sol     *solver
	resid   []float64
	w       []float64
	// Dense-flow evidence: computed every flowStride-th frame (0: never).
	fl         *regionFlow
	flowStride int
	sinceFlow  int
	haveFlow   bool
	closed     bool
	lane       *profile.Lane // charged by Measure (SetLane)
	cropCols   []float64     // Crop's per-column offsets, kept between calls
	cropArgs   cropArgs      // Crop's row arguments to its kernel
}

// SetLane makes Measure charge its CPU time to lane by stage: landmarks
// (tracking the points), pose (the head's rigid fit), AUs (the solve) and
// flow (the dense-flow evidence); nil stops it.
func (e *Estimator) SetLane(lane *profile.Lane) { e.lane = lane }

// ErrClosed is returned by Measure after Close.
var ErrClosed = errors.New("au: estimator closed")

// Close releases the estimator's optical-flow engine now rather than at
// garbage collection; callers that replace estimators (a new reference after
// head movement or a lost face) close the old one. Measure returns
// ErrClosed afterwards. Close is idempotent.
func (e *Estimator) Close() {
	if e.closed {
		return
	}
	e.closed = true
	if e.fl != nil {
		e.fl.tv.Close()
		e.fl = nil
	}
}

// New prepares an estimator with ref as the neutral frame and lm its 68 landmarks.
func New(ref *raster.Gray, lm [68][2]float32) (*Estimator, error) {
	e := &Estimator{}
	e.refPts = allPoints(lm)
	l, r := face.EyeCentres(&lm)
	dx, dy := r[0]-l[0], r[1]-l[1]
	e.iod = math.Hypot(dx, dy)
	if e.iod < 8 {
		return nil, fmt.Errorf("au: face too small (eye distance %.1f px, need 8)", e.iod)
	}
	e.ex = [2]float64{dx / e.iod, dy / e.iod}
	e.ey = [2]float64{-e.ex[1], e.ex[0]}
	e.r = int(math.Round(0.12 * e.iod))
	e.r = max(3, min(e.r, 10))
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range e.refPts {
		minX, maxX = math.Min(minX, p[0]), math.Max(maxX, p[0])
		minY, maxY = math.Min(minY, p[1]), math.Max(maxY, p[1])
	}
	m := 0.35*e.iod + float64(4*e.r)
	x0, y0 := int(minX-m), int(minY-m)
	x1, y1 := int(maxX+m)+1, int(maxY+m)+1
	x0, y0 = max(x0, 0), max(y0, 0)
	x1, y1 = min(x1, ref.W), min(y1, ref.H)
	if x1-x0 < 16 || y1-y0 < 16 {
		return nil, fmt.Errorf("au: face box outside the image")
	}
	e.box = [4]int{x0, y0, x1 - x0, y1 - y0}
	e.pyr.build(ref, x0, y0, x1-x0, y1-y0)
	for lv := 0; lv < 2; lv++ {
		f := float32(1) / float32(int(1)<<lv)
		e.tpl[lv] = make([]template, numPoints)
		for i, p := range e.refPts {
			r := e.r
			if finePoint(i) {
				r = max(3, (e.r+1)/2)
			}
			e.tpl[lv][i] = makeTemplate(e.pyr.lv[lv], (float32(p[0])-float32(x0))*f, (float32(p[1])-float32(y0))*f, r)
		}
	}
	n := 2*e.r + 1
	e.buf = make([]float32, n*n)
	if laneAsm {
		for lv := range e.groups {
			e.groups[lv] = groupTemplates(e.tpl[lv])
		}
		e.laneBuf = make([]float32, lanes*n*n)
	}
	e.trackQ, e.trackRes, e.trackOK = make([][2]float32, numPoints), make([]float32, numPoints), make([]bool, numPoints)
	e.cur = make([][2]float64, numPoints)
	e.prevPts = append([][2]float64(nil), e.refPts...)
	e.ok = make([]bool, numPoints)
	e.prev = similarity{a: 1}
	e.sol = newSolver(buildBasis())
	e.resid = make([]float64, 2*numPoints)
	e.w = make([]float64, 2*numPoints)
	fl, err := newRegionFlow(e, ref, FlowSize)
	if err != nil {
		return nil, err
	}
	e.fl, e.flowStride = fl, 1
	return e, nil
}

// SetFlowStride makes Measure compute the dense-flow evidence on every
// n-th frame only, reusing the last one in between (n ≤ 0 turns it off and
// leaves the geometric estimate alone). The default is every frame; video
// callers at high frame rates use a stride so that the flow runs at a few
// tens of hertz, which still samples every expression's apex phase.
func (e *Estimator) SetFlowStride(n int) {
	e.flowStride = max(0, n)
	e.haveFlow = false
}

// finePoint marks points whose movement is local (eyelids, inner lips):
// they get half the window, so the window does not average their motion
// with still skin around them.
func finePoint(i int) bool {
	switch i {
	case 37, 38, 40, 41, 43, 44, 46, 47, 61, 62, 63, 65, 66, 67:
		return true
	}
	return false
}

// IOD is the reference inter-ocular distance in pixels.
func (e *Estimator) IOD() float64 { return e.iod }

// allPoints returns the 68 landmarks and the extra points.
func allPoints(lm [68][2]float32) [][2]float64 {
	pts := make([][2]float64, 0, numPoints)
	for _, p := range lm {
		pts = append(pts, [2]float64{float64(p[0]), float64(p[1])})
	}
	l, r := face.EyeCentres(&lm)
	dx, dy := r[0]-l[0], r[1]-l[1]
	iod := math.Hypot(dx, dy)
	ex := [2]float64{dx / iod, dy / iod}
	ey := [2]float64{-ex[1], ex[0]}
	for _, xp := range extraPoints {
		var c [2]float64
		for _, i := range xp.pts {
			c[0] += float64(lm[i][0]) / float64(len(xp.pts))
			c[1] += float64(lm[i][1]) / float64(len(xp.pts))
		}
		c[0] += (xp.off[0]*ex[0] + xp.off[1]*ey[0]) * iod
		c[1] += (xp.off[0]*ex[1] + xp.off[1]*ey[1]) * iod
		pts = append(pts, c)
	}
	return pts
}

// Measure tracks the face into frame and fills m (allocated on first use).
// It returns ErrLost when the face cannot be followed; m then holds the
// last pose and zero AUs.
func (e *Estimator) Measure(frame *raster.Gray, m *Measurement) error {
	if e.closed {
		return ErrClosed
	}
	if m.Intensity == nil {
		*m = newMeasurement()
	}
	lane := e.lane
	defer lane.Leave(lane.Enter(profile.Landmarks))
	// Follow the head: shift the crop by the last frame's translation.
	cx := float64(e.box[0]) + float64(e.box[2])/2
	cy := float64(e.box[1]) + float64(e.box[3])/2
	px, py := e.prev.apply(cx, cy)
	sx, sy := int(math.Round(px-cx)), int(math.Round(py-cy))
	x0, y0 := e.box[0]+sx, e.box[1]+sy
	w, h := e.box[2], e.box[3]
	e.pyr.build(frame, x0, y0, w, h)
	if e.laneBuf != nil {
		e.trackLanes(x0, y0)
	} else {
		e.trackOne(x0, y0)
	}
	tracked := 0
	var quality float32
	for i := range e.refPts {
		e.ok[i] = e.trackOK[i] && e.trackRes[i] < maxResidual
		if e.ok[i] {
			tracked++
			quality += 1 - e.trackRes[i]/maxResidual
			q := e.trackQ[i]
			e.cur[i] = [2]float64{float64(q[0]) + float64(x0), float64(q[1]) + float64(y0)}
		}
	}
	return e.measureTracked(frame, m, tracked, quality)
}

// trackOne tracks every point of the pyramid one by one (trackPoint), from
// where it was last frame, coarse level first, into e.trackQ, e.trackRes
// and e.trackOK (x0, y0: the pyramid's origin in the frame).
func (e *Estimator) trackOne(x0, y0 int) {
	for i := range e.refPts {
		gx := float32(e.prevPts[i][0] - float64(x0))
		gy := float32(e.prevPts[i][1] - float64(y0))
		qx, qy, _, ok := trackPoint(e.pyr.lv[1], &e.tpl[1][i], gx/2, gy/2, e.buf)
		if ok {
			qx, qy = 2*qx, 2*qy
		} else {
			qx, qy = gx, gy
		}
		qx, qy, e.trackRes[i], e.trackOK[i] = trackPoint(e.pyr.lv[0], &e.tpl[0][i], qx, qy, e.buf)
		e.trackQ[i] = [2]float32{qx, qy}
	}
}

// trackLanes is trackOne with the points tracked eight at a time: the
// same positions and residuals.
func (e *Estimator) trackLanes(x0, y0 int) {
	q, ok := e.trackQ, e.trackOK
	for i := range e.refPts {
		gx := float32(e.prevPts[i][0] - float64(x0))
		gy := float32(e.prevPts[i][1] - float64(y0))
		q[i] = [2]float32{gx / 2, gy / 2}
		ok[i] = false
	}
	e.trackGroups(e.groups[1], e.pyr.lv[1])
	for i := range e.refPts {
		if ok[i] {
			q[i] = [2]float32{2 * q[i][0], 2 * q[i][1]}
		} else {
			q[i] = [2]float32{float32(e.prevPts[i][0] - float64(x0)), float32(e.prevPts[i][1] - float64(y0))}
		}
		ok[i] = false
	}
	e.trackGroups(e.groups[0], e.pyr.lv[0])
}

// trackGroups tracks each group's points on g from e.trackQ, leaving their
// ends, residuals and verdicts in e.trackQ, e.trackRes and e.trackOK (points
// in no group, whose templates cannot be tracked, keep their start and
// fail, as trackPoint has them).
func (e *Estimator) trackGroups(groups []laneGroup, g *raster.Gray) {
	for k := range groups {
		lg := &groups[k]
		var q [lanes][2]float32
		var res [lanes]float32
		var ok [lanes]bool
		for l, i := range lg.pts {
			q[l] = e.trackQ[i]
		}
		lg.track(g, &q, &res, &ok, e.laneBuf)
		for l, i := range lg.pts {
			e.trackQ[i], e.trackRes[i], e.trackOK[i] = q[l], res[l], ok[l]
		}
	}
}

// measureTracked turns the points tracked into frame (e.cur where e.ok;
// tracked of them, with summed quality) into the head's pose and the AUs
// of m: the rigid head motion is fitted on the stable points, the other
// points' residuals are expressed in the reference face's axes in per cent
// of its eye distance at the head's current scale, and solved for AUs.
func (e *Estimator) measureTracked(frame *raster.Gray, m *Measurement, tracked int, quality float32) error {
	lane := e.lane // Measure's deferred Leave closes the stages entered here
	// Rigid head motion on the stable points that tracked.
	var src, dst [][2]float64
	var zs, wts []float64
	for _, i := range stablePoints {
		if e.ok[i] {
			src = append(src, e.refPts[i])
			dst = append(dst, e.cur[i])
			zs = append(zs, depth[i])
			wts = append(wts, 1)
		}
	}
	m.Confidence = quality / float32(numPoints)
	if len(src) < len(stablePoints)/2 || tracked < numPoints/2 {
		clearAUs(m)
		return fmt.Errorf("%w: %d of %d points tracked", ErrLost, tracked, numPoints)
	}
	lane.Enter(profile.Pose)
	head := robustHead(src, dst, zs, wts, 0.02*e.iod)
	sim := head.similarity
	s := sim.scale()
	if s < 0.5 || s > 2 {
		clearAUs(m)
		return fmt.Errorf("%w: implausible scale change %.2f", ErrLost, s)
	}
	// Residuals in canonical face coordinates.
	lane.Enter(profile.AUs)
	cosT, sinT := sim.a/s, sim.b/s
	norm := 100 / (s * e.iod)
	var sum2 float64
	for i := range e.refPts {
		rx, ry := head.apply(e.refPts[i][0], e.refPts[i][1], depth[i])
		if !e.ok[i] {
			e.cur[i] = [2]float64{rx, ry}
			e.w[2*i], e.w[2*i+1] = 0, 0
			e.resid[2*i], e.resid[2*i+1] = 0, 0
			continue
		}
		dx, dy := e.cur[i][0]-rx, e.cur[i][1]-ry
		// Undo the head rotation, then express in the reference face axes.
		ux, uy := cosT*dx+sinT*dy, -sinT*dx+cosT*dy
		fx := (ux*e.ex[0] + uy*e.ex[1]) * norm
		fy := (ux*e.ey[0] + uy*e.ey[1]) * norm
		e.resid[2*i], e.resid[2*i+1] = fx, fy
		e.w[2*i], e.w[2*i+1] = 1, 1
		sum2 += fx*fx + fy*fy
	}
	m.Motion = float32(math.Sqrt(sum2 / float64(tracked)))
	for i := range e.refPts {
		m.Tracked[i] = e.ok[i]
		m.Displacement[2*i], m.Displacement[2*i+1] = float32(e.resid[2*i]), float32(e.resid[2*i+1])
	}
	for i := 0; i < 68; i++ {
		m.Landmarks[i] = [2]float32{float32(e.cur[i][0]), float32(e.cur[i][1])}
	}
	copy(e.prevPts, e.cur)
	e.prev = sim
	m.Scale, m.Rotation = float32(s), float32(math.Atan2(sim.b, sim.a))
	m.TX, m.TY = float32(sim.tx), float32(sim.ty)
	e.sol.solve(e.resid, e.w, m)
	copy(m.Geometric, m.Intensity)
	lane.Enter(profile.Flow)
	return e.flowEvidence(frame, sim, m)
}

// Reseed restarts the tracking from lm, the face's 68 landmarks in the
// frame to be measured next as a detector placed them, after Measure lost
// it (fast movement carries the points beyond their search): the points
// start there, the head's pose is the similarity that takes the
// reference's stable points onto lm's, and the neutral reference is kept.
func (e *Estimator) Reseed(lm [68][2]float32) {
	pts := allPoints(lm)
	src := make([][2]float64, len(stablePoints))
	dst := make([][2]float64, len(stablePoints))
	w := make([]float64, len(stablePoints))
	for k, i := range stablePoints {
		src[k], dst[k], w[k] = e.refPts[i], pts[i], 1
	}
	copy(e.prevPts, pts)
	e.prev = fitSimilarity(src, dst, w)
}

// flowEvidence computes (or reuses) the dense-flow AU evidence for this
// frame and fuses it into m.
func (e *Estimator) flowEvidence(frame *raster.Gray, sim similarity, m *Measurement) error {
	if e.flowStride == 0 {
		clear(m.FlowIntensity)
		clear(m.Strain)
		m.FlowAge = -1
		return nil
	}
	e.sinceFlow++
	if !e.haveFlow || e.sinceFlow >= e.flowStride {
		if err := e.fl.measure(e, frame, sim); err != nil {
			return err
		}
		e.haveFlow, e.sinceFlow = true, 0
	}
	copy(m.FlowIntensity, e.fl.m.Intensity)
	copy(m.Strain, e.fl.auStrain)
	m.FlowAge = e.sinceFlow
	fuse(m, &e.fl.m)
	return nil
}

func clearAUs(m *Measurement) {
	for i := range m.Intensity {
		m.Intensity[i], m.Right[i], m.Left[i], m.Present[i] = 0, 0, 0, false
	}
	m.Motion, m.Expression = 0, 0
	clear(m.Displacement)
	clear(m.Tracked)
	clear(m.Geometric)
	clear(m.FlowIntensity)
	clear(m.Strain)
	m.FlowAge = -1
}
