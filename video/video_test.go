package video

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/tell-project/tell/jpegdec"
)

func TestNaturalLess(t *testing.T) {
	got := []string{"img10.png", "img2.png", "img1.png", "img02.png", "a.png", "img.png", "img1b.png", "img1a.png", "img100.png", "b1.png", "img99999999999999999999999.png"}
	sort.Slice(got, func(i, j int) bool { return NaturalLess(got[i], got[j]) })
	want := []string{"a.png", "b1.png", "img.png", "img1.png", "img1a.png", "img1b.png", "img2.png", "img02.png", "img10.png", "img100.png", "img99999999999999999999999.png"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	for _, s := range want {
		if NaturalLess(s, s) {
			t.Errorf("NaturalLess(%q, %q) = true", s, s)
		}
	}
}

// writeGrayPNG writes a w×h grey PNG whose pixels are f(x, y).
func writeGrayPNG(t *testing.T, path string, w, h int, f func(x, y int) uint8) {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Pix[y*img.Stride+x] = f(x, y)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// framePattern is the test pattern of frame i: distinct per frame and pixel.
func framePattern(i int) func(x, y int) uint8 {
	return func(x, y int) uint8 { return uint8(10*i + 3*x + 7*y) }
}

func TestFolderNaturalOrder(t *testing.T) {
	dir := t.TempDir()
	order := []int{1, 2, 10, 11} // file numbers; frame k is file order[k]
	for k, n := range order {
		writeGrayPNG(t, filepath.Join(dir, fmt.Sprintf("img%d.png", n)), 8, 6, framePattern(k))
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	src, err := Open(ctx, dir, Options{FPS: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if info := src.Info(); info.Frames != 4 || info.FPS != 200 {
		t.Errorf("info %+v", info)
	}
	for k, n := range order {
		f, err := src.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Numbered frames: known by their numbers, timed by them (img10
		// is 8 frames after img2: img3..img9 are missing).
		if f.Index != k || f.Name != fmt.Sprintf("img%d.png", n) || f.Time != float64(n-1)/200 {
			t.Errorf("frame %d: index %d name %s time %v", k, f.Index, f.Name, f.Time)
		}
		if info := src.Info(); info.Number(k) != n {
			t.Errorf("frame %d: number %d, want %d", k, info.Number(k), n)
		}
		if f.Gray.Pix[2*8+3] != float32(framePattern(k)(3, 2)) {
			t.Errorf("frame %d: pixel (3,2) = %v", k, f.Gray.Pix[2*8+3])
		}
	}
	if _, err := src.Next(ctx); err != io.EOF {
		t.Errorf("after last frame: %v", err)
	}
}

func TestFolderErrors(t *testing.T) {
	ctx := context.Background()
	empty := t.TempDir()
	if _, err := Open(ctx, empty, Options{}); err == nil || !strings.Contains(err.Error(), "no PNG") {
		t.Errorf("empty folder: %v", err)
	}
	dir := t.TempDir()
	writeGrayPNG(t, filepath.Join(dir, "f1.png"), 4, 4, framePattern(0))
	if _, err := Open(ctx, dir, Options{}); !errors.Is(err, ErrNoRate) || !strings.Contains(err.Error(), RateFile) {
		t.Errorf("folder without a rate: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	src, err := Open(ctx, dir, Options{FPS: 30})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Next(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "f2.png"), []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, dir, Options{FPS: 30}); err == nil || !strings.Contains(err.Error(), "f2.png") {
		t.Errorf("corrupt frame: %v", err)
	}
	if _, err := Open(ctx, filepath.Join(dir, "missing"), Options{}); err == nil {
		t.Error("missing path: no error")
	}
}

func TestImageSource(t *testing.T) {
	path := filepath.Join(t.TempDir(), "one.png")
	writeGrayPNG(t, path, 5, 3, framePattern(1))
	ctx := context.Background()
	src, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := src.Next(ctx)
	if err != nil || f.Gray.W != 5 || f.Gray.H != 3 || f.Time != 0 {
		t.Fatalf("frame %+v, %v", f, err)
	}
	if _, err := src.Next(ctx); err != io.EOF {
		t.Errorf("second Next: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.jpg")
	if err := os.WriteFile(bad, []byte{0xff, 0xd8, 0xff, 0, 1, 2}, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadImage(bad); err == nil || !strings.Contains(err.Error(), "bad.jpg") {
		t.Errorf("corrupt JPEG: %v", err)
	}
	txt := filepath.Join(t.TempDir(), "x.png")
	if err := os.WriteFile(txt, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadImage(txt); err == nil || !strings.Contains(err.Error(), "not a PNG, JPEG or BMP") {
		t.Errorf("text file: %v", err)
	}
}

// encodeBMP writes a 24-bit bottom-up BMP (the common layout).
func encodeBMP(img *image.RGBA) []byte {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	rowLen := (3*w + 3) &^ 3
	var b bytes.Buffer
	le := binary.LittleEndian
	hdr := make([]byte, 54)
	copy(hdr, "BM")
	le.PutUint32(hdr[2:], uint32(54+rowLen*h))
	le.PutUint32(hdr[10:], 54)
	le.PutUint32(hdr[14:], 40)
	le.PutUint32(hdr[18:], uint32(w))
	le.PutUint32(hdr[22:], uint32(h))
	le.PutUint16(hdr[26:], 1)
	le.PutUint16(hdr[28:], 24)
	b.Write(hdr)
	row := make([]byte, rowLen)
	for y := h - 1; y >= 0; y-- {
		for x := 0; x < w; x++ {
			c := img.RGBAAt(x, y)
			row[3*x], row[3*x+1], row[3*x+2] = c.B, c.G, c.R
		}
		b.Write(row)
	}
	return b.Bytes()
}

func TestBMPRoundTrip(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 5, 3))
	for y := 0; y < 3; y++ {
		for x := 0; x < 5; x++ {
			img.SetRGBA(x, y, color.RGBA{uint8(40 * x), uint8(80 * y), uint8(x + y), 255})
		}
	}
	path := filepath.Join(t.TempDir(), "f.bmp")
	if err := os.WriteFile(path, encodeBMP(img), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadImage(path)
	if err != nil {
		t.Fatal(err)
	}
	for y := 0; y < 3; y++ {
		for x := 0; x < 5; x++ {
			if a, b := got.At(x, y), img.At(x, y); a != color.Color(b) {
				r1, g1, b1, _ := a.RGBA()
				r2, g2, b2, _ := b.RGBA()
				if r1 != r2 || g1 != g2 || b1 != b2 {
					t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, a, b)
				}
			}
		}
	}
	data := encodeBMP(img)
	for _, n := range []int{10, 54, len(data) - 1} {
		if _, _, err := image.Decode(bytes.NewReader(data[:n])); err == nil {
			t.Errorf("BMP truncated to %d bytes decoded", n)
		}
	}
}

// makeVideo encodes n pattern frames of w×h as a lossless grey FFV1 video
// at 25 fps, or skips when ffmpeg is missing.
func makeVideo(t *testing.T, n, w, h int) string {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("skipping: ffmpeg not installed (sudo apt-get install ffmpeg)")
	}
	dir := t.TempDir()
	for i := 0; i < n; i++ {
		writeGrayPNG(t, filepath.Join(dir, fmt.Sprintf("f%03d.png", i)), w, h, framePattern(i))
	}
	out := filepath.Join(dir, "clip.mkv")
	cmd := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-framerate", "25", "-i", filepath.Join(dir, "f%03d.png"),
		"-c:v", "ffv1", "-pix_fmt", "gray", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, msg)
	}
	return out
}

func TestVideoDecode(t *testing.T) {
	path := makeVideo(t, 7, 32, 24)
	ctx := context.Background()
	src, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	info := src.Info()
	if info.Width != 32 || info.Height != 24 || info.FPS != 25 {
		t.Errorf("info %+v", info)
	}
	n := 0
	for {
		f, err := src.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if f.Index != n || f.Time != float64(n)/25 {
			t.Errorf("frame %d: index %d time %v", n, f.Index, f.Time)
		}
		for _, p := range [][2]int{{0, 0}, {5, 3}, {31, 23}} {
			if got, want := f.Gray.Pix[p[1]*32+p[0]], float32(framePattern(n)(p[0], p[1])); got != want {
				t.Fatalf("frame %d pixel %v = %v, want %v", n, p, got, want)
			}
		}
		n++
	}
	if n != 7 {
		t.Errorf("decoded %d frames, want 7", n)
	}
}

func TestVideoCancel(t *testing.T) {
	path := makeVideo(t, 30, 16, 16)
	ctx, cancel := context.WithCancel(context.Background())
	src, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Next(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := src.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("after cancel: %v", err)
	}
	if err := src.Close(); err != nil {
		t.Error(err)
	}
}

func TestVideoErrors(t *testing.T) {
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Skip("skipping: ffmpeg not installed")
	}
	ctx := context.Background()
	garbage := filepath.Join(t.TempDir(), "broken.mp4")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte("garbage!"), 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, garbage, Options{}); err == nil || !strings.Contains(err.Error(), "broken.mp4") {
		t.Errorf("garbage video: %v", err)
	}
	// A video whose data is cut short after the header decodes some frames
	// or fails with a message naming the file, never hangs or panics.
	good := makeVideo(t, 10, 32, 24)
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.mkv")
	if err := os.WriteFile(cut, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if src, err := Open(ctx, cut, Options{}); err == nil {
		for i := 0; i < 20; i++ {
			if _, err = src.Next(ctx); err != nil {
				break
			}
		}
		if err == io.EOF || err == nil || !strings.Contains(err.Error(), "cut.mkv") {
			t.Errorf("cut video: %v", err)
		}
		src.Close()
	}
}

// TestVideoTruncated cuts videos short the way an interrupted copy or
// download does: the decoder must end with ErrIncomplete naming the counts,
// never with a clean io.EOF after a fraction of the frames.
func TestVideoTruncated(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("skipping: ffmpeg not installed")
	}
	dir := t.TempDir()
	// An MP4 with its index at the front (as cameras and "faststart" write
	// it): ffprobe announces every frame although half the data is gone.
	mp4 := filepath.Join(dir, "clip.mp4")
	cmd := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=30",
		"-t", "4", "-pix_fmt", "yuv420p", "-c:v", "mpeg4", "-q:v", "2", "-movflags", "+faststart", mp4)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, msg)
	}
	mkv := makeVideo(t, 40, 32, 24)
	ctx := context.Background()
	for _, c := range []struct {
		name, path string
		want       int
	}{{"mp4", mp4, 120}, {"mkv", mkv, 40}} {
		t.Run(c.name, func(t *testing.T) {
			n := decodeAll(t, c.path)
			if n != c.want {
				t.Fatalf("whole file: %d frames, want %d", n, c.want)
			}
			data, err := os.ReadFile(c.path)
			if err != nil {
				t.Fatal(err)
			}
			cut := filepath.Join(t.TempDir(), "cut."+c.name)
			if err := os.WriteFile(cut, data[:len(data)/2], 0o644); err != nil {
				t.Fatal(err)
			}
			src, err := Open(ctx, cut, Options{})
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer src.Close()
			if got := src.Info().Frames; got != c.want {
				t.Errorf("Info().Frames = %d, want the announced %d", got, c.want)
			}
			frames := 0
			for {
				_, err = src.Next(ctx)
				if err != nil {
					break
				}
				frames++
			}
			if !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), "cut."+c.name) {
				t.Fatalf("after %d frames: %v, want ErrIncomplete naming the file", frames, err)
			}
			if frames >= c.want || !strings.Contains(err.Error(), fmt.Sprintf("of the %d frames", c.want)) && !strings.Contains(err.Error(), "ffmpeg reported") {
				t.Errorf("after %d frames: %v", frames, err)
			}
			t.Logf("%d frames, then: %v", frames, err)
		})
	}
}

