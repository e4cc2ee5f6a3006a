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
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return raster.FromImage(img)
}

func TestDevPairs(t *testing.T) {
	dir := os.Getenv("FLOW_DEV")
	if dir == "" {
		t.Skip()
	}
	for _, preset := range []string{"default", "fast"} {
		p := Default()
		p.Workers = 1
		if preset == "fast" {
			p = Fast()
			p.Workers = 1
		}
		est, _ := NewTVL1(p)
		for _, d := range []string{"p128_0", "p128_1", "p128_2", "p224_0", "p224_1", "p224_2"} {
			a := loadGray(t, filepath.Join(dir, d, "a.png"))
			b := loadGray(t, filepath.Join(dir, d, "b.png"))
			gt, err := LoadFlo(filepath.Join(dir, d, "gt.flo"))
			if err != nil {
				t.Fatal(err)
			}
			var f Field
			est.ComputeInto(context.Background(), a, b, &f)
			best := time.Hour
			for i := 0; i < 3; i++ {
				t0 := time.Now()
				est.ComputeInto(context.Background(), a, b, &f)
				if d := time.Since(t0); d < best {
					best = d
				}
			}
			e, _ := EPE(&f, gt, 8)
			t.Logf("%s %s epe=%.4f ms=%.1f iters=%d pixit=%d ns/pixit=%.1f", preset, d, e, float64(best.Microseconds())/1000, est.Iterations(), est.pixelIters, float64(best.Nanoseconds())/float64(est.pixelIters))
		}
	}
}
