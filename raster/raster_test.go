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

// TestBilinearMatchesClamped: the fast path inside the image gives bit for
// bit what sampling through At gives, inside, on the borders and outside,
// on an image with a stride wider than its width.
func TestBilinearMatchesClamped(t *testing.T) {
	g := &Gray{W: 7, H: 5, Stride: 9, Pix: make([]float32, 9*5)}
	for i := range g.Pix {
		g.Pix[i] = float32((i*37)%251) + 0.25*float32(i%4)
	}
	clamped := func(x, y float32) float32 {
		x0f, y0f := floor32(x), floor32(y)
		x0, y0 := int(x0f), int(y0f)
		ax, ay := x-x0f, y-y0f
		p00, p10, p01, p11 := g.At(x0, y0), g.At(x0+1, y0), g.At(x0, y0+1), g.At(x0+1, y0+1)
		top := p00 + ax*(p10-p00)
		bot := p01 + ax*(p11-p01)
		return top + ay*(bot-top)
	}
	for yi := -12; yi <= 60; yi++ {
		for xi := -12; xi <= 80; xi++ {
			x, y := float32(xi)/8-0.3, float32(yi)/8-0.7
			if got, want := g.Bilinear(x, y), clamped(x, y); got != want {
				t.Fatalf("Bilinear(%v, %v) = %v, want %v", x, y, got, want)
			}
		}
	}
}

func BenchmarkBilinear(b *testing.B) {
	g := NewGray(640, 360)
	for i := range g.Pix {
		g.Pix[i] = float32(i % 255)
	}
	var s float32
	for i := 0; i < b.N; i++ {
		s += g.Bilinear(float32(i%600)+0.37, float32(i%300)+0.61)
	}
	sinkF = s
}

var sinkF float32

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

// TestGrayAllSums: RGB's grey is (r+g+b)/3 rounded down for every sum.
func TestGrayAllSums(t *testing.T) {
	c := NewRGB(3*255+1, 1)
	for s := 0; s <= 3*255; s++ {
		r := min(s, 255)
		g := min(s-r, 255)
		c.Pix[3*s], c.Pix[3*s+1], c.Pix[3*s+2] = uint8(r), uint8(g), uint8(s-r-g)
	}
	g := c.Gray()
	for s := range g.Pix {
		if want := float32(s / 3); g.Pix[s] != want {
			t.Fatalf("sum %d: grey %v, want %v", s, g.Pix[s], want)
		}
	}
}
