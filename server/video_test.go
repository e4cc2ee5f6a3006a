package server

import (
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/face/facetest"
	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/synth"
)

// synthMP4 renders a short synthetic micro-expression clip of the
// astronaut and encodes it as H.264 MP4 with ffmpeg.
func synthMP4(t *testing.T) (data []byte, frames int) {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not installed")
	}
	img, err := portrait.Astronaut()
	if err != nil {
		t.Fatal(err)
	}
	clips, err := synth.Plan(synth.NewFace(img, synth.AstronautLandmarks()), synth.Config{Seed: 5, FPS: 30, Kind: "micro", Width: 192, Height: 192, Scale: 1.1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := clips[0]
	dir := t.TempDir()
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	for i := 0; i < c.Frames; i++ {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("f%04d.png", i)))
		if err != nil {
			t.Fatal(err)
		}
		if err := enc.Encode(f, c.Frame(i, nil)); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	out := filepath.Join(dir, "clip.mp4")
	cmd := exec.Command(ffmpeg, "-loglevel", "error", "-framerate", "30", "-i", filepath.Join(dir, "f%04d.png"),
		"-c:v", "libx264", "-preset", "ultrafast", "-crf", "8", "-pix_fmt", "yuv420p", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("ffmpeg cannot encode H.264 here: %v: %s", err, msg)
	}
	data, err = os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data, c.Frames
}

// TestEndToEndVideo uploads a synthetic clip: every frame is analysed
// with the real detector and landmarks, and progress reaches the total.
func TestEndToEndVideo(t *testing.T) {
	facetest.ModelPath(t)
	data, frames := synthMP4(t)
	_, ts := newTestServer(t, Config{})
	code, m := upload(t, ts.URL, "clip.mp4", data)
	if code != http.StatusAccepted {
		t.Fatalf("upload: %d %v", code, m)
	}
	id := m["id"].(string)
	st := waitState(t, ts.URL, id, StateDone, StateFailed)
	if st["status"] != StateDone {
		t.Fatalf("job: %v", st)
	}
	p := st["progress"].(map[string]any)
	if int(p["frames"].(float64)) != frames {
		t.Errorf("progress %v, want %d frames", p, frames)
	}
	_, _, body := get(t, ts.URL+"/v1/jobs/"+id+"/events.json")
	var res analyze.Result
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	if res.Frames != frames || res.Tracked < frames*9/10 || res.FPS != 30 || res.Status != analyze.StatusComplete {
		t.Errorf("events.json: frames %d (want %d) tracked %d fps %v status %s", res.Frames, frames, res.Tracked, res.FPS, res.Status)
	}
	t.Logf("%d frames, %d tracked, %d events", res.Frames, res.Tracked, len(res.Events))
}

// TestNoFaceImageFails: an image without a face ends "failed" with the
// reason, and its partial outputs stay available.
func TestNoFaceImageFails(t *testing.T) {
	facetest.ModelPath(t)
	_, ts := newTestServer(t, Config{})
	// A flat grey PNG: decodable, but no face.
	code, m := upload(t, ts.URL, "grey.png", greyPNG(t))
	if code != http.StatusAccepted {
		t.Fatalf("upload: %d %v", code, m)
	}
	st := waitState(t, ts.URL, m["id"].(string), StateDone, StateFailed)
	if st["status"] != StateFailed || st["error"] == "" {
		t.Fatalf("job: %v", st)
	}
	if msg := st["error"].(string); strings.Contains(msg, "/") || strings.Contains(msg, "tell-worker") {
		t.Errorf("the error names a server path: %s", msg)
	}
	links := st["links"].(map[string]any)
	if links["events.json"] == nil {
		t.Fatalf("partial outputs not offered: %v", links)
	}
	_, _, body := get(t, ts.URL+links["events.json"].(string))
	var res analyze.Result
	if json.Unmarshal(body, &res) != nil || res.Status != analyze.StatusPartial {
		t.Errorf("events.json: %s", body)
	}
}

// TestConcurrentRealJobs runs two analyses of the same image at once on
// the shared landmarker: both finish with the same AUs.
func TestConcurrentRealJobs(t *testing.T) {
	facetest.ModelPath(t)
	_, ts := newTestServer(t, Config{Jobs: 2})
	var ids []string
	for i := 0; i < 2; i++ {
		code, m := upload(t, ts.URL, "astronaut.png", portrait.AstronautPNG())
		if code != http.StatusAccepted {
			t.Fatalf("upload: %d %v", code, m)
		}
		ids = append(ids, m["id"].(string))
	}
	var aus []string
	for _, id := range ids {
		if st := waitState(t, ts.URL, id, StateDone, StateFailed); st["status"] != StateDone {
			t.Fatalf("job: %v", st)
		}
		_, _, body := get(t, ts.URL+"/v1/jobs/"+id+"/events.json")
		var res analyze.Result
		if err := json.Unmarshal(body, &res); err != nil || len(res.Events) != 1 {
			t.Fatalf("events.json: %v %s", err, body)
		}
		b, _ := json.Marshal(res.Events[0].AUs)
		aus = append(aus, string(b))
	}
	if aus[0] != aus[1] {
		t.Errorf("concurrent runs differ:\n%s\n%s", aus[0], aus[1])
	}
	// A third run reuses a pooled appearance net: the same reading.
	code, m := upload(t, ts.URL, "astronaut.png", portrait.AstronautPNG())
	if code != http.StatusAccepted {
		t.Fatalf("upload: %d %v", code, m)
	}
	waitState(t, ts.URL, m["id"].(string), StateDone)
	_, _, body := get(t, ts.URL+"/v1/jobs/"+ids[0]+"/events.json")
	_, _, body3 := get(t, ts.URL+"/v1/jobs/"+m["id"].(string)+"/events.json")
	var r1, r3 analyze.Result
	json.Unmarshal(body, &r1)
	json.Unmarshal(body3, &r3)
	e1, _ := json.Marshal(r1.Events[0].Emotions)
	e3, _ := json.Marshal(r3.Events[0].Emotions)
	if string(e1) != string(e3) {
		t.Errorf("a reused net reads differently:\n%s\n%s", e1, e3)
	}
}

// TestVideoDurationBudgetInWorker: a job submitted around the server's
// check (as tell batch does) is still held to the worker's budget.
func TestVideoDurationBudgetInWorker(t *testing.T) {
	data, _ := synthMP4(t)
	_, ts := newTestServer(t, Config{Analysis: &Analysis{Landmarker: noLandmarker, Budget: Budget{MaxSeconds: 0.5}}})
	code, m := upload(t, ts.URL, "clip.mp4", data)
	if code != http.StatusAccepted {
		t.Fatalf("upload: %d %v", code, m)
	}
	st := waitState(t, ts.URL, m["id"].(string), StateDone, StateFailed)
	if st["status"] != StateFailed || !strings.Contains(st["error"].(string), "over the limit of 15 frames") {
		t.Errorf("job: %v", st)
	}
}
