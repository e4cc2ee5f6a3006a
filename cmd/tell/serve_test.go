package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/face/facetest"
	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/portrait"
)

func TestServeUsage(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"serve", "extra"}, "unexpected argument"},
		{[]string{"serve", "--addr", "8080"}, "want HOST:PORT"},
		{[]string{"serve", "--max-upload", "0"}, "--max-upload"},
		{[]string{"serve", "--jobs", "0"}, "--jobs"},
		{[]string{"serve", "--keep", "-1s"}, "--keep"},
		{[]string{"serve", "--nosuch"}, "flag provided but not defined"},
		{[]string{"serve", "--workers", "2"}, "--workers"},
		{[]string{"serve", "--add-key", "alice"}, "--api-keys"},
		{[]string{"serve", "--nats", "nats://127.0.0.1:1", "--data", "x"}, "--data"},
		{[]string{"serve", "--addr", "0.0.0.0:0", "--data", t.TempDir()}, "--api-keys"},
		{[]string{"worker"}, "--nats"},
		{[]string{"worker", "--nats", "nats://127.0.0.1:1", "--jobs", "0"}, "--jobs"},
		{[]string{"batch", "--nats", "nats://x", "--out", "o"}, "--manifest"},
		{[]string{"batch", "dir", "--out", "o"}, "--nats"},
	}
	for _, tc := range cases {
		code, _, errOut := runTell(t, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("tell %v: exit %d, %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
	if code, out, _ := runTell(t, "help", "serve"); code != 0 || !strings.Contains(out, "GET /openapi.json") {
		t.Errorf("help serve: %d %q", code, out)
	}
}

// syncBuffer is a strings.Builder safe for the server goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeRuns starts tell serve on a free loopback port, asks it for its
// health and a chain of thought, and stops it the way SIGINT does.
func TestServeRuns(t *testing.T) {
	var out, errb syncBuffer
	env := &cli.Env{Stdout: &out, Stderr: &errb, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, env, []string{"serve", "--addr", "127.0.0.1:0", "--workdir", t.TempDir(), "--data", t.TempDir()})
	}()
	re := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)/`)
	var base string
	for i := 0; base == ""; i++ {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		} else if i > 1000 {
			t.Fatalf("no address printed: %q %q", out.String(), errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = http.Post(base+"/v1/cot", "application/json", strings.NewReader(`{"aus":"1+2+5B+26"}`))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Conclusion struct{ Label string } `json:"conclusion"`
	}
	json.NewDecoder(resp.Body).Decode(&c)
	resp.Body.Close()
	if c.Conclusion.Label != "surprise" {
		t.Errorf("cot label %q", c.Conclusion.Label)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d: %s", code, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("tell serve did not stop")
	}
}

// startTell runs a long-lived tell command in-process and waits until
// its stdout matches re; it returns the first submatch and a stop function
// that cancels the command and returns its exit code.
func startTell(t *testing.T, re *regexp.Regexp, args ...string) (string, *syncBuffer, func() int) {
	t.Helper()
	var out, errb syncBuffer
	env := &cli.Env{Stdout: &out, Stderr: &errb, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, env, args) }()
	var match string
	for i := 0; re != nil && match == ""; i++ {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			match = m[1]
		} else if i > 3000 {
			cancel()
			t.Fatalf("tell %v printed no match for %v: %q %q", args, re, out.String(), errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	stopped := false
	var code int
	stop := func() int {
		if !stopped {
			stopped = true
			cancel()
			select {
			case code = <-done:
			case <-time.After(time.Minute):
				t.Fatalf("tell %v did not stop", args)
			}
		}
		return code
	}
	t.Cleanup(func() { stop() })
	return match, &errb, stop
}

func TestServeAddKeyAndInsecure(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "keys")
	code, out, errOut := runTell(t, "serve", "--add-key", "alice", "--api-keys", keys)
	key := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(key, "tell_") || !strings.Contains(errOut, "shown only now") {
		t.Fatalf("add-key: %d %q %q", code, out, errOut)
	}
	if b, _ := os.ReadFile(keys); strings.Contains(string(b), key) || !strings.Contains(string(b), "alice sha256:") {
		t.Errorf("keys file:\n%s", b)
	}
	// Beyond loopback without keys only when told, and then loudly.
	_, errb, stop := startTell(t, regexp.MustCompile(`listening on (http://\S+)/`), "serve", "--addr", "0.0.0.0:0", "--insecure-no-auth", "--data", t.TempDir(), "--workers", "0")
	if !strings.Contains(errb.String(), "WARNING") || !strings.Contains(errb.String(), "WITHOUT AUTHENTICATION") {
		t.Errorf("no warning: %q", errb.String())
	}
	if code := stop(); code != 0 {
		t.Errorf("exit %d", code)
	}
	// With keys it starts quietly and wants the key.
	base, _, stop2 := startTell(t, regexp.MustCompile(`listening on (http://\S+)/`), "serve", "--addr", "127.0.0.1:0", "--api-keys", keys, "--data", t.TempDir(), "--workers", "0")
	resp, err := http.Get(base + "/v1/jobs")
	if err != nil || resp.StatusCode != 401 {
		t.Errorf("without a key: %v %v", resp, err)
	}
	req, _ := http.NewRequest("GET", base+"/v1/jobs", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("with the key: %v %v", resp, err)
	}
	stop2()
}

// TestWorkerAndBatch: tell serve with no local worker and NATS on a
// loopback port; a tell worker runs the jobs that tell batch submits from
// a folder; a second tell batch finds everything collected.
func TestWorkerAndBatch(t *testing.T) {
	facetest.ModelPath(t)
	natsURL, _, _ := startTell(t, regexp.MustCompile(`NATS for tell worker and tell batch at (nats://\S+)`),
		"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--workers", "0", "--nats-listen", "127.0.0.1:0")
	startTell(t, nil, "worker", "--nats", natsURL, "--workdir", t.TempDir())
	in := t.TempDir()
	os.MkdirAll(filepath.Join(in, "sub"), 0o755)
	os.WriteFile(filepath.Join(in, "sub", "astronaut.png"), portrait.AstronautPNG(), 0o644)
	os.WriteFile(filepath.Join(in, "notes.txt"), []byte("not an input"), 0o644)
	out := t.TempDir()
	code, stdout, stderr := runTell(t, "batch", in, "--nats", natsURL, "--out", out, "--quiet")
	if code != 0 || !strings.Contains(stdout, "1 analysed, 0 failed") {
		t.Fatalf("batch: %d %q %q", code, stdout, stderr)
	}
	var ev analyze.Result
	b, err := os.ReadFile(filepath.Join(out, "sub_astronaut", "events.json"))
	if err != nil || json.Unmarshal(b, &ev) != nil || ev.Status != analyze.StatusComplete || len(ev.Events) != 1 || ev.Input != "astronaut.png" {
		t.Fatalf("events.json: %v %s", err, b)
	}
	for _, f := range []string{"frames.csv", "report.html", "job.json"} {
		if _, err := os.Stat(filepath.Join(out, "sub_astronaut", f)); err != nil {
			t.Error(err)
		}
	}
	code, stdout, _ = runTell(t, "batch", in, "--nats", natsURL, "--out", out, "--quiet")
	if code != 0 || !strings.Contains(stdout, "1 analysed") {
		t.Errorf("rerun: %d %q", code, stdout)
	}
	// A manifest: two rows of the same image are one job, named by the
	// first row; a relative path is relative to the manifest.
	mdir := t.TempDir()
	os.WriteFile(filepath.Join(mdir, "face.png"), portrait.AstronautPNG(), 0o644)
	os.WriteFile(filepath.Join(mdir, "clips.csv"), []byte("sample,subject,image\ns1,1,face.png\ns2,1,face.png\n"), 0o644)
	mout := t.TempDir()
	code, stdout, stderr = runTell(t, "batch", "--manifest", filepath.Join(mdir, "clips.csv"), "--nats", natsURL, "--out", mout, "--quiet")
	if code != 0 || !strings.Contains(stdout, "1 analysed, 0 failed") {
		t.Fatalf("manifest batch: %d %q %q", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(mout, "s1", "events.json")); err != nil {
		t.Error(err)
	}
	os.WriteFile(filepath.Join(mdir, "bad.csv"), []byte("sample,image\ns1,\n"), 0o644)
	if code, _, stderr := runTell(t, "batch", "--manifest", filepath.Join(mdir, "bad.csv"), "--nats", natsURL, "--out", mout); code != 1 || !strings.Contains(stderr, "line 2") {
		t.Errorf("bad manifest: %d %q", code, stderr)
	}
}
