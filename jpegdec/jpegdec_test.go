package jpegdec

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	_ "image/jpeg"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tell-project/tell/raster"
)

// TestAgainstJpegJS: every test JPEG (4:2:0, 4:4:4, 4:2:2 with odd sizes,
// grey, low quality) decodes to exactly the pixels jpeg-js 0.4 gives
// (SHA-256 of its RGB output, testdata/jpegjs_sha256.txt from
// scripts/fer-golden.sh).
func TestAgainstJpegJS(t *testing.T) {
	f, err := os.Open("testdata/jpegjs_sha256.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 4 {
			continue
		}
		data, err := os.ReadFile(filepath.Join("testdata", fs[0]))
		if err != nil {
			t.Fatal(err)
		}
		c, err := DecodeJS(bytes.NewReader(data), 0)
		if err != nil {
			t.Fatalf("%s: %v", fs[0], err)
		}
		sum := sha256.Sum256(c.Pix)
		if hex.EncodeToString(sum[:]) != fs[3] {
			t.Errorf("%s: pixels differ from jpeg-js's", fs[0])
		}
		// The same image as Go's decoder sees it: the size agrees and the
		// pixels are close (they differ in IDCT, chroma and rounding).
		img, _, err := image.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != c.W || b.Dy() != c.H {
			t.Fatalf("%s: %dx%d, image/jpeg %v", fs[0], c.W, c.H, b)
		}
		var worst int
		for y := 0; y < c.H; y++ {
			for x := 0; x < c.W; x++ {
				r, g, b, _ := img.At(x, y).RGBA()
				for k, v := range []uint32{r >> 8, g >> 8, b >> 8} {
					worst = max(worst, absInt(int(v)-int(c.Pix[y*c.Stride+3*x+k])))
				}
			}
		}
		if worst > 40 {
			t.Errorf("%s: differs from image/jpeg by %d levels", fs[0], worst)
		}
		n++
	}
	if n < 5 {
		t.Fatalf("%d golden JPEGs", n)
	}
}

func absInt(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func TestPixelBudget(t *testing.T) {
	data, err := os.ReadFile("testdata/whole420_lowq.jpg")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeJS(bytes.NewReader(data), 224*224-1); err == nil {
		t.Error("a frame over the budget was decoded")
	}
	if _, err := DecodeJS(bytes.NewReader(data[:len(data)/2]), 0); err == nil {
		t.Error("a truncated file was decoded")
	}
}

// FuzzDecode: arbitrary bytes give an error or an image, never a panic.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"face420.jpg", "face_grey.jpg", "face422_odd.jpg", "face_prog420.jpg"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeJS(bytes.NewReader(b), 1<<20)
		if err == nil && (c.W*c.H > 1<<20 || len(c.Pix) != 3*c.W*c.H) {
			t.Fatalf("%dx%d image with %d bytes", c.W, c.H, len(c.Pix))
		}
		if m, err := DecodeLibjpeg(bytes.NewReader(b), 1<<20); err == nil {
			if r := m.Bounds(); r.Dx()*r.Dy() > 1<<20 {
				t.Fatalf("%v image past the budget", r)
			}
			raster.FromImage(m)
		}
	})
}

// TestLibjpegAgainstDlib: every test JPEG (baseline 4:2:0, 4:2:2 at an odd
// size, 4:4:4, grey, low quality; progressive colour and grey) decodes with DecodeLibjpeg, then
// raster.FromImage, to exactly the grey pixels dlib's load_image gives
// (libjpeg-turbo with its defaults; testdata/dlib_gray_sha256.txt from
// scripts/peers/dlib_gray.cpp), so that landmarks on JPEG input are dlib's.
func TestLibjpegAgainstDlib(t *testing.T) {
	b, err := os.ReadFile("testdata/dlib_gray_sha256.txt")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		fs := strings.Fields(line)
		if len(fs) != 4 || strings.HasPrefix(line, "#") {
			continue
		}
		data, err := os.ReadFile(filepath.Join("testdata", fs[0]))
		if err != nil {
			t.Fatal(err)
		}
		img, err := DecodeLibjpeg(bytes.NewReader(data), 0)
		if err != nil {
			t.Fatalf("%s: %v", fs[0], err)
		}
		g := raster.FromImage(img)
		if fmt.Sprint(g.W, g.H) != fs[1]+" "+fs[2] {
			t.Fatalf("%s: %dx%d, dlib %sx%s", fs[0], g.W, g.H, fs[1], fs[2])
		}
		sum := sha256.Sum256(g.Image().Pix)
		if hex.EncodeToString(sum[:]) != fs[3] {
			t.Errorf("%s: grey pixels differ from dlib's", fs[0])
		}
		n++
	}
	if n < 5 {
		t.Fatalf("%d golden JPEGs", n)
	}
}

// TestIslowZeroShortcuts: libjpeg's shortcuts for all-zero AC columns and
// rows give what the full IDCT gives, so the shortcut paths cannot hide a
// wrong constant.
func TestIslowZeroShortcuts(t *testing.T) {
	seed := uint32(7)
	for trial := 0; trial < 200; trial++ {
		var b block
		for i := range b {
			seed = seed*1664525 + 1013904223
			if i == 0 || seed>>28 < 3 {
				b[i] = int32(seed>>20)%512 - 256
			}
		}
		// Only DC: every sample is the same.
		dc := block{b[0]}
		var out [blockSize]byte
		islowIDCT(&dc, &out)
		for _, v := range out {
			if v != out[0] {
				t.Fatalf("DC-only block not flat: %v", out)
			}
		}
		// A block with AC terms against a plain float IDCT: within 1 level.
		c := b
		islowIDCT(&c, &out)
		for y := 0; y < 8; y++ {
			for x := 0; x < 8; x++ {
				var s float64
				for v := 0; v < 8; v++ {
					for u := 0; u < 8; u++ {
						cu, cv := 1.0, 1.0
						if u == 0 {
							cu = 1 / math.Sqrt2
						}
						if v == 0 {
							cv = 1 / math.Sqrt2
						}
						s += cu * cv * float64(b[8*v+u]) * math.Cos(float64(2*x+1)*float64(u)*math.Pi/16) * math.Cos(float64(2*y+1)*float64(v)*math.Pi/16)
					}
				}
				want := min(max(math.Round(s/4+128), 0), 255)
				if d := math.Abs(float64(out[8*y+x]) - want); d > 1 {
					t.Fatalf("trial %d (%d,%d): %d, float IDCT %v", trial, x, y, out[8*y+x], want)
				}
			}
		}
	}
}
