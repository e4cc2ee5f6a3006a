package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/portrait"
)

// newTestServer starts s behind httptest's loopback listener.
func newTestServer(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	if cfg.Workdir == "" {
		cfg.Workdir = t.TempDir()
	}
	if cfg.Version == "" {
		cfg.Version = "test-1"
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		s.Close()
	})
	return s, ts
}

// fakeAnalyzer stands in for analyze.Run: it records the runs, blocks
// until released or cancelled, and writes small outputs.
type fakeAnalyzer struct {
	release   chan struct{}
	running   atomic.Int32
	maxSeen   atomic.Int32
	runs      atomic.Int32
	cancelled chan string // inputs whose context was cancelled
}

func newFake() *fakeAnalyzer {
	return &fakeAnalyzer{release: make(chan struct{}), cancelled: make(chan string, 16)}
}

func (f *fakeAnalyzer) run(ctx context.Context, input string, opt analyze.Options) (*analyze.Result, error) {
	f.runs.Add(1)
	n := f.running.Add(1)
	defer f.running.Add(-1)
	for {
		m := f.maxSeen.Load()
		if n <= m || f.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	opt.Progress(3, 10)
	select {
	case <-f.release:
	case <-ctx.Done():
		f.cancelled <- input
		return nil, ctx.Err()
	}
	if err := os.MkdirAll(opt.Out, 0o755); err != nil {
		return nil, err
	}
	res := &analyze.Result{Input: input, Status: analyze.StatusComplete, Frames: 10, Tracked: 10, Events: []analyze.Event{}}
	b, _ := json.Marshal(res)
	for name, data := range map[string][]byte{"events.json": b, "frames.csv": []byte("frame,timestamp\n"), "report.html": []byte("<!doctype html><title>r</title>")} {
		if err := os.WriteFile(filepath.Join(opt.Out, name), data, 0o644); err != nil {
			return nil, err
		}
	}
	opt.Progress(10, 10)
	return res, nil
}

func noLandmarker() (analyze.Landmarker, error) { return nil, nil }

// multipartBody builds an upload with the file under field.
func multipartBody(t *testing.T, field, filename string, data []byte) (*bytes.Buffer, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	w, err := mw.CreateFormFile(field, filename)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	mw.Close()
	return &b, mw.FormDataContentType()
}

func upload(t *testing.T, base, filename string, data []byte) (int, map[string]any) {
	t.Helper()
	body, ct := multipartBody(t, "file", filename, data)
	return do(t, "POST", base+"/v1/analyze", ct, body)
}

// do sends a request and decodes the JSON answer (nil for an empty body).
func do(t *testing.T, method, url, ct string, body io.Reader) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) == 0 {
		return resp.StatusCode, nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s: status %d, body not JSON: %q", method, url, resp.StatusCode, raw)
	}
	return resp.StatusCode, m
}

