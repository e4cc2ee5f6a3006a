// Package profile measures where an analysis spends its CPU time, stage by
// stage (decode, detect, crop search, landmarks, pose, flow, AUs,
// appearance net, gaze, face crops, spotting, scoring, writing), for tell
// analyze --profile and the server's /metrics.
//
// Each goroutine that runs stages holds a Lane, which reads its OS
// thread's CPU clock (the goroutine stays on its thread while the lane is
// open) at every change of stage and charges the difference to the stage
// that ran. Lanes of one run share a Profile. What runs on other threads
// without a lane (helper goroutines that a stage starts, the garbage
// collector's background workers, other work in the process) is in no
// stage: Report gives it as the process's CPU time beyond the stages when
// the process ran only this work.
//
// Limits: the thread clock's resolution is the kernel's (nanoseconds on
// Linux); a change of stage costs two clock reads (about a microsecond),
// so stages are marked per frame, not per pixel. Profiling never changes
// what is computed.
package profile

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// Stage is a part of the analysis pipeline.
type Stage uint8

// Stages, in pipeline order. None is a lane's state between stages (waiting
// for work); it is not reported.
const (
	None       Stage = iota
	Setup            // loading the models (Profile.Add)
	Decode           // reading and converting frames, and the decoder process (Profile.Add)
	Detect           // face detection: whole-frame scans and searches near the last place
	CropSearch       // the face-crop search (padded rescan, whole-frame fits)
	Landmarks        // placing (predictor) and tracking (Lucas–Kanade) landmarks
	Pose             // head pose: the rigid fit and frames.csv's 3D pose
	Flow             // dense optical flow for the AU evidence
	AUs              // AU solve and fusion
	Appearance       // the appearance (expression) net
	Gaze             // the iris model and the eye geometry (package gaze)
	FaceCrops        // aligned face crops for cut detection, events and the report
	Spotting         // spotting, cut and still detection, the timeline
	Scoring          // event scoring, labels and chains of thought
	Writing          // frames.csv, events.json, the report, the viewer's preview
	NumStages
)

var names = [NumStages]string{"none", "setup", "decode", "detect", "crop_search", "landmarks", "pose", "flow", "aus", "appearance", "gaze", "face_crops", "spotting", "scoring", "writing"}

// String is the stage's name as /metrics and the report print it.
func (s Stage) String() string {
	if s < NumStages {
		return names[s]
	}
	return fmt.Sprintf("stage%d", s)
}

// Stages lists the reported stages in order.
func Stages() []Stage {
	out := make([]Stage, 0, NumStages-1)
	for s := Setup; s < NumStages; s++ {
		out = append(out, s)
	}
	return out
}

// Profile holds a run's time per stage. It is safe for concurrent use.
type Profile struct {
	mu      sync.Mutex
	cpu     [NumStages]time.Duration
	wall    [NumStages]time.Duration
	entries [NumStages]int64
}

// New returns an empty profile.
func New() *Profile { return &Profile{} }

// Add charges time measured outside the lanes to stage s: a decoder
// process's CPU time to Decode, loading the models to Setup.
func (p *Profile) Add(s Stage, cpu, wall time.Duration) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.cpu[s] += cpu
	p.wall[s] += wall
	p.mu.Unlock()
}

// Lane opens a lane for the calling goroutine, which it locks to its OS
// thread until Close; a nil Profile gives a nil lane, whose methods do
// nothing.
func (p *Profile) Lane() *Lane {
	if p == nil {
		return nil
	}
	runtime.LockOSThread()
	l := &Lane{p: p}
	l.wall0, l.cpu0 = time.Now(), threadCPU()
	return l
}

// Lane is one goroutine's stage clock. Its methods must be called from the
// goroutine that opened it.
type Lane struct {
	p     *Profile
	cur   Stage
	wall0 time.Time
	cpu0  time.Duration
	// Sums until the next flush to the profile.
	cpu, wall [NumStages]time.Duration
	entries   [NumStages]int64
}

// mark charges the time since the last mark to the current stage.
func (l *Lane) mark() {
	now, c := time.Now(), threadCPU()
	l.cpu[l.cur] += c - l.cpu0
	l.wall[l.cur] += now.Sub(l.wall0)
	l.wall0, l.cpu0 = now, c
}

