package report

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
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

// TestSeveralFaces: each face gets its own section, its own timeline, and
// only its own events.
func TestSeveralFaces(t *testing.T) {
	r := sample(t)
	tl := NewTimeline(3, 100)
	for i := 0; i < 300; i++ {
		tl.Add([]float32{0, 0, 1.5}, 0, i >= 150)
	}
	r.Faces = []Face{{ID: 1, Timeline: tl}}
	e := r.Events[0]
	e.ID, e.FaceID, e.Label = 2, 1, "anger"
	r.Events = append(r.Events, e)
	var b bytes.Buffer
	if err := Write(&b, r); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	i0, i1 := strings.Index(s, `id="face-0"`), strings.Index(s, `id="face-1"`)
	if i0 < 0 || i1 < i0 {
		t.Fatalf("face sections at %d and %d", i0, i1)
	}
	first, second := s[i0:i1], s[i1:]
	if !strings.Contains(first, `id="event-1"`) || strings.Contains(first, `id="event-2"`) {
		t.Error("face 0's section does not hold exactly its event")
	}
	if !strings.Contains(second, `id="event-2"`) || strings.Contains(second, `id="event-1"`) {
		t.Error("face 1's section does not hold exactly its event")
	}
	if strings.Count(s, `aria-label="AU intensity timeline"`) != 2 {
		t.Errorf("%d timelines, want 2", strings.Count(s, `aria-label="AU intensity timeline"`))
	}
	// One face: no face headings.
	b.Reset()
	if err := Write(&b, sample(t)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), `id="face-0"`) {
		t.Error("a one-face report has face headings")
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
	// A single image's page renders its face, landmarks and AU bars.
	st := sample(t)
	st.Still = &Still{FacePNG: grayPNG(t, 100), W: 8, H: 8, AUs: []AU{{AU: 12, Name: "Lip Corner Puller", Intensity: 2.4, Letter: "B"}}}
	for i := 0; i < 68; i++ {
		st.Still.Landmarks = append(st.Still.Landmarks, [2]float32{float32(i % 8), float32(i / 9)})
	}
	b.Reset()
	if err := Write(&b, st); err != nil {
		t.Fatal(err)
	}
	stillPage := filepath.Join(dir, "still.html")
	os.WriteFile(stillPage, b.Bytes(), 0o644)
	errs, dom = consoleErrors(t, chromium, stillPage)
	if len(errs) > 0 {
		t.Errorf("still page: console errors:\n%s", strings.Join(errs, "\n"))
	}
	if strings.Count(dom, "<circle") != 68 || !strings.Contains(dom, `class="aubar"`) || strings.Contains(dom, "polyline") {
		t.Errorf("rendered still page lacks the face's landmarks or AU bars, or has a timeline")
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

// Colour-vision-deficiency simulation (Machado, Oliveira & Fernandes 2009,
// severity 1), applied in linear RGB, and CIE76 ΔE in CIELAB (D65).
var cvd = map[string][3][3]float64{
	"normal":       {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}},
	"protanopia":   {{0.152286, 1.052583, -0.204868}, {0.114503, 0.786281, 0.099216}, {-0.003882, -0.048116, 1.051998}},
	"deuteranopia": {{0.367322, 0.860646, -0.227968}, {0.280085, 0.672501, 0.047413}, {-0.011820, 0.042940, 0.968881}},
	"tritanopia":   {{1.255528, -0.076749, -0.178779}, {-0.078411, 0.930809, 0.147602}, {0.004733, 0.691367, 0.303900}},
}

func labUnder(hex string, m [3][3]float64) [3]float64 {
	var rgb [3]float64
	for i := range rgb {
		var v int
		fmt.Sscanf(hex[1+2*i:3+2*i], "%02x", &v)
		c := float64(v) / 255
		if c <= 0.04045 {
			rgb[i] = c / 12.92
		} else {
			rgb[i] = math.Pow((c+0.055)/1.055, 2.4)
		}
	}
	var l [3]float64
	for i := range l {
		l[i] = math.Max(0, math.Min(1, m[i][0]*rgb[0]+m[i][1]*rgb[1]+m[i][2]*rgb[2]))
	}
	X := (0.4124*l[0] + 0.3576*l[1] + 0.1805*l[2]) / 0.95047
	Y := 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
	Z := (0.0193*l[0] + 0.1192*l[1] + 0.9505*l[2]) / 1.08883
	f := func(t float64) float64 {
		if t > 0.008856 {
			return math.Cbrt(t)
		}
		return 7.787*t + 16.0/116
	}
	return [3]float64{116*f(Y) - 16, 500 * (f(X) - f(Y)), 200 * (f(Y) - f(Z))}
}

// minDeltaE is the smallest colour difference between two colours of p
// for normal vision and the three simulated deficiencies.
func minDeltaE(p []string) (float64, string) {
	best, why := math.Inf(1), ""
	for name, m := range cvd {
		for i := range p {
			for j := i + 1; j < len(p); j++ {
				a, b := labUnder(p[i], m), labUnder(p[j], m)
				if d := math.Sqrt((a[0]-b[0])*(a[0]-b[0]) + (a[1]-b[1])*(a[1]-b[1]) + (a[2]-b[2])*(a[2]-b[2])); d < best {
					best, why = d, fmt.Sprintf("%s %s vs %s", name, p[i], p[j])
				}
			}
		}
	}
	return best, why
}

// TestPaletteDistinct: every pair of curve colours stays ΔE ≥ 20 apart
// for normal vision and simulated protanopia, deuteranopia and
// tritanopia, and every colour is dark enough to read on white. The
// earlier palette (two greens, three blues) fails the same test.
func TestPaletteDistinct(t *testing.T) {
	if d, why := minDeltaE(palette); d < 20 {
		t.Errorf("palette: min ΔE %.1f (%s), want ≥ 20", d, why)
	}
	old := []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#882255", "#117733", "#332288", "#999933"}
	if d, _ := minDeltaE(old); d >= 20 {
		t.Errorf("the old palette passes (ΔE %.1f): the test cannot tell", d)
	}
	for _, c := range palette {
		if l := labUnder(c, cvd["normal"])[0]; l > 75 {
			t.Errorf("%s: lightness %.0f, too pale on white", c, l)
		}
	}
}

// TestCurveLabelsAtLineEnds: each drawn AU is named, in its colour, just
// right of the plot's last point; names never overlap; the event's AU
// table marks the same colour.
func TestCurveLabelsAtLineEnds(t *testing.T) {
	tl := NewTimeline(9, 100)
	for i := 0; i < 200; i++ {
		row := make([]float32, 9)
		for k := range row {
			row[k] = float32(k) * 0.5 * float32(i%50) / 50 // all end near 0..4
		}
		tl.Add(row, 0, true)
	}
	r := &Report{Title: "t", Status: "complete", FPS: 30, Frames: 200, AUs: []int{1, 2, 4, 5, 6, 7, 9, 10, 12}, Timeline: tl,
		Events: []Event{{ID: 1, Onset: 10, Apex: 20, Offset: 30, Kind: "micro", Label: "x", AUs: []AU{{AU: 12, Intensity: 2, Letter: "B"}}}}}
	var b bytes.Buffer
	if err := Write(&b, r); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	curves := pickCurves(r)
	if len(curves) != len(palette) {
		t.Fatalf("%d curves drawn, want %d (the palette's size)", len(curves), len(palette))
	}
	re := regexp.MustCompile(`<text x="([0-9.]+)" y="([0-9.]+)" font-size="12" font-weight="600" fill="(#[0-9A-F]{6})" dominant-baseline="middle">AU(\d\d)</text>`)
	ms := re.FindAllStringSubmatch(s, -1)
	if len(ms) != len(curves) {
		t.Fatalf("%d curve names, want %d", len(ms), len(curves))
	}
	var ys []float64
	for _, m := range ms {
		x, _ := strconv.ParseFloat(m[1], 64)
		y, _ := strconv.ParseFloat(m[2], 64)
		au, _ := strconv.Atoi(m[4])
		if x < plotW-plotRight {
			t.Errorf("AU%02d named at x=%.0f, not at the line end", au, x)
		}
		found := false
		for _, c := range curves {
			if c.au == au && c.colour == m[3] {
				found = true
			}
		}
		if !found {
			t.Errorf("AU%02d named in %s, not its curve's colour", au, m[3])
		}
		ys = append(ys, y)
	}
	sort.Float64s(ys)
	for i := 1; i < len(ys); i++ {
		if ys[i]-ys[i-1] < 12 {
			t.Errorf("curve names overlap: y %v", ys)
		}
	}
	// AU12 is drawn (the strongest): its table row carries its colour.
	if !regexp.MustCompile(`<span class="sw" style="background:#[0-9A-F]{6}"></span>AU12`).MatchString(s) {
		t.Error("the event's AU12 row has no colour swatch")
	}
}

// TestEventFaces: faces are shown at their native size, with the
// difference image and the flow's colour-wheel key.
func TestEventFaces(t *testing.T) {
	r := sample(t)
	r.Events[0].DiffPNG, r.Events[0].FaceSize, r.Events[0].DiffGain, r.Events[0].FlowPeak = grayPNG(t, 128), 8, 12, 0.7
	r.FlowKeyPNG = grayPNG(t, 200)
	var b bytes.Buffer
	if err := Write(&b, r); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, want := range []string{`width="8" height="8" alt="onset face"`, `width="8" height="8" alt="apex minus onset"`, "apex − onset, ×12", "full colour = 0.70 px", `alt="colour-wheel key"`} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// TestStillView: a single image's report shows the face with its
// landmarks and every AU's bar, not a timeline.
func TestStillView(t *testing.T) {
	st := &Still{FacePNG: grayPNG(t, 100), W: 8, H: 8, AUs: []AU{{AU: 12, Name: "Lip Corner Puller", Intensity: 2.4, Letter: "B"}, {AU: 4, Name: "Brow Lowerer", Intensity: 0.2}}}
	for i := 0; i < 68; i++ {
		st.Landmarks = append(st.Landmarks, [2]float32{float32(i % 8), float32(i / 9)})
	}
	tl := NewTimeline(1, 10)
	tl.Add([]float32{1}, 0, true)
	r := &Report{Title: "still", Status: "complete", Frames: 1, AUs: []int{12}, Timeline: tl, Still: st,
		Events: []Event{{ID: 1, Kind: "still", Label: "happiness", Confidence: 0.6, Emotions: map[string]float64{"happiness": 0.6, "surprise": 0.4}}}}
	var b bytes.Buffer
	if err := Write(&b, r); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	if strings.Contains(s, "AU intensity timeline") || strings.Contains(s, "time (s)") {
		t.Error("a single image got a timeline")
	}
	if n := strings.Count(s, "<circle "); n != 68 {
		t.Errorf("%d landmark dots, want 68", n)
	}
	for _, want := range []string{"The face", "a single image", "2.40 (B)", `class="aubar low"`, "probability 60%"} {
		if !strings.Contains(s, want) {
			t.Errorf("still report lacks %q", want)
		}
	}
	if strings.Contains(s, "frames 0–0") {
		t.Error("a still is described with frame numbers")
	}
}

// TestMicroEventAUsDrawn: a micro-expression whose AUs rise far below
// presence has them drawn in the timeline, on an axis magnified so that
// the rise spans most of the plot, not as "no AU reached presence".
func TestMicroEventAUsDrawn(t *testing.T) {
	tl := NewTimeline(4, 1200)
	for i := 0; i < 120; i++ {
		row := make([]float32, 4)
		if i >= 40 && i < 60 { // AU04 and AU07 rise by 0.18 and 0.12
			row[1], row[2] = 0.18, 0.12
		}
		row[3] = 0.05 // AU12 stays at the noise
		tl.Add(row, 0, true)
	}
	r := &Report{Title: "t", Status: "complete", FPS: 200, Frames: 120, AUs: []int{1, 4, 7, 12}, Timeline: tl,
		Events: []Event{{ID: 1, Onset: 41, Apex: 50, Offset: 60, OnsetPos: 40, OffsetPos: 59, Kind: "micro", Label: "x",
			AUs: []AU{{AU: 4, Intensity: 0.18}, {AU: 7, Intensity: 0.12}}}}}
	var b bytes.Buffer
	if err := Write(&b, r); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	if strings.Contains(s, "no AU reached presence") {
		t.Error("the timeline says no AU reached presence")
	}
	for _, au := range []string{"4", "7"} {
		m := regexp.MustCompile(`<polyline [^>]*points="([^"]+)" data-au="` + au + `"/>`).FindStringSubmatch(s)
		if m == nil {
			t.Errorf("AU%s of the event not drawn", au)
			continue
		}
		// The plot spans y 14..260: the rises (0.18 and 0.12 of 5) must
		// span a good part of it (on the 0–5 axis they would span 8 and 6).
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, p := range strings.Fields(m[1]) {
			_, ys, _ := strings.Cut(p, ",")
			v, _ := strconv.ParseFloat(ys, 64)
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		if hi-lo < 0.4*(280-14-34) {
			t.Errorf("AU%s's rise spans %.0f of %d units: not visible", au, hi-lo, 280-14-34)
		}
	}
	if strings.Contains(s, `data-au="12"`) {
		t.Error("AU12, in no event and below presence, is drawn")
	}
	if !strings.Contains(s, "magnified (0–0.25 of 5)") || !strings.Contains(s, "magnified to 0–0.25") {
		t.Error("the magnified axis is not said")
	}
}

// TestTimeAxesAligned: the appearance plot shares the AU plot's time axis:
// the same tick positions and labels, the same event bands.
func TestTimeAxesAligned(t *testing.T) {
	tl := NewTimeline(2, 1200)
	for i := 0; i < 300; i++ {
		tl.Add([]float32{1, float32(i%7) / 7}, 0, true)
		tl.AddExpression([]float32{0.2, 0.8})
	}
	r := &Report{Title: "t", Status: "complete", FPS: 30, Frames: 300, AUs: []int{1, 2}, Timeline: tl,
		ExprLabels: []string{"happiness", "neutral"},
		Events:     []Event{{ID: 1, Onset: 100, Offset: 140, OnsetPos: 99, OffsetPos: 139, Kind: "macro", Label: "x"}}}
	curves := pickCurves(r)
	au, ex := plotSVG(r, curves), exprSVG(r)
	ticks := regexp.MustCompile(`<text x="([0-9.]+)" y="[0-9.]+" font-size="11" text-anchor="middle" fill="#555">([0-9.]+)</text>`)
	a, e := ticks.FindAllStringSubmatch(au, -1), ticks.FindAllStringSubmatch(ex, -1)
	if len(a) < 5 || len(a) != len(e) {
		t.Fatalf("%d ticks in the AU plot, %d in the appearance plot", len(a), len(e))
	}
	for i := range a {
		if a[i][1] != e[i][1] || a[i][2] != e[i][2] {
			t.Errorf("tick %d: %s s at x=%s in the AU plot, %s s at x=%s in the appearance plot", i, a[i][2], a[i][1], e[i][2], e[i][1])
		}
	}
	band := regexp.MustCompile(`<rect x="([0-9.]+)" y="[0-9.]+" width="([0-9.]+)" height="[0-9.]+" fill="#b9d3ea"`)
	ba, be := band.FindStringSubmatch(au), band.FindStringSubmatch(ex)
	if ba == nil || be == nil || ba[1] != be[1] || ba[2] != be[2] {
		t.Errorf("event band %v in the AU plot, %v in the appearance plot", ba, be)
	}
	if !strings.Contains(ex, ">happiness</text>") {
		t.Error("the appearance curves are not named")
	}
}
