package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestBenchSpot runs the spotting benchmark on two synthetic clips written
// by tell synth (its manifest is a truth file), spotting and
// with the timing given.
func TestBenchSpot(t *testing.T) {
	if testing.Short() {
		t.Skip("renders and analyses two clips")
	}
	dir := t.TempDir()
	if code, _, errOut := runTell(t, "synth", "--out", dir, "--n", "2", "--fps", "30", "--kind", "micro", "--seed", "5", "--no-mp4", "--quiet"); code != 0 {
		t.Fatalf("synth: exit %d: %s", code, errOut)
	}
	truth := filepath.Join(dir, "manifest.csv")
	for _, extra := range [][]string{nil, {"--known"}} {
		args := append([]string{"bench", "spot", truth, "--clips"}, extra...)
		code, out, errOut := runTell(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		for _, want := range []string{"clips=2\n", "truth=2\n", "apex_err_median=", "aus_hit=", "au_recall=", "clip "} {
			if !strings.Contains(out, want) {
				t.Errorf("%v: no %q in\n%s", args, want, out)
			}
		}
		m := regexp.MustCompile(`(?m)^spot_f1=([0-9.]+)\n\z`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("%v: spot_f1 is not the last line:\n%s", args, out)
		}
		if m[1] != "1.000" {
			t.Errorf("%v: spot_f1=%s on two clean synthetic micro-expressions:\n%s", args, m[1], out)
		}
	}
}

func TestBenchSpotUsage(t *testing.T) {
	dir := t.TempDir()
	truth := filepath.Join(dir, "t.csv")
	os.WriteFile(truth, []byte("clip,onset,offset\na,1,5\na,7,9\n"), 0o644)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"bench", "spot"}, 2, "want one TRUTH.csv"},
		{[]string{"bench", "spot", truth, "--base", "2"}, 2, "--base 2"},
		{[]string{"bench", "spot", truth, "--fps", "-1"}, 2, "--fps: frame rate -1"},
		{[]string{"bench", "spot", truth, "--known"}, 2, "2 coded expressions"},
		{[]string{"bench", "spot", filepath.Join(dir, "none.csv")}, 1, "none.csv"},
	} {
		code, _, errOut := runTell(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d %q, want %d and %q", c.args, code, errOut, c.code, c.want)
		}
	}
}

func TestAnalyzeIntervalFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--onset", "3"}, "--onset and --offset go together"},
		{[]string{"--apex", "4"}, "--onset and --offset go together"},
		{[]string{"--onset", "3", "--offset", "2"}, "offset 2 is before the onset 3"},
		{[]string{"--onset", "3", "--offset", "9", "--apex", "x"}, `--apex "x"`},
		{[]string{"--onset", "3", "--offset", "9", "--apex", "10"}, "apex 10 is outside"},
		{[]string{"--onset", "-1", "--offset", "9"}, "frame numbers are not negative"},
	} {
		args := append([]string{"analyze", "in.mp4"}, c.args...)
		code, _, errOut := runTell(t, args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d %q, want 2 and %q", c.args, code, errOut, c.want)
		}
	}
}
