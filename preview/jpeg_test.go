package preview

import (
	"bytes"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"testing"

	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/raster"
)

// TestColourEncoderSameBytes: the encoder writes image/jpeg's bytes for
// random images (noise, which codes long values and 0xff bytes, and
// smooth gradients, which code long zero runs), the astronaut portrait,
// pure colours (Cb and Cr at their clamp), at sizes with and without part
// blocks and MCUs, at several qualities.
func TestColourEncoderSameBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var imgs []*image.RGBA
	for _, sz := range [][2]int{{1, 1}, {7, 9}, {8, 8}, {16, 16}, {17, 33}, {31, 15}, {320, 180}, {64, 48}} {
		noise := image.NewRGBA(image.Rect(0, 0, sz[0], sz[1]))
		for i := range noise.Pix {
			noise.Pix[i] = uint8(rng.IntN(256))
		}
		smooth := image.NewRGBA(image.Rect(0, 0, sz[0], sz[1]))
		for y := range sz[1] {
			for x := range sz[0] {
				o := y*smooth.Stride + 4*x
				smooth.Pix[o], smooth.Pix[o+1], smooth.Pix[o+2], smooth.Pix[o+3] = uint8(3*x+y), uint8(x*y), uint8(255-2*y), 255
			}
		}
		imgs = append(imgs, noise, smooth)
	}
	for _, c := range [][3]uint8{{0, 0, 255}, {255, 0, 0}, {255, 255, 255}, {0, 0, 0}, {255, 255, 0}} {
		m := image.NewRGBA(image.Rect(0, 0, 24, 20))
		for i := 0; i < len(m.Pix); i += 4 {
			m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c[0], c[1], c[2], 255
		}
		imgs = append(imgs, m)
	}
	if a, err := portrait.Astronaut(); err == nil {
		m := image.NewRGBA(a.Bounds())
		for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
			for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
				m.Set(x, y, a.At(x, y))
			}
		}
		imgs = append(imgs, m)
	} else {
		t.Fatal(err)
	}
	for _, q := range []int{1, 30, 50, 75, Quality, 100} {
		for _, m := range imgs {
			var want, got bytes.Buffer
			if err := jpeg.Encode(&want, m, &jpeg.Options{Quality: q}); err != nil {
				t.Fatal(err)
			}
			e, err := newColourEncoder(m.Rect.Dx(), m.Rect.Dy(), q)
			if err != nil {
				t.Fatal(err)
			}
			// Twice: the encoder's state is reset between images.
			for range 2 {
				got.Reset()
				if err := e.encode(&got, m); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Bytes(), want.Bytes()) {
					t.Fatalf("quality %d, %v: %d bytes, image/jpeg %d; first difference at %d", q, m.Rect, got.Len(), want.Len(), firstDiff(got.Bytes(), want.Bytes()))
				}
			}
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func BenchmarkColourEncoder320x180(b *testing.B) {
	m := benchRGBA(b)
	e, err := newColourEncoder(320, 180, Quality)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := e.encode(&buf, m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkImageJPEG320x180(b *testing.B) {
	m := benchRGBA(b)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: Quality}); err != nil {
			b.Fatal(err)
		}
	}
}

// benchRGBA is the astronaut portrait's top-left 320×180.
func benchRGBA(b *testing.B) *image.RGBA {
	a, err := portrait.Astronaut()
	if err != nil {
		b.Fatal(err)
	}
	m := image.NewRGBA(image.Rect(0, 0, 320, 180))
	for y := range 180 {
		for x := range 320 {
			m.Set(x, y, a.At(a.Bounds().Min.X+x+100, a.Bounds().Min.Y+y+50))
		}
	}
	return m
}

// TestEncodeHalfSameBytes: a colour frame shrunk by 2 inside the encoder
// gives image/jpeg's bytes for scaled's shrunk image, at odd and even
// sizes; and Add takes that path only where scaled would shrink by 2.
func TestEncodeHalfSameBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, sz := range [][2]int{{640, 360}, {641, 363}, {960, 3}, {482, 2}, {500, 961 / 2}} {
		w, h := sz[0], sz[1]
		c := &raster.RGB{W: w, H: h, Stride: 3 * w, Pix: make([]byte, 3*w*h)}
		for i := range c.Pix {
			c.Pix[i] = byte(rng.IntN(256)/4 + (i/3%w)/4)
		}
		g := raster.NewGray(w, h)
		pw := &Writer{}
		var want bytes.Buffer
		if err := jpeg.Encode(&want, pw.scaled(g, c), &jpeg.Options{Quality: Quality}); err != nil {
			t.Fatal(err)
		}
		if err := pw.encodeHalf(c); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(pw.buf.Bytes(), want.Bytes()) {
			t.Fatalf("%d×%d: %d bytes, image/jpeg %d; first difference at %d", w, h, pw.buf.Len(), want.Len(), firstDiff(pw.buf.Bytes(), want.Bytes()))
		}
		// Through Add, into a preview file.
		var file bytes.Buffer
		aw, err := NewWriter(&file, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := aw.Add(0, g, c); err != nil {
			t.Fatal(err)
		}
		if err := aw.Close(); err != nil {
			t.Fatal(err)
		}
		fr, err := Read(&file)
		if err != nil || len(fr) != 1 || !bytes.Equal(fr[0].JPEG, want.Bytes()) {
			t.Fatalf("%d×%d through Add: %v, %d frames", w, h, err, len(fr))
		}
	}
}
