package flow

import (
	"context"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

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
