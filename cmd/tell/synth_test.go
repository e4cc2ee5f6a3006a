package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tell-project/tell/face/facetest"
)

func TestSynthModels(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runTell(t, "synth", "--out", dir, "--generator", "muscle", "--n", "2", "--fps", "30", "--size", "96x96", "--scale", "0.9", "--no-mp4", "--micro-amp", "0.2,0.5")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	b, err := os.ReadFile(filepath.Join(dir, "manifest.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), ",class "); n != 4 { // label and emotion columns
		t.Errorf("muscle clips should be labelled by objective class:\n%s", b)
	}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--generator", "blend"}, "--generator"},
		{[]string{"--micro-amp", "0.1,1"}, "needs --generator muscle"},
		{[]string{"--generator", "muscle", "--macro-amp", "3"}, "--macro-amp"},
		{[]string{"--generator", "muscle", "--macro-amp", "3,1"}, "--macro-amp"},
	} {
		code, _, errOut := runTell(t, append([]string{"synth", "--out", dir}, tc.args...)...)
		if code != 2 || !strings.Contains(errOut, tc.msg) {
			t.Errorf("%v: exit %d, %q; want 2 naming %s", tc.args, code, firstLine(errOut), tc.msg)
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// TestBenchAU runs the AU benchmark end to end on two small clips.
func TestBenchAU(t *testing.T) {
	facetest.ModelPath(t)
	code, out, errOut := runTell(t, "bench", "au", "--n", "2", "--kind", "macro", "--fps", "30", "--size", "200x200", "--scale", "1", "--list")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"model=muscle", "expression clip000 truth=", "event_au12_f1=", "apex_au01_f1=", "spot_f1=", "au_event_f1="} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(lines[len(lines)-1], "au_event_f1=") {
		t.Errorf("headline %q is not last", lines[len(lines)-1])
	}
	if code, _, _ := runTell(t, "bench", "au", "--generator", "blend"); code != 2 {
		t.Errorf("unknown model: exit %d, want 2", code)
	}
}
