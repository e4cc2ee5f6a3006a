package synth

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tell-project/tell/portrait"
)

func testFace(t testing.TB) *Face {
	img, err := portrait.Astronaut()
	if err != nil {
		t.Fatal(err)
	}
	return NewFace(img, astronautLandmarks)
}

// TestAUDirections checks that each AU moves its landmarks the way FACS
// says, in image coordinates (y down), on a still camera.
func TestAUDirections(t *testing.T) {
	f := testFace(t)
	type want struct {
		pt     int
		dx, dy int // expected sign of the displacement; 0 = don't care
	}
	tests := []struct {
		code string
		want []want
	}{
		{"1", []want{{21, 0, -1}, {22, 0, -1}}},   // inner brows up
		{"2", []want{{18, 0, -1}, {25, 0, -1}}},   // outer brows up
		{"4", []want{{21, 1, 1}, {22, -1, 1}}},    // brows down and together
		{"5", []want{{37, 0, -1}, {44, 0, -1}}},   // upper lids up
		{"7", []want{{41, 0, -1}, {46, 0, -1}}},   // lower lids up
		{"12", []want{{48, -1, -1}, {54, 1, -1}}}, // corners up and out
		{"15", []want{{48, 0, 1}, {54, 0, 1}}},    // corners down
		{"20", []want{{48, -1, 0}, {54, 1, 0}}},   // corners sideways
		{"25", []want{{66, 0, 1}, {62, 0, -1}}},   // lips part
		{"26", []want{{8, 0, 1}}},                 // jaw drops
		{"17", []want{{57, 0, -1}}},               // chin pushes lower lip up
		{"R12", []want{{48, -1, -1}}},             // subject's right = image left
		{"9", []want{{31, 0, -1}, {35, 0, -1}}},   // nose sides up
		{"23", []want{{48, 1, 0}, {54, -1, 0}}},   // lips narrowed
	}
	for _, tc := range tests {
		clips, err := Plan(f, Config{Seed: 1, Codes: []string{tc.code + "E"}, Noise: -1, Head: -1, Illum: -1, Kind: "micro"}, 1)
		if err != nil {
			t.Fatal(err)
		}
		c := clips[0]
		e := c.Events[0]
		l0, l1 := c.Landmarks(0), c.Landmarks(e.Apex)
		for _, w := range tc.want {
			dx, dy := l1[w.pt][0]-l0[w.pt][0], l1[w.pt][1]-l0[w.pt][1]
			if w.dx != 0 && float32(w.dx)*dx < 0.3 || w.dy != 0 && float32(w.dy)*dy < 0.3 {
				t.Errorf("AU%s: landmark %d moved (%.2f, %.2f), want signs (%d, %d) and ≥ 0.3 px", tc.code, w.pt, dx, dy, w.dx, w.dy)
			}
		}
		if tc.code == "R12" {
			if d := l1[54][1] - l0[54][1]; d < -0.05 || d > 0.05 {
				t.Errorf("R12 moved the subject's left corner by %.2f px", d)
			}
		}
	}
}

