package analyze

import (
	"errors"
	"runtime"

	"github.com/tell-project/tell/au"
	"github.com/tell-project/tell/gaze"
	"github.com/tell-project/tell/parallel"
	"github.com/tell-project/tell/profile"
	"github.com/tell-project/tell/raster"
)

// The video path on several CPUs. Per face and frame, the work that reads
// only the frame and the face's landmarks there — the gaze, the appearance
// net, frames.csv's row with the head pose, the timeline — is a postJob,
// and so is each frame's preview for the viewer. With GOMAXPROCS above 1
// the jobs go through two goroutines of their own, the gaze on the first
// (the costliest part), the rest on the second, while the run's goroutine
// decodes, tracks, spots and looks for faces in the next frames; on one
// CPU they run inline, at the point where they are made. Either way each
// part of a job runs in the order the jobs were made, on the same inputs,
// so frames.csv, the timelines and the readings are the same byte for
// byte; an event first waits for every job made before it (it reads the
// appearance net's readings of its frames). Each model (Options.Gaze,
// Options.Appearance) is used by one goroutine only.
//
// At most postJobs(w, h) jobs exist; the run's goroutine waits for a free
// one, so it runs at most that many face-frames ahead and memory does not
// grow with the video: a job holds its frame (grey and colour) and a copy
// of the face's measurement.

// postBytes bounds the frames the post stage's jobs may hold, and
// minPostJobs and maxPostJobs the number of jobs (a frame's preview counts
// as one). Four jobs (two frames of one face) kept the two cores' work in
// step only while neither side met a slow frame: on the Pexels clip the
// run's goroutine waited 0.6–1.1 s of a 5–10 s run for a free job; with
// sixteen, 0.02–0.14 s (busy cores, load 4–6), for 26 MB at 640×360.
const (
	postBytes   = 32 << 20
	minPostJobs = 4
	maxPostJobs = 16
)

// postJobs is how many jobs the post stage of w×h frames has (w or h 0:
// unknown, the fewest).
func postJobs(w, h int) int {
	if w <= 0 || h <= 0 {
		return minPostJobs
	}
	return min(maxPostJobs, max(minPostJobs, postBytes/(7*w*h)))
}

// PostStageBytes is the most a video's post stage holds of w×h frames
// beyond the frame being tracked: a frame, grey (4 bytes a pixel) and
// colour (3), per job; 26 MB at 640×360, 58 MB at 1920×1080. Memory
// budgets add it to a video's.
func PostStageBytes(w, h int) int64 { return int64(postJobs(w, h)) * 7 * int64(w) * int64(h) }

// postJob is one face's post-stage work for one frame, or without a face
// (f nil) the frame's preview.
type postJob struct {
	f    *faceRun
	idx  int
	ok   bool    // the face was measured in this frame
	conf float32 // frames.csv's confidence
	g    *raster.Gray
	rgb  *raster.RGB // the frame's colour, nil without (or of another size)
	m    au.Measurement
	// gaze is the face's gaze (gazeOK: there is one), set by the first
	// part of the job.
	gaze   gaze.Result
	gazeOK bool
}

// poster runs the post stage of a video (see above).
type poster struct {
	r      *run
	serial bool
	n      int     // jobs
	one    postJob // the job of a serial post stage, reused
	free   chan *postJob
	jobs   chan *postJob // to the gaze goroutine
	rest   chan *postJob // from it to the second goroutine
	dead   chan struct{} // closed when the second goroutine has ended
	g      parallel.Group
}

// errPostEnded is what the run's goroutine gets when the post stage's
// goroutines ended early (one panicked: closing the poster raises the
// panic).
var errPostEnded = errors.New("analyze: post stage ended")

// startPost starts the post stage: on goroutines of its own when the run
// may use more than one CPU and Options.serial is not set, else inline.
func (r *run) startPost() *poster {
	p := &poster{r: r}
	if r.opt.serial || runtime.GOMAXPROCS(0) < 2 {
		p.serial = true
		return p
	}
	// Neither channel's send ever blocks: each holds as many jobs as
	// there are.
	p.n = postJobs(r.info.Width, r.info.Height)
	p.free = make(chan *postJob, p.n)
	p.jobs = make(chan *postJob, p.n)
	p.rest = make(chan *postJob, p.n)
	p.dead = make(chan struct{})
	for range p.n {
		p.free <- &postJob{}
	}
	p.g.Go(func() {
		// Ending (the jobs closed, or a panic) ends the second goroutine.
		defer close(p.rest)
		lane := r.opt.Profile.Lane()
		defer lane.Close()
		for j := range p.jobs {
			r.postGaze(j, lane)
			p.rest <- j
		}
	})
	p.g.Go(func() {
		defer close(p.dead)
		lane := r.opt.Profile.Lane()
		defer lane.Close()
		for j := range p.rest {
			r.postJob(j, lane)
			// A free job holds no frame: the frames are the garbage
			// collector's as soon as the run's goroutine is done with
			// them too.
			j.f, j.g, j.rgb = nil, nil, nil
			p.free <- j
		}
	})
	return p
}

// put hands the post stage face f's frame idx (g, colour from src when it
// has it): ok says whether the face was measured (then in m), conf is
// frames.csv's confidence. It returns errPostEnded when the post goroutine
// has ended.
func (p *poster) put(f *faceRun, idx int, ok bool, conf float32, m *au.Measurement, g *raster.Gray, src Source) error {
	j, err := p.get()
	if err != nil {
		return err
	}
	j.f, j.idx, j.ok, j.conf, j.g, j.rgb = f, idx, ok, conf, g, frameRGB(src, g)
	copyMeasurement(&j.m, m)
	p.send(j)
	return nil
}

