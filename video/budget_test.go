package video

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestCheckPixels(t *testing.T) {
	tests := []struct {
		w, h, max int
		tooMany   bool
		bad       bool
	}{
		{100, 100, 0, false, false},
		{7071, 7071, 0, false, false}, // 49.99 MP
		{8000, 8000, 0, true, false},  // 64 MP
		{10, 10, 100, false, false},
		{10, 11, 100, true, false},
		{1 << 31 / 2, 1 << 31 / 2, 0, true, false}, // the product overflows 32 bits
		{0, 10, 0, false, true},
		{10, -1, 0, false, true},
	}
	for _, tc := range tests {
		err := CheckPixels(tc.w, tc.h, tc.max)
		if got := errors.Is(err, ErrTooManyPixels); got != tc.tooMany {
			t.Errorf("CheckPixels(%d, %d, %d) = %v, want too many %v", tc.w, tc.h, tc.max, err, tc.tooMany)
		}
		if (err != nil) != (tc.tooMany || tc.bad) {
			t.Errorf("CheckPixels(%d, %d, %d) = %v", tc.w, tc.h, tc.max, err)
		}
	}
	err := CheckPixels(8000, 8000, 0)
	for _, want := range []string{"8000x8000", "64.0 megapixels", "50.0 megapixels", "--max-pixels"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q does not say %q", err, want)
		}
	}
}

// pngChunk appends one PNG chunk with its CRC.
func pngChunk(b *bytes.Buffer, typ string, data []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	b.Write(n[:])
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	b.WriteString(typ)
	b.Write(data)
	binary.BigEndian.PutUint32(n[:], crc.Sum32())
	b.Write(n[:])
}

// bombPNG writes a valid 8-bit grey PNG of w×h black pixels, streaming the
// zlib data so that the test never holds the pixels: the file is tiny (an
// 8000×8000 one is about 62 KB) and decodes to w·h bytes.
func bombPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 0 // 8-bit grey
	pngChunk(&b, "IHDR", ihdr)
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	row := make([]byte, w+1) // filter byte + pixels, all zero
	for y := 0; y < h; y++ {
		if _, err := zw.Write(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	pngChunk(&b, "IDAT", z.Bytes())
	pngChunk(&b, "IEND", nil)
	return b.Bytes()
}

// lyingPNG returns the PNG encoding of img with its IHDR rewritten to
// declare w×h (CRC fixed, so that only the size lies).
func lyingPNG(t testing.TB, img image.Image, w, h int) []byte {
	t.Helper()
	var enc bytes.Buffer
	if err := png.Encode(&enc, img); err != nil {
		t.Fatal(err)
	}
	data := enc.Bytes()
	// IHDR data starts after the 8-byte signature, 4-byte length and type.
	binary.BigEndian.PutUint32(data[16:], uint32(w))
	binary.BigEndian.PutUint32(data[20:], uint32(h))
	binary.BigEndian.PutUint32(data[29:], crc32.ChecksumIEEE(data[12:29]))
	return data
}

// lyingJPEG returns the baseline JPEG encoding of img with its SOF0
// rewritten to declare w×h.
func lyingJPEG(t testing.TB, img image.Image, w, h int) []byte {
	t.Helper()
	var enc bytes.Buffer
	if err := jpeg.Encode(&enc, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	data := enc.Bytes()
	i := bytes.Index(data, []byte{0xff, 0xc0})
	if i < 0 {
		t.Fatal("no SOF0 marker")
	}
	binary.BigEndian.PutUint16(data[i+5:], uint16(h))
	binary.BigEndian.PutUint16(data[i+7:], uint16(w))
	return data
}

func testImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetRGBA(x, y, color.RGBA{uint8(9 * x), uint8(5 * y), uint8(x * y), 255})
		}
	}
	return img
}

