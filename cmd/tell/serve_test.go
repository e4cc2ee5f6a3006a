package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
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
	}
	for _, tc := range cases {
		code, _, errOut := runTell(t, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("tell %v: exit %d, %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
	if code, out, _ := runTell(t, "help", "serve"); code != 0 || !strings.Contains(out, "POST   /v1/analyze") {
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
	env := &environment{stdout: &out, stderr: &errb, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, env, []string{"serve", "--addr", "127.0.0.1:0", "--workdir", t.TempDir()}) }()
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
