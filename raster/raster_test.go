package raster

import (
	"image"
	"testing"
)

func TestBilinear(t *testing.T) {
	g := NewGray(2, 2)
	copy(g.Pix, []float32{0, 10, 20, 30})
	tests := []struct{ x, y, want float32 }{
		{0, 0, 0}, {1, 0, 10}, {0, 1, 20}, {1, 1, 30},
		{0.5, 0, 5}, {0.5, 0.5, 15}, {0.25, 1, 22.5},
		{-3, -3, 0}, {5, 5, 30}, // replicate padding
	}
	for _, tc := range tests {
		if got := g.Bilinear(tc.x, tc.y); abs(got-tc.want) > 1e-5 {
			t.Errorf("Bilinear(%v,%v) = %v, want %v", tc.x, tc.y, got, tc.want)
		}
	}
}

func TestImageRoundTrip(t *testing.T) {
	g := NewGray(3, 2)
	copy(g.Pix, []float32{0, 1.4, 1.6, 254.6, 300, -5})
	out := g.Image()
	want := []uint8{0, 1, 2, 255, 255, 0}
	for i, w := range want {
		if out.Pix[i] != w {
			t.Errorf("pix %d = %d, want %d", i, out.Pix[i], w)
		}
	}
	back := FromImage(out)
	if back.Pix[2] != 2 {
		t.Errorf("round trip pix 2 = %v", back.Pix[2])
	}
}

func abs(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

func TestRGBRoundTrip(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 11)
	}
	c := RGBFromImage(img)
	back := c.Image()
	for y := 0; y < 2; y++ {
		for x := 0; x < 3; x++ {
			a, b := img.NRGBAAt(x, y), back.RGBAAt(x, y)
			if a.R != b.R || a.G != b.G || a.B != b.B {
				t.Fatalf("(%d,%d): %v -> %v", x, y, a, b)
			}
		}
	}
	g := c.Gray()
	if want := FromImage(back); g.Pix[4] != want.Pix[4] {
		t.Errorf("grey %v, FromImage %v", g.Pix[4], want.Pix[4])
	}
	gi := image.NewGray(image.Rect(0, 0, 2, 1))
	gi.Pix[1] = 77
	if c := RGBFromImage(gi); c.Pix[3] != 77 || c.Pix[5] != 77 {
		t.Errorf("grey to RGB: %v", c.Pix)
	}
}
