package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSynthModels(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runTell(t, "synth", "--out", dir, "--model", "muscle", "--n", "2", "--fps", "30", "--size", "96x96", "--scale", "0.9", "--no-mp4", "--micro-amp", "0.2,0.5")
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
		{[]string{"--model", "blend"}, "--model"},
		{[]string{"--micro-amp", "0.1,1"}, "needs --model muscle"},
		{[]string{"--model", "muscle", "--macro-amp", "3"}, "--macro-amp"},
		{[]string{"--model", "muscle", "--macro-amp", "3,1"}, "--macro-amp"},
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