// preview hands the post stage frame idx (g, and its colour when src
// delivers colour) for the viewer's preview, unless the preview does not
// keep it (its sampling step, known once frame 0 is in it, skips idx, or
// it is full or dropped): such a job would take a free job and two
// hand-offs for nothing.
func (p *poster) preview(idx int, g *raster.Gray, src Source) error {
	if s := p.r.previewStep.Load(); s < 0 || s > 0 && idx%int(s) != 0 {
		return nil
	}
	j, err := p.get()
	if err != nil {
		return err
	}
	j.f, j.idx, j.g, j.rgb = nil, idx, g, previewRGB(src)
	p.send(j)
	return nil
}

// get returns a free job, waiting for one while the post stage is busy.
func (p *poster) get() (*postJob, error) {
	if p.serial {
		return &p.one, nil
	}
	select {
	case j := <-p.free:
		return j, nil
	case <-p.dead:
		return nil, errPostEnded
	}
}

// send runs job j: now when serial, else on the post stage's goroutines.
func (p *poster) send(j *postJob) {
	if p.serial {
		p.r.postGaze(j, p.r.lane)
		p.r.postJob(j, p.r.lane)
		j.g, j.rgb = nil, nil
		return
	}
	p.jobs <- j
}

// wait returns once every job put so far is done (at once on a nil or
// serial poster), or the post stage has ended.
func (p *poster) wait() {
	if p == nil || p.serial {
		return
	}
	var buf [maxPostJobs]*postJob
	held := buf[:p.n]
	for i := range held {
		select {
		case held[i] = <-p.free:
		case <-p.dead:
			return
		}
	}
	for _, j := range held {
		p.free <- j
	}
}

// close waits for the jobs put so far and ends the post stage's
// goroutines; a panic there is raised again here, with its stack
// (parallel.Panic).
func (p *poster) close() {
	if p == nil || p.serial {
		return
	}
	close(p.jobs)
	p.g.Wait()
}

// postGaze runs the first part of a face's job j, charging lane: the
// gaze of a measured face.
func (r *run) postGaze(j *postJob, lane *profile.Lane) {
	if r.opt.postHook != nil {
		r.opt.postHook(1, j.idx)
	}
	j.gazeOK = false
	if j.f == nil || !j.ok || r.opt.Gaze == nil {
		return
	}
	defer lane.Leave(lane.Enter(profile.Gaze))
	j.gaze, j.gazeOK = r.readGaze(j.rgb, j.g, &j.m.Landmarks)
}

// postJob runs the rest of job j, charging lane: a face's (postFace) or,
// without a face, the frame's preview.
func (r *run) postJob(j *postJob, lane *profile.Lane) {
	if r.opt.postHook != nil {
		r.opt.postHook(2, j.idx)
	}
	if j.f == nil {
		r.addPreview(lane, j.idx, j.g, j.rgb)
		return
	}
	r.postFace(j, lane)
}

// postFace runs the rest of a face's job j: the appearance net on a
// measured face, frames.csv's row and the timeline.
func (r *run) postFace(j *postJob, lane *profile.Lane) {
	defer lane.Leave(lane.Enter(profile.Spotting))
	f := j.f
	rec := &f.ring[j.idx%len(f.ring)]
	rec.hasProbs = false
	m := &j.m
	var gz *gaze.Result
	if j.gazeOK {
		gz = &j.gaze
	}
	if j.ok {
		lane.Enter(profile.Appearance)
		rec.probs, rec.hasProbs = r.readAppearance(j.rgb, j.g, &m.Landmarks)
	}
	lane.Enter(profile.Writing)
	f.writeRow(lane, j.idx, j.ok, m, j.g, j.conf, rec.probsOrNil(), gz)
	lane.Enter(profile.Spotting)
	if j.ok {
		f.tl.Add(m.Intensity, m.Expression, true)
	} else {
		f.tl.Add(f.zero, 0, false)
	}
	f.tl.AddExpression(rec.probsSlice())
}

// frameRGB is the colour of src's current frame g, nil when src has none
// or it is not g's size.
func frameRGB(src Source, g *raster.Gray) *raster.RGB {
	if cs, ok := src.(ColorSource); ok {
		if c := cs.RGB(); c != nil && c.W == g.W && c.H == g.H {
			return c
		}
	}
	return nil
}

// previewRGB is the colour the preview takes of src's current frame: its
// colour when src delivers colour, else nil (grey).
func previewRGB(src Source) *raster.RGB {
	if cs, ok := src.(ColorSource); ok && cs.HasColor() {
		return cs.RGB()
	}
	return nil
}

// copyMeasurement copies what the post stage reads of src into dst, into
// dst's own slices.
func copyMeasurement(dst, src *au.Measurement) {
	dst.Landmarks = src.Landmarks
	dst.Intensity = append(dst.Intensity[:0], src.Intensity...)
	dst.Present = append(dst.Present[:0], src.Present...)
	dst.FlowIntensity = append(dst.FlowIntensity[:0], src.FlowIntensity...)
	dst.Strain = append(dst.Strain[:0], src.Strain...)
	dst.FlowAge = src.FlowAge
	dst.Expression = src.Expression
}
