package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tell-project/tell/face"
)

func TestSynthThenAnalyze(t *testing.T) {
	if _, err := face.ResolveModelPath(""); err != nil {
		t.Skipf("dlib model not installed: %v", err)
	}
	dir := t.TempDir()
	code, out, errOut := runTell(t, "synth", "--out", dir, "--n", "1", "--seed", "3", "--fps", "30", "--no-mp4")
	if code != 0 || !strings.Contains(out, "manifest.csv") {
		t.Fatalf("synth: exit %d\n%s%s", code, out, errOut)
	}
	res := filepath.Join(dir, "analysis")
	code, out, errOut = runTell(t, "analyze", filepath.Join(dir, "clip000"), "--out", res, "--quiet")
	if code != 0 || !strings.Contains(out, "1 expression(s) spotted") {
		t.Fatalf("analyze: exit %d\n%s%s", code, out, errOut)
	}
	for _, name := range []string{"frames.csv", "events.json", "report.html"} {
		if _, err := os.Stat(filepath.Join(res, name)); err != nil {
			t.Error(err)
		}
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
