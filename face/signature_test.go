package face

import (
	"math"
	"testing"

	"github.com/tell-project/tell/raster"
)

// TestSignature: a face's signature is unchanged by light and contrast,
// nearly unchanged by a one-pixel shift of the image, and far from the
// signature of the same box moved half a face away (another part of the
// picture).
func TestSignature(t *testing.T) {
	g := astronautGray(t)
	f := NewFinder(testDetector(t), testPredictor(t), FindDetect)
	found, ok := f.Find(g)
	if !ok {
		t.Fatal("no face")
	}
	s := found.Shape
	a := SignatureOf(g, &s)
	if d := a.Similarity(&a); math.Abs(d-1) > 1e-5 {
		t.Fatalf("self-similarity %v", d)
	}
	lit := raster.NewGray(g.W, g.H)
	for i, v := range g.Pix {
		lit.Pix[i] = 0.6*v + 40
	}
	if b := SignatureOf(lit, &s); a.Similarity(&b) < 0.999 {
		t.Errorf("dimmer, brighter: similarity %.4f", a.Similarity(&b))
	}
	shifted := raster.NewGray(g.W, g.H)
	for y := 0; y < g.H; y++ {
		for x := 1; x < g.W; x++ {
			shifted.Pix[y*g.W+x] = g.Pix[y*g.W+x-1]
		}
	}
	if b := SignatureOf(shifted, &s); a.Similarity(&b) < 0.95 {
		t.Errorf("shifted 1 px: similarity %.3f", a.Similarity(&b))
	}
	moved := s
	w := s[16].X - s[0].X
	for i := range moved {
		moved[i].X += w / 2
	}
	if b := SignatureOf(g, &moved); a.Similarity(&b) > 0.7 {
		t.Errorf("half a face aside: similarity %.3f", a.Similarity(&b))
	}
	var zero Shape
	if z := SignatureOf(g, &zero); z.Similarity(&a) != 0 {
		t.Errorf("degenerate shape: similarity %v", z.Similarity(&a))
	}
}

// BenchmarkSignature: tell analyze takes a signature of every tracked
// face on every frame when it follows several faces.
func BenchmarkSignature(b *testing.B) {
	g := astronautGray(b)
	found, ok := NewFinder(testDetector(b), testPredictor(b), FindDetect).Find(g)
	if !ok {
		b.Fatal("no face")
	}
	for b.Loop() {
		SignatureOf(g, &found.Shape)
	}
}
