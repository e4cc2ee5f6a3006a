package main

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/face/facetest"
)

func TestSynthThenAnalyze(t *testing.T) {
	facetest.ModelPath(t)
	dir := t.TempDir()
	code, out, errOut := runTell(t, "synth", "--out", dir, "--n", "1", "--seed", "3", "--fps", "30", "--no-mp4")
	if code != 0 || !strings.Contains(out, "manifest.csv") {
		t.Fatalf("synth: exit %d\n%s%s", code, out, errOut)
	}
	res := filepath.Join(dir, "analysis")
	code, out, errOut = runTell(t, "analyze", filepath.Join(dir, "clip000"), "--out", res, "--quiet")
	if code != 0 || !strings.Contains(out, "1 expression spotted") {
		t.Fatalf("analyze: exit %d\n%s%s", code, out, errOut)
	}
	for _, name := range []string{"frames.csv", "events.json", "report.html"} {
		if _, err := os.Stat(filepath.Join(res, name)); err != nil {
			t.Error(err)
		}
	}
}

// TestAnalyzeTruncatedAndClobber cuts a synthetic MP4 in half: the run is
// partial, says why and exits 1. A finished run is not overwritten without
// --force, and a missing input leaves it untouched.
func TestAnalyzeTruncatedAndClobber(t *testing.T) {
	facetest.ModelPath(t)
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	dir := t.TempDir()
	if code, out, errOut := runTell(t, "synth", "--out", dir, "--n", "1", "--seed", "4", "--fps", "30", "--no-frames", "--quiet"); code != 0 {
		t.Fatalf("synth: exit %d\n%s%s", code, out, errOut)
	}
	clip := filepath.Join(dir, "clip000.mp4")
	data, err := os.ReadFile(clip)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.mp4")
	os.WriteFile(cut, data[:len(data)/2], 0o644)
	res := filepath.Join(dir, "cut-run")
	code, out, errOut := runTell(t, "analyze", cut, "--out", res, "--quiet")
	if code != 1 || !strings.Contains(out, "(partial)") || !strings.Contains(errOut, "truncated or damaged") {
		t.Fatalf("cut clip: exit %d\n%s%s", code, out, errOut)
	}
	ev, _ := os.ReadFile(filepath.Join(res, "events.json"))
	if !strings.Contains(string(ev), `"status": "partial"`) || !strings.Contains(string(ev), "frames the container announces") {
		t.Errorf("events.json of the cut clip:\n%.400s", ev)
	}
	good := filepath.Join(dir, "run1")
	if code, out, errOut := runTell(t, "analyze", clip, "--out", good, "--quiet"); code != 0 {
		t.Fatalf("whole clip: exit %d\n%s%s", code, out, errOut)
	}
	before, _ := os.ReadFile(filepath.Join(good, "frames.csv"))
	for _, args := range [][]string{
		{"analyze", clip, "--out", good, "--quiet"},
		{"analyze", filepath.Join(dir, "missing.mp4"), "--out", good, "--quiet", "--force"},
	} {
		if code, out, errOut := runTell(t, args...); code != 1 {
			t.Errorf("tell %v: exit %d\n%s%s", args, code, out, errOut)
		}
		if after, _ := os.ReadFile(filepath.Join(good, "frames.csv")); string(after) != string(before) {
			t.Errorf("tell %v changed the finished run", args)
		}
	}
	if code, out, errOut := runTell(t, "analyze", clip, "--out", good, "--quiet", "--force"); code != 0 {
		t.Errorf("--force: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "never")); !os.IsNotExist(err) {
		t.Error("unexpected folder")
	}
	code, _, _ = runTell(t, "analyze", filepath.Join(dir, "missing.mp4"), "--out", filepath.Join(dir, "never"), "--quiet")
	if _, err := os.Stat(filepath.Join(dir, "never")); code != 1 || !os.IsNotExist(err) {
		t.Errorf("a missing input: exit %d, output folder created (%v)", code, err)
	}
}

func TestAnalyzeErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.mp4")
	os.WriteFile(empty, nil, 0o644)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"analyze"}, 2, "want one INPUT"},
		{[]string{"analyze", empty, "--reasoner", "gpt"}, 2, "want builtin or llm"},
		{[]string{"analyze", empty, "--reasoner", "llm", "--llm-url", ""}, 2, "needs --llm-url"},
		{[]string{"analyze", empty, "--fps", "1e308"}, 2, "--fps"},
		{[]string{"analyze", empty, "--fps", "-5"}, 2, "--fps"},
		{[]string{"analyze", empty, "--fps", "NaN"}, 2, "--fps"},
		// The hint named --model, which is analyze's MER-CLIP flag.
		{[]string{"analyze", empty, "--landmarks", filepath.Join(dir, "no.dat")}, 1, "--landmarks for tell analyze"},
		{[]string{"synth"}, 2, "--out is required"},
		{[]string{"synth", "--out", dir, "--size", "9x9"}, 2, "--size"},
	}
	if _, err := face.ResolveModelPath(""); err == nil {
		tests = append(tests, struct {
			args []string
			code int
			want string
		}{[]string{"analyze", empty, "--out", filepath.Join(dir, "o"), "--quiet"}, 1, "empty file (0 bytes)"})
	}
	for _, tc := range tests {
		code, out, errOut := runTell(t, tc.args...)
		if code != tc.code || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("tell %v: exit %d, output %q; want exit %d mentioning %q", tc.args, code, out+errOut, tc.code, tc.want)
		}
	}
}

// TestAnalyzeNoFaceHint: an image without a face says so in analyze and
// prepare and points to --face full; with --face full it gets a face.
func TestAnalyzeNoFaceHint(t *testing.T) {
	facetest.ModelPath(t)
	dir := t.TempDir()
	img := image.NewGray(image.Rect(0, 0, 120, 150))
	for i := range img.Pix {
		img.Pix[i] = uint8(40 + i%7)
	}
	in := filepath.Join(dir, "flat.png")
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(in, buf.Bytes(), 0o644)
	code, out, errOut := runTell(t, "analyze", in, "--out", filepath.Join(dir, "a"), "--quiet", "--appearance", "none")
	if code == 0 || !strings.Contains(errOut, "no face found") || !strings.Contains(errOut, "--face full") {
		t.Errorf("no face: exit %d, output %q", code, out+errOut)
	}
	code, out, errOut = runTell(t, "analyze", in, "--out", filepath.Join(dir, "f"), "--quiet", "--appearance", "none", "--face", "full")
	if code != 0 || strings.Contains(errOut, "--face full") || !strings.Contains(out, "1 with a face") {
		t.Errorf("--face full: exit %d, output %q", code, out+errOut)
	}
	manifest := filepath.Join(dir, "m.csv")
	os.WriteFile(manifest, []byte("sample,subject,label,image\ns1,p1,happiness,flat.png\n"), 0o644)
	code, out, errOut = runTell(t, "prepare", "--manifest", manifest, "--out", filepath.Join(dir, "c"), "--quiet")
	if code != 0 || !strings.Contains(out, "no_face=1") || !strings.Contains(errOut, "no face found in 1 row") || !strings.Contains(errOut, "--face full") {
		t.Errorf("prepare, no face: exit %d, output %q", code, out+errOut)
	}
	code, out, errOut = runTell(t, "prepare", "--manifest", manifest, "--out", filepath.Join(dir, "c2"), "--quiet", "--face", "full")
	if code != 0 || !strings.Contains(out, "no_face=0") || strings.Contains(errOut, "--face full") {
		t.Errorf("prepare --face full: exit %d, output %q", code, out+errOut)
	}
}
