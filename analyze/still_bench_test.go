package analyze

import (
	"context"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/tell-project/tell/models"
	"github.com/tell-project/tell/synth"
)

// BenchmarkStill320 is one 320×240 still image through Run with the real
// face detector and landmark model, and the appearance net when installed
// (as tell serve's jobs run it): the analysis's share of an image job.
func BenchmarkStill320(b *testing.B) { benchStill320(b, true) }

// BenchmarkStill320NoAppearance is BenchmarkStill320 without the
// appearance net, for the ratio.
func BenchmarkStill320NoAppearance(b *testing.B) { benchStill320(b, false) }

func benchStill320(b *testing.B, appearance bool) {
	lm := dlibLandmarker(b)
	opt := Options{Landmarker: lm}
	if appearance {
		net, note, err := LoadAppearance(models.Root(""), models.FaceAPI().Name)
		if err != nil || net == nil {
			b.Skipf("appearance net: %v %s", err, note)
		}
		opt.Appearance = net
	}
	clips, err := synth.Plan(testFace(b), synth.Config{Seed: 5, FPS: 30, Kind: "micro", Width: 320, Height: 240, Scale: 1.1}, 1)
	if err != nil {
		b.Fatal(err)
	}
	c := clips[0]
	dir := b.TempDir()
	img := filepath.Join(dir, "face.png")
	f, err := os.Create(img)
	if err != nil {
		b.Fatal(err)
	}
	if err := png.Encode(f, c.Frame(c.Frames/2, nil)); err != nil {
		b.Fatal(err)
	}
	f.Close()
	opt.Out = filepath.Join(dir, "out")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		os.RemoveAll(opt.Out)
		b.StartTimer()
		res, err := Run(context.Background(), img, opt)
		if err != nil {
			b.Fatal(err)
		}
		if res.Tracked != 1 {
			b.Fatalf("tracked %d frames, want the face found", res.Tracked)
		}
	}
}
