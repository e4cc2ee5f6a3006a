package analyze

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/gaze"
	"github.com/tell-project/tell/models"
	"github.com/tell-project/tell/parallel"
	"github.com/tell-project/tell/preview"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/synth"
)

// pipelineModels returns the appearance net and the iris model when they
// are installed (nil each when not; an error under models.Required).
func pipelineModels(t *testing.T) (Options, string) {
	t.Helper()
	var opt Options
	var with []string
	app, note, err := LoadAppearance(models.Root(""), "faceapi")
	switch {
	case err != nil:
		t.Fatal(err)
	case app == nil && models.Required():
		t.Fatal(note)
	case app != nil:
		opt.Appearance = app
		with = append(with, "appearance")
	}
	g, err := gaze.Load(models.Root(""))
	switch {
	case err == nil:
		opt.Gaze = g
		with = append(with, "gaze")
	case models.Required():
		t.Fatal(err)
	}
	return opt, strings.Join(with, "+")
}

// sameFiles reports where two output folders' files differ (events.json
// compared without its timing fields).
func sameFiles(t *testing.T, what, a, b string) {
	t.Helper()
	csvA, evA := readOutputs(t, a)
	csvB, evB := readOutputs(t, b)
	sameOutputs(t, what, csvA, csvB, evA, evB)
	for _, name := range []string{"preview.jpgs", "report.html"} {
		x, errA := os.ReadFile(filepath.Join(a, name))
		y, errB := os.ReadFile(filepath.Join(b, name))
		if errA != nil || errB != nil {
			t.Errorf("%s: %s: %v, %v", what, name, errA, errB)
			continue
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s: %s differs", what, name)
		}
	}
}

