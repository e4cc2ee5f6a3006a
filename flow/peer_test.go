package flow

import (
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/raster"
)

func loadGray(t testing.TB, p string) *raster.Gray {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return raster.FromImage(img)
}

// TestPeerPairs checks the accuracy bounds on pairs made by the peer
// benchmark's generator (bench/flow_pair.py: DIR/NAME/{a.png,b.png,gt.flo})
// when TELL_FLOW_PAIRS names such a folder; the pairs are not committed.
func TestPeerPairs(t *testing.T) {
	dir := os.Getenv("TELL_FLOW_PAIRS")
	if dir == "" {
		t.Skip("set TELL_FLOW_PAIRS to a folder of flow_pair.py outputs")
	}
	gts, _ := filepath.Glob(filepath.Join(dir, "*", "gt.flo"))
	if len(gts) == 0 {
		t.Fatalf("no */gt.flo under %s", dir)
	}
	for _, preset := range []struct {
		name   string
		p      Params
		maxEPE float64
	}{{"default", Default(), 0.2}, {"fast", Fast(), 0.3}} {
		est, err := NewTVL1(preset.p)
		if err != nil {
			t.Fatal(err)
		}
		for _, gtPath := range gts {
			d := filepath.Dir(gtPath)
			a := loadGray(t, filepath.Join(d, "a.png"))
			b := loadGray(t, filepath.Join(d, "b.png"))
			gt, err := LoadFlo(gtPath)
			if err != nil {
				t.Fatal(err)
			}
			var f Field
			t0 := time.Now()
			if err := est.ComputeInto(context.Background(), a, b, &f); err != nil {
				t.Fatal(err)
			}
			ms := float64(time.Since(t0).Microseconds()) / 1000
			e, err := EPE(&f, gt, 8)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s %s: EPE %.4f, %.1f ms, %d iterations", preset.name, filepath.Base(d), e, ms, est.Iterations())
			if e > preset.maxEPE {
				t.Errorf("%s %s: EPE %.4f, want < %.1f", preset.name, filepath.Base(d), e, preset.maxEPE)
			}
		}
		est.Close()
	}
}

// peerPython returns a Python that imports cv2 (Debian python3-opencv:
// /usr/bin/python3 first, a virtualenv's python3 may lack it), or skips.
func peerPython(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		cmd := exec.Command(py, "-c", "import cv2, numpy; cv2.optflow.DualTVL1OpticalFlow_create")
		cmd.Env = peerEnv()
		if cmd.Run() == nil {
			return py
		}
	}
	t.Skip("no python3 with OpenCV's optflow module (Debian python3-opencv; scripts/deps.sh installs it)")
	return ""
}

// peerEnv is the environment for the peer scripts: OpenBLAS tuning
// variables set for other programs make Debian's numpy misbehave.
func peerEnv() []string {
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "OPENBLAS_CORETYPE=") && !strings.HasPrefix(e, "OPENBLAS_L2_SIZE=") {
			env = append(env, e)
		}
	}
	return env
}

// TestOpenCVPeer runs in CI what the README's flow rows claim about
// accuracy: on frame pairs with known flow made from the portrait by the
// peer's generator (scripts/peers/flow_pair.py), tell's default preset is
// as accurate as OpenCV 4.6's DualTVL1 with its defaults (within 10%), and
// the fast preset stays within its bound. Timings are not asserted (a
// shared machine); make bench-flow measures them.
func TestOpenCVPeer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs OpenCV on four pairs")
	}
	py := peerPython(t)
	dir := t.TempDir()
	img := filepath.Join(dir, "astronaut.png")
	if err := os.WriteFile(img, portrait.AstronautPNG(), 0o644); err != nil {
		t.Fatal(err)
	}
	peers, _ := filepath.Abs(filepath.Join("..", "scripts", "peers"))
	run := func(args ...string) string {
		cmd := exec.Command(py, args...)
		cmd.Env = peerEnv()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	for _, pair := range []struct {
		size, seed int
	}{{128, 1}, {128, 2}, {224, 1}, {224, 2}} {
		d := filepath.Join(dir, fmt.Sprintf("%d-%d", pair.size, pair.seed))
		run(filepath.Join(peers, "flow_pair.py"), img, strconv.Itoa(pair.size), d, strconv.Itoa(pair.seed))
		out := run(filepath.Join(peers, "opencv_flow.py"), filepath.Join(d, "a.png"), filepath.Join(d, "b.png"), "-", filepath.Join(d, "gt.flo"))
		var cvEPE float64
		for _, line := range strings.Fields(out) {
			if v, ok := strings.CutPrefix(line, "epe="); ok {
				cvEPE, _ = strconv.ParseFloat(v, 64)
			}
		}
		if cvEPE <= 0 {
			t.Fatalf("no epe= from the OpenCV peer:\n%s", out)
		}
		a, b := loadGray(t, filepath.Join(d, "a.png")), loadGray(t, filepath.Join(d, "b.png"))
		gt, err := LoadFlo(filepath.Join(d, "gt.flo"))
		if err != nil {
			t.Fatal(err)
		}
		for _, preset := range []struct {
			name string
			p    Params
			ok   func(e float64) bool
			want string
		}{
			{"default", Default(), func(e float64) bool { return e <= 1.1*cvEPE+0.005 }, fmt.Sprintf("≤ 1.1 × OpenCV's %.4f", cvEPE)},
			{"fast", Fast(), func(e float64) bool { return e < 0.3 }, "< 0.3"},
		} {
			est, err := NewTVL1(preset.p)
			if err != nil {
				t.Fatal(err)
			}
			f, err := est.Compute(context.Background(), a, b)
			est.Close()
			if err != nil {
				t.Fatal(err)
			}
			e, err := EPE(f, gt, 8)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s %s: tell EPE %.4f, OpenCV DualTVL1 EPE %.4f", filepath.Base(d), preset.name, e, cvEPE)
			if !preset.ok(e) {
				t.Errorf("%s %s: EPE %.4f, want %s", filepath.Base(d), preset.name, e, preset.want)
			}
		}
	}
}