func get(t *testing.T, url string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// waitState polls a job until it reaches one of the states.
func waitState(t *testing.T, base, id string, states ...string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		code, st := do(t, "GET", base+"/v1/jobs/"+id, "", nil)
		if code != http.StatusOK {
			t.Fatalf("job %s: status %d %v", id, code, st)
		}
		for _, s := range states {
			if st["status"] == s {
				return st
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s stuck in %v, want %v", id, st["status"], states)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tinyPNG is a valid PNG signature followed by filler: enough for sniffing.
func tinyPNG(n int) []byte {
	b := make([]byte, n)
	copy(b, "\x89PNG\r\n\x1a\n")
	return b
}

// entries lists what the server's work folder holds.
func entries(t *testing.T, s *Server) []string {
	t.Helper()
	es, err := os.ReadDir(s.root)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestEndToEnd analyses the public-domain astronaut portrait through the
// API with the real face detector and dlib landmarks.
func TestEndToEnd(t *testing.T) {
	if _, err := analyze.NewFaceLandmarker(""); err != nil {
		t.Skipf("dlib landmark model not installed, skipping the real pipeline: %v", err)
	}
	s, ts := newTestServer(t, Config{})
	code, acc := upload(t, ts.URL, "astronaut.png", portrait.AstronautPNG())
	if code != http.StatusAccepted {
		t.Fatalf("upload: %d %v", code, acc)
	}
	id := acc["id"].(string)
	if acc["status_url"] != "/v1/jobs/"+id || !validID(id) {
		t.Fatalf("accepted %v", acc)
	}
	st := waitState(t, ts.URL, id, StateDone, StateFailed)
	if st["status"] != StateDone {
		t.Fatalf("job: %v", st)
	}
	if st["input"] != "astronaut.png" {
		t.Errorf("input %v", st["input"])
	}
	res := st["result"].(map[string]any)
	if res["frames"] != 1.0 || res["tracked_frames"] != 1.0 || res["events"] != 1.0 {
		t.Errorf("result %v", res)
	}
	code, hdr, body := get(t, ts.URL+"/v1/jobs/"+id+"/events.json")
	var ev analyze.Result
	if code != 200 || json.Unmarshal(body, &ev) != nil || len(ev.Events) != 1 || ev.Events[0].Kind != "still" || ev.Events[0].CoT.Text == "" {
		t.Fatalf("events.json: %d %s", code, body)
	}
	if !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
		t.Errorf("events.json content type %q", hdr.Get("Content-Type"))
	}
	code, _, body = get(t, ts.URL+"/v1/jobs/"+id+"/frames.csv")
	if code != 200 || !strings.HasPrefix(string(body), "frame,face_id,timestamp,confidence,success,pose_Tx") || strings.Count(string(body), "\n") != 2 {
		t.Errorf("frames.csv: %d %.80q", code, body)
	}
	code, hdr, body = get(t, ts.URL+"/v1/jobs/"+id+"/report.html")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") || !bytes.Contains(body, []byte("<html")) || hdr.Get("Content-Security-Policy") == "" {
		t.Errorf("report.html: %d %q", code, hdr)
	}
	// The upload itself is gone once analysed; the outputs stay.
	if _, err := os.Stat(filepath.Join(s.root, id, "input.png")); !os.IsNotExist(err) {
		t.Errorf("upload kept after the run: %v", err)
	}
	if code, _ := do(t, "DELETE", ts.URL+"/v1/jobs/"+id, "", nil); code != http.StatusNoContent {
		t.Errorf("delete: %d", code)
	}
	if code, _ := do(t, "GET", ts.URL+"/v1/jobs/"+id, "", nil); code != http.StatusNotFound {
		t.Errorf("deleted job: %d", code)
	}
	waitGone(t, filepath.Join(s.root, id))
}

func waitGone(t *testing.T, path string) {
	t.Helper()
	for i := 0; ; i++ {
		if _, err := os.Stat(path); os.IsNotExist(err) {
			return
		}
		if i > 500 {
			t.Fatalf("%s not removed", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestBadUploads(t *testing.T) {
	fake := newFake()
	s, ts := newTestServer(t, Config{Analyze: fake.run, Landmarker: noLandmarker})
	multi := func(field, name string, data []byte) (io.Reader, string) {
		b, ct := multipartBody(t, field, name, data)
		return b, ct
	}
	cases := []struct {
		name string
		body func() (io.Reader, string)
		want int
		msg  string
	}{
		{"text file", func() (io.Reader, string) { return multi("file", "a.png", []byte("just some text, not a picture")) }, 415, "not a PNG"},
		{"gif", func() (io.Reader, string) { return multi("file", "a.gif", []byte("GIF89a\x01\x00\x01\x00")) }, 415, "not a PNG"},
		{"BM text", func() (io.Reader, string) { return multi("file", "a.bmp", []byte("BMW is a car maker, not a bitmap")) }, 415, "not a PNG"},
		{"empty file", func() (io.Reader, string) { return multi("file", "a.png", nil) }, 400, "empty"},
		{"no file field", func() (io.Reader, string) { return multi("picture", "a.png", tinyPNG(64)) }, 400, `no "file" field`},
		{"not multipart", func() (io.Reader, string) { return strings.NewReader("x"), "text/plain" }, 415, "multipart/form-data"},
		{"no content type", func() (io.Reader, string) { return strings.NewReader("x"), "" }, 415, "multipart/form-data"},
		{"broken multipart", func() (io.Reader, string) {
			return strings.NewReader("--xyz\r\nContent-Disp"), "multipart/form-data; boundary=xyz"
		}, 400, "multipart"},
		{"multipart without boundary", func() (io.Reader, string) { return strings.NewReader("x"), "multipart/form-data" }, 400, "multipart"},
		{"path when not allowed", func() (io.Reader, string) { return strings.NewReader(`{"path":"/etc/passwd"}`), "application/json" }, 403, "disabled"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body, ct := tc.body()
			code, m := do(t, "POST", ts.URL+"/v1/analyze", ct, body)
			if code != tc.want {
				t.Fatalf("status %d, want %d: %v", code, tc.want, m)
			}
			if msg, _ := m["error"].(string); !strings.Contains(msg, tc.msg) {
				t.Errorf("error %q, want it to mention %q", msg, tc.msg)
			}
		})
	}
	if n := fake.runs.Load(); n != 0 {
		t.Errorf("%d analyses ran for bad uploads", n)
	}
	if e := entries(t, s); len(e) != 0 {
		t.Errorf("bad uploads left files: %v", e)
	}
}

func TestOversize(t *testing.T) {
	fake := newFake()
	close(fake.release)
	const limit = 4096
	s, ts := newTestServer(t, Config{Analyze: fake.run, Landmarker: noLandmarker, MaxUpload: limit})
	for _, n := range []int{limit + 1, 3 * limit, 200 * limit} {
		code, m := upload(t, ts.URL, "big.png", tinyPNG(n))
		if code != http.StatusRequestEntityTooLarge || !strings.Contains(fmt.Sprint(m["error"]), "limit") {
			t.Errorf("%d bytes: %d %v", n, code, m)
		}
	}
	if e := entries(t, s); len(e) != 0 {
		t.Errorf("oversize uploads left files: %v", e)
	}
	// Exactly at the limit is fine.
	code, m := upload(t, ts.URL, "ok.png", tinyPNG(limit))
	if code != http.StatusAccepted {
		t.Fatalf("%d bytes: %d %v", limit, code, m)
	}
	waitState(t, ts.URL, m["id"].(string), StateDone)
}

func TestUnknownJobAndRoutes(t *testing.T) {
	_, ts := newTestServer(t, Config{Analyze: newFake().run, Landmarker: noLandmarker})
	cases := []struct {
		method, path string
		want         int
	}{
		{"GET", "/v1/jobs/0123456789abcdef0123456789abcdef", 404},
		{"DELETE", "/v1/jobs/0123456789abcdef0123456789abcdef", 404},
		{"GET", "/v1/jobs/0123456789abcdef0123456789abcdef/report.html", 404},
		{"GET", "/v1/jobs/not-a-job", 404},
		{"GET", "/v1/jobs/0123456789abcdef0123456789abcdef/passwd", 404},
		{"GET", "/v1/nothing", 404},
		{"POST", "/v1/jobs/0123456789abcdef0123456789abcdef", 405},
		{"GET", "/v1/analyze", 405},
		{"PUT", "/v1/cot", 405},
		{"POST", "/healthz", 405},
	}
	for _, tc := range cases {
		code, m := do(t, tc.method, ts.URL+tc.path, "", nil)
		if code != tc.want || m["error"] == nil || m["error"] == "" {
			t.Errorf("%s %s: %d %v, want %d with a JSON error", tc.method, tc.path, code, m, tc.want)
		}
	}
	code, hdr, _ := get(t, ts.URL+"/healthz")
	if code != 200 || hdr.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("healthz %d %v", code, hdr)
	}
	if code, m := do(t, "GET", ts.URL+"/v1/version", "", nil); code != 200 || m["version"] != "test-1" {
		t.Errorf("version %d %v", code, m)
	}
	code, hdr, body := get(t, ts.URL+"/")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") || !bytes.Contains(body, []byte(`<form id="upload-form"`)) || !strings.Contains(hdr.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Errorf("page: %d %v", code, hdr)
	}
	for _, p := range []string{"/app.js", "/app.css"} {
		if code, _, body := get(t, ts.URL+p); code != 200 || len(body) < 100 {
			t.Errorf("%s: %d", p, code)
		}
	}
}

func TestCancel(t *testing.T) {
	fake := newFake()
	s, ts := newTestServer(t, Config{Analyze: fake.run, Landmarker: noLandmarker})
	code, m := upload(t, ts.URL, "a.png", tinyPNG(100))
	if code != http.StatusAccepted {
		t.Fatalf("upload %d %v", code, m)
	}
	id := m["id"].(string)
	st := waitState(t, ts.URL, id, StateRunning)
	if p := st["progress"].(map[string]any); p["frames"] != 3.0 || p["total"] != 10.0 || p["fraction"] != 0.3 {
		t.Errorf("progress %v", p)
	}
	// Outputs are refused while the job runs.
	if code, m := do(t, "GET", ts.URL+"/v1/jobs/"+id+"/events.json", "", nil); code != http.StatusConflict {
		t.Errorf("events.json of a running job: %d %v", code, m)
	}
	if code, _ := do(t, "DELETE", ts.URL+"/v1/jobs/"+id, "", nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}
	select {
	case in := <-fake.cancelled:
		if filepath.Dir(in) != filepath.Join(s.root, id) {
			t.Errorf("cancelled input %s", in)
		}
	case <-time.After(time.Minute):
		t.Fatal("the analysis never saw the cancellation")
	}
	if code, _ := do(t, "GET", ts.URL+"/v1/jobs/"+id, "", nil); code != http.StatusNotFound {
		t.Errorf("deleted job: %d", code)
	}
	waitGone(t, filepath.Join(s.root, id))
}

func TestConcurrencyLimit(t *testing.T) {
	fake := newFake()
	_, ts := newTestServer(t, Config{Analyze: fake.run, Landmarker: noLandmarker, Jobs: 2, MaxQueued: 3})
	var ids []string
	submit := func(n int) {
		for i := 0; i < n; i++ {
			code, m := upload(t, ts.URL, fmt.Sprintf("%d.png", len(ids)), tinyPNG(100))
			if code != http.StatusAccepted {
				t.Fatalf("upload %d: %d %v", len(ids), code, m)
			}
			ids = append(ids, m["id"].(string))
		}
	}
	// Two run; three more wait, so the queue is full.
	submit(2)
	for _, id := range ids {
		waitState(t, ts.URL, id, StateRunning)
	}
	submit(3)
	running := 0
	for _, id := range ids {
		if _, st := do(t, "GET", ts.URL+"/v1/jobs/"+id, "", nil); st["status"] == StateRunning {
			running++
		}
	}
	code, m := upload(t, ts.URL, "late.png", tinyPNG(100))
	if code != http.StatusServiceUnavailable {
		t.Errorf("upload beyond the queue: %d %v", code, m)
	}
	queued := 0
	for _, id := range ids {
		if _, st := do(t, "GET", ts.URL+"/v1/jobs/"+id, "", nil); st["status"] == StateQueued {
			queued++
		}
	}
	if running != 2 || queued != 3 {
		t.Errorf("running %d queued %d, want 2 and 3", running, queued)
	}
	// A queued job can be cancelled without ever running.
	var cancelled string
	for _, id := range ids {
		if _, st := do(t, "GET", ts.URL+"/v1/jobs/"+id, "", nil); st["status"] == StateQueued {
			cancelled = id
			break
		}
	}
	do(t, "DELETE", ts.URL+"/v1/jobs/"+cancelled, "", nil)
	close(fake.release)
	for _, id := range ids {
		if id != cancelled {
			waitState(t, ts.URL, id, StateDone)
		}
	}
	if got := fake.maxSeen.Load(); got != 2 {
		t.Errorf("at most %d analyses ran at once, want 2", got)
	}
	if got := fake.runs.Load(); got != 4 {
		t.Errorf("%d analyses ran, want 4 (one was cancelled while queued)", got)
	}
	code, m = do(t, "GET", ts.URL+"/v1/jobs", "", nil)
	if js, _ := m["jobs"].([]any); code != 200 || len(js) != 4 {
		t.Errorf("job list: %d %v", code, m)
	}
}

func TestPathTraversal(t *testing.T) {
	fake := newFake()
	close(fake.release)
	base := t.TempDir()
	allowed := filepath.Join(base, "allowed")
	outside := filepath.Join(base, "outside")
	os.MkdirAll(filepath.Join(allowed, "clips"), 0o755)
	os.MkdirAll(outside, 0o755)
	os.WriteFile(filepath.Join(allowed, "clips", "in.png"), tinyPNG(100), 0o644)
	os.WriteFile(filepath.Join(outside, "secret.png"), tinyPNG(100), 0o644)
	symlinked := true
	if err := os.Symlink(filepath.Join(outside, "secret.png"), filepath.Join(allowed, "link.png")); err != nil {
		symlinked = false
	}
	s, ts := newTestServer(t, Config{Analyze: fake.run, Landmarker: noLandmarker, AllowPaths: allowed})
	cases := []struct {
		path string
		want int
	}{
		{"clips/in.png", 202},
		{filepath.Join(allowed, "clips", "in.png"), 202},
		{"clips", 202}, // a folder of frames
		{"../outside/secret.png", 403},
		{"clips/../../outside/secret.png", 403},
		{filepath.Join(outside, "secret.png"), 403},
		{"/etc/passwd", 403},
		{"..", 403},
		{"nothing.png", 404},
		{"", 400},
	}
	if symlinked {
		cases = append(cases, struct {
			path string
			want int
		}{"link.png", 403})
	}
	for _, tc := range cases {
		b, _ := json.Marshal(map[string]string{"path": tc.path})
		code, m := do(t, "POST", ts.URL+"/v1/analyze", "application/json", bytes.NewReader(b))
		if code != tc.want {
			t.Errorf("path %q: %d %v, want %d", tc.path, code, m, tc.want)
			continue
		}
		if code == 202 {
			st := waitState(t, ts.URL, m["id"].(string), StateDone)
			if in := st["input"].(string); strings.HasPrefix(in, "/") || strings.Contains(in, "..") {
				t.Errorf("input shown as %q", in)
			}
		}
	}
	code, m := do(t, "POST", ts.URL+"/v1/analyze", "application/json", strings.NewReader(`{"path":"clips/in.png","extra":1}`))
	if code != 400 {
		t.Errorf("unknown field: %d %v", code, m)
	}
	// The server's files must stay under its own folder whatever the
	// client names its upload, and no URL reaches past a job's outputs.
	code, m = upload(t, ts.URL, "../../../../evil.png", tinyPNG(100))
	if code != 202 {
		t.Fatalf("upload: %d %v", code, m)
	}
	id := m["id"].(string)
	st := waitState(t, ts.URL, id, StateDone)
	if st["input"] != "evil.png" {
		t.Errorf("display name %v", st["input"])
	}
	if _, err := os.Stat(filepath.Join(base, "evil.png")); err == nil {
		t.Error("upload escaped the work folder")
	}
	for _, p := range []string{
		"/v1/jobs/" + id + "/..%2Finput.png",
		"/v1/jobs/" + id + "/%2e%2e",
		"/v1/jobs/" + id + "/out",
		"/v1/jobs/..%2F..%2F" + id + "/report.html",
		"/v1/jobs/" + id + "%2F..%2F..%2Fetc/report.html",
		"/v1/jobs/" + strings.ToUpper(id) + "/report.html",
	} {
		req, _ := http.NewRequest("GET", ts.URL+p, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 || bytes.Contains(b, []byte("\x89PNG")) {
			t.Errorf("GET %s: %d %q", p, resp.StatusCode, b)
		}
	}
	// The job's folder holds only the outputs once the upload is analysed.
	es, err := os.ReadDir(filepath.Join(s.root, id))
	if err != nil || len(es) != 1 || es[0].Name() != "out" {
		t.Errorf("job folder: %v %v", es, err)
	}
}

func TestCoT(t *testing.T) {
	_, ts := newTestServer(t, Config{Analyze: newFake().run, Landmarker: noLandmarker})
	post := func(body string) (int, map[string]any) {
		return do(t, "POST", ts.URL+"/v1/cot", "application/json", strings.NewReader(body))
	}
	cases := []struct {
		body  string
		want  int
		label string
	}{
		{`{"aus":"6+12"}`, 200, "happiness"},
		{`{"aus":"1+2+5B+26"}`, 200, "surprise"},
		{`{"evidence":[{"au":12,"intensity":0.8},{"au":6,"intensity":0.6}]}`, 200, "happiness"},
		{`{"evidence":{"AU12":0.8,"AU06":0.6}}`, 200, "happiness"},
		{`{"aus":"6+12","classes":["negative","positive","surprise"]}`, 200, "positive"},
		{`{"aus":"6+12","evidence":[{"au":4,"intensity":0.5}]}`, 422, ""},
		{`{}`, 422, ""},
		{`{"aus":"99Z"}`, 422, ""},
		{`{"evidence":[{"au":12,"intensity":7}]}`, 422, ""},
		{`{"evidence":"12"}`, 422, ""},
		{`{"aus":"6+12","labl":"x"}`, 400, ""},
		{`{"aus":`, 400, ""},
		{``, 400, ""},
		{`{"aus":"6+12"} {}`, 400, ""},
	}
	for _, tc := range cases {
		code, m := post(tc.body)
		if code != tc.want {
			t.Errorf("%s: %d %v, want %d", tc.body, code, m, tc.want)
			continue
		}
		if code != 200 {
			if m["error"] == nil {
				t.Errorf("%s: no error message", tc.body)
			}
			continue
		}
		if got := m["conclusion"].(map[string]any)["label"]; got != tc.label {
			t.Errorf("%s: label %v, want %s", tc.body, got, tc.label)
		}
		if !strings.Contains(m["text"].(string), "**Conclusion:**") {
			t.Errorf("%s: text lacks the three-part structure", tc.body)
		}
	}
	// The example, with a true label: the same structure and text
	// as the library gives (tell cot --json prints that structure).
	code, m := post(`{"aus":"4B+7A+L10","label":"disgust","seed":1}`)
	want, err := ChainOfThought(CoTRequest{AUs: "4B+7A+L10", Label: "disgust", Seed: 1})
	if err != nil || code != 200 {
		t.Fatalf("%d %v %v", code, m, err)
	}
	if m["text"] != want.Text || m["verification"] == nil {
		t.Errorf("served text differs from the engine's:\n%v\n%s", m["text"], want.Text)
	}
}

// TestGracefulShutdown cancels Serve's context while a job runs: Serve
// returns, the job's analysis sees the cancellation, the files go.
func TestGracefulShutdown(t *testing.T) {
	fake := newFake()
	s, err := New(Config{Workdir: t.TempDir(), Analyze: fake.run, Landmarker: noLandmarker})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()
	code, m := upload(t, base, "a.png", tinyPNG(100))
	if code != http.StatusAccepted {
		t.Fatalf("upload %d %v", code, m)
	}
	waitState(t, base, m["id"].(string), StateRunning)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Serve did not return after cancellation")
	}
	select {
	case <-fake.cancelled:
	default:
		t.Error("the running analysis was not cancelled")
	}
	if _, err := os.Stat(s.root); !os.IsNotExist(err) {
		t.Errorf("work folder left: %v", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("still serving after shutdown")
	}
}

func TestSniff(t *testing.T) {
	bmp := make([]byte, 30)
	copy(bmp, "BM")
	bmp[14] = 40
	cases := []struct {
		head      string
		ext, kind string
	}{
		{"\x89PNG\r\n\x1a\n....", ".png", "image"},
		{"\xff\xd8\xff\xe0", ".jpg", "image"},
		{string(bmp), ".bmp", "image"},
		{"\x00\x00\x00\x20ftypisom", ".mp4", "video"},
		{"\x00\x00\x00\x14ftypqt  ", ".mov", "video"},
		{"\x1a\x45\xdf\xa3\x01", ".mkv", "video"},
		{"RIFF\x00\x00\x00\x00AVI LIST", ".avi", "video"},
		{"\x00\x00\x01\xba\x44", ".mpg", "video"},
		{"GIF89a", "", ""},
		{"BM short", "", ""},
		{"RIFF\x00\x00\x00\x00WAVEfmt ", "", ""},
		{"<html>", "", ""},
		{"", "", ""},
		{"\x89PN", "", ""},
	}
	for _, tc := range cases {
		ext, kind := Sniff([]byte(tc.head))
		if ext != tc.ext || kind != tc.kind {
			t.Errorf("Sniff(%q) = %q %q, want %q %q", tc.head, ext, kind, tc.ext, tc.kind)
		}
	}
}

func TestDisplayName(t *testing.T) {
	cases := map[string]string{
		"clip.mp4":               "clip.mp4",
		"../../etc/passwd":       "passwd",
		`C:\Users\me\face.png`:   "face.png",
		"a\x00b\nc.png":          "abc.png",
		"..":                     "fallback",
		"":                       "fallback",
		"dir/":                   "fallback",
		strings.Repeat("é", 300): strings.Repeat("é", 100),
	}
	for in, want := range cases {
		if got := displayName(in, "fallback"); got != want {
			t.Errorf("displayName(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzDisplayName(f *testing.F) {
	for _, s := range []string{"a.png", "../x", `a\b`, "\x00", ".."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := displayName(s, "x")
		if strings.ContainsAny(got, "/\\\x00\n\r") || got == ".." || got == "." || len([]rune(got)) > 100 {
			t.Errorf("displayName(%q) = %q", s, got)
		}
	})
}

// FuzzCoTRequest: any body gets a CoT or an error, never a panic, and a
// CoT always has a label.
func FuzzCoTRequest(f *testing.F) {
	for _, s := range []string{`{"aus":"6+12"}`, `{"evidence":[{"au":4,"intensity":0.5}]}`, `{"evidence":{"AU12_r":2}}`, `{"aus":"R12A+L14"}`, `{"aus":"1/2+5?"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req CoTRequest
		if json.Unmarshal(body, &req) != nil {
			return
		}
		c, err := ChainOfThought(req)
		if err == nil && c.Conclusion.Label == "" {
			t.Errorf("%s: empty label", body)
		}
	})
}

// TestCloseIdempotent: Close may be called more than once, concurrently.
func TestCloseIdempotent(t *testing.T) {
	s, err := New(Config{Workdir: t.TempDir(), Analyze: newFake().run, Landmarker: noLandmarker})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); s.Close() }()
	}
	wg.Wait()
	if err := s.Close(); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Error(err)
	}
}

func greyPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 64, 64))
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestExpiry: finished jobs are removed, files and all, after Keep.
func TestExpiry(t *testing.T) {
	fake := newFake()
	close(fake.release)
	s, ts := newTestServer(t, Config{Analyze: fake.run, Landmarker: noLandmarker, Keep: 20 * time.Millisecond})
	code, m := upload(t, ts.URL, "a.png", tinyPNG(100))
	if code != http.StatusAccepted {
		t.Fatalf("upload %d %v", code, m)
	}
	id := m["id"].(string)
	waitState(t, ts.URL, id, StateDone)
	waitGone(t, filepath.Join(s.root, id))
	if code, _ := do(t, "GET", ts.URL+"/v1/jobs/"+id, "", nil); code != http.StatusNotFound {
		t.Errorf("expired job: %d", code)
	}
}

func BenchmarkCoTRequest(b *testing.B) {
	s, err := New(Config{Workdir: b.TempDir(), Analyze: newFake().run, Landmarker: noLandmarker})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	h := s.Handler()
	body := []byte(`{"aus":"4B+7A+L10","label":"disgust","seed":1}`)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/v1/cot", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}

// BenchmarkUpload measures receiving a 4 MiB upload into a job (the
// analysis itself is a stand-in that returns at once).
func BenchmarkUpload(b *testing.B) {
	fake := newFake()
	close(fake.release)
	s, err := New(Config{Workdir: b.TempDir(), Analyze: fake.run, Landmarker: noLandmarker, MaxQueued: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	h := s.Handler()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "clip.mp4")
	fw.Write(append([]byte("\x00\x00\x00\x20ftypisom"), make([]byte, 4<<20)...))
	mw.Close()
	b.SetBytes(int64(body.Len()))
	for b.Loop() {
		req := httptest.NewRequest("POST", "/v1/analyze", bytes.NewReader(body.Bytes()))
		req.Header.Set("Content-Type", mw.FormDataContentType())
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusAccepted {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}

// FuzzUpload posts arbitrary bodies as multipart uploads: the answer is
// always a known status with a JSON error, and a refused upload leaves no
// files behind.
func FuzzUpload(f *testing.F) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "a.png")
	fw.Write(tinyPNG(64))
	mw.Close()
	ct, boundary := mw.FormDataContentType(), mw.Boundary()
	f.Add(body.Bytes())
	f.Add([]byte("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../x\"\r\n\r\nBM\r\n--" + boundary + "--\r\n"))
	f.Add([]byte("--" + boundary + "--\r\n"))
	fake := newFake()
	close(fake.release)
	s, err := New(Config{Workdir: f.TempDir(), Analyze: fake.run, Landmarker: noLandmarker, MaxUpload: 1024, MaxQueued: 1 << 30})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	h := s.Handler()
	f.Fuzz(func(t *testing.T, data []byte) {
		before := len(entries(t, s))
		req := httptest.NewRequest("POST", "/v1/analyze", bytes.NewReader(data))
		req.Header.Set("Content-Type", ct)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		var e apiError
		switch w.Code {
		case http.StatusAccepted:
			return
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
			if json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Error == "" {
				t.Fatalf("%d without a JSON error: %q", w.Code, w.Body.String())
			}
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
		if after := len(entries(t, s)); after != before {
			t.Fatalf("refused upload left files: %d → %d entries", before, after)
		}
	})
}