// TestAmplitude: at intensity E the peak displacement is near MaxAmp and at
// its weakest it stays subtle.
func TestAmplitude(t *testing.T) {
	f := testFace(t)
	clips, err := Plan(f, Config{Seed: 2, Codes: []string{"15E", "15A"}, Noise: -1, Head: -1, Illum: -1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range clips {
		e := c.Events[0]
		l0, l1 := c.Landmarks(0), c.Landmarks(e.Apex)
		d := l1[48][1] - l0[48][1]
		lo := float32(0.5 + 2.5*e.AUs[0].Intensity)
		if d < 0.7*lo || d > 1.3*lo {
			t.Errorf("%s: corner moved %.2f px, want about %.2f", e.AUString(), d, lo)
		}
	}
}

func TestTiming(t *testing.T) {
	f := testFace(t)
	clips, err := Plan(f, Config{Seed: 3}, 14)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range clips {
		e := c.Events[0]
		dur := float64(e.Offset-e.Onset) / c.FPS
		if e.Kind == "micro" && dur > 0.5+1e-9 {
			t.Errorf("%s: micro-expression lasts %.3f s", c.Name, dur)
		}
		if e.Kind == "macro" && dur < 0.5 {
			t.Errorf("%s: macro-expression lasts only %.3f s", c.Name, dur)
		}
		if !(e.Onset < e.Apex && e.Apex <= e.ApexEnd && e.ApexEnd < e.Offset && e.Offset < c.Frames) {
			t.Errorf("%s: bad timing %+v in %d frames", c.Name, e, c.Frames)
		}
		if l := e.level(e.Apex); l != 1 {
			t.Errorf("%s: level at apex %v", c.Name, l)
		}
		if e.level(e.Onset-1) != 0 || e.level(e.Offset+1) != 0 {
			t.Errorf("%s: active outside the interval", c.Name)
		}
		if m, _ := c.Truth(0); m != nil {
			t.Errorf("%s: frame 0 is not neutral", c.Name)
		}
	}
	if clips[0].FPS != 200 || clips[7].FPS != 30 {
		t.Errorf("frame rates %v, %v: want 200 then 30", clips[0].FPS, clips[7].FPS)
	}
}

func TestDeterministic(t *testing.T) {
	f := testFace(t)
	a, _ := Plan(f, Config{Seed: 9}, 2)
	b, _ := Plan(f, Config{Seed: 9}, 2)
	ia, ib := a[1].Frame(a[1].Events[0].Apex, nil), b[1].Frame(b[1].Events[0].Apex, nil)
	for i := range ia.Pix {
		if ia.Pix[i] != ib.Pix[i] {
			t.Fatal("same seed, different frames")
		}
	}
}

func TestLongClip(t *testing.T) {
	f := testFace(t)
	clips, err := Plan(f, Config{Seed: 4, Long: true, Duration: 20, Events: 5}, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := clips[0]
	if len(c.Events) != 5 || c.Frames != 600 {
		t.Fatalf("%d events, %d frames", len(c.Events), c.Frames)
	}
	for i := 1; i < len(c.Events); i++ {
		if c.Events[i].Onset <= c.Events[i-1].Offset {
			t.Errorf("events %d and %d overlap", i-1, i)
		}
	}
	if _, err := Plan(f, Config{Seed: 4, Long: true, Duration: 2, Events: 5}, 1); err == nil {
		t.Error("5 events in 2 s: want an error")
	}
}

func TestBadConfig(t *testing.T) {
	f := testFace(t)
	for _, cfg := range []Config{{Kind: "huge"}, {Codes: []string{"4+"}}, {Codes: []string{"43"}}} {
		if _, err := Plan(f, cfg, 1); err == nil {
			t.Errorf("%+v: want an error", cfg)
		}
	}
	if _, err := Plan(f, Config{}, 0); err == nil {
		t.Error("n=0: want an error")
	}
	// Flag values that would run out of memory, crash in makeslice or
	// write overflowed frame numbers into the manifest.
	nan := math.NaN()
	for _, cfg := range []Config{
		{FPS: 1e308}, {FPS: -30}, {FPS: nan}, {FPS: math.Inf(1)},
		{Width: 100000, Height: 100000}, {Width: -64},
		{Scale: -1}, {Scale: nan}, {Noise: nan},
		{Subjects: -1},
		{Long: true, Duration: 1e12}, {Long: true, Duration: nan}, {Long: true, Duration: 20, Events: -3},
	} {
		if _, err := Plan(f, cfg, 1); err == nil {
			t.Errorf("%+v: want an error", cfg)
		}
	}
	if _, err := Plan(f, Config{}, 1_000_000_000); err == nil {
		t.Error("n=1e9: want an error, not a billion clips planned")
	}
	if _, err := Plan(f, Config{FPS: MaxFPS, Width: 64, Height: 64}, 1); err != nil {
		t.Errorf("MaxFPS refused: %v", err)
	}
}

func TestWrite(t *testing.T) {
	f := testFace(t)
	clips, err := Plan(f, Config{Seed: 5, FPS: 30, Width: 64, Height: 64, Scale: 0.5}, 2)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Write(context.Background(), dir, clips, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	mf, err := os.Open(filepath.Join(dir, "manifest.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close()
	rows, err := csv.NewReader(mf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0][0] != "sample" || rows[1][2] != clips[0].Events[0].Label {
		t.Fatalf("manifest rows %v", rows)
	}
	// Frame numbers start at 1 (as tell analyze's frames.csv): the
	// manifest's apex names the PNG that shows the apex.
	apex, _ := strconv.Atoi(rows[1][7])
	if apex != clips[0].Events[0].Apex+1 {
		t.Errorf("apex %d, want %d", apex, clips[0].Events[0].Apex+1)
	}
	pf, err := os.Open(filepath.Join(dir, "clip000", fmt.Sprintf("img%05d.png", apex)))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(pf)
	pf.Close()
	if err != nil {
		t.Fatal(err)
	}
	if want := clips[0].Frame(clips[0].Events[0].Apex, nil); !bytes.Equal(toRGBA(img).Pix, want.Pix) {
		t.Error("the PNG the manifest's apex names is not the apex frame")
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "clip000"))
	if len(ents) != clips[0].Frames+2 { // frames + truth.csv + fps.txt
		t.Errorf("%d files for %d frames", len(ents), clips[0].Frames)
	}
	if rate, err := os.ReadFile(filepath.Join(dir, "clip000", "fps.txt")); err != nil || strings.TrimSpace(string(rate)) != strconv.FormatFloat(clips[0].FPS, 'g', -1, 64) {
		t.Errorf("fps.txt %q (%v), want the clip's %v fps", rate, err, clips[0].FPS)
	}
	truth, _ := os.ReadFile(filepath.Join(dir, "clip000", "truth.csv"))
	if lines := strings.Split(string(truth), "\n"); !strings.HasPrefix(lines[1], "1,") {
		t.Errorf("truth.csv's first frame: %q, want frame 1", lines[1])
	}
}

func toRGBA(img image.Image) *image.RGBA {
	out := image.NewRGBA(img.Bounds())
	draw.Draw(out, out.Rect, img, image.Point{}, draw.Src)
	return out
}

// TestWriteNoFrames writes MP4 only: no PNGs, every frame in the video, in
// order, and a manifest that names the video.
func TestWriteNoFrames(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	clips, err := Plan(testFace(t), Config{Seed: 6, FPS: 30, Width: 64, Height: 64, Scale: 0.5}, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := clips[0]
	dir := t.TempDir()
	if err := Write(context.Background(), dir, clips, WriteOptions{MP4: true, NoFrames: true}); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "clip000"))
	if len(ents) != 1 || ents[0].Name() != "truth.csv" {
		t.Errorf("clip folder holds %v, want only truth.csv", ents)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "manifest.csv"))
	rows, _ := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if len(rows) != 2 || rows[1][4] != "" || rows[1][5] != "clip000.mp4" {
		t.Fatalf("manifest %q", rows)
	}
	// Decode the MP4 to grey frames: the count, and each frame close to
	// the rendered one (H.264 at CRF 12 is nearly lossless).
	cmd := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-i", filepath.Join(dir, "clip000.mp4"), "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1")
	raw, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(raw) / (c.W * c.H); n != c.Frames {
		t.Fatalf("MP4 has %d frames, want %d", n, c.Frames)
	}
	for _, f := range []int{0, c.Events[0].Apex, c.Frames - 1} {
		want := c.Frame(f, nil)
		var diff float64
		for i := 0; i < c.W*c.H; i++ {
			p := want.Pix[4*i : 4*i+3]
			y := 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
			diff += math.Abs(y - float64(raw[f*c.W*c.H+i]))
		}
		if diff /= float64(c.W * c.H); diff > 4 {
			t.Errorf("frame %d: mean difference %.1f grey levels from the rendered frame", f, diff)
		}
	}
}

// An interrupted Write must list the finished clips (in the partial
// manifest) and must not leave an earlier run's manifest.csv describing
// clips it has overwritten.
func TestWriteInterrupted(t *testing.T) {
	f := testFace(t)
	clips, err := Plan(f, Config{Seed: 5, FPS: 30, Width: 64, Height: 64, Scale: 0.5}, 3)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "manifest.csv"), []byte("stale"), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err = Write(ctx, dir, clips, WriteOptions{Progress: func(done, total int) {
		if done == 1 {
			cancel()
		}
	}})
	if err == nil || !strings.Contains(err.Error(), "interrupted") || !strings.Contains(err.Error(), "1 of 3 clips finished") {
		t.Fatalf("err = %v; want an interruption naming the finished clips", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "manifest.csv")); !os.IsNotExist(err) {
		t.Errorf("manifest.csv present after an interrupted run (stat: %v)", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, PartialManifest))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][0] != "clip000" {
		t.Fatalf("partial manifest %q (%v); want the header and clip000", b, err)
	}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if strings.Contains(d.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
	// A complete rerun replaces the partial manifest by the real one.
	if err := Write(context.Background(), dir, clips, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, PartialManifest)); !os.IsNotExist(err) {
		t.Errorf("partial manifest left after a complete run")
	}
}

func TestReadLandmarks(t *testing.T) {
	dir := t.TempDir()
	good := ""
	for i := 0; i < 68; i++ {
		good += strconv.Itoa(i) + "," + strconv.Itoa(2*i) + "\n"
	}
	p := filepath.Join(dir, "lm.csv")
	os.WriteFile(p, []byte("# x,y\n"+good), 0o644)
	lm, err := ReadLandmarks(p)
	if err != nil || lm[67] != [2]float32{67, 134} {
		t.Fatalf("got %v, %v", lm[67], err)
	}
	for _, bad := range []string{"1,2\n", good + "1,1\n", "a,b\n"} {
		os.WriteFile(p, []byte(bad), 0o644)
		if _, err := ReadLandmarks(p); err == nil {
			t.Errorf("%q: want an error", bad[:min(len(bad), 10)])
		}
	}
}

func FuzzReadLandmarks(f *testing.F) {
	f.Add("1,2\n3,4\n")
	f.Add("# c\n\n1.5, 2.5\n")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, s string) {
		p := filepath.Join(dir, "lm.csv")
		os.WriteFile(p, []byte(s), 0o644)
		ReadLandmarks(p) // must not panic
	})
}

func BenchmarkFrame(b *testing.B) {
	f := testFace(b)
	clips, _ := Plan(f, Config{Seed: 1, Width: 640, Height: 480, Scale: 1.25}, 1)
	c := clips[0]
	img := c.Frame(0, nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Frame(c.Events[0].Apex, img)
	}
}

func ExamplePlan() {
	img, _ := portrait.Astronaut()
	clips, _ := Plan(NewFace(img, astronautLandmarks), Config{Seed: 1, Kind: "micro"}, 7)
	e := clips[1].Events[0]
	fmt.Println(e.Label, e.Kind, len(e.AUs), clips[1].FPS)
	// Output: sadness micro 3 200
}
