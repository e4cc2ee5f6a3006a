package analyze

import (
	"context"
	"errors"
	"image"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tell-project/tell/au"
	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/merclip"
	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/synth"
)

// ctxReasoner records, per call, whether its context was already done.
type ctxReasoner struct {
	mu   sync.Mutex
	done []bool
}

func (r *ctxReasoner) Reason(ctx context.Context, ev []cot.Evidence, images []image.Image) (cot.CoT, error) {
	r.mu.Lock()
	r.done = append(r.done, ctx.Err() != nil)
	r.mu.Unlock()
	if ctx.Err() != nil {
		return cot.CoT{}, ctx.Err()
	}
	return BuiltinReasoner{}.Reason(ctx, ev, images)
}

// cancellingSource cancels the run after n frames and then reports the
// cancellation, as video sources do.
type cancellingSource struct {
	clipSource
	n      int
	cancel context.CancelFunc
}

func (s *cancellingSource) Next(ctx context.Context) (*raster.Gray, error) {
	if s.t == s.n {
		s.cancel()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.clipSource.Next(ctx)
}

// TestCancelReachesReasoner: an expression still open when the run is
// cancelled is closed with the run's context, so a remote reasoner is not
// asked about it as if nothing happened.
func TestCancelReachesReasoner(t *testing.T) {
	clips, err := synth.Plan(testFace(t), synth.Config{Seed: 3, Kind: "macro", FPS: 30}, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := clips[0]
	e := c.Events[0]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &ctxReasoner{}
	src := &cancellingSource{clipSource: clipSource{c: c}, n: e.ApexEnd + 2, cancel: cancel}
	_, err = RunSource(ctx, src, "x", Options{Out: t.TempDir(), Landmarker: truthLandmarker{c}, Reasoner: r, Name: "probe"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want the cancellation", err)
	}
	if len(r.done) == 0 {
		t.Fatal("the open expression was never closed")
	}
	for i, d := range r.done {
		if !d {
			t.Errorf("reasoner call %d after the cancellation got a live context", i+1)
		}
	}
}

// TestMeasureFailures: AU measurement errors other than a lost face are
// counted and reported; a run of them fails the analysis instead of
// passing for a face that left.
func TestMeasureFailures(t *testing.T) {
	clips, err := synth.Plan(testFace(t), synth.Config{Seed: 4, Kind: "micro", FPS: 30}, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := clips[0]
	boom := errors.New("flow exploded")
	calls := 0
	sporadic := func(e *au.Estimator, g *raster.Gray, m *au.Measurement) error {
		calls++
		if calls%7 == 0 {
			return boom
		}
		return e.Measure(g, m)
	}
	res, err := RunSource(context.Background(), &clipSource{c: c}, "x", Options{Out: t.TempDir(), Landmarker: truthLandmarker{c}, measure: sporadic})
	if err != nil {
		t.Fatalf("sporadic failures stopped the run: %v", err)
	}
	if !strings.Contains(strings.Join(res.Notes, " "), "AU measurement failed on") {
		t.Errorf("notes %v do not count the failures", res.Notes)
	}
	always := func(e *au.Estimator, g *raster.Gray, m *au.Measurement) error {
		if err := e.Measure(g, m); err != nil {
			return err
		}
		return boom
	}
	_, err = RunSource(context.Background(), &clipSource{c: c}, "x", Options{Out: t.TempDir(), Landmarker: truthLandmarker{c}, measure: always})
	if !errors.Is(err, boom) || !errors.Is(err, ErrPartial) || !strings.Contains(err.Error(), "in a row") {
		t.Errorf("systematic failures: %v, want a partial run naming the cause", err)
	}
}

// TestEstimatorClosed: a closed estimator refuses to measure.
func TestEstimatorClosed(t *testing.T) {
	clips, err := synth.Plan(testFace(t), synth.Config{Seed: 4, FPS: 30}, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := clips[0]
	g := raster.FromImage(c.Frame(0, nil))
	est, err := au.New(g, c.Landmarks(0))
	if err != nil {
		t.Fatal(err)
	}
	var m au.Measurement
	if err := est.Measure(g, &m); err != nil {
		t.Fatal(err)
	}
	est.Close()
	est.Close()
	if err := est.Measure(g, &m); !errors.Is(err, au.ErrClosed) {
		t.Errorf("Measure after Close: %v", err)
	}
}

// TestStillImageReasoner: a flow model cannot label a still image (no
// onset face); the event says the built-in reasoner answered, and why.
func TestStillImageReasoner(t *testing.T) {
	lm := dlibLandmarker(t)
	mr, err := NewBuiltinModelReasoner(model.Families{merclip.Family{}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	img := filepath.Join(dir, "astronaut.png")
	os.WriteFile(img, portrait.AstronautPNG(), 0o644)
	out := t.TempDir()
	res, err := Run(context.Background(), img, Options{Out: out, Landmarker: lm, Reasoner: mr, Name: "merclip:builtin+prior"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Reasoner != "merclip:builtin+prior" || len(res.Events) != 1 {
		t.Fatalf("reasoner %q, %d events", res.Reasoner, len(res.Events))
	}
	ev := readResult(t, out).Events[0]
	if ev.Reasoner != "builtin" || !strings.Contains(ev.ReasonerError, "onset") {
		t.Errorf("event reasoner %q (%q), want builtin with the reason", ev.Reasoner, ev.ReasonerError)
	}
}

// indexSource is a clipSource that says which frame it gave last.
type indexSource struct {
	clipSource
	cur int
}

func (s *indexSource) Next(ctx context.Context) (*raster.Gray, error) {
	s.cur = s.t
	return s.clipSource.Next(ctx)
}

// TestTrackerLossRefound: when the tracker loses a face it held on the
// last frame (here: told so on frame 15 until a new estimator measures),
// the face is looked for at once and measured on that frame with a new
// reference, not left lost for half a second.
func TestTrackerLossRefound(t *testing.T) {
	clips, err := synth.Plan(testFace(t), synth.Config{Seed: 4, Kind: "micro", FPS: 30}, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := clips[0]
	src := &indexSource{clipSource: clipSource{c: c}}
	var held *au.Estimator
	loses := func(e *au.Estimator, g *raster.Gray, m *au.Measurement) error {
		if src.cur == 15 && e == held {
			return au.ErrLost
		}
		held = e
		return e.Measure(g, m)
	}
	res, err := RunSource(context.Background(), src, "x", Options{Out: t.TempDir(), Landmarker: truthLandmarker{c}, measure: loses, GeometryOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Tracked != c.Frames {
		t.Errorf("%d of %d frames tracked: the face lost by the tracker was not found again at once", res.Tracked, c.Frames)
	}
}
