package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tell-project/tell/dataset"
	"github.com/tell-project/tell/face"
)

// TestFrameNumbersAgree runs one clip through every command that names
// frames and checks that they all use the clip's own numbers: a synthetic
// micro-expression is laid out as a CASME II clip folder whose files are
// numbered from 396 (img396.png …), coded in a CASME II sheet; tell
// dataset, tell analyze --onset/--offset (events.json, frames.csv), tell
// bench spot (known timing and spotting) and tell export must all say the
// same frame numbers, and a folder without a rate is refused.
func TestFrameNumbersAgree(t *testing.T) {
	if _, err := face.ResolveModelPath(""); err != nil {
		t.Skipf("dlib model not installed: %v", err)
	}
	dir := t.TempDir()
	if code, out, errOut := runTell(t, "synth", "--out", dir, "--n", "1", "--seed", "3", "--fps", "200", "--kind", "micro", "--no-mp4", "--quiet"); code != 0 {
		t.Fatalf("synth: exit %d\n%s%s", code, out, errOut)
	}
	sm, err := dataset.ReadWith(filepath.Join(dir, "manifest.csv"), dataset.Options{AllowUnlabelled: true, SkipFileCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	atoi := func(s string) int {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// The synthetic clip's frames are numbered from 1: shift them so that
	// numbers and positions differ (frame k is img<k+395>.png).
	const shift = 395
	s := sm.Samples[0]
	on, ap, off := atoi(s.Onset)+shift, atoi(s.Apex)+shift, atoi(s.Offset)+shift
	root := filepath.Join(dir, "CASME II")
	clip := filepath.Join(root, "CASME2-RAW", "sub01", "EP01_01")
	if err := os.MkdirAll(clip, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "clip000"))
	n := 0
	for _, e := range ents {
		var k int
		if _, err := fmt.Sscanf(e.Name(), "img%05d.png", &k); err != nil {
			continue
		}
		if err := os.Rename(filepath.Join(dir, "clip000", e.Name()), filepath.Join(clip, fmt.Sprintf("img%d.png", k+shift))); err != nil {
			t.Fatal(err)
		}
		n++
	}
	sheet := fmt.Sprintf("Subject,Filename,OnsetFrame,ApexFrame,OffsetFrame,Action Units,Estimated Emotion\n1,EP01_01,%d,%d,%d,%s,happiness\n", on, ap, off, s.AUs)
	if err := os.WriteFile(filepath.Join(root, "CASME2-coding-20140508.csv"), []byte(sheet), 0o644); err != nil {
		t.Fatal(err)
	}

	// tell dataset: the sheet's numbers, and the camera's rate.
	manifest := filepath.Join(root, "manifest.csv")
	if code, out, errOut := runTell(t, "dataset", "casme2", "--root", root, "--out", manifest, "--classes", "5"); code != 0 {
		t.Fatalf("dataset: exit %d\n%s%s", code, out, errOut)
	}
	m, err := dataset.Read(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Samples[0]; got.Onset != strconv.Itoa(on) || got.Apex != strconv.Itoa(ap) || got.Offset != strconv.Itoa(off) || got.FPS != "200" {
		t.Fatalf("manifest row %+v, want %d/%d/%d at 200 fps", got, on, ap, off)
	}

	// tell analyze: no rate, no run; with it, the sheet's numbers.
	res := filepath.Join(dir, "analysis")
	code, _, errOut := runTell(t, "analyze", clip, "--out", res, "--quiet", "--onset", strconv.Itoa(on), "--offset", strconv.Itoa(off))
	if code != 2 || !strings.Contains(errOut, "no frame rate of its own") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("analyze without a rate: exit %d %q", code, errOut)
	}
	if code, out, errOut := runTell(t, "analyze", clip, "--out", res, "--quiet", "--fps", "200", "--onset", strconv.Itoa(on), "--offset", strconv.Itoa(off)); code != 0 {
		t.Fatalf("analyze: exit %d\n%s%s", code, out, errOut)
	}
	var ev struct {
		FrameNumbers string `json:"frame_numbers"`
		FrameBase    int    `json:"frame_base"`
		Events       []struct {
			Onset, Apex, Offset int
			OnsetS              float64 `json:"onset_s"`
		}
	}
	b, _ := os.ReadFile(filepath.Join(res, "events.json"))
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.FrameNumbers != "file names" || ev.FrameBase != 1+shift || len(ev.Events) != 1 {
		t.Fatalf("events.json: %s", b)
	}
	e := ev.Events[0]
	if e.Onset != on || e.Offset != off || e.Apex < on || e.Apex > off || e.OnsetS != float64(on-1-shift)/200 {
		t.Errorf("event %+v, want onset %d offset %d at %v s", e, on, off, float64(on-1-shift)/200)
	}
	csv, _ := os.ReadFile(filepath.Join(res, "frames.csv"))
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	if len(lines) != n+1 || !strings.HasPrefix(lines[1], strconv.Itoa(1+shift)+", 0, 0.0000,") ||
		!strings.HasPrefix(lines[on-shift], strconv.Itoa(on)+", 0, "+strconv.FormatFloat(float64(on-1-shift)/200, 'f', 4, 64)+",") {
		t.Errorf("frames.csv: %d lines; row 1 %.30q; row of frame %d %.30q", len(lines), lines[1], on, lines[on-shift])
	}

	// tell bench spot, with the manifest as truth: the coded interval
	// described, and spotted, in the same numbers.
	code, out, errOut := runTell(t, "bench", "spot", manifest, "--known", "--clips")
	want := fmt.Sprintf("coded %d-%d-%d spotted %d-", on, ap, off, on)
	if code != 0 || !strings.Contains(out, want) || !strings.Contains(out, "IoU 1.00") {
		t.Errorf("bench spot --known: exit %d, want %q\n%s%s", code, want, out, errOut)
	}
	code, out, errOut = runTell(t, "bench", "spot", manifest, "--clips")
	if code != 0 || !strings.Contains(out, "tp=1\n") || !strings.Contains(out, fmt.Sprintf("coded %d-%d-%d spotted", on, ap, off)) {
		t.Errorf("bench spot: exit %d\n%s%s", code, out, errOut)
	}

	// tell export: the apex image is the file the apex number names.
	jsonl := filepath.Join(dir, "x.jsonl")
	if code, out, errOut := runTell(t, "export", "--manifest", manifest, "--format", "expllm", "--out", jsonl, "--quiet"); code != 0 {
		t.Fatalf("export: exit %d\n%s%s", code, out, errOut)
	}
	x, _ := os.ReadFile(jsonl)
	if !strings.Contains(string(x), fmt.Sprintf(`img%d.png"`, ap)) {
		t.Errorf("export names another apex image than img%d.png:\n%.300s", ap, x)
	}
}
