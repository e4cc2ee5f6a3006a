package raster

import (
	"fmt"
	"image"
	"math/rand/v2"
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

// TestGrayAsmSameValues: RGB.Gray (the assembly for most of a frame) gives
// greyOfSum's value at every pixel: every sum r+g+b from 0 to 765 in
// every channel order, random frames of sizes that leave every tail, and
// a sub-image whose rows are not back to back.
func TestGrayAsmSameValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(28, 3))
	check := func(c *RGB, what string) {
		t.Helper()
		g := c.Gray()
		for y := 0; y < c.H; y++ {
			for x := 0; x < c.W; x++ {
				p := c.Pix[y*c.Stride+3*x:]
				want := float32((int(p[0]) + int(p[1]) + int(p[2])) / 3)
				if got := g.Pix[y*g.Stride+x]; got != want {
					t.Fatalf("%s: pixel (%d, %d) rgb %v: grey %v, want %v", what, x, y, p[:3], got, want)
				}
			}
		}
	}
	// Every sum, as (s/3, s/3, s−2s/3) rotated through the channels.
	all := NewRGB(3*766, 1)
	for s := 0; s <= 765; s++ {
		a := min(s/3, 255)
		b := min((s-a)/2, 255)
		v := [3]int{a, b, s - a - b}
		for k := 0; k < 3; k++ {
			i := 3 * (3*s + k)
			all.Pix[i], all.Pix[i+1], all.Pix[i+2] = byte(v[k%3]), byte(v[(k+1)%3]), byte(v[(k+2)%3])
		}
	}
	check(all, "every sum")
	for _, wh := range [][2]int{{1, 1}, {7, 3}, {8, 1}, {9, 2}, {10, 1}, {11, 5}, {640, 4}, {33, 17}} {
		c := NewRGB(wh[0], wh[1])
		for i := range c.Pix {
			c.Pix[i] = byte(rng.IntN(256))
		}
		check(c, fmt.Sprintf("%dx%d", wh[0], wh[1]))
		if wh[0] > 2 {
			sub := &RGB{W: wh[0] - 2, H: wh[1], Stride: c.Stride, Pix: c.Pix[3:]}
			check(sub, fmt.Sprintf("%dx%d sub-image", wh[0], wh[1]))
		}
	}
}

func BenchmarkGray640x360(b *testing.B) {
	c := NewRGB(640, 360)
	for i := range c.Pix {
		c.Pix[i] = byte(i * 7)
	}
	for b.Loop() {
		c.Gray()
	}
}