// TestPipelineKeepsOutputs: with the post stage on its own goroutines
// (pipeline.go) a video gives the same frames.csv, events.json, preview
// and report, byte for byte, as with the stage inline, on 2 and 8 CPUs:
// one face with events (a synthetic clip) and two faces passing each other
// (BlazeFace), and an interval of known timing, described at its offset
// frame; with the appearance net and gaze when installed. The post
// stage's second part is slowed, and its first job waits until the run's
// goroutine has finished the first frame, which only a stage on another
// goroutine lets happen. Run it under the race detector too.
func TestPipelineKeepsOutputs(t *testing.T) {
	if testing.Short() {
		t.Skip("analyses three clips nine times")
	}
	base, with := pipelineModels(t)
	t.Logf("models: %q", with)
	clips, err := synth.Plan(testFace(t), synth.Config{Seed: 21, FPS: 30, Long: true, Duration: 4, Events: 2}, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := clips[0]
	lm, mf := multiLandmarker(t)
	crowd := writeCrowd(t, passingCrowd(t))
	inputs := []struct {
		name string
		run  func(opt Options) error
	}{
		{"one face", func(opt Options) error {
			opt.Landmarker = truthLandmarker{c}
			_, err := RunSource(context.Background(), &clipSource{c: c}, "synthetic", opt)
			return err
		}},
		{"known interval", func(opt Options) error {
			// Described at its offset frame, whose post jobs are then
			// still to run unless the event waits for them.
			opt.Landmarker, opt.Interval = truthLandmarker{c}, &Interval{Onset: 20, Apex: 50, Offset: 50}
			_, err := RunSource(context.Background(), &clipSource{c: c}, "synthetic", opt)
			return err
		}},
		{"two faces", func(opt Options) error {
			opt.Landmarker, opt.Faces, opt.FPS = lm, mf, 30
			_, err := Run(context.Background(), crowd, opt)
			return err
		}},
	}
	for _, in := range inputs {
		run := func(procs int, serial bool) string {
			t.Helper()
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			opt := base
			opt.Out, opt.serial = t.TempDir(), serial
			if !serial {
				// The first job's second part waits for the first frame
				// to be done.
				first := make(chan struct{})
				var once, held sync.Once
				opt.Progress = func(done, total int) { once.Do(func() { close(first) }) }
				opt.postHook = func(part, idx int) {
					if part != 2 {
						return
					}
					// A slow second part at the known interval's offset
					// (frame 50) and at the end: an event that did not
					// wait for it would read missing appearance readings.
					if idx == 49 || idx >= c.Frames-2 {
						time.Sleep(20 * time.Millisecond)
					}
					held.Do(func() {
						select {
						case <-first:
						case <-time.After(time.Minute):
							t.Errorf("%s: the run's goroutine did not go on while the post stage waited", in.name)
						}
					})
				}
			}
			if err := in.run(opt); err != nil {
				t.Fatalf("%s on %d CPUs (serial %v): %v", in.name, procs, serial, err)
			}
			return opt.Out
		}
		inline := run(2, true)
		if in.name == "one face" {
			_, ev := readOutputs(t, inline)
			if evs, _ := ev["events"].([]any); len(evs) == 0 {
				t.Fatal("no event spotted: the comparison would not cover the events' wait")
			}
		}
		for _, procs := range []int{2, 8} {
			sameFiles(t, fmt.Sprintf("%s: inline and pipelined on %d CPUs", in.name, procs), inline, run(procs, false))
		}
	}
}

// ctxSource is a clipSource whose Next honours the context, as a video's
// does.
type ctxSource struct{ clipSource }

func (s *ctxSource) Next(ctx context.Context) (*raster.Gray, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.clipSource.Next(ctx)
}

// TestPipelinePanicFailsTheRun: a panic in either part of the post stage
// reaches the caller of Run as a *parallel.Panic with the stack of the
// goroutine where it happened (queue's worker then fails the job, not the
// process), and the run's goroutine does not hang on the stage.
func TestPipelinePanicFailsTheRun(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	clips, err := synth.Plan(testFace(t), synth.Config{Seed: 5, FPS: 30, Long: true, Duration: 2, Events: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := clips[0]
	for _, part := range []int{1, 2} {
		opt := Options{Out: t.TempDir(), Landmarker: truthLandmarker{c}, postHook: func(p, idx int) {
			if p == part && idx == 7 {
				var s []int
				_ = s[idx] // index out of range in the post stage
			}
		}}
		r := func() (r any) {
			defer func() { r = recover() }()
			RunSource(context.Background(), &clipSource{c: c}, "synthetic", opt)
			return nil
		}()
		p, ok := r.(*parallel.Panic)
		if !ok {
			t.Fatalf("part %d: Run panicked with %T %v, want *parallel.Panic", part, r, r)
		}
		if !strings.Contains(p.Error(), "index out of range") || !strings.Contains(string(p.GoroutineStack()), "TestPipelinePanicFailsTheRun") {
			t.Errorf("part %d: panic %q, stack:\n%s", part, p.Error(), p.GoroutineStack())
		}
	}
}

// TestPipelineCancel: a run cancelled part-way ends with the context's
// error and partial outputs, with the post stage on its own goroutines.
func TestPipelineCancel(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	clips, err := synth.Plan(testFace(t), synth.Config{Seed: 5, FPS: 30, Long: true, Duration: 2, Events: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := clips[0]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var done atomic.Int32
	opt := Options{Out: t.TempDir(), Landmarker: truthLandmarker{c}, Progress: func(n, total int) {
		if done.Store(int32(n)); n == 10 {
			cancel()
		}
	}}
	res, err := RunSource(ctx, &ctxSource{clipSource{c: c}}, "synthetic", opt)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrPartial) {
		t.Fatalf("err %v, want a partial run cancelled", err)
	}
	if res.Status != StatusPartial || res.Frames != 10 {
		t.Errorf("status %s, %d frames; want partial, 10", res.Status, res.Frames)
	}
	csv, _ := readOutputs(t, opt.Out)
	if n := bytes.Count(csv, []byte("\n")); n != 11 {
		t.Errorf("frames.csv has %d lines, want a header and 10 rows", n)
	}
}

// waitReasoner records, when an event asks it, how many frames' post jobs
// had ended (done, set by the post stage's hook).
type waitReasoner struct {
	done *atomic.Int32
	seen []int32
}

func (w *waitReasoner) Reason(context.Context, []cot.Evidence, []image.Image) (cot.CoT, error) {
	w.seen = append(w.seen, w.done.Load())
	return cot.CoT{}, errors.New("test reasoner: no answer")
}

// TestEventsWaitForThePostStage: an event is described only once the post
// stage has read every frame before it (the appearance readings of its
// apex are the post stage's): an interval of known timing that ends at
// the last frame, whose last post jobs are slow.
func TestEventsWaitForThePostStage(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	clips, err := synth.Plan(testFace(t), synth.Config{Seed: 5, FPS: 30, Long: true, Duration: 2, Events: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := clips[0]
	var done atomic.Int32
	w := &waitReasoner{done: &done}
	opt := Options{Out: t.TempDir(), Landmarker: truthLandmarker{c}, Reasoner: w,
		Interval: &Interval{Onset: c.Frames / 2, Apex: c.Frames, Offset: c.Frames},
		postHook: func(part, idx int) {
			if part != 2 {
				return
			}
			if idx >= c.Frames-2 {
				time.Sleep(200 * time.Millisecond)
			}
			done.Store(int32(idx + 1))
		}}
	if _, err := RunSource(context.Background(), &clipSource{c: c}, "synthetic", opt); err != nil {
		t.Fatal(err)
	}
	if len(w.seen) != 1 || w.seen[0] != int32(c.Frames) {
		t.Errorf("the event was described with %v frames' post jobs done, want all %d", w.seen, c.Frames)
	}
}

// TestPostJobs: the post stage's depth follows its memory bound, between
// its floor and ceiling, and PostStageBytes is what those jobs' frames
// hold (a grey and a colour frame each, as raster allocates them), within
// postBytes above the floor.
func TestPostJobs(t *testing.T) {
	for _, c := range []struct{ w, h, want int }{
		{0, 0, minPostJobs}, {128, 128, maxPostJobs}, {640, 360, maxPostJobs}, {640, 480, 15},
		{1280, 720, 5}, {1920, 1080, minPostJobs}, {7680, 4320, minPostJobs},
	} {
		if got := postJobs(c.w, c.h); got != c.want {
			t.Errorf("postJobs(%d, %d) = %d, want %d", c.w, c.h, got, c.want)
		}
		g, rgb := raster.NewGray(c.w, c.h), raster.NewRGB(c.w, c.h)
		frame := int64(len(g.Pix))*int64(unsafe.Sizeof(g.Pix[0])) + int64(len(rgb.Pix))
		got := PostStageBytes(c.w, c.h)
		if want := int64(c.want) * frame; got != want {
			t.Errorf("PostStageBytes(%d, %d) = %d, want %d", c.w, c.h, got, want)
		}
		if c.want > minPostJobs && got > postBytes {
			t.Errorf("PostStageBytes(%d, %d) = %d, over postBytes", c.w, c.h, got)
		}
	}
}

// longSource is a clipSource that announces many more frames than it
// yields, so that the preview keeps one frame in many (its step follows
// the announced length).
type longSource struct{ clipSource }

func (s *longSource) Frames() int { return 1 << 20 }

// TestPreviewJobsOnlyForKeptFrames: once the preview's step is known, a
// frame it skips takes no post job (only its face's), serial or
// pipelined, and the preview holds the same frames either way.
func TestPreviewJobsOnlyForKeptFrames(t *testing.T) {
	clips, err := synth.Plan(testFace(t), synth.Config{Seed: 5, FPS: 30, Long: true, Duration: 2, Events: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := clips[0]
	var outs []string
	for _, serial := range []bool{true, false} {
		func() {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
			var mu sync.Mutex
			jobs := map[int]int{}
			opt := Options{Out: t.TempDir(), Landmarker: truthLandmarker{c}, serial: serial,
				postHook: func(part, idx int) {
					if part == 1 {
						mu.Lock()
						jobs[idx]++
						mu.Unlock()
					}
				}}
			if _, err := RunSource(context.Background(), &longSource{clipSource{c: c}}, "synthetic", opt); err != nil {
				t.Fatal(err)
			}
			// Frames 0 and 1 may come before the step is known; by the
			// last frames it is (the post stage holds at most 16 jobs).
			for idx := c.Frames - 5; idx < c.Frames; idx++ {
				if jobs[idx] != 1 {
					t.Errorf("serial %v: frame %d took %d post jobs, want 1 (its face's)", serial, idx, jobs[idx])
				}
			}
			outs = append(outs, opt.Out)
		}()
	}
	a, errA := os.ReadFile(filepath.Join(outs[0], preview.Name))
	b, errB := os.ReadFile(filepath.Join(outs[1], preview.Name))
	if errA != nil || errB != nil || !bytes.Equal(a, b) || len(a) <= len(preview.Magic) {
		t.Errorf("previews differ or are empty (%d and %d bytes; %v, %v)", len(a), len(b), errA, errB)
	}
}
