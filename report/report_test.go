package report

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestTimelineBounded(t *testing.T) {
	tl := NewTimeline(2, 8)
	// A spike at frame 37 must survive every halving (bins keep maxima).
	for i := 0; i < 1000; i++ {
		v := float32(0.1)
		if i == 37 {
			v = 4
		}
		tl.Add([]float32{v, 1}, v, i != 500)
	}
	if tl.Frames() != 1000 || tl.Bins() > 8 {
		t.Fatalf("%d frames in %d bins (width %d)", tl.Frames(), tl.Bins(), tl.Width)
	}
	if got := tl.AU[(37/tl.Width)*2]; got != 4 {
		t.Errorf("spike lost: bin max %v", got)
	}
	lost := 0
	for i, l := range tl.Lost {
		if l {
			lost++
			if i != 500/tl.Width {
				t.Errorf("lost frame in bin %d", i)
			}
		}
	}
	if lost != 1 {
		t.Errorf("%d lost bins, want 1", lost)
	}
}

func grayPNG(t testing.TB, v uint8) []byte {
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = v
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

func sample(t testing.TB) *Report {
	tl := NewTimeline(3, 100)
	for i := 0; i < 300; i++ {
		v := float32(0)
		if i > 100 && i < 120 {
			v = 2.5
		}
		tl.Add([]float32{v, v / 2, 0.1}, v/3, i < 280)
	}
	rgba := image.NewRGBA(image.Rect(0, 0, 8, 8))
	rgba.Set(1, 1, color.RGBA{255, 0, 0, 255})
	var fb bytes.Buffer
	png.Encode(&fb, rgba)
	return &Report{
		Title: "test <report>", Input: "clip & co.mp4", Status: "partial", Error: "frame 281: face lost",
		FPS: 30, Frames: 300, Reasoner: "builtin", AUs: []int{1, 2, 4}, Timeline: tl,
		Events: []Event{{
			ID: 1, Onset: 102, Apex: 110, Offset: 120, OnsetS: 3.4, OffsetS: 4, Kind: "micro", Label: "surprise",
			Confidence: 0.8, AUs: []AU{{AU: 1, Name: "Inner Brow Raiser", Intensity: 2.5, Letter: "C"}},
			Emotions: map[string]float64{"surprise": 0.9, "fear": 0.1},
			CoT:      "**Key Observations:**\n- AU1 <raised>\n\n**Conclusion:**\nsurprise",
			OnsetPNG: grayPNG(t, 90), ApexPNG: grayPNG(t, 120), FlowPNG: fb.Bytes(),
		}},
	}
}

func TestWriteHTML(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, sample(t)); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, want := range []string{"<svg", "<polyline", "AU01", "#1 surprise", "Partial result", "data:image/png;base64,", "<strong>Key Observations:</strong>", "&lt;raised&gt;", "clip &amp; co.mp4", "test &lt;report&gt;"} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// Self-contained: nothing is fetched.
	if regexp.MustCompile(`(src|href)="(http|//)`).MatchString(s) || strings.Contains(s, "<script") {
		t.Error("report refers to external resources or runs scripts")
	}
}

func TestEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, &Report{Title: "x", Status: "complete", Timeline: NewTimeline(1, 10)}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "no frames analysed") || !strings.Contains(b.String(), "No expression was spotted") {
		t.Error("empty report lacks its messages")
	}
}

// consoleErrors opens page in headless Chromium and returns the console
// errors and failed loads it logged, and the DOM it dumped.
func consoleErrors(t *testing.T, chromium, page string) ([]string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
		"--user-data-dir="+t.TempDir(), "--enable-logging=stderr", "--v=0", "--dump-dom", "file://"+page)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	var errs []string
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, ":CONSOLE") || strings.Contains(line, "Uncaught") || strings.Contains(line, "Failed to load resource") || strings.Contains(line, "Refused to") {
			errs = append(errs, line)
		}
	}
	return errs, stdout.String()
}

// TestChromium opens a report in Debian's headless Chromium: it must render
// (the SVG plot is in the DOM) without console errors. A control page that
// does log an error proves the check can fail.
func TestChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed (Debian package chromium); CI installs it")
	}
	if testing.Short() {
		t.Skip("starts a browser")
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var b bytes.Buffer
	if err := Write(&b, sample(t)); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(page, b.Bytes(), 0o644)
	errs, dom := consoleErrors(t, chromium, page)
	if len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
	if !strings.Contains(dom, "<svg") || !strings.Contains(dom, "polyline") {
		t.Errorf("rendered DOM lacks the plot (%d bytes)", len(dom))
	}
	control := filepath.Join(dir, "control.html")
	os.WriteFile(control, []byte(`<!DOCTYPE html><html><body><script>console.error("broken"); undefinedFn();</script></body></html>`), 0o644)
	if errs, _ := consoleErrors(t, chromium, control); len(errs) == 0 {
		t.Error("control page with a console error passed the check")
	}
}

func BenchmarkWrite(b *testing.B) {
	r := sample(b)
	var buf bytes.Buffer
	for i := 0; i < b.N; i++ {
		buf.Reset()
		Write(&buf, r)
	}
}

func ExampleTimeline() {
	tl := NewTimeline(1, 4)
	for i := 0; i < 10; i++ {
		tl.Add([]float32{float32(i)}, 0, true)
	}
	fmt.Println(tl.Bins(), tl.Width, tl.AU[tl.Bins()-1])
	// Output: 3 4 9
}
