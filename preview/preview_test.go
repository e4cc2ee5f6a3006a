package preview

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"testing"

	"github.com/tell-project/tell/raster"
)

// frame is a w×h grey frame of level v with a darker square whose place
// moves with v, so that frames differ in more than their mean.
func frame(w, h int, v float32) *raster.Gray {
	g := raster.NewGray(w, h)
	for i := range g.Pix {
		g.Pix[i] = v
	}
	return g
}

func decode(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func mean(img image.Image) float64 {
	b := img.Bounds()
	var s float64
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, _, _, _ := img.At(x, y).RGBA()
			s += float64(r >> 8)
		}
	}
	return s / float64(b.Dx()*b.Dy())
}

// TestRoundTrip: frames written are read back in order, at their
// positions, showing their own pixels, scaled to MaxSide.
func TestRoundTrip(t *testing.T) {
	var b bytes.Buffer
	w, err := NewWriter(&b, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		if err := w.Add(i, frame(1280, 720, float32(20*i+10)), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fr, err := Read(&b)
	if err != nil {
		t.Fatal(err)
	}
	if len(fr) != 10 {
		t.Fatalf("%d frames read, want 10", len(fr))
	}
	for i, f := range fr {
		img := decode(t, f.JPEG)
		if f.Pos != i || img.Bounds().Dx() != 1280/3 || img.Bounds().Dy() != 720/3 {
			t.Errorf("frame %d: position %d, %v", i, f.Pos, img.Bounds())
		}
		if m := mean(img); m < float64(20*i+10)-1.5 || m > float64(20*i+10)+1.5 {
			t.Errorf("frame %d: mean %.1f, want %d", i, m, 20*i+10)
		}
	}
}

// TestColour: a colour frame is previewed in colour.
func TestColour(t *testing.T) {
	c := &raster.RGB{W: 8, H: 8, Stride: 24, Pix: make([]byte, 8*24)}
	for i := 0; i < len(c.Pix); i += 3 {
		c.Pix[i], c.Pix[i+1], c.Pix[i+2] = 200, 30, 30
	}
	var b bytes.Buffer
	w, _ := NewWriter(&b, 1, 0)
	if err := w.Add(0, c.Gray(), c); err != nil {
		t.Fatal(err)
	}
	w.Close()
	fr, err := Read(&b)
	if err != nil || len(fr) != 1 {
		t.Fatal(err)
	}
	r, g, _, _ := decode(t, fr[0].JPEG).At(4, 4).RGBA()
	if r>>8 < 170 || g>>8 > 60 {
		t.Errorf("colour %d,%d: the red frame is not red", r>>8, g>>8)
	}
}

// TestBudget: a clip that would not fit keeps every k-th frame, positions
// multiples of k, within the budget; one longer than announced stops at it.
func TestBudget(t *testing.T) {
	var b bytes.Buffer
	w, _ := NewWriter(&b, 100, 20000)
	for i := 0; i < 100; i++ {
		w.Add(i, frame(320, 240, float32(i)), nil)
	}
	w.Close()
	if b.Len() > 20000 {
		t.Errorf("%d bytes, over the budget of 20000", b.Len())
	}
	fr, err := Read(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if w.Every() < 2 || len(fr) < 5 {
		t.Fatalf("every %d, %d frames kept", w.Every(), len(fr))
	}
	for _, f := range fr {
		if f.Pos%w.Every() != 0 {
			t.Errorf("position %d is not a multiple of %d", f.Pos, w.Every())
		}
	}
	var u bytes.Buffer
	w, _ = NewWriter(&u, 0, 20000) // length unknown
	for i := 0; i < 100; i++ {
		w.Add(i, frame(320, 240, float32(i)), nil)
	}
	w.Close()
	if !w.Full() || u.Len() > 20000 {
		t.Errorf("unknown length: full %v, %d bytes", w.Full(), u.Len())
	}
}

func TestReadErrors(t *testing.T) {
	for _, data := range [][]byte{
		nil,
		[]byte("TELLPRV0"),
		[]byte(Magic + "\x00\x00\x00\x00\x05\x00\x00\x00abc"),                                     // short record
		[]byte(Magic + "\x01\x00\x00\x00\x01\x00\x00\x00a" + "\x01\x00\x00\x00\x01\x00\x00\x00b"), // position repeated
	} {
		if _, err := Read(bytes.NewReader(data)); !errors.Is(err, ErrFormat) {
			t.Errorf("%q: %v, want ErrFormat", data, err)
		}
	}
}

func FuzzRead(f *testing.F) {
	var b bytes.Buffer
	w, _ := NewWriter(&b, 2, 0)
	w.Add(0, frame(16, 16, 50), nil)
	w.Add(1, frame(16, 16, 90), nil)
	w.Close()
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := Read(bytes.NewReader(data))
		if err != nil && !errors.Is(err, ErrFormat) {
			t.Fatalf("error not ErrFormat: %v", err)
		}
		for i := 1; i < len(fr); i++ {
			if fr[i].Pos <= fr[i-1].Pos {
				t.Fatal("positions out of order")
			}
		}
	})
}

func BenchmarkAdd640(b *testing.B) {
	w, _ := NewWriter(&bytes.Buffer{}, 0, 1<<40)
	g := frame(640, 480, 120)
	for b.Loop() {
		w.Add(0, g, nil)
	}
}

func BenchmarkAddColour640x360(b *testing.B) {
	w, _ := NewWriter(&bytes.Buffer{}, 0, 1<<40)
	g := frame(640, 360, 120)
	c := &raster.RGB{W: 640, H: 360, Stride: 3 * 640, Pix: make([]byte, 3*640*360)}
	for i := range c.Pix {
		c.Pix[i] = byte(i*7/3 + i/1920)
	}
	for b.Loop() {
		w.Add(0, g, c)
	}
}

// TestScaledFastPaths: the integer colour paths (k = 1, 2) and the grey
// k = 2 path give the general box average's pixels, on random frames of
// odd and even sizes (the general path, written out here, is the old code).
func TestScaledFastPaths(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, sz := range [][2]int{{480, 300}, {321, 17}, {640, 360}, {641, 363}, {960, 2}, {1200, 700}} {
		w, h := sz[0], sz[1]
		c := &raster.RGB{W: w, H: h, Stride: 3 * w, Pix: make([]byte, 3*w*h)}
		for i := range c.Pix {
			c.Pix[i] = byte(rng.IntN(256))
		}
		g := raster.NewGray(w, h)
		for i := range g.Pix {
			g.Pix[i] = rng.Float32()*270 - 5 // beyond 0..255 too: the clamp
		}
		k := 1
		for max(w, h)/k > MaxSide {
			k++
		}
		ow, oh := max(1, w/k), max(1, h/k)
		inv := 1 / float32(k*k)
		pw := &Writer{}
		got := pw.scaled(g, c).(*image.RGBA)
		gotG := pw.scaled(g, nil).(*image.Gray)
		for y := 0; y < oh; y++ {
			for x := 0; x < ow; x++ {
				var s [3]float32
				var sg float32
				for dy := 0; dy < k; dy++ {
					row := c.Pix[(y*k+dy)*c.Stride+3*x*k:]
					grow := g.Pix[(y*k+dy)*g.Stride+x*k:]
					for dx := 0; dx < k; dx++ {
						s[0] += float32(row[3*dx])
						s[1] += float32(row[3*dx+1])
						s[2] += float32(row[3*dx+2])
						sg += grow[dx]
					}
				}
				o := y*got.Stride + 4*x
				for ch := 0; ch < 3; ch++ {
					if want := uint8(s[ch]*inv + 0.5); got.Pix[o+ch] != want {
						t.Fatalf("%dx%d (k %d): colour pixel %d,%d channel %d = %d, want %d", w, h, k, x, y, ch, got.Pix[o+ch], want)
					}
				}
				if got.Pix[o+3] != 255 {
					t.Fatalf("%dx%d: alpha %d", w, h, got.Pix[o+3])
				}
				if want := uint8(min(255, max(0, sg*inv+0.5))); gotG.Pix[y*gotG.Stride+x] != want {
					t.Fatalf("%dx%d (k %d): grey pixel %d,%d = %d, want %d", w, h, k, x, y, gotG.Pix[y*gotG.Stride+x], want)
				}
			}
		}
	}
}

func BenchmarkScaled640x360(b *testing.B) {
	c := &raster.RGB{W: 640, H: 360, Stride: 1920, Pix: make([]byte, 1920*360)}
	for i := range c.Pix {
		c.Pix[i] = byte(i * 7)
	}
	g := c.Gray()
	pw := &Writer{}
	for b.Loop() {
		pw.scaled(g, c)
	}
}