func decodeAll(t *testing.T, path string) int {
	t.Helper()
	ctx := context.Background()
	src, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	n := 0
	for {
		_, err := src.Next(ctx)
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatalf("%s: frame %d: %v", path, n, err)
		}
		n++
	}
}

func TestMissingFFmpeg(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	path := filepath.Join(t.TempDir(), "clip.mp4")
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), path, Options{})
	if !errors.Is(err, ErrNoFFmpeg) || !strings.Contains(err.Error(), "apt-get install ffmpeg") {
		t.Errorf("err = %v", err)
	}
}

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "frames")
	defer os.RemoveAll(dir)
	for _, name := range []string{"frame10.png", "frame2.png", "frame1.png"} {
		img := image.NewGray(image.Rect(0, 0, 4, 4))
		f, _ := os.Create(filepath.Join(dir, name))
		png.Encode(f, img)
		f.Close()
	}
	ctx := context.Background()
	src, err := Open(ctx, dir, Options{FPS: 10})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer src.Close()
	for {
		f, err := src.Next(ctx)
		if err != nil {
			break // io.EOF at the end
		}
		fmt.Printf("%s at %.1fs\n", f.Name, f.Time)
	}
	// Output:
	// frame1.png at 0.0s
	// frame2.png at 0.1s
	// frame10.png at 0.9s
}