// TestDecodeImageRefusesBomb: a 62 KB PNG declaring 8000×8000 is refused
// from its header, before the 64 MB of pixels are allocated.
func TestDecodeImageRefusesBomb(t *testing.T) {
	data := bombPNG(t, 8000, 8000)
	if len(data) > 200<<10 {
		t.Fatalf("bomb is %d bytes; the test wants a small file", len(data))
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := DecodeImage(bytes.NewReader(data), 0)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooManyPixels) {
		t.Fatalf("DecodeImage(8000x8000 PNG) = %v, want ErrTooManyPixels", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 4<<20 {
		t.Errorf("refusing the bomb allocated %d bytes", got)
	}
	// A smaller budget refuses a smaller image; a large enough one takes it.
	small := bombPNG(t, 300, 200)
	if _, _, err := DecodeImage(bytes.NewReader(small), 300*200-1); !errors.Is(err, ErrTooManyPixels) {
		t.Errorf("300x200 within 59999 pixels: %v", err)
	}
	img, format, err := DecodeImage(bytes.NewReader(small), 300*200)
	if err != nil || format != "png" || img.Bounds() != image.Rect(0, 0, 300, 200) {
		t.Errorf("300x200 within 60000 pixels: %v, %q, %v", img, format, err)
	}
}

func TestDecodeImageFormats(t *testing.T) {
	src := testImage(13, 7)
	var p, j bytes.Buffer
	if err := png.Encode(&p, src); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&j, src, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		format string
		data   []byte
	}{{"png", p.Bytes()}, {"jpeg", j.Bytes()}, {"bmp", encodeBMP(src)}} {
		want, _, err := image.Decode(bytes.NewReader(tc.data))
		if err != nil {
			t.Fatal(err)
		}
		// Read in small pieces: the header is buffered across reads.
		got, format, err := DecodeImage(io.LimitReader(&oneByteReader{tc.data}, int64(len(tc.data))), 0)
		if err != nil || format != tc.format {
			t.Fatalf("%s: %q, %v", tc.format, format, err)
		}
		for y := 0; y < 7; y++ {
			for x := 0; x < 13; x++ {
				r1, g1, b1, _ := got.At(x, y).RGBA()
				r2, g2, b2, _ := want.At(x, y).RGBA()
				if r1 != r2 || g1 != g2 || b1 != b2 {
					t.Fatalf("%s pixel (%d,%d) differs from image.Decode", tc.format, x, y)
				}
			}
		}
		if _, _, err := DecodeImage(bytes.NewReader(tc.data), 13*7-1); !errors.Is(err, ErrTooManyPixels) {
			t.Errorf("%s beyond the budget: %v", tc.format, err)
		}
	}
	if _, _, err := DecodeImage(strings.NewReader("hello"), 0); err == nil || !strings.Contains(err.Error(), "not a PNG, JPEG or BMP") {
		t.Errorf("text: %v", err)
	}
}

type oneByteReader struct{ b []byte }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.b[0]
	r.b = r.b[1:]
	return 1, nil
}

// TestDeclaredSizeLies: headers that declare a size other than the data
// give an error (or the declared size), never a panic or a larger image.
func TestDeclaredSizeLies(t *testing.T) {
	src := testImage(16, 16)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"png larger", lyingPNG(t, src, 64, 64)},
		{"png smaller", lyingPNG(t, src, 4, 4)},
		{"png huge", lyingPNG(t, src, 1<<20, 1<<20)},
		{"png zero", lyingPNG(t, src, 0, 16)},
		{"jpeg larger", lyingJPEG(t, src, 640, 480)},
		{"jpeg smaller", lyingJPEG(t, src, 8, 8)},
		{"jpeg huge", lyingJPEG(t, src, 65535, 65535)},
		{"bmp huge", func() []byte {
			b := encodeBMP(src)
			binary.LittleEndian.PutUint32(b[18:], 15000)
			binary.LittleEndian.PutUint32(b[22:], 15000)
			return b
		}()},
		{"bmp larger", func() []byte {
			b := encodeBMP(src)
			binary.LittleEndian.PutUint32(b[18:], 64)
			return b
		}()},
	} {
		img, _, err := DecodeImage(bytes.NewReader(tc.data), 100_000)
		switch {
		case err == nil && img.Bounds().Dx()*img.Bounds().Dy() > 100_000:
			t.Errorf("%s: decoded %v beyond the budget", tc.name, img.Bounds())
		case strings.HasSuffix(tc.name, "huge") && !errors.Is(err, ErrTooManyPixels):
			t.Errorf("%s: %v, want ErrTooManyPixels", tc.name, err)
		}
	}
}

