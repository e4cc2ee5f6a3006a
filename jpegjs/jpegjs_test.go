package jpegjs

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	_ "image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
		c, err := Decode(bytes.NewReader(data), 0)
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
	if _, err := Decode(bytes.NewReader(data), 224*224-1); err == nil {
		t.Error("a frame over the budget was decoded")
	}
	if _, err := Decode(bytes.NewReader(data[:len(data)/2]), 0); err == nil {
		t.Error("a truncated file was decoded")
	}
}

// FuzzDecode: arbitrary bytes give an error or an image, never a panic.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"face420.jpg", "face_grey.jpg", "face422_odd.jpg"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Decode(bytes.NewReader(b), 1<<20)
		if err == nil && (c.W*c.H > 1<<20 || len(c.Pix) != 3*c.W*c.H) {
			t.Fatalf("%dx%d image with %d bytes", c.W, c.H, len(c.Pix))
		}
	})
}
