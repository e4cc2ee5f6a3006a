package viewer

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tell-project/tell/frames"
	"github.com/tell-project/tell/internal/cdp"
	"github.com/tell-project/tell/preview"
	"github.com/tell-project/tell/raster"
)

const chromium = "/usr/bin/chromium"

// level is frame pos's grey level in the test clip: the frame shown can be
// read back from the canvas's pixels.
func level(pos int) float32 { return float32(20 + 4*pos) }

// writeRun writes a run folder as tell analyze would lay it out: n frames
// numbered from first (a numbered folder), at fps, faces faces per frame,
// AU04 rising in frames 20–30 of face 0 (the event) and AU12 rising in
// frames 35–45 of face 1; a preview whose frame pos is grey level(pos).
func writeRun(t *testing.T, dir string, n, first int, fps float64, faces int) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "frames.csv"))
	if err != nil {
		t.Fatal(err)
	}
	aus := []int{1, 2, 4, 12}
	w, err := frames.NewWriter(f, frames.Layout{AUs: aus, Extra: []string{"anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral"}})
	if err != nil {
		t.Fatal(err)
	}
	for p := 0; p < n; p++ {
		for face := 0; face < faces; face++ {
			r := frames.Row{Frame: first + p, FaceID: face, Timestamp: float64(p) / fps, Confidence: 0.9, Success: true,
				Intensity: make([]float32, len(aus)), Present: make([]bool, len(aus)), Extra: make([]float64, 7)}
			if face == 0 && p >= 20 && p <= 30 {
				r.Intensity[2] = 0.2 * float32(math.Sin(math.Pi*float64(p-20)/10))
			}
			if face == 1 && p >= 35 && p <= 45 {
				r.Intensity[3] = 1.5
			}
			r.Extra[6] = 0.9
			r.Extra[3] = 0.1
			if err := w.Write(&r); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	events := map[string]any{"input": "clip", "fps": fps, "frames": n, "frame_numbers": "file names", "frame_base": first,
		"events": []map[string]any{
			{"id": 1, "onset": first + 20, "apex": first + 25, "offset": first + 30, "onset_s": 20 / fps, "offset_s": 30 / fps, "kind": "micro", "label": "disgust", "face_id": 0,
				"aus": []map[string]any{{"au": 4, "name": "Brow Lowerer", "intensity": 0.2, "letter": ""}}, "emotions": map[string]float64{"disgust": 0.7, "anger": 0.3},
				"cot": map[string]any{"text": "**Key Observations:** the brows lower."}},
		}}
	if faces > 1 {
		events["events"] = append(events["events"].([]map[string]any), map[string]any{"id": 2, "onset": first + 35, "apex": first + 40, "offset": first + 45,
			"onset_s": 35 / fps, "offset_s": 45 / fps, "kind": "macro", "label": "happiness", "face_id": 1, "aus": []map[string]any{{"au": 12, "intensity": 1.5, "letter": "B"}}})
	}
	b, _ := json.Marshal(events)
	if err := os.WriteFile(filepath.Join(dir, "events.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	pf, err := os.Create(filepath.Join(dir, preview.Name))
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := preview.NewWriter(pf, n, 0)
	for p := 0; p < n; p++ {
		g := raster.NewGray(64, 48)
		for i := range g.Pix {
			g.Pix[i] = level(p)
		}
		if err := pw.Add(p, g, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	pf.Close()
}

// state is what the page shows: the frame number of the cursor, of the
// readout and of the canvas, the canvas's grey level, the cursor's x in
// viewBox units and the event card's event.
type state struct {
	Root, Cursor, Canvas string
	Level                float64
	CursorX              float64
	Card                 string
	Curves               int
}

const readState = `(() => {
  const root = document.getElementById("viewer"), c = document.getElementById("tv-frame");
  const o = document.createElement("canvas");
  o.width = o.height = 1;
  const g = o.getContext("2d", {willReadFrequently: true});
  g.drawImage(c, c.width >> 1, c.height >> 1, 1, 1, 0, 0, 1, 1);
  const px = g.getImageData(0, 0, 1, 1).data;
  const cur = document.querySelector("#tv-aus .tv-cursor");
  return {Root: root.dataset.frame, Cursor: cur.dataset.frame, Canvas: c.dataset.frame || "", Level: px[0],
    CursorX: Number(cur.getAttribute("x1")), Card: document.getElementById("tv-card").dataset.event,
    Curves: document.querySelectorAll("#tv-aus polyline").length};
})()`

// clientX is the page x of viewBox x in the AU plot, and a y inside it.
const clientXY = `((vx) => {
  const svg = document.getElementById("tv-aus"), m = svg.getScreenCTM(), p = svg.createSVGPoint();
  p.x = vx; p.y = 100;
  const q = p.matrixTransform(m);
  return [q.x, q.y];
})`

// TestViewerInChromium loads tell view's page on a run in headless
// Chromium: opened at a frame, after a click on the curves, a click on an
// event band and a key, the cursor, the frame shown (read from the
// canvas's pixels) and the event card agree; with two faces a face is
// chosen and its own curves and events are shown.
func TestViewerInChromium(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil || testing.Short() {
		t.Skip("no chromium (or -short)")
	}
	const n, first, fps = 60, 101, 200.0
	x := func(pos int) float64 { return 46 + (1000-46-88)*float64(pos)/float64(n-1) }
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	b, err := cdp.Start(ctx, chromium, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.SetViewport(ctx, 1200, 1000); err != nil {
		t.Fatal(err)
	}
	open := func(faces int, frame int) string {
		dir := t.TempDir()
		writeRun(t, dir, n, first, fps, faces)
		h, err := Handler(dir)
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(h)
		t.Cleanup(ts.Close)
		if err := b.Navigate(ctx, fmt.Sprintf("%s/#frame=%d", ts.URL, frame)); err != nil {
			t.Fatal(err)
		}
		if err := b.WaitFor(ctx, `document.getElementById("viewer").dataset.ready === "1"`); err != nil {
			t.Fatal(err)
		}
		return ts.URL
	}
	check := func(what string, pos int, event string) state {
		t.Helper()
		want := fmt.Sprint(first + pos)
		if err := b.WaitFor(ctx, fmt.Sprintf(`document.getElementById("tv-frame").dataset.frame === %q`, want)); err != nil {
			t.Errorf("%s: %v", what, err)
		}
		var s state
		if err := b.Eval(ctx, readState, &s); err != nil {
			t.Fatal(err)
		}
		if s.Root != want || s.Cursor != want || s.Canvas != want || math.Abs(s.Level-float64(level(pos))) > 2 ||
			math.Abs(s.CursorX-x(pos)) > 0.5 || s.Card != event {
			t.Errorf("%s: page shows %+v; want frame %s everywhere, grey %v, cursor x %.1f, event %q", what, s, want, level(pos), x(pos), event)
		}
		return s
	}
	click := func(pos int) {
		t.Helper()
		var xy [2]float64
		if err := b.Eval(ctx, fmt.Sprintf("%s(%f)", clientXY, x(pos)), &xy); err != nil {
			t.Fatal(err)
		}
		if err := b.Click(ctx, xy[0], xy[1]); err != nil {
			t.Fatal(err)
		}
	}

	open(1, first+10)
	check("opened at #frame=111", 10, "")
	click(50)
	check("click on the curves at frame 151", 50, "")
	// A click on the event band (frames 121–131) goes to its onset.
	var band [2]float64
	if err := b.Eval(ctx, `(() => { const r = document.querySelector('#tv-aus .tv-band[data-event="1"]').getBoundingClientRect(); return [r.left + r.width / 2, r.top + 20]; })()`, &band); err != nil {
		t.Fatal(err)
	}
	if err := b.Click(ctx, band[0], band[1]); err != nil {
		t.Fatal(err)
	}
	s := check("click on the event band", 20, "1")
	if s.Curves != 1 {
		t.Errorf("%d AU curves: the event's AU04, below presence, should be the one drawn", s.Curves)
	}
	if err := b.Eval(ctx, `document.getElementById("viewer").focus()`, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Key(ctx, "ArrowRight"); err != nil {
		t.Fatal(err)
	}
	check("one frame on", 21, "1")
	var card string
	b.Eval(ctx, `document.getElementById("tv-card").textContent`, &card)
	if !strings.Contains(card, "disgust") || !strings.Contains(card, "frames 121–131") || !strings.Contains(card, "AU04") {
		t.Errorf("event card: %q", card)
	}
	// Playing moves the cursor and the frame together.
	if err := b.Eval(ctx, `document.getElementById("tv-play").click()`, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitFor(ctx, `Number(document.getElementById("viewer").dataset.frame) >= 130`); err != nil {
		t.Errorf("playing: %v", err)
	}

	// Two faces: a selector; face 1's curves (AU12) and event.
	open(2, first+40)
	var faces []string
	if err := b.Eval(ctx, `Array.from(document.querySelectorAll("#tv-face option")).map(o => o.textContent)`, &faces); err != nil || len(faces) != 2 {
		t.Fatalf("face selector %v (%v)", faces, err)
	}
	check("face 0 at frame 141", 40, "")
	if err := b.Eval(ctx, `(() => { const s = document.getElementById("tv-face"); s.value = "1"; s.dispatchEvent(new Event("change")); })()`, nil); err != nil {
		t.Fatal(err)
	}
	check("face 1 at frame 141", 40, "2")
	var series []string
	b.Eval(ctx, `Array.from(document.querySelectorAll("#tv-aus polyline")).map(p => p.dataset.series)`, &series)
	if len(series) != 1 || series[0] != "AU12" {
		t.Errorf("face 1's curves %v, want AU12", series)
	}
	for _, line := range b.Console() {
		t.Errorf("console: %s", line)
	}
}