func TestSourcesRefuseOversizedFrames(t *testing.T) {
	dir := t.TempDir()
	writeGrayPNG(t, filepath.Join(dir, "f1.png"), 10, 10, framePattern(0))
	writeGrayPNG(t, filepath.Join(dir, "f2.png"), 20, 10, framePattern(1))
	ctx := context.Background()
	// Every frame's header is read when the folder is opened: a frame
	// beyond the budget refuses the folder before any frame is decoded.
	_, err := Open(ctx, dir, Options{MaxPixels: 150, FPS: 30})
	if !errors.Is(err, ErrTooManyPixels) || !strings.Contains(err.Error(), "f2.png") {
		t.Errorf("20x10 beyond 150 pixels: %v", err)
	}
	img, err := Open(ctx, filepath.Join(dir, "f2.png"), Options{MaxPixels: 150})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := img.Next(ctx); !errors.Is(err, ErrTooManyPixels) {
		t.Errorf("still image beyond the budget: %v", err)
	}
	bomb := filepath.Join(dir, "bomb.png")
	if err := os.WriteFile(bomb, bombPNG(t, 8000, 8000), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadImage(bomb); !errors.Is(err, ErrTooManyPixels) || !strings.Contains(err.Error(), "bomb.png") {
		t.Errorf("ReadImage(bomb): %v", err)
	}
}

func TestVideoRefusesOversizedFrames(t *testing.T) {
	path := makeVideo(t, 2, 32, 24)
	_, err := OpenVideoWith(context.Background(), path, Options{MaxPixels: 32*24 - 1})
	if !errors.Is(err, ErrTooManyPixels) || !strings.Contains(err.Error(), "32x24") {
		t.Errorf("32x24 video within 767 pixels: %v", err)
	}
	src, err := Open(context.Background(), path, Options{MaxPixels: 32 * 24})
	if err != nil {
		t.Fatalf("32x24 video within 768 pixels: %v", err)
	}
	src.Close()
}

// FuzzDecodeImage feeds the readers images whose headers lie about their
// size (seeds above) and whatever the fuzzer makes of them: no panic, and
// nothing decoded beyond the budget or other than the declared size.
func FuzzDecodeImage(f *testing.F) {
	src := testImage(16, 16)
	var p, j bytes.Buffer
	png.Encode(&p, src)
	jpeg.Encode(&j, src, nil)
	f.Add(p.Bytes())
	f.Add(j.Bytes())
	f.Add(encodeBMP(src))
	f.Add(lyingPNG(f, src, 4, 4))
	f.Add(lyingPNG(f, src, 5000, 5000))
	f.Add(lyingJPEG(f, src, 9, 300))
	f.Add(lyingJPEG(f, src, 65535, 2))
	f.Add(bombPNG(f, 400, 300))
	const budget = 1 << 16
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, _, cerr := DecodeConfig(bytes.NewReader(data), budget)
		img, _, err := DecodeImage(bytes.NewReader(data), budget)
		if err != nil {
			return
		}
		if cerr != nil {
			t.Fatalf("DecodeImage ok but DecodeConfig: %v", cerr)
		}
		b := img.Bounds()
		if b.Dx()*b.Dy() > budget || b.Dx() != cfg.Width || b.Dy() != cfg.Height {
			t.Fatalf("decoded %v, declared %dx%d, budget %d", b, cfg.Width, cfg.Height, budget)
		}
	})
}

// TestDecodeImageCMYK: a CMYK JPEG, which libjpeg's path does not read,
// is decoded by image/jpeg from the same single pass over the stream.
func TestDecodeImageCMYK(t *testing.T) {
	data, err := os.ReadFile("testdata/cmyk.jpg")
	if err != nil {
		t.Fatal(err)
	}
	want, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	got, format, err := DecodeImage(&oneByteReader{data}, 0)
	if err != nil || format != "jpeg" {
		t.Fatalf("%q, %v", format, err)
	}
	if got.Bounds() != want.Bounds() {
		t.Fatalf("bounds %v, want %v", got.Bounds(), want.Bounds())
	}
	b := want.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if got.At(x, y) != want.At(x, y) {
				t.Fatalf("pixel (%d,%d): %v, want %v", x, y, got.At(x, y), want.At(x, y))
			}
		}
	}
}