// Enter starts stage s and returns the stage that ran before, for Leave:
//
//	defer lane.Leave(lane.Enter(profile.Flow))
func (l *Lane) Enter(s Stage) Stage {
	if l == nil {
		return None
	}
	l.mark()
	prev := l.cur
	l.cur = s
	l.entries[s]++
	return prev
}

// Leave returns to stage prev (Enter's result).
func (l *Lane) Leave(prev Stage) {
	if l == nil {
		return
	}
	l.mark()
	l.cur = prev
}

// Flush adds the lane's sums to its profile (Close does it too), so that
// the profile can be read while the lane goes on.
func (l *Lane) Flush() {
	if l == nil {
		return
	}
	l.mark()
	p := l.p
	p.mu.Lock()
	for s := range l.cpu {
		p.cpu[s] += l.cpu[s]
		p.wall[s] += l.wall[s]
		p.entries[s] += l.entries[s]
	}
	p.mu.Unlock()
	l.cpu, l.wall, l.entries = [NumStages]time.Duration{}, [NumStages]time.Duration{}, [NumStages]int64{}
}

// Close flushes the lane and unlocks its goroutine from its thread.
func (l *Lane) Close() {
	if l == nil {
		return
	}
	l.Flush()
	runtime.UnlockOSThread()
}

// StageTime is one stage's share of a profile.
type StageTime struct {
	Stage   Stage
	CPU     time.Duration // on the lanes' threads, and what Add gave
	Wall    time.Duration // while the stage was a lane's current stage
	Entries int64         // times a lane entered it
}

// Stages returns the time of each reported stage, in pipeline order.
func (p *Profile) Stages() []StageTime {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]StageTime, 0, NumStages-1)
	for _, s := range Stages() {
		out = append(out, StageTime{Stage: s, CPU: p.cpu[s], Wall: p.wall[s], Entries: p.entries[s]})
	}
	return out
}

// CPU is the CPU time of all stages together.
func (p *Profile) CPU() time.Duration {
	var t time.Duration
	for _, st := range p.Stages() {
		t += st.CPU
	}
	return t
}

// Summary is what Write prints beside the stages: the run's frames, its
// wall time and, when known, the CPU time of the process and its children
// over the run (ProcessCPU's difference; 0: unknown), whose part beyond
// the stages is reported as "other".
type Summary struct {
	Frames     int
	Wall       time.Duration
	ProcessCPU time.Duration
}

// Write prints the profile as a table: CPU seconds per stage, milliseconds
// per frame and share of the total.
func (p *Profile) Write(w io.Writer, sum Summary) error {
	stages := p.Stages()
	total := p.CPU()
	other := time.Duration(0)
	if sum.ProcessCPU > total {
		other = sum.ProcessCPU - total
		total = sum.ProcessCPU
	}
	perFrame := func(d time.Duration) string {
		if sum.Frames <= 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", d.Seconds()*1000/float64(sum.Frames))
	}
	share := func(d time.Duration) string {
		if total <= 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f%%", 100*d.Seconds()/total.Seconds())
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "stage\tcpu_s\tms/frame\tshare\twall_s\t")
	for _, st := range stages {
		fmt.Fprintf(tw, "%s\t%.3f\t%s\t%s\t%.3f\t\n", st.Stage, st.CPU.Seconds(), perFrame(st.CPU), share(st.CPU), st.Wall.Seconds())
	}
	if sum.ProcessCPU > 0 {
		fmt.Fprintf(tw, "other\t%.3f\t%s\t%s\t-\t\n", other.Seconds(), perFrame(other), share(other))
	}
	fmt.Fprintf(tw, "total\t%.3f\t%s\t\t%.3f\t\n", total.Seconds(), perFrame(total), sum.Wall.Seconds())
	if err := tw.Flush(); err != nil {
		return err
	}
	fps := "-"
	if sum.Wall > 0 {
		fps = fmt.Sprintf("%.1f", float64(sum.Frames)/sum.Wall.Seconds())
	}
	fmt.Fprintf(&b, "%d frames, %s frames/s end to end, %s CPU ms per frame\n", sum.Frames, fps, perFrame(total))
	if sum.ProcessCPU > 0 {
		b.WriteString("other: CPU time of the process outside the stages' threads (helper goroutines, garbage collection)\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
