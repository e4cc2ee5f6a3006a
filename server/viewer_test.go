package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/internal/cdp"
)

// TestJobPageViewer follows a real analysis of a synthetic clip on the job
// page in headless Chromium: the viewer plays the job's preview; after a
// click on the curves and on the event band, the cursor, the frame shown
// and the event card agree with events.json, all through the API (the
// page loads nothing else).
func TestJobPageViewer(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil || testing.Short() {
		t.Skip("no chromium (or -short)")
	}
	if _, err := analyze.NewFaceLandmarker(""); err != nil {
		t.Skipf("dlib landmark model not installed: %v", err)
	}
	data, frames := synthMP4(t)
	_, ts := newTestServer(t, Config{})
	code, m := upload(t, ts.URL, "clip.mp4", data)
	if code != http.StatusAccepted {
		t.Fatalf("upload: %d %v", code, m)
	}
	id := m["id"].(string)
	if st := waitState(t, ts.URL, id, StateDone, StateFailed); st["status"] != StateDone {
		t.Fatalf("job: %v", st)
	}
	_, _, body := get(t, ts.URL+"/v1/jobs/"+id+"/events.json")
	var res analyze.Result
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Events) == 0 {
		t.Fatal("no event spotted in the synthetic micro-expression")
	}
	ev := res.Events[0]
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	b, err := cdp.Start(ctx, chromium, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.SetViewport(ctx, 1200, 1400); err != nil {
		t.Fatal(err)
	}
	if err := b.Navigate(ctx, fmt.Sprintf("%s/#job=%s&frame=2", ts.URL, id)); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitFor(ctx, `document.getElementById("viewer").dataset.ready === "1"`); err != nil {
		t.Fatal(err)
	}
	type state struct{ Root, Cursor, Canvas, Card string }
	read := func() state {
		var s state
		b.Eval(ctx, `({Root: document.getElementById("viewer").dataset.frame, Cursor: document.querySelector("#tv-aus .tv-cursor").dataset.frame,
			Canvas: document.getElementById("tv-frame").dataset.frame || "", Card: document.getElementById("tv-card").dataset.event})`, &s)
		return s
	}
	agree := func(what string, frame int, card string) {
		t.Helper()
		want := fmt.Sprint(frame)
		b.WaitFor(ctx, fmt.Sprintf(`document.getElementById("tv-frame").dataset.frame === %q`, want))
		if s := read(); s.Root != want || s.Cursor != want || s.Canvas != want || s.Card != card {
			t.Errorf("%s: %+v, want frame %s everywhere and event %q", what, s, want, card)
		}
	}
	agree("opened at #frame=2", 2, "")
	// The event band: its onset, and its card.
	var xy [2]float64
	if err := b.Eval(ctx, `(() => { const r = document.querySelector('#tv-aus .tv-band[data-event="1"]').getBoundingClientRect(); return [r.left + r.width / 2, r.top + 30]; })()`, &xy); err != nil {
		t.Fatal(err)
	}
	b.Click(ctx, xy[0], xy[1])
	agree("click on the event band", ev.Onset, "1")
	// A click on the curves past the event: that frame, no event.
	last := frames
	if err := b.Eval(ctx, fmt.Sprintf(`(() => { const svg = document.getElementById("tv-aus"), p = svg.createSVGPoint();
		p.x = 46 + (1000 - 46 - 88) * %d / %d; p.y = 60; const q = p.matrixTransform(svg.getScreenCTM()); return [q.x, q.y]; })()`, last-1, frames-1), &xy); err != nil {
		t.Fatal(err)
	}
	b.Click(ctx, xy[0], xy[1])
	card := ""
	if ev.Offset >= last {
		card = "1"
	}
	agree("click on the curves at the last frame", last, card)
	for _, line := range b.Console() {
		t.Errorf("console: %s", line)
	}
}
