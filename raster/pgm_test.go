package raster

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWritePGMRoundTrip: what WritePGM writes reads back as the same
// grey levels (rounded, clamped to 0..255).
func TestWritePGMRoundTrip(t *testing.T) {
	g := NewGray(3, 2)
	copy(g.Pix, []float32{0, 1.4, 1.6, 254.6, 300, -5})
	path := filepath.Join(t.TempDir(), "g.pgm")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.WritePGM(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	back := readPGM(t, path)
	want := []float32{0, 1, 2, 255, 255, 0}
	if back.W != 3 || back.H != 2 {
		t.Fatalf("size %dx%d", back.W, back.H)
	}
	for i, v := range want {
		if got := back.Pix[(i/3)*back.Stride+i%3]; got != v {
			t.Errorf("pixel %d = %v, want %v", i, got, v)
		}
	}
}