// TestColorFrames: with Options.Color every source also yields RGB, and
// Gray is its grey (raster.RGB.Gray).
func TestColorFrames(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeGrayPNG(t, filepath.Join(dir, "a.png"), 8, 6, framePattern(2))
	for _, path := range []string{filepath.Join(dir, "a.png"), dir, makeVideo(t, 3, 32, 24)} {
		src, err := Open(ctx, path, Options{Color: true, FPS: 25})
		if err != nil {
			t.Fatal(err)
		}
		f, err := src.Next(ctx)
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
		if f.RGB == nil || f.RGB.W != f.Gray.W || f.RGB.H != f.Gray.H {
			t.Fatalf("%s: no colour frame of the grey frame's size", path)
		}
		for _, p := range [][2]int{{0, 0}, {5, 3}} {
			c := f.RGB.Pix[p[1]*f.RGB.Stride+3*p[0]:]
			want := float32((uint32(c[0]) + uint32(c[1]) + uint32(c[2])) / 3)
			if d := f.Gray.Pix[p[1]*f.Gray.Stride+p[0]] - want; d > 0.01 || d < -0.01 {
				t.Errorf("%s: pixel %v grey %v, grey of RGB %v", path, p, f.Gray.Pix[p[1]*f.Gray.Stride+p[0]], want)
			}
		}
	}
	src, err := Open(ctx, filepath.Join(dir, "a.png"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := src.Next(ctx); f.RGB != nil {
		t.Error("colour without Options.Color")
	}
}

// TestReadRGB: JPEG through jpegdec.DecodeJS (the peer's pixels), PNG as decoded, the
// pixel budget before decoding.
func TestReadRGB(t *testing.T) {
	jp := filepath.Join("..", "jpegdec", "testdata", "face444.jpg")
	c, err := ReadRGB(jp, 0)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(jp)
	want, err := jpegdec.DecodeJS(f, 0)
	f.Close()
	if err != nil || !bytes.Equal(c.Pix, want.Pix) {
		t.Fatalf("JPEG pixels are not jpeg-js's (%v)", err)
	}
	if _, err := ReadRGB(jp, 99); !errors.Is(err, ErrTooManyPixels) {
		t.Errorf("budget: %v", err)
	}
	dir := t.TempDir()
	png := filepath.Join(dir, "a.png")
	writeGrayPNG(t, png, 8, 6, framePattern(1))
	c, err = ReadRGB(png, 0)
	if err != nil || c.W != 8 || c.Pix[3*9] != uint8(framePattern(1)(1, 1)) {
		t.Fatalf("PNG: %v", err)
	}
}

// TestLimitedCommand: a child started through limitedCommand runs under
// the address-space limit it was given, and without one under none.
func TestLimitedCommand(t *testing.T) {
	for _, tc := range []struct {
		limit int64
		want  string
	}{{300 << 20, "307200"}, {0, "unlimited"}} {
		out, err := limitedCommand(context.Background(), tc.limit, "/bin/sh", "-c", "ulimit -v").Output()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(string(out)); got != tc.want {
			t.Errorf("limit %d: the child says %q, want %q", tc.limit, got, tc.want)
		}
	}
	// A child asking for more than its limit fails instead of taking it.
	if _, err := exec.LookPath("python3"); err == nil {
		err := limitedCommand(context.Background(), 600<<20, "python3", "-c", "b = bytearray(1 << 30)").Run()
		if err == nil {
			t.Error("a child allocated 1 GiB under a 600 MiB limit")
		}
	}
}

// TestVideoLimitedChildren decodes a clip with ffprobe and ffmpeg under
// their address-space limits: the limits leave room for real work.
func TestVideoLimitedChildren(t *testing.T) {
	path := makeVideo(t, 5, 64, 48)
	ctx := context.Background()
	info, err := Probe(ctx, path, Options{LimitChildren: true})
	if err != nil || info.Width != 64 || info.Height != 48 || info.Frames != 5 {
		t.Fatalf("probe: %+v %v", info, err)
	}
	if got := decodeAllWith(t, path, Options{LimitChildren: true}); got != 5 {
		t.Fatalf("decoded %d frames under the limits, want 5", got)
	}
}

func decodeAllWith(t *testing.T, path string, opt Options) int {
	t.Helper()
	src, err := Open(context.Background(), path, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	n := 0
	for {
		_, err := src.Next(context.Background())
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
}

// TestDecodeArgsThreads: ffmpeg decodes on one thread up to 1080p, on its
// default threads above, and on two under tell serve's limits (which were
// measured with two); the output is raw RGB at the probed rate either way.
func TestDecodeArgsThreads(t *testing.T) {
	threads := func(args []string) string {
		for i, a := range args {
			if a == "-threads" && i+1 < len(args) {
				return args[i+1]
			}
		}
		return "default"
	}
	for _, c := range []struct {
		w, h    int
		limited bool
		want    string
	}{
		{640, 360, false, "1"}, {1920, 1080, false, "1"}, {3840, 2160, false, "default"}, {640, 360, true, "2"}, {3840, 2160, true, "2"},
	} {
		info := Info{Path: "x.mp4", Width: c.w, Height: c.h, FPS: 23.976}
		args, limit := decodeArgs("x.mp4", info, Options{LimitChildren: c.limited}, "cfr")
		if got := threads(args); got != c.want {
			t.Errorf("%dx%d limited %v: threads %s, want %s (%q)", c.w, c.h, c.limited, got, c.want, args)
		}
		if (limit > 0) != c.limited {
			t.Errorf("%dx%d limited %v: address-space limit %d", c.w, c.h, c.limited, limit)
		}
		if s := strings.Join(args, " "); !strings.HasSuffix(s, "-fps_mode cfr -r 23.976 -f rawvideo -pix_fmt rgb24 pipe:1") {
			t.Errorf("%dx%d: %s", c.w, c.h, s)
		}
	}
}
