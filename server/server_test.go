package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
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
	"github.com/tell-project/tell/face/facetest"
	"github.com/tell-project/tell/models"
	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/profile"
	"github.com/tell-project/tell/queue"
)

// startQueue starts an embedded NATS server on dir (a new folder when "")
// and opens the job queue on it.
func startQueue(t testing.TB, dir string) (*queue.Embedded, *queue.Queue) {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	e, err := queue.StartEmbedded(queue.EmbeddedOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := e.Connect("test")
	if err != nil {
		t.Fatal(err)
	}
	q, err := queue.Open(context.Background(), nc, queue.Config{AckWait: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close(); e.Shutdown() })
	return e, q
}

// newTestServer starts s behind httptest's loopback listener, on a queue
// of its own unless cfg has one. A nil cfg.Analysis is the real analysis.
func newTestServer(t testing.TB, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	if cfg.Workdir == "" {
		cfg.Workdir = t.TempDir()
	}
	if cfg.Version == "" {
		cfg.Version = "test-1"
	}
	if cfg.Queue == nil {
		_, cfg.Queue = startQueue(t, "")
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

// fakeAnalyzer stands in for the analysis: it records the runs, blocks
// until released or cancelled, and writes small outputs.
type fakeAnalyzer struct {
	release   chan struct{}
	running   atomic.Int32
	maxSeen   atomic.Int32
	runs      atomic.Int32
	cancelled chan string // names of inputs whose context was cancelled
}

func newFake() *fakeAnalyzer {
	return &fakeAnalyzer{release: make(chan struct{}), cancelled: make(chan string, 64)}
}

func (f *fakeAnalyzer) analysis() *Analysis {
	return &Analysis{Analyze: f.run, Landmarker: noLandmarker}
}

func (f *fakeAnalyzer) run(ctx context.Context, in Input, opt analyze.Options) (*analyze.Result, error) {
	name := in.Name
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
		f.cancelled <- name
		return nil, ctx.Err()
	}
	res := &analyze.Result{Input: name, Status: analyze.StatusComplete, Frames: 10, Tracked: 10, Events: []analyze.Event{}}
	opt.Profile.Add(profile.Flow, 2*time.Second, 3*time.Second) // the stage profile /metrics sums
	b, _ := json.Marshal(res)
	for file, data := range map[string][]byte{"events.json": b, "frames.csv": []byte("frame,timestamp\n"), "report.html": []byte("<!doctype html><title>r</title>")} {
		if err := os.WriteFile(filepath.Join(opt.Out, file), data, 0o644); err != nil {
			return nil, err
		}
	}
	opt.Progress(10, 10)
	return res, nil
}

func noLandmarker() (analyze.Landmarker, error) { return nil, nil }

// multipartBody builds an upload with the file under field.
func multipartBody(t testing.TB, field, filename string, data []byte) (*bytes.Buffer, string) {
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

func upload(t testing.TB, base, filename string, data []byte) (int, map[string]any) {
	t.Helper()
	body, ct := multipartBody(t, "file", filename, data)
	return do(t, "POST", base+"/v1/analyze", ct, body)
}

// do sends a request and decodes the JSON answer (nil for an empty body).
func do(t testing.TB, method, url, ct string, body io.Reader, hdr ...string) (int, map[string]any) {
	t.Helper()
	code, _, m := doHdr(t, method, url, ct, body, hdr...)
	return code, m
}

// doHdr is do with extra request headers (name, value, ...) and the
// response's headers.
func doHdr(t testing.TB, method, url, ct string, body io.Reader, hdr ...string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) == 0 {
		return resp.StatusCode, resp.Header, nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s: status %d, body not JSON: %q", method, url, resp.StatusCode, raw)
	}
	return resp.StatusCode, resp.Header, m
}

func get(t testing.TB, url string, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// waitState polls a job until it reaches one of the states.
func waitState(t testing.TB, base, id string, states ...string) map[string]any {
	return waitStateAuth(t, base, id, "", states...)
}

func waitStateAuth(t testing.TB, base, id, key string, states ...string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	var hdr []string
	if key != "" {
		hdr = []string{"Authorization", "Bearer " + key}
	}
	for {
		code, st := do(t, "GET", base+"/v1/jobs/"+id, "", nil, hdr...)
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

// waitFake waits until the stand-in analysis of a job runs: it has
// reported its first progress (the worker reports it with a heartbeat).
func waitFake(t testing.TB, base, id string) map[string]any {
	t.Helper()
	for i := 0; ; i++ {
		st := waitState(t, base, id, StateRunning)
		if st["progress"].(map[string]any)["frames"] == 3.0 {
			return st
		}
		if i > 1000 {
			t.Fatalf("the analysis of %s did not start: %v", id, st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// smallPNG is a valid 8×8 PNG padded with zeros to n bytes: its header
// passes the pixel budget; the stand-in analysis never decodes it.
func smallPNG(n int) []byte {
	var b bytes.Buffer
	png.Encode(&b, image.NewGray(image.Rect(0, 0, 8, 8)))
	out := b.Bytes()
	if n > len(out) {
		out = append(out, make([]byte, n-len(out))...)
	}
	return out
}

// pngHeader is a PNG signature and an IHDR chunk declaring w×h pixels,
// with a correct CRC, and no pixel data: a decompression bomb's header.
func pngHeader(w, h uint32) []byte {
	ihdr := make([]byte, 17)
	copy(ihdr, "IHDR")
	binary.BigEndian.PutUint32(ihdr[4:], w)
	binary.BigEndian.PutUint32(ihdr[8:], h)
	ihdr[12], ihdr[13] = 8, 2 // 8-bit RGB
	out := []byte("\x89PNG\r\n\x1a\n")
	out = binary.BigEndian.AppendUint32(out, 13)
	out = append(out, ihdr...)
	out = binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(ihdr))
	return append(out, make([]byte, 64)...)
}

func greyPNG(t testing.TB) []byte {
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

// waitEmpty waits for a worker to clear its job folders from dir (it
// does so just after it has stored the result).
func waitEmpty(t testing.TB, dir string) {
	t.Helper()
	for i := 0; len(leftovers(t, dir)) > 0; i++ {
		if i > 500 {
			t.Fatalf("%s keeps %v", dir, leftovers(t, dir))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// leftovers lists the files under dir and the folders below the
// processes' scratch folders (tell-serve-PID, tell-worker-PID).
func leftovers(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if !d.IsDir() || strings.Count(rel, string(filepath.Separator)) >= 1 {
			out = append(out, rel)
		}
		return nil
	})
	return out
}

// TestEndToEnd analyses the public-domain astronaut portrait through the
// API with the real face detector and dlib landmarks.
func TestEndToEnd(t *testing.T) {
	facetest.ModelPath(t)
	work := t.TempDir()
	_, ts := newTestServer(t, Config{Workdir: work})
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
	if st["input"] != "astronaut.png" || st["attempts"] != 1.0 {
		t.Errorf("input %v attempts %v", st["input"], st["attempts"])
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
	if !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") || ev.Input != "astronaut.png" {
		t.Errorf("events.json content type %q, input %q", hdr.Get("Content-Type"), ev.Input)
	}
	// The appearance net reads the colour portrait in colour, as in tell
	// analyze (the server's source wrapper once hid the colour).
	if net, _, err := analyze.LoadAppearance(models.Root(""), models.FaceAPI().Name); err == nil && net != nil {
		notes := strings.Join(ev.Notes, "\n")
		if !strings.Contains(notes, "face in colour") {
			t.Errorf("the appearance net did not read the colour image in colour: %s", notes)
		}
	}
	code, _, body = get(t, ts.URL+"/v1/jobs/"+id+"/frames.csv")
	if code != 200 || !strings.HasPrefix(string(body), "frame,") || strings.Count(string(body), "\n") != 2 {
		t.Errorf("frames.csv: %d %.80q", code, body)
	}
	code, hdr, body = get(t, ts.URL+"/v1/jobs/"+id+"/report.html")
	csp := hdr.Get("Content-Security-Policy")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") || !bytes.Contains(body, []byte("<html")) ||
		!strings.Contains(csp, "script-src 'none'") || !strings.Contains(csp, "sandbox") {
		t.Errorf("report.html: %d %q", code, hdr)
	}
	// No server path in the outputs; no upload or job folder left behind.
	for _, name := range outputFiles {
		_, _, b := get(t, ts.URL+"/v1/jobs/"+id+"/"+name)
		if bytes.Contains(b, []byte(work)) || bytes.Contains(b, []byte(os.TempDir()+"/")) {
			t.Errorf("%s names a server path", name)
		}
	}
	waitEmpty(t, work)
	if code, _ := do(t, "DELETE", ts.URL+"/v1/jobs/"+id, "", nil); code != http.StatusNoContent {
		t.Errorf("delete: %d", code)
	}
	if code, _ := do(t, "GET", ts.URL+"/v1/jobs/"+id, "", nil); code != http.StatusNotFound {
		t.Errorf("deleted job: %d", code)
	}
}

func TestBadUploads(t *testing.T) {
	fake := newFake()
	work := t.TempDir()
	_, ts := newTestServer(t, Config{Analysis: fake.analysis(), Workdir: work})
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
		// A GIF is read as a video; this one is broken.
		{"gif", func() (io.Reader, string) { return multi("file", "a.gif", []byte("GIF89a\x01\x00\x01\x00")) }, 422, "a.gif"},
		{"BM text", func() (io.Reader, string) { return multi("file", "a.bmp", []byte("BMW is a car maker, not a bitmap")) }, 415, "not a PNG"},
		{"empty file", func() (io.Reader, string) { return multi("file", "a.png", nil) }, 400, "empty"},
		{"no file field", func() (io.Reader, string) { return multi("picture", "a.png", smallPNG(64)) }, 400, `no "file" field`},
		{"not multipart", func() (io.Reader, string) { return strings.NewReader("x"), "text/plain" }, 415, "multipart/form-data"},
		{"no content type", func() (io.Reader, string) { return strings.NewReader("x"), "" }, 415, "multipart/form-data"},
		{"broken multipart", func() (io.Reader, string) {
			return strings.NewReader("--xyz\r\nContent-Disp"), "multipart/form-data; boundary=xyz"
		}, 400, "multipart"},
		{"multipart without boundary", func() (io.Reader, string) { return strings.NewReader("x"), "multipart/form-data" }, 400, "multipart"},
		{"path when not allowed", func() (io.Reader, string) { return strings.NewReader(`{"path":"/etc/passwd"}`), "application/json" }, 403, "disabled"},
		// Budgets, from the header alone.
		{"50000×50000 PNG", func() (io.Reader, string) { return multi("file", "bomb.png", pngHeader(50000, 50000)) }, 413, "50000x50000 is 2500.0 megapixels, more pixels than the pixel budget"},
		{"8000×8000 PNG", func() (io.Reader, string) { return multi("file", "big.png", pngHeader(8000, 8000)) }, 413, "pixel budget"},
		{"PNG signature only", func() (io.Reader, string) { return multi("file", "cut.png", []byte("\x89PNG\r\n\x1a\nxxxx")) }, 422, "not a readable"},
		{"JPEG signature only", func() (io.Reader, string) { return multi("file", "cut.jpg", []byte("\xff\xd8\xff\xe0garbage")) }, 422, "not a readable"},
		{"video that is not one", func() (io.Reader, string) {
			return multi("file", "x.mp4", append([]byte("\x00\x00\x00\x20ftypisom"), make([]byte, 100)...))
		}, 422, "not a readable video"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body, ct := tc.body()
			code, m := do(t, "POST", ts.URL+"/v1/analyze", ct, body)
			if (tc.name == "video that is not one" || tc.name == "gif") && code == 503 {
				t.Skip("no ffprobe")
			}
			if code != tc.want {
				t.Fatalf("status %d, want %d: %v", code, tc.want, m)
			}
			if msg, _ := m["error"].(string); !strings.Contains(msg, tc.msg) || strings.Contains(msg, work) {
				t.Errorf("error %q, want it to mention %q and no server path", msg, tc.msg)
			}
		})
	}
	if n := fake.runs.Load(); n != 0 {
		t.Errorf("%d analyses ran for bad uploads", n)
	}
	if e := leftovers(t, work); len(e) != 0 {
		t.Errorf("bad uploads left files: %v", e)
	}
	if code, m := do(t, "GET", ts.URL+"/v1/jobs", "", nil); code != 200 || len(m["jobs"].([]any)) != 0 {
		t.Errorf("jobs after bad uploads: %v", m)
	}
}

func TestOversize(t *testing.T) {
	fake := newFake()
	close(fake.release)
	const limit = 4096
	work := t.TempDir()
	_, ts := newTestServer(t, Config{Analysis: fake.analysis(), MaxUpload: limit, Workdir: work})
	for _, n := range []int{limit + 1, 3 * limit, 200 * limit} {
		code, m := upload(t, ts.URL, "big.png", smallPNG(n))
		if code != http.StatusRequestEntityTooLarge || !strings.Contains(fmt.Sprint(m["error"]), "limit") {
			t.Errorf("%d bytes: %d %v", n, code, m)
		}
	}
	// A declared length over the limit is refused before the body is read:
	// this body would block forever.
	req, _ := http.NewRequest("POST", ts.URL+"/v1/analyze", blockingReader{})
	req.ContentLength = 1 << 30
	req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("declared 1 GiB: %v %v", resp, err)
	}
	if e := leftovers(t, work); len(e) != 0 {
		t.Errorf("oversize uploads left files: %v", e)
	}
	// Exactly at the limit is fine.
	code, m := upload(t, ts.URL, "ok.png", smallPNG(limit))
	if code != http.StatusAccepted {
		t.Fatalf("%d bytes: %d %v", limit, code, m)
	}
	waitState(t, ts.URL, m["id"].(string), StateDone)
}

// blockingReader never yields a byte.
type blockingReader struct{}

func (blockingReader) Read([]byte) (int, error) { select {} }

func TestUnknownJobAndRoutes(t *testing.T) {
	_, ts := newTestServer(t, Config{Analysis: newFake().analysis()})
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
	if code, m := do(t, "GET", ts.URL+"/readyz", "", nil); code != 200 || m["ready"] != true {
		t.Errorf("readyz %d %v", code, m)
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
	_, ts := newTestServer(t, Config{Analysis: fake.analysis()})
	code, m := upload(t, ts.URL, "a.png", smallPNG(100))
	if code != http.StatusAccepted {
		t.Fatalf("upload %d %v", code, m)
	}
	id := m["id"].(string)
	st := waitFake(t, ts.URL, id)
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
	case name := <-fake.cancelled:
		if name != "a.png" {
			t.Errorf("cancelled input %s", name)
		}
	case <-time.After(time.Minute):
		t.Fatal("the analysis never saw the cancellation")
	}
	if code, _ := do(t, "GET", ts.URL+"/v1/jobs/"+id, "", nil); code != http.StatusNotFound {
		t.Errorf("deleted job: %d", code)
	}
}

// TestAdmission: the queue's room is checked before an upload's body is
// read, and a full queue answers 429 with Retry-After.
func TestAdmission(t *testing.T) {
	fake := newFake()
	_, ts := newTestServer(t, Config{Analysis: fake.analysis(), Jobs: 2, MaxQueued: 3})
	var ids []string
	submit := func(n int) {
		for i := 0; i < n; i++ {
			code, m := upload(t, ts.URL, fmt.Sprintf("%d.png", len(ids)), smallPNG(100))
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
	// The body below never ends: only an answer from the headers returns.
	req, _ := http.NewRequest("POST", ts.URL+"/v1/analyze", blockingReader{})
	req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("upload beyond the queue: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	running, queued := 0, 0
	var aQueued string
	for _, id := range ids {
		_, st := do(t, "GET", ts.URL+"/v1/jobs/"+id, "", nil)
		switch st["status"] {
		case StateRunning:
			running++
		case StateQueued:
			queued++
			aQueued = id
		}
	}
	if running != 2 || queued != 3 {
		t.Errorf("running %d queued %d, want 2 and 3", running, queued)
	}
	// A queued job can be deleted without ever running.
	do(t, "DELETE", ts.URL+"/v1/jobs/"+aQueued, "", nil)
	// "running" is set when a job is claimed, a moment before its analysis
	// starts: under load, wait until both analyses are inside before
	// releasing them, or the first may finish before the second begins.
	for deadline := time.Now().Add(time.Minute); fake.running.Load() < 2 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	close(fake.release)
	for _, id := range ids {
		if id != aQueued {
			waitState(t, ts.URL, id, StateDone)
		}
	}
	if got := fake.maxSeen.Load(); got != 2 {
		t.Errorf("at most %d analyses ran at once, want 2", got)
	}
	if got := fake.runs.Load(); got != 4 {
		t.Errorf("%d analyses ran, want 4 (one was deleted while queued)", got)
	}
	code, m := do(t, "GET", ts.URL+"/v1/jobs", "", nil)
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
	os.MkdirAll(filepath.Join(allowed, "sneaky"), 0o755)
	os.MkdirAll(outside, 0o755)
	os.WriteFile(filepath.Join(allowed, "clips", "in.png"), smallPNG(100), 0o644)
	os.WriteFile(filepath.Join(allowed, "clips", "in2.png"), smallPNG(100), 0o644)
	os.WriteFile(filepath.Join(allowed, "clips", "fps.txt"), []byte("30\n"), 0o644)
	os.MkdirAll(filepath.Join(allowed, "norate"), 0o755)
	os.WriteFile(filepath.Join(allowed, "norate", "f1.png"), smallPNG(100), 0o644)
	os.WriteFile(filepath.Join(outside, "secret.png"), smallPNG(100), 0o644)
	os.WriteFile(filepath.Join(allowed, "sneaky", "f1.png"), smallPNG(100), 0o644)
	symlinked := os.Symlink(filepath.Join(outside, "secret.png"), filepath.Join(allowed, "link.png")) == nil &&
		os.Symlink(filepath.Join(outside, "secret.png"), filepath.Join(allowed, "sneaky", "f2.png")) == nil
	work := t.TempDir()
	_, ts := newTestServer(t, Config{Analysis: fake.analysis(), AllowPaths: allowed, Workdir: work})
	cases := []struct {
		path string
		want int
	}{
		{"clips/in.png", 202},
		{filepath.Join(allowed, "clips", "in.png"), 202},
		{"clips", 202},  // a folder of frames with its fps.txt
		{"norate", 422}, // a folder of frames without a rate
		{"../outside/secret.png", 403},
		{"clips/../../outside/secret.png", 403},
		{filepath.Join(outside, "secret.png"), 403},
		{"/etc/passwd", 403},
		{"..", 403},
		// Missing files get the same answer as files outside.
		{"nothing.png", 403},
		{"../outside/nothing.png", 403},
		{"", 400},
	}
	if symlinked {
		cases = append(cases, struct {
			path string
			want int
		}{"link.png", 403}, struct {
			path string
			want int
		}{"sneaky", 403})
	}
	var denied []string
	for _, tc := range cases {
		b, _ := json.Marshal(map[string]string{"path": tc.path})
		code, m := do(t, "POST", ts.URL+"/v1/analyze", "application/json", bytes.NewReader(b))
		if code != tc.want {
			t.Errorf("path %q: %d %v, want %d", tc.path, code, m, tc.want)
			continue
		}
		msg, _ := m["error"].(string)
		if strings.Contains(msg, base) {
			t.Errorf("path %q: the error names a server path: %s", tc.path, msg)
		}
		if code == 403 && tc.path != "sneaky" {
			denied = append(denied, strings.Replace(msg, displayName(tc.path, "?"), "P", 1))
		}
		if code == 202 {
			st := waitState(t, ts.URL, m["id"].(string), StateDone)
			if in := st["input"].(string); strings.HasPrefix(in, "/") || strings.Contains(in, "..") {
				t.Errorf("input shown as %q", in)
			}
		}
	}
	for _, d := range denied[1:] {
		if d != denied[0] {
			t.Errorf("refusals differ, so they tell what exists: %q vs %q", d, denied[0])
		}
	}
	code, m := do(t, "POST", ts.URL+"/v1/analyze", "application/json", strings.NewReader(`{"path":"clips/in.png","extra":1}`))
	if code != 400 {
		t.Errorf("unknown field: %d %v", code, m)
	}
	// The server's files must stay under its own folder whatever the
	// client names its upload, and no URL reaches past a job's outputs.
	code, m = upload(t, ts.URL, "../../../../evil.png", smallPNG(100))
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
	waitEmpty(t, work)
}

func TestCoT(t *testing.T) {
	_, ts := newTestServer(t, Config{Analysis: newFake().analysis()})
	post := func(body string) (int, map[string]any) {
		return do(t, "POST", ts.URL+"/v1/cot", "application/json", strings.NewReader(body))
	}
	many := make([]string, 33)
	for i := range many {
		many[i] = fmt.Sprintf("c%d", i)
	}
	manyJSON, _ := json.Marshal(map[string]any{"aus": "6+12", "classes": many})
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
		// Bounds, before any parsing.
		{`{"aus":"` + strings.Repeat("1+", 513) + `2"}`, 413, ""},
		{string(manyJSON), 413, ""},
		{`{"aus":"6+12","label":"` + strings.Repeat("x", 65) + `"}`, 413, ""},
		{`{"aus":"` + strings.Repeat("1+", 40000) + `2"}`, 413, ""}, // over the 64 KiB body
	}
	for _, tc := range cases {
		code, m := post(tc.body)
		if code != tc.want {
			t.Errorf("%.60s: %d %v, want %d", tc.body, code, m, tc.want)
			continue
		}
		if code != 200 {
			if m["error"] == nil {
				t.Errorf("%.60s: no error message", tc.body)
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
	// JSON only: the bodies a cross-site form can send without a preflight
	// are refused.
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""} {
		if code, m := do(t, "POST", ts.URL+"/v1/cot", ct, strings.NewReader(`{"aus":"6+12"}`)); code != 415 {
			t.Errorf("content type %q: %d %v", ct, code, m)
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

// TestCoTConcurrency: beyond MaxCoT chains at once, 429.
func TestCoTConcurrency(t *testing.T) {
	s, ts := newTestServer(t, Config{Analysis: newFake().analysis(), MaxCoT: 1})
	release := s.cotSlots.take("addr:192.0.2.1", false) // another client's chain "in progress"
	code, hdr, m := doHdr(t, "POST", ts.URL+"/v1/cot", "application/json", strings.NewReader(`{"aus":"6+12"}`))
	if code != 429 || hdr.Get("Retry-After") == "" {
		t.Errorf("busy: %d %v %v", code, hdr, m)
	}
	release()
	if code, m := do(t, "POST", ts.URL+"/v1/cot", "application/json", strings.NewReader(`{"aus":"6+12"}`)); code != 200 {
		t.Errorf("free again: %d %v", code, m)
	}
}

// TestGracefulShutdown cancels Serve's context while a job runs: Serve
// returns, the analysis sees the cancellation, and the job goes back to
// the queue, where a new server with the same queue finishes it.
func TestGracefulShutdown(t *testing.T) {
	fake := newFake()
	_, q := startQueue(t, "")
	s, err := New(Config{Queue: q, Workdir: t.TempDir(), Analysis: fake.analysis()})
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
	code, m := upload(t, base, "a.png", smallPNG(100))
	if code != http.StatusAccepted {
		t.Fatalf("upload %d %v", code, m)
	}
	id := m["id"].(string)
	waitFake(t, base, id)
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
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("still serving after shutdown")
	}
	j, err := q.Get(context.Background(), id)
	if err != nil || j.State != StateQueued {
		t.Fatalf("job after shutdown: %+v %v", j, err)
	}
	fake2 := newFake()
	close(fake2.release)
	_, ts := newTestServer(t, Config{Queue: q, Analysis: fake2.analysis()})
	st := waitState(t, ts.URL, id, StateDone)
	if st["attempts"] != 1.0 {
		t.Errorf("a shutdown counted as an attempt: %v", st)
	}
}

// TestRestart: a server restarted on the same data folder still knows
// every job, and the queued ones run.
func TestRestart(t *testing.T) {
	dir := t.TempDir()
	e, q := startQueue(t, dir)
	fake := newFake()
	close(fake.release)
	s, err := New(Config{Queue: q, Workdir: t.TempDir(), Analysis: fake.analysis(), NoWorker: true})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	var ids []string
	for i := range 3 {
		code, m := upload(t, ts.URL, fmt.Sprintf("%d.png", i), smallPNG(100))
		if code != 202 {
			t.Fatalf("upload: %d %v", code, m)
		}
		ids = append(ids, m["id"].(string))
	}
	ts.Close()
	s.Close()
	e.Shutdown()

	_, q2 := startQueue(t, dir)
	_, ts2 := newTestServer(t, Config{Queue: q2, Analysis: fake.analysis()})
	for _, id := range ids {
		waitState(t, ts2.URL, id, StateDone)
	}
	if code, m := do(t, "GET", ts2.URL+"/v1/jobs", "", nil); code != 200 || len(m["jobs"].([]any)) != 3 {
		t.Errorf("jobs after restart: %v", m)
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
	_, q := startQueue(t, "")
	s, err := New(Config{Queue: q, Workdir: t.TempDir(), Analysis: newFake().analysis()})
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

// TestRetention: finished jobs are removed, files and all, after Keep,
// and beyond MaxJobs and MaxBytes the oldest finished go first.
func TestRetention(t *testing.T) {
	t.Run("age", func(t *testing.T) {
		fake := newFake()
		close(fake.release)
		_, ts := newTestServer(t, Config{Analysis: fake.analysis(), Keep: 200 * time.Millisecond})
		code, m := upload(t, ts.URL, "a.png", smallPNG(100))
		if code != http.StatusAccepted {
			t.Fatalf("upload %d %v", code, m)
		}
		id := m["id"].(string)
		waitState(t, ts.URL, id, StateDone)
		waitGone(t, ts.URL, id)
	})
	t.Run("count", func(t *testing.T) {
		fake := newFake()
		close(fake.release)
		_, ts := newTestServer(t, Config{Analysis: fake.analysis(), MaxJobs: 2})
		var ids []string
		for i := range 4 {
			code, m := upload(t, ts.URL, fmt.Sprintf("%d.png", i), smallPNG(100))
			if code != http.StatusAccepted {
				t.Fatalf("upload %d: %d %v", i, code, m)
			}
			ids = append(ids, m["id"].(string))
			waitState(t, ts.URL, ids[i], StateDone)
		}
		waitGone(t, ts.URL, ids[0])
		waitGone(t, ts.URL, ids[1])
		waitState(t, ts.URL, ids[3], StateDone)
	})
	t.Run("bytes", func(t *testing.T) {
		fake := newFake()
		close(fake.release)
		// The stand-in writes about 200 bytes of outputs per job.
		_, ts := newTestServer(t, Config{Analysis: fake.analysis(), MaxBytes: 300})
		var ids []string
		for i := range 3 {
			_, m := upload(t, ts.URL, fmt.Sprintf("%d.png", i), smallPNG(100))
			ids = append(ids, m["id"].(string))
			waitState(t, ts.URL, ids[i], StateDone)
		}
		waitGone(t, ts.URL, ids[0])
		waitGone(t, ts.URL, ids[1])
		waitState(t, ts.URL, ids[2], StateDone)
	})
}

func waitGone(t *testing.T, base, id string) {
	t.Helper()
	for i := 0; ; i++ {
		if code, _ := do(t, "GET", base+"/v1/jobs/"+id, "", nil); code == http.StatusNotFound {
			return
		}
		if i > 1000 {
			t.Fatalf("job %s not removed", id)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func BenchmarkCoTRequest(b *testing.B) {
	_, q := startQueue(b, "")
	s, err := New(Config{Queue: q, Workdir: b.TempDir(), Analysis: newFake().analysis(), Rate: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	h := s.Handler()
	body := []byte(`{"aus":"4B+7A+L10","label":"disgust","seed":1}`)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "http://localhost/v1/cot", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}

// BenchmarkUpload measures receiving a 4 MiB image upload into the queue
// (no worker runs it).
func BenchmarkUpload(b *testing.B) {
	_, q := startQueue(b, "")
	s, err := New(Config{Queue: q, Workdir: b.TempDir(), NoWorker: true, MaxQueued: 1 << 20, MaxJobs: 1 << 20, Rate: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	h := s.Handler()
	body, ct := multipartBody(b, "file", "face.png", smallPNG(4<<20))
	b.SetBytes(int64(body.Len()))
	for b.Loop() {
		req := httptest.NewRequest("POST", "http://localhost/v1/analyze", bytes.NewReader(body.Bytes()))
		req.Header.Set("Content-Type", ct)
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
	fw.Write(smallPNG(64))
	mw.Close()
	ct, boundary := mw.FormDataContentType(), mw.Boundary()
	f.Add(body.Bytes())
	f.Add([]byte("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../x\"\r\n\r\nBM\r\n--" + boundary + "--\r\n"))
	f.Add([]byte("--" + boundary + "--\r\n"))
	_, q := startQueue(f, "")
	work := f.TempDir()
	s, err := New(Config{Queue: q, Workdir: work, NoWorker: true, MaxUpload: 1024, MaxQueued: 1 << 30, MaxJobs: 1 << 30, Rate: -1})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	h := s.Handler()
	f.Fuzz(func(t *testing.T, data []byte) {
		req := httptest.NewRequest("POST", "http://localhost/v1/analyze", bytes.NewReader(data))
		req.Header.Set("Content-Type", ct)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		var e apiError
		switch w.Code {
		case http.StatusAccepted:
			return
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
			if json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Error == "" {
				t.Fatalf("%d without a JSON error: %q", w.Code, w.Body.String())
			}
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
		if left := leftovers(t, work); len(left) != 0 {
			t.Fatalf("refused upload left files: %v", left)
		}
	})
}

// TestAppearanceNoteHasNoPath: without the appearance models a job runs on
// the AUs and says so, without naming the server's models folder.
func TestAppearanceNoteHasNoPath(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TELL_MODELS", dir)
	var note string
	a := &Analysis{Landmarker: noLandmarker, Analyze: func(ctx context.Context, in Input, opt analyze.Options) (*analyze.Result, error) {
		note = opt.AppearanceNote
		return &analyze.Result{Status: analyze.StatusComplete}, nil
	}}
	img := filepath.Join(t.TempDir(), "input.png")
	os.WriteFile(img, smallPNG(100), 0o644)
	if _, err := a.Handle(context.Background(), &queue.Task{Job: queue.Job{ID: "x", Name: "a.png", Kind: "image"}, Input: img, Out: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	if note == "" || strings.Contains(note, dir) {
		t.Errorf("note %q (models folder %s)", note, dir)
	}
}
