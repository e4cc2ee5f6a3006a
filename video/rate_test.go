package video

import (
	"context"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckFPS(t *testing.T) {
	for _, c := range []struct {
		fps float64
		ok  bool
	}{{0, false}, {-1, false}, {0.5, false}, {1, true}, {29.97, true}, {200, true}, {1000, true}, {1001, false}, {100000, false}, {math.NaN(), false}, {math.Inf(1), false}} {
		if err := CheckFPS(c.fps); (err == nil) != c.ok {
			t.Errorf("CheckFPS(%v) = %v, want ok %v", c.fps, err, c.ok)
		}
	}
}

// TestFolderRate: a folder's rate comes from Options.FPS or its fps.txt;
// without either it is refused, and the two must agree.
func TestFolderRate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeGrayPNG(t, filepath.Join(dir, "img46.png"), 4, 4, framePattern(0))
	writeGrayPNG(t, filepath.Join(dir, "img47.png"), 4, 4, framePattern(1))
	_, err := Open(ctx, dir, Options{})
	if !errors.Is(err, ErrNoRate) || strings.Count(err.Error(), "\n") > 0 {
		t.Errorf("no rate: %v", err)
	}
	if _, err := Open(ctx, dir, Options{FPS: 0.2}); err == nil || !strings.Contains(err.Error(), "1 to 1000") {
		t.Errorf("--fps 0.2: %v", err)
	}
	side := filepath.Join(dir, RateFile)
	for _, c := range []struct {
		text  string
		given float64
		fps   float64
		bad   string
	}{
		{"200\n", 0, 200, ""},
		{"200", 200, 200, ""},
		{" 100 ", 200, 0, "conflict"},
		{"fast", 0, 0, "not a number"},
		{"5000", 0, 0, "1 to 1000"},
	} {
		if err := os.WriteFile(side, []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		src, err := Open(ctx, dir, Options{FPS: c.given})
		if c.bad != "" {
			if err == nil || !strings.Contains(err.Error(), c.bad) || !strings.Contains(err.Error(), RateFile) {
				t.Errorf("fps.txt %q, given %v: %v, want an error with %q", c.text, c.given, err, c.bad)
			}
			continue
		}
		if err != nil {
			t.Errorf("fps.txt %q: %v", c.text, err)
			continue
		}
		if info := src.Info(); info.FPS != c.fps || info.Number(1) != 47 {
			t.Errorf("fps.txt %q: %v fps, frame 2 numbered %d", c.text, info.FPS, info.Number(1))
		}
	}
}

// TestFolderNumbers: tell's one frame-number rule for folders.
func TestFolderNumbers(t *testing.T) {
	for _, c := range []struct {
		names []string
		nums  []int
	}{
		{[]string{"img46.jpg", "img47.jpg", "img100.jpg"}, []int{46, 47, 100}},
		{[]string{"006_5562.jpg", "006_5563.jpg"}, []int{5562, 5563}},
		{[]string{"frame_0000.png", "frame_0001.png"}, []int{0, 1}},
		{[]string{"a.png", "b.png"}, nil},                    // no numbers: by position
		{[]string{"left1.png", "right1.png"}, nil},           // two frames numbered 1: by position
		{[]string{"img1.png", "img2.png", "cover.png"}, nil}, // one name without a number
		{[]string{"x1234567890.png"}, nil},                   // more than nine digits
	} {
		got, ok := FolderNumbers(c.names)
		if ok != (c.nums != nil) || (ok && !slicesEqual(got, c.nums)) {
			t.Errorf("FolderNumbers(%v) = %v, %v; want %v", c.names, got, ok, c.nums)
		}
	}
	in := Info{Numbers: []int{46, 47, 50}, FPS: 200, Frames: 3}
	for n, want := range map[int]int{46: 0, 47: 1, 50: 2, 48: -1, 1: -1} {
		i, ok := in.Index(n)
		if (want < 0 && ok) || (want >= 0 && (!ok || i != want)) {
			t.Errorf("Index(%d) = %d, %v; want %d", n, i, ok, want)
		}
	}
	if in.Time(2) != 4.0/200 || in.Range() != "46–50" {
		t.Errorf("Time(2) %v, Range %q", in.Time(2), in.Range())
	}
	// Files numbered 1..N are position-named: numbered as a video.
	dir := t.TempDir()
	for _, n := range []string{"0001.png", "0002.png", "0003.png"} {
		writeGrayPNG(t, filepath.Join(dir, n), 4, 4, framePattern(0))
	}
	src, err := Open(context.Background(), dir, Options{FPS: 30})
	if err != nil {
		t.Fatal(err)
	}
	if info := src.Info(); info.Numbers != nil || info.Number(2) != 3 {
		t.Errorf("0001..0003.png: numbers %v", info.Numbers)
	}
	pos := Info{FPS: 25, Frames: 51}
	if i, ok := pos.Index(51); !ok || i != 50 || pos.Number(0) != 1 {
		t.Errorf("by position: Index(51) %d %v, Number(0) %d", i, ok, pos.Number(0))
	}
	if _, ok := pos.Index(0); ok {
		t.Error("frame 0 of a position-numbered source")
	}
	if _, ok := pos.Index(52); ok {
		t.Error("frame 52 of 51")
	}
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestFolderPositionNamed: frames whose names carry no numbers are known
// by position and timed by it.
func TestFolderPositionNamed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for i, n := range []string{"a.png", "b.png", "c.png"} {
		writeGrayPNG(t, filepath.Join(dir, n), 4, 4, framePattern(i))
	}
	src, err := Open(ctx, dir, Options{FPS: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	info := src.Info()
	if info.Numbers != nil || info.Number(2) != 3 || info.Width != 4 {
		t.Errorf("info %+v", info)
	}
	for k := 0; k < 3; k++ {
		f, err := src.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if f.Time != float64(k)/100 {
			t.Errorf("frame %d at %v s", k, f.Time)
		}
	}
}

// TestFolderMixedSizes: a folder whose frames differ in size (a 48×48
// face among 640×480 frames) is refused when opened, naming both.
func TestFolderMixedSizes(t *testing.T) {
	dir := t.TempDir()
	writeGrayPNG(t, filepath.Join(dir, "img1.png"), 64, 48, framePattern(0))
	writeGrayPNG(t, filepath.Join(dir, "img2.png"), 64, 48, framePattern(1))
	writeGrayPNG(t, filepath.Join(dir, "img3.png"), 12, 12, framePattern(2))
	_, err := Open(context.Background(), dir, Options{FPS: 30})
	if err == nil || !strings.Contains(err.Error(), "img3.png is 12×12") || !strings.Contains(err.Error(), "img1.png is 64×48") {
		t.Errorf("mixed sizes: %v", err)
	}
}

// TestVideoRateConflict: a video's own rate wins; a different one given
// is an error, the same one is accepted.
func TestVideoRateConflict(t *testing.T) {
	path := makeVideo(t, 3, 32, 24) // 25 fps
	ctx := context.Background()
	if _, err := Open(ctx, path, Options{FPS: 200}); !errors.Is(err, ErrRateConflict) || !strings.Contains(err.Error(), "25 fps") {
		t.Errorf("--fps 200 on a 25 fps video: %v", err)
	}
	src, err := Open(ctx, path, Options{FPS: 25})
	if err != nil {
		t.Fatalf("--fps 25 on a 25 fps video: %v", err)
	}
	src.Close()
}

// writeGIF writes a GIF of 40×30 frames of grey level 60·k with the
// given delays (hundredths of a second).
func writeGIF(t *testing.T, path string, delays []int) {
	t.Helper()
	pal := color.Palette{color.Gray{0}, color.Gray{60}, color.Gray{120}, color.Gray{180}, color.Gray{240}}
	g := &gif.GIF{}
	for i, d := range delays {
		im := image.NewPaletted(image.Rect(0, 0, 40, 30), pal)
		for j := range im.Pix {
			im.Pix[j] = uint8(i % len(pal))
		}
		g.Image = append(g.Image, im)
		g.Delay = append(g.Delay, d)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := gif.EncodeAll(f, g); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestGIF: an animated GIF is a video whose frame delays give the times
// (one frame per frame of the file, none repeated or dropped); a GIF of
// one frame is a still.
func TestGIF(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	ctx := context.Background()
	dir := t.TempDir()
	varying := filepath.Join(dir, "varying.gif")
	writeGIF(t, varying, []int{10, 2, 2, 30, 2})
	src, err := Open(ctx, varying, Options{Color: true})
	if err != nil {
		t.Fatal(err)
	}
	info := src.Info()
	want := []float64{0, 0.10, 0.12, 0.14, 0.44}
	if info.Frames != 5 || math.Abs(info.Duration-0.46) > 1e-9 || math.Abs(info.FPS-5/0.46) > 1e-9 {
		t.Errorf("info: %d frames, %v s, %v fps", info.Frames, info.Duration, info.FPS)
	}
	for k := 0; ; k++ {
		f, err := src.Next(ctx)
		if err == io.EOF {
			if k != 5 {
				t.Errorf("%d frames decoded, want 5", k)
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(f.Time-want[k]) > 1e-9 || f.Gray.Pix[0] != float32(60*k) || info.Number(k) != k+1 {
			t.Errorf("frame %d: time %v (want %v), grey %v (want %d)", k, f.Time, want[k], f.Gray.Pix[0], 60*k)
		}
	}
	src.Close()
	if _, err := Open(ctx, varying, Options{FPS: 50}); !errors.Is(err, ErrRateConflict) {
		t.Errorf("--fps 50 on a GIF of 10.9 fps: %v", err)
	}
	even := filepath.Join(dir, "even.gif")
	writeGIF(t, even, []int{2, 2, 2, 2})
	src, err = Open(ctx, even, Options{FPS: 50})
	if err != nil || src.Info().FPS != 50 {
		t.Fatalf("a GIF of 2 cs delays at 50 fps: %v", err)
	}
	src.Close()
	one := filepath.Join(dir, "one.gif")
	writeGIF(t, one, []int{0})
	src, err = Open(ctx, one, Options{Color: true})
	if err != nil {
		t.Fatal(err)
	}
	if info := src.Info(); info.Frames != 1 || info.FPS != 0 {
		t.Errorf("one-frame GIF: %+v", info)
	}
	f, err := src.Next(ctx)
	if err != nil || f.Gray.W != 40 || f.RGB == nil {
		t.Fatalf("one-frame GIF: %v", err)
	}
	if _, err := src.Next(ctx); err != io.EOF {
		t.Errorf("one-frame GIF: second frame %v", err)
	}
}

// TestCodecAndBitRate: ffprobe's codec and bit rate reach Info, and bits
// per pixel are the bit rate over the pixels per second.
func TestCodecAndBitRate(t *testing.T) {
	path := makeVideo(t, 10, 32, 24) // ffv1, 25 fps
	src, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	info := src.Info()
	src.Close()
	if info.Codec != "ffv1" || !info.Lossless() || info.BitRate <= 0 {
		t.Errorf("codec %q lossless %v bit rate %v", info.Codec, info.Lossless(), info.BitRate)
	}
	in := Info{Width: 640, Height: 480, FPS: 30, BitRate: 640 * 480 * 30 * 0.05, Codec: "h264"}
	if bpp := in.BitsPerPixel(); math.Abs(bpp-0.05) > 1e-12 || in.Lossless() {
		t.Errorf("bits per pixel %v (want 0.05), lossless %v", bpp, in.Lossless())
	}
	if (&Info{Width: 640, Height: 480}).BitsPerPixel() != 0 {
		t.Error("bits per pixel without a bit rate")
	}
}
