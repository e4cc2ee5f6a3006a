package analyze

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/synth"
)

func testFace(t testing.TB) *synth.Face {
	img, err := portrait.Astronaut()
	if err != nil {
		t.Fatal(err)
	}
	return synth.NewFace(img, synth.AstronautLandmarks())
}

func TestRunLongClip(t *testing.T) {
	clips, err := synth.Plan(testFace(t), synth.Config{Seed: 21, Long: true, Duration: 12, Events: 3}, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := clips[0]
	out := t.TempDir()
	if d := os.Getenv("TELL_KEEP_OUT"); d != "" {
		out = d
	}
	res, err := RunSource(context.Background(), &clipSource{c: c}, "synthetic", Options{Out: out, Landmarker: truthLandmarker{c}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusComplete || res.Frames != c.Frames || res.Tracked != c.Frames {
		t.Fatalf("status %s frames %d tracked %d, want complete %d", res.Status, res.Frames, res.Tracked, c.Frames)
	}
	if len(res.Events) != len(c.Events) {
		t.Fatalf("%d events, want %d", len(res.Events), len(c.Events))
	}
	for i, e := range res.Events {
		if e.Label != c.Events[i].Label {
			t.Errorf("event %d: label %q, want %q (%s)", i, e.Label, c.Events[i].Label, c.Events[i].AUString())
		}
		if e.CoT.Text == "" {
			t.Errorf("event %d: no chain of thought", i)
		}
	}
	for _, name := range []string{"frames.csv", "events.json", "report.html"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Error(err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(out, "frames.csv"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != c.Frames+1 {
		t.Errorf("frames.csv has %d lines, want %d", len(lines), c.Frames+1)
	}
	var back Result
	jb, _ := os.ReadFile(filepath.Join(out, "events.json"))
	if err := json.Unmarshal(jb, &back); err != nil || len(back.Events) != len(res.Events) {
		t.Errorf("events.json: %v, %d events", err, len(back.Events))
	}
}
