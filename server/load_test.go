package server

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tell-project/tell/face/facetest"
	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/synth"
)

// The load and fault test runs the real analysis on loopback. Without
// TELL_LOAD it is a small, bounded version for CI (seconds); with
// TELL_LOAD=1 it runs N = 4, 16 and 64 clients for images and clips and
// logs the figures (TELL_LOAD_OUT=FILE also writes them as a table).
// The figures are the machine's at that moment: compare them within one
// run, not across machines.

// loadInputs are a 320×240 image and a 34-frame 320×240 clip of the
// synthetic astronaut (tell synth's renderer, not the estimator).
func loadInputs(t *testing.T) (img, clip []byte, frames int) {
	t.Helper()
	face, err := portrait.Astronaut()
	if err != nil {
		t.Fatal(err)
	}
	clips, err := synth.Plan(synth.NewFace(face, synth.AstronautLandmarks()), synth.Config{Seed: 5, FPS: 30, Kind: "micro", Width: 320, Height: 240, Scale: 1.1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := clips[0]
	var b bytes.Buffer
	if err := png.Encode(&b, c.Frame(c.Frames/2, nil)); err != nil {
		t.Fatal(err)
	}
	img = b.Bytes()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		return img, nil, 0
	}
	dir := t.TempDir()
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	for i := 0; i < c.Frames; i++ {
		f, _ := os.Create(filepath.Join(dir, fmt.Sprintf("f%04d.png", i)))
		enc.Encode(f, c.Frame(i, nil))
		f.Close()
	}
	out := filepath.Join(dir, "clip.mp4")
	cmd := exec.Command(ffmpeg, "-loglevel", "error", "-framerate", "30", "-i", filepath.Join(dir, "f%04d.png"),
		"-c:v", "libx264", "-preset", "ultrafast", "-crf", "12", "-pix_fmt", "yuv420p", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Logf("no H.264 clip: %v %s", err, msg)
		return img, nil, 0
	}
	clip, _ = os.ReadFile(out)
	return img, clip, c.Frames
}

// loadResult is one row of the load table.
type loadResult struct {
	kind                 string
	clients, jobs        int
	submitP50, submitP99 time.Duration // upload → 202
	jobP50, jobP99       time.Duration // upload → done
	jobsPerSec           float64
	lost, failed         int
}

func (r loadResult) String() string {
	return fmt.Sprintf("| %s | %d | %d | %.0f | %.0f | %.2f | %.2f | %.2f | %d | %d |", r.kind, r.clients, r.jobs,
		ms(r.submitP50), ms(r.submitP99), r.jobP50.Seconds(), r.jobP99.Seconds(), r.jobsPerSec, r.lost, r.failed)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// tryPost is doHdr's POST for a client goroutine: errors are returned,
// not fatal.
func tryPost(url, ct string, body io.Reader, hdr ...string) (int, map[string]any, error) {
	req, err := http.NewRequest("POST", url, body)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", ct)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil && err != io.EOF {
		return resp.StatusCode, nil, fmt.Errorf("status %d, body not JSON: %w", resp.StatusCode, err)
	}
	return resp.StatusCode, m, nil
}

// runLoad has clients each submit jobs uploads one after another and wait
// for each to finish; every job must end done.
func runLoad(t *testing.T, base, key, kind, name string, data []byte, clients, jobs int) loadResult {
	t.Helper()
	var mu sync.Mutex
	var submit, total []time.Duration
	var failed, lost atomic.Int32
	var hdr []string
	if key != "" {
		hdr = bearer(key)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				t0 := time.Now()
				var code int
				var m map[string]any
				for try := 0; ; try++ {
					body, ct := multipartBody(t, "file", name, data)
					var err error
					code, m, err = tryPost(base+"/v1/analyze", ct, body, hdr...)
					// 429 (503 from servers before the queue): the queue is
					// full, try again. Retry-After says a second or more; a
					// load test that waited that long would measure its own
					// sleeps, so it polls at 50 ms. A refusal closes the
					// connection without reading the body: a client still
					// sending it may see the write fail instead of the 429
					// (nothing was accepted), and tries again too.
					if err != nil && try < 6000 && (errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)) {
						time.Sleep(50 * time.Millisecond)
						continue
					}
					if err != nil {
						t.Errorf("%s upload: %v", kind, err)
						break
					}
					if code != http.StatusTooManyRequests && code != http.StatusServiceUnavailable || try > 6000 {
						break
					}
					time.Sleep(50 * time.Millisecond)
				}
				t1 := time.Now()
				if code != http.StatusAccepted {
					t.Errorf("%s upload: %d %v", kind, code, m)
					lost.Add(1)
					continue
				}
				id := m["id"].(string)
				var st map[string]any
				for {
					_, st = do(t, "GET", base+"/v1/jobs/"+id, "", nil, hdr...)
					if s, _ := st["status"].(string); terminal(s) {
						break
					}
					if time.Since(t0) > 10*time.Minute {
						t.Errorf("%s job %s stuck: %v", kind, id, st)
						lost.Add(1)
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
				if st["status"] != StateDone {
					failed.Add(1)
					t.Errorf("%s job %s: %v", kind, id, st)
				}
				mu.Lock()
				submit = append(submit, t1.Sub(t0))
				total = append(total, time.Since(t0))
				mu.Unlock()
				do(t, "DELETE", base+"/v1/jobs/"+id, "", nil, hdr...)
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	return loadResult{kind: kind, clients: clients, jobs: len(total), submitP50: quantile(submit, .5), submitP99: quantile(submit, .99),
		jobP50: quantile(total, .5), jobP99: quantile(total, .99), jobsPerSec: float64(len(total)) / wall.Seconds(),
		lost: int(lost.Load()), failed: int(failed.Load())}
}

// terminal reports whether a job state is final.
func terminal(s string) bool { return s == StateDone || s == StateFailed || s == StateCanceled }

// rss is the process's resident set in bytes (Linux), or 0.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// sampleRSS records the largest RSS until stop is closed.
func sampleRSS(stop <-chan struct{}) *atomic.Int64 {
	var peak atomic.Int64
	go func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			if r := rss(); r > peak.Load() {
				peak.Store(r)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return &peak
}

func TestLoadAndFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("real analyses under load in -short mode")
	}
	facetest.ModelPath(t)
	full := os.Getenv("TELL_LOAD") != ""
	img, clip, frames := loadInputs(t)
	const memLimit = 1 << 30
	old := debug.SetMemoryLimit(memLimit)
	defer debug.SetMemoryLimit(old)
	grace := time.Second
	if full {
		grace = DefaultBodyGrace
	}
	_, base, victim, attacker := keyedServer(t, Config{Jobs: 1, MaxQueued: 64, MaxUploads: 80, MaxUploadsPerKey: 64, Rate: -1, BodyGrace: grace})
	var rows []loadResult
	clients := []int{4}
	imgJobs, clipJobs := 3, 1
	if full {
		clients = []int{4, 16, 64}
		imgJobs, clipJobs = 5, 1
	}
	for _, n := range clients {
		rows = append(rows, runLoad(t, base, victim, "image 320×240", "face.png", img, n, imgJobs))
	}
	if clip != nil {
		for _, n := range clients {
			rows = append(rows, runLoad(t, base, victim, fmt.Sprintf("clip %d frames", frames), "clip.mp4", clip, n, clipJobs))
		}
	}

	// Slow bodies: 50 connections of one key trickle 1 byte a second while
	// another key uploads images.
	stop := make(chan struct{})
	type cut struct {
		status string
		after  time.Duration
	}
	cuts := make(chan cut, 50)
	var swg sync.WaitGroup
	for range 50 {
		swg.Add(1)
		go func() {
			defer swg.Done()
			s, d := slowUpload(t, base, attacker, time.Second, stop)
			cuts <- cut{s, d}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	during := runLoad(t, base, victim, "image, 50 slow bodies", "face.png", img, 4, imgJobs)
	rows = append(rows, during)
	swg.Wait()
	close(stop)
	close(cuts)
	statuses := map[string]int{}
	var longest time.Duration
	for c := range cuts {
		code := strings.Fields(c.status + " x x")[1]
		statuses[code]++
		if code == "408" {
			longest = max(longest, c.after)
		}
	}
	if statuses["408"]+statuses["429"] != 50 || statuses["408"] == 0 || longest > grace+3*time.Second {
		t.Errorf("slow bodies: %v, the last cut after %v (grace %v)", statuses, longest, grace)
	}
	t.Logf("slow bodies: %v; cut (408) after at most %v with a grace of %v", statuses, longest.Round(10*time.Millisecond), grace)

	// Hostile inputs: each its status, and the memory stays bounded.
	runtime.GC()
	before := rss()
	stopRSS := make(chan struct{})
	peak := sampleRSS(stopRSS)
	// want is the status; busy, when set, is also right for some of the
	// eight sent at once (chains of thought are bounded to GOMAXPROCS at
	// once: the rest get 429 before their body is read).
	hostile := []struct {
		name string
		send func() (int, http.Header)
		want int
		busy bool
	}{
		{"PNG declaring 50000×50000", func() (int, http.Header) {
			body, ct := multipartBody(t, "file", "bomb.png", append(pngHeader(50000, 50000), make([]byte, 7<<20)...))
			c, h, _ := doHdr(t, "POST", base+"/v1/analyze", ct, body, bearer(victim)...)
			return c, h
		}, 413, false},
		{"PNG declaring 8000×8000", func() (int, http.Header) {
			body, ct := multipartBody(t, "file", "big.png", pngHeader(8000, 8000))
			c, h, _ := doHdr(t, "POST", base+"/v1/analyze", ct, body, bearer(victim)...)
			return c, h
		}, 413, false},
		{"1 MB AU string", func() (int, http.Header) {
			c, h, _ := doHdr(t, "POST", base+"/v1/cot", "application/json", strings.NewReader(`{"aus":"`+strings.Repeat("1+", 1<<19)+`2"}`), bearer(victim)...)
			return c, h
		}, 413, true},
		{"CoT as text/plain", func() (int, http.Header) {
			c, h, _ := doHdr(t, "POST", base+"/v1/cot", "text/plain", strings.NewReader(`{"aus":"6+12"}`), bearer(victim)...)
			return c, h
		}, 415, false},
		{"Host: evil.example", func() (int, http.Header) {
			c, h, _ := doHdr(t, "GET", base+"/v1/jobs", "", nil, append(bearer(victim), "Host", "evil.example")...)
			return c, h
		}, 403, false},
		{"cross-site POST", func() (int, http.Header) {
			c, h, _ := doHdr(t, "POST", base+"/v1/cot", "application/json", strings.NewReader(`{"aus":"6+12"}`), append(bearer(victim), "Origin", "https://evil.example")...)
			return c, h
		}, 403, false},
		{"no key", func() (int, http.Header) {
			c, h, _ := doHdr(t, "GET", base+"/v1/jobs", "", nil)
			return c, h
		}, 401, false},
	}
	for _, h := range hostile {
		// Eight at once, as the probe did.
		var hw sync.WaitGroup
		codes := make(chan int, 8)
		for range 8 {
			hw.Add(1)
			go func() { defer hw.Done(); c, _ := h.send(); codes <- c }()
		}
		hw.Wait()
		close(codes)
		wanted := 0
		for c := range codes {
			switch {
			case c == h.want:
				wanted++
			case h.busy && c == http.StatusTooManyRequests:
			default:
				t.Errorf("%s: %d, want %d", h.name, c, h.want)
			}
		}
		if wanted == 0 {
			t.Errorf("%s: no answer was %d", h.name, h.want)
		}
	}
	close(stopRSS)
	t.Logf("hostile inputs: RSS %d MiB before, peak %d MiB, memory limit %d MiB", before>>20, peak.Load()>>20, memLimit>>20)
	if peak.Load() > memLimit {
		t.Errorf("RSS peaked at %d MiB, over the %d MiB limit", peak.Load()>>20, memLimit>>20)
	}

	// Nothing lost or stuck: every job of the run ended done and was deleted.
	if _, m := do(t, "GET", base+"/v1/jobs", "", nil, bearer(victim)...); len(m["jobs"].([]any)) != 0 {
		t.Errorf("jobs left: %v", m["jobs"])
	}
	var table strings.Builder
	fmt.Fprintln(&table, "| load | clients | jobs | submit p50 ms | submit p99 ms | job p50 s | job p99 s | jobs/s | lost | failed |")
	fmt.Fprintln(&table, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, r := range rows {
		fmt.Fprintln(&table, r.String())
		if r.lost > 0 || r.failed > 0 {
			t.Errorf("%s with %d clients: %d lost, %d failed", r.kind, r.clients, r.lost, r.failed)
		}
	}
	t.Logf("GOMAXPROCS %d, --jobs 1\n%s", runtime.GOMAXPROCS(0), table.String())
	if out := os.Getenv("TELL_LOAD_OUT"); out != "" {
		os.WriteFile(out, []byte(table.String()), 0o644)
	}
}

// TestLoadExternal drives a tell serve started elsewhere (TELL_LOAD_URL,
// no API key): scripts/loadtest.sh starts the old and the new server in
// turn and runs this against each, so that both are measured in one
// alternating run on the same machine. TELL_LOAD_CLIENTS lists the client
// counts (default 4,16,64), TELL_LOAD_KINDS the loads (default
// image,clip), TELL_LOAD_IMAGE_JOBS the images each client sends (default
// 3); the rows are appended to TELL_LOAD_OUT with the label
// TELL_LOAD_LABEL.
func TestLoadExternal(t *testing.T) {
	base := os.Getenv("TELL_LOAD_URL")
	if base == "" {
		t.Skip("TELL_LOAD_URL not set")
	}
	img, clip, frames := loadInputs(t)
	var counts []int
	for _, f := range strings.Split(cmp.Or(os.Getenv("TELL_LOAD_CLIENTS"), "4,16,64"), ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			t.Fatalf("TELL_LOAD_CLIENTS: %q", f)
		}
		counts = append(counts, n)
	}
	kinds := cmp.Or(os.Getenv("TELL_LOAD_KINDS"), "image,clip")
	imgJobs := 3
	if v := os.Getenv("TELL_LOAD_IMAGE_JOBS"); v != "" {
		var err error
		if imgJobs, err = strconv.Atoi(v); err != nil || imgJobs < 1 {
			t.Fatalf("TELL_LOAD_IMAGE_JOBS: %q", v)
		}
	}
	var rows []loadResult
	for _, n := range counts {
		if strings.Contains(kinds, "image") {
			rows = append(rows, runLoad(t, base, "", "image 320×240", "face.png", img, n, imgJobs))
		}
	}
	for _, n := range counts {
		if clip != nil && strings.Contains(kinds, "clip") {
			rows = append(rows, runLoad(t, base, "", fmt.Sprintf("clip %d frames", frames), "clip.mp4", clip, n, 1))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s %s\n", os.Getenv("TELL_LOAD_LABEL"), strings.TrimPrefix(r.String(), "| "))
	}
	t.Log("\n" + b.String())
	if out := os.Getenv("TELL_LOAD_OUT"); out != "" {
		f, err := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(b.String())
		f.Close()
	}
}

// TestSlowlorisExternal drives a tell serve started elsewhere
// (TELL_LOAD_URL, no API key) with TELL_SLOWLORIS (default 100)
// connections that send an upload's headers and then a byte a second,
// while one normal client uploads an image every 200 ms; it logs when the
// trickles were answered (and how) and the normal client's slowest upload.
func TestSlowlorisExternal(t *testing.T) {
	base := os.Getenv("TELL_LOAD_URL")
	if base == "" {
		t.Skip("TELL_LOAD_URL not set")
	}
	n := 100
	if v := os.Getenv("TELL_SLOWLORIS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	img, _, _ := loadInputs(t)
	stop := make(chan struct{})
	type cut struct {
		code  string
		after time.Duration
	}
	cuts := make(chan cut, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, d := slowUpload(t, base, "", time.Second, stop)
			cuts <- cut{strings.Fields(s + " x x")[1], d}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	var slowest time.Duration
	var codes []int
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 50; i++ {
			body, ct := multipartBody(t, "file", "face.png", img)
			t0 := time.Now()
			code, _, err := tryPost(base+"/v1/analyze", ct, body)
			if err != nil {
				t.Errorf("normal upload: %v", err)
				return
			}
			slowest = max(slowest, time.Since(t0))
			codes = append(codes, code)
			time.Sleep(200 * time.Millisecond)
		}
	}()
	wg.Wait()
	close(stop)
	<-done
	close(cuts)
	byCode := map[string]int{}
	var first, last time.Duration
	for c := range cuts {
		byCode[c.code]++
		if first == 0 || c.after < first {
			first = c.after
		}
		last = max(last, c.after)
	}
	accepted := 0
	for _, c := range codes {
		if c == http.StatusAccepted {
			accepted++
		}
	}
	t.Logf("%d trickling uploads: answers %v, the first after %v, the last after %v; the normal client: %d of %d uploads accepted, the slowest in %v",
		n, byCode, first.Round(10*time.Millisecond), last.Round(10*time.Millisecond), accepted, len(codes), slowest.Round(time.Millisecond))
}
