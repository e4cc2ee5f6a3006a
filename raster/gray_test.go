package raster

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestFromImageMean: colour becomes dlib's integer mean (R+G+B)/3 whatever
// the image type; grey is kept.
func TestFromImageMean(t *testing.T) {
	c := []color.NRGBA{{255, 0, 0, 255}, {10, 20, 31, 255}, {255, 255, 254, 255}, {1, 1, 0, 255}}
	want := []float32{85, 20, 254, 0}
	rgba := image.NewRGBA(image.Rect(0, 0, 4, 1))
	nrgba := image.NewNRGBA(image.Rect(0, 0, 4, 1))
	pal := image.NewPaletted(image.Rect(0, 0, 4, 1), color.Palette{c[0], c[1], c[2], c[3]})
	for i, v := range c {
		rgba.Set(i, 0, v)
		nrgba.Set(i, 0, v)
		pal.SetColorIndex(i, 0, uint8(i))
	}
	for _, img := range []image.Image{rgba, nrgba, pal} {
		g := FromImage(img)
		for i, w := range want {
			if g.Pix[i] != w {
				t.Errorf("%T pixel %d = %v, want %v", img, i, g.Pix[i], w)
			}
		}
	}
	gray := image.NewGray(image.Rect(0, 0, 3, 1))
	copy(gray.Pix, []uint8{0, 7, 255})
	if g := FromImage(gray); g.Pix[0] != 0 || g.Pix[1] != 7 || g.Pix[2] != 255 {
		t.Errorf("grey not kept: %v", g.Pix)
	}
}

func readPGM(t *testing.T, path string) *Gray {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var w, h, maxv int
	if _, err := fmt.Fscanf(r, "P5\n%d %d\n%d\n", &w, &h, &maxv); err != nil || maxv != 255 {
		t.Fatalf("%s: not an 8-bit PGM: %v", path, err)
	}
	buf := make([]byte, w*h)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatal(err)
	}
	g := NewGray(w, h)
	for i, v := range buf {
		g.Pix[i] = float32(v)
	}
	return g
}

// TestFromImageJPEGGolden compares FromImage on JPEGs decoded by Go with
// the grey image dlib's load_image (libjpeg-turbo 2.1, default settings)
// makes of the same files. The JPEGs (written by Pillow at quality 90, 4:4:4,
// 4:2:2 and 4:2:0) are flat 16×16 tiles of random colours: every 8×8 block
// holds only its DC coefficient, which Go's and libjpeg's inverse DCTs
// compute alike, so the comparison isolates chroma upsampling and colour
// conversion; tile edges exercise the fancy filter, odd sizes its borders,
// the 3×3 images its replication fallback. Golden .pgm files: dlib_gray
// (load_image, then the pixels), see testdata/README.
func TestFromImageJPEGGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/flat*.jpg")
	if len(files) != 9 {
		t.Fatalf("%d golden JPEGs, want 9", len(files))
	}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		got := FromImage(img)
		want := readPGM(t, path[:len(path)-len(".jpg")]+".pgm")
		if got.W != want.W || got.H != want.H {
			t.Fatalf("%s: %dx%d, golden %dx%d", path, got.W, got.H, want.W, want.H)
		}
		bad := 0
		for i := range got.Pix {
			if got.Pix[i] != want.Pix[i] {
				if bad < 3 {
					t.Errorf("%s: pixel (%d,%d) = %v, dlib %v", path, i%got.W, i/got.W, got.Pix[i], want.Pix[i])
				}
				bad++
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d pixels differ from dlib's", path, bad, len(got.Pix))
		}
	}
}

// TestFromImageYCbCrRatios: every subsampling ratio converts without
// reading outside the planes, sub-images included, and a flat image stays
// flat (the filters are weighted means).
func TestFromImageYCbCrRatios(t *testing.T) {
	for _, ratio := range []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	} {
		for _, size := range []image.Point{{1, 1}, {2, 3}, {5, 5}, {17, 9}} {
			img := image.NewYCbCr(image.Rectangle{Max: size}, ratio)
			for i := range img.Y {
				img.Y[i] = 120
			}
			for i := range img.Cb {
				img.Cb[i], img.Cr[i] = 90, 200
			}
			r, g, b := color.YCbCrToRGB(120, 90, 200)
			got := FromImage(img)
			ref := yccMean(120, 90, 200)
			for i, v := range got.Pix {
				if v != ref {
					t.Fatalf("%v %v: pixel %d = %v, want %v", ratio, size, i, v, ref)
				}
			}
			// libjpeg's and Go's conversions agree within rounding.
			if d := float32((uint32(r)+uint32(g)+uint32(b))/3) - ref; d > 1 || d < -1 {
				t.Errorf("flat colour: libjpeg mean %v, Go %v", ref, float32((uint32(r)+uint32(g)+uint32(b))/3))
			}
			if size.X > 2 && size.Y > 2 {
				sub := img.SubImage(image.Rect(1, 1, size.X, size.Y))
				if g := FromImage(sub); g.W != size.X-1 || g.Pix[0] != ref {
					t.Errorf("%v %v: sub-image %dx%d, %v", ratio, size, g.W, g.H, g.Pix[0])
				}
			}
		}
	}
}

// TestRGBFromImageJPEG: a JPEG's RGB is libjpeg's, and its grey is the
// mean of that RGB, equal to FromImage's (and so to dlib's, by the golden
// test above).
func TestRGBFromImageJPEG(t *testing.T) {
	data, err := os.ReadFile("testdata/flat37x21_420.jpg")
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := RGBFromImage(img)
	want := FromImage(img)
	got := c.Gray()
	for i := range want.Pix {
		if got.Pix[i] != want.Pix[i] {
			t.Fatalf("pixel %d: RGB grey %v, FromImage %v", i, got.Pix[i], want.Pix[i])
		}
	}
	sub := img.(*image.YCbCr).SubImage(image.Rect(1, 1, 9, 9))
	if s := RGBFromImage(sub); s.W != 8 || s.H != 8 {
		t.Errorf("sub-image: %dx%d", s.W, s.H)
	}
}

func BenchmarkFromImageJPEG(b *testing.B) {
	img := image.NewYCbCr(image.Rect(0, 0, 640, 480), image.YCbCrSubsampleRatio420)
	for i := range img.Y {
		img.Y[i] = uint8(i)
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = uint8(3*i), uint8(7*i)
	}
	b.SetBytes(640 * 480)
	for b.Loop() {
		FromImage(img)
	}
}
