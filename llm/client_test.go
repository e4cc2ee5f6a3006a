package llm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tell-project/tell/llm"
	"github.com/tell-project/tell/llm/llmtest"
)

// sleeps records backoff delays instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func newClient(t *testing.T, srv *llmtest.Server, mod func(*llm.Config)) (*llm.Client, *sleeps) {
	t.Helper()
	cfg := llm.Config{BaseURL: srv.URL(), Model: "test-model", BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second, MaxRetries: 3}
	if mod != nil {
		mod(&cfg)
	}
	c, err := llm.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &sleeps{}
	llm.SetSleep(c, s.sleep)
	return c, s
}

func userMsg(text string) []llm.Message {
	return []llm.Message{{Role: "system", Text: "sys"}, {Role: "user", Parts: []llm.Part{llm.TextPart(text)}}}
}

func TestCompleteNonStreaming(t *testing.T) {
	srv := llmtest.New(llmtest.Reply{Content: "happiness"})
	defer srv.Close()
	srv.Key = "sk-test-123456"
	c, _ := newClient(t, srv, func(c *llm.Config) { c.APIKey = llm.NewSecret("sk-test-123456") })
	comp, err := c.Complete(context.Background(), llm.ChatRequest{Messages: userMsg("which?")})
	if err != nil {
		t.Fatal(err)
	}
	if comp.Content != "happiness" || comp.FinishReason != "stop" || comp.Model != "test-model" || comp.Attempts != 1 {
		t.Fatalf("completion = %+v", comp)
	}
	if !comp.UsageReported || comp.Usage.CompletionTokens != llmtest.Tokens("happiness") || comp.Usage.TotalTokens != comp.Usage.PromptTokens+comp.Usage.CompletionTokens {
		t.Fatalf("usage = %+v reported=%v", comp.Usage, comp.UsageReported)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	var raw map[string]any
	if err := json.Unmarshal(reqs[0].Body, &raw); err != nil {
		t.Fatal(err)
	}
	if raw["model"] != "test-model" || raw["stream"] != nil || raw["stream_options"] != nil {
		t.Fatalf("body fields: %v", raw)
	}
	msgs := raw["messages"].([]any)
	if msgs[0].(map[string]any)["content"] != "sys" {
		t.Fatalf("system content should be a string: %v", msgs[0])
	}
	parts := msgs[1].(map[string]any)["content"].([]any)
	if p := parts[0].(map[string]any); p["type"] != "text" || p["text"] != "which?" {
		t.Fatalf("user part = %v", p)
	}
}

func TestStreaming(t *testing.T) {
	text := "**Conclusion:** the expression is happiness — 😀 ünïcode"
	srv := llmtest.New(llmtest.Reply{Content: text})
	defer srv.Close()
	c, _ := newClient(t, srv, nil)
	var got []string
	comp, err := c.Stream(context.Background(), llm.ChatRequest{Messages: userMsg("x")}, func(s string) { got = append(got, s) })
	if err != nil {
		t.Fatal(err)
	}
	if comp.Content != text || strings.Join(got, "") != text || len(got) < 5 {
		t.Fatalf("content %q, %d pieces %q", comp.Content, len(got), got)
	}
	if !comp.UsageReported || comp.Usage.CompletionTokens != llmtest.Tokens(text) {
		t.Fatalf("usage %+v", comp.Usage)
	}
	req := srv.Requests()[0]
	if !req.Req.Stream || req.Req.StreamOptions == nil || !req.Req.StreamOptions.IncludeUsage {
		t.Fatalf("stream flags not sent: %s", req.Body)
	}
	if req.Header.Get("Accept") != "text/event-stream" {
		t.Fatalf("Accept = %q", req.Header.Get("Accept"))
	}
}

func TestStreamCutIsRetriedOnlyBeforeDelivery(t *testing.T) {
	srv := llmtest.New(llmtest.Reply{Content: "one two three four five six", CutStream: true}, llmtest.Reply{Content: "whole answer"})
	defer srv.Close()
	c, s := newClient(t, srv, nil)
	comp, err := c.Complete(context.Background(), llm.ChatRequest{Messages: userMsg("x"), Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	if comp.Content != "whole answer" || comp.Attempts != 2 || len(s.d) != 1 {
		t.Fatalf("content %q attempts %d sleeps %v", comp.Content, comp.Attempts, s.d)
	}
	// With a delta callback that already saw text, no retry.
	srv.Push(llmtest.Reply{Content: "one two three four five six", CutStream: true}, llmtest.Reply{Content: "never"})
	_, err = c.Stream(context.Background(), llm.ChatRequest{Messages: userMsg("x")}, func(string) {})
	if err == nil || !strings.Contains(err.Error(), "before [DONE]") {
		t.Fatalf("err = %v", err)
	}
	if n := len(srv.Requests()); n != 3 {
		t.Fatalf("%d requests, want 3", n)
	}
}

func TestRetriesHonourRetryAfterAndBackoff(t *testing.T) {
	srv := llmtest.New(
		llmtest.Reply{Status: 429, ErrMessage: "Rate limit reached", ErrType: "rate_limit_error", RetryAfter: "3"},
		llmtest.Reply{Status: 503, ErrMessage: "overloaded"},
		llmtest.Reply{Status: 502, ErrMessage: "bad gateway"},
		llmtest.Reply{Content: "ok"},
	)
	defer srv.Close()
	c, s := newClient(t, srv, nil)
	comp, err := c.Complete(context.Background(), llm.ChatRequest{Messages: userMsg("x")})
	if err != nil {
		t.Fatal(err)
	}
	if comp.Attempts != 4 || len(s.d) != 3 {
		t.Fatalf("attempts %d, sleeps %v", comp.Attempts, s.d)
	}
	if s.d[0] != 3*time.Second {
		t.Errorf("Retry-After 3 → waited %v", s.d[0])
	}
	// Attempt index 1: 100ms*2 = 200ms with jitter in [100ms, 200ms];
	// index 2: 400ms → [200ms, 400ms].
	if s.d[1] < 100*time.Millisecond || s.d[1] > 200*time.Millisecond || s.d[2] < 200*time.Millisecond || s.d[2] > 400*time.Millisecond {
		t.Errorf("backoff delays %v out of range", s.d[1:])
	}
}

func TestBackoffIsCapped(t *testing.T) {
	srv := llmtest.New()
	defer srv.Close()
	c, _ := newClient(t, srv, nil)
	for a := 0; a < 40; a++ {
		if d := llm.Backoff(c, a); d > time.Second || d < 50*time.Millisecond {
			t.Fatalf("attempt %d: %v", a, d)
		}
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		h    map[string]string
		want time.Duration
	}{
		{map[string]string{"Retry-After": "2"}, 2 * time.Second},
		{map[string]string{"Retry-After": "0.5"}, 500 * time.Millisecond},
		{map[string]string{"Retry-After": now.Add(7 * time.Second).Format(http.TimeFormat)}, 7 * time.Second},
		{map[string]string{"Retry-After": now.Add(-time.Hour).Format(http.TimeFormat)}, 0},
		{map[string]string{"Retry-After": "soon"}, 0},
		{map[string]string{"Retry-After": "-3"}, 0},
		{map[string]string{"Retry-After-Ms": "250", "Retry-After": "9"}, 250 * time.Millisecond},
		{map[string]string{}, 0},
	}
	for _, tc := range cases {
		h := http.Header{}
		for k, v := range tc.h {
			h.Set(k, v)
		}
		if got := llm.RetryAfter(h, now); got != tc.want {
			t.Errorf("%v: got %v want %v", tc.h, got, tc.want)
		}
	}
}

func TestRetryAfterTooLongGivesUp(t *testing.T) {
	srv := llmtest.New(llmtest.Reply{Status: 429, ErrMessage: "quota", RetryAfter: "3600"}, llmtest.Reply{Content: "never"})
	defer srv.Close()
	c, s := newClient(t, srv, func(c *llm.Config) { c.MaxRetryAfter = time.Minute })
	_, err := c.Complete(context.Background(), llm.ChatRequest{Messages: userMsg("x")})
	var ae *llm.APIError
	if !errors.As(err, &ae) || ae.Status != 429 || ae.RetryAfter != time.Hour || len(s.d) != 0 {
		t.Fatalf("err %v sleeps %v", err, s.d)
	}
}

func TestClientErrorsAreNotRetried(t *testing.T) {
	srv := llmtest.New(llmtest.Reply{Status: 400, ErrMessage: "messages[1]: bad image"}, llmtest.Reply{Content: "never"})
	defer srv.Close()
	c, s := newClient(t, srv, nil)
	_, err := c.Complete(context.Background(), llm.ChatRequest{Messages: userMsg("x")})
	var ae *llm.APIError
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Message != "messages[1]: bad image" || ae.Type != "invalid_request_error" {
		t.Fatalf("err = %#v", err)
	}
	if len(srv.Requests()) != 1 || len(s.d) != 0 {
		t.Fatalf("retried a 400")
	}
}

func TestRetriesExhausted(t *testing.T) {
	srv := llmtest.New()
	srv.Handler = func(llm.ChatRequest) llmtest.Reply { return llmtest.Reply{Status: 500, ErrMessage: "boom"} }
	defer srv.Close()
	c, s := newClient(t, srv, func(c *llm.Config) { c.MaxRetries = 2 })
	_, err := c.Complete(context.Background(), llm.ChatRequest{Messages: userMsg("x")})
	if err == nil || !strings.Contains(err.Error(), "after 3 attempts") || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v", err)
	}
	if len(srv.Requests()) != 3 || len(s.d) != 2 {
		t.Fatalf("%d requests, sleeps %v", len(srv.Requests()), s.d)
	}
}

func TestMalformedBodies(t *testing.T) {
	cases := []struct{ raw, want string }{
		{`{"id":"x","choices":[`, "malformed completion body"},
		{`{"id":"x","object":"chat.completion","choices":[]}`, "no choices"},
		{`{"error":"model not loaded"}`, "model not loaded"},
	}
	for _, tc := range cases {
		srv := llmtest.New(llmtest.Reply{Raw: tc.raw}, llmtest.Reply{Content: "never"})
		c, _ := newClient(t, srv, nil)
		_, err := c.Complete(context.Background(), llm.ChatRequest{Messages: userMsg("x")})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v", tc.raw, err)
		}
		if n := len(srv.Requests()); n != 1 {
			t.Errorf("%s: %d requests", tc.raw, n)
		}
		srv.Close()
	}
}

func TestAttemptTimeoutIsRetried(t *testing.T) {
	srv := llmtest.New(llmtest.Reply{Hang: true}, llmtest.Reply{Hang: true})
	defer srv.Close()
	c, s := newClient(t, srv, func(c *llm.Config) { c.Timeout = 50 * time.Millisecond; c.MaxRetries = 1 })
	_, err := c.Complete(context.Background(), llm.ChatRequest{Messages: userMsg("x")})
	if err == nil || !strings.Contains(err.Error(), "timed out") || !strings.Contains(err.Error(), "after 2 attempts") {
		t.Fatalf("err = %v", err)
	}
	if len(srv.Requests()) != 2 || len(s.d) != 1 {
		t.Fatalf("%d requests, sleeps %v", len(srv.Requests()), s.d)
	}
	// A hang followed by an answer succeeds on the retry.
	srv.Push(llmtest.Reply{Hang: true}, llmtest.Reply{Content: "late"})
	comp, err := c.Complete(context.Background(), llm.ChatRequest{Messages: userMsg("x")})
	if err != nil || comp.Content != "late" || comp.Attempts != 2 {
		t.Fatalf("comp %+v err %v", comp, err)
	}
}

func TestCancellation(t *testing.T) {
	srv := llmtest.New(llmtest.Reply{Hang: true})
	defer srv.Close()
	c, _ := newClient(t, srv, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for len(srv.Requests()) == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := c.Complete(ctx, llm.ChatRequest{Messages: userMsg("x")})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Fatalf("%d requests after cancel", n)
	}
	// Cancelled during a backoff wait: no further attempt.
	srv.Push(llmtest.Reply{Status: 503, ErrMessage: "busy"}, llmtest.Reply{Content: "never"})
	ctx2, cancel2 := context.WithCancel(context.Background())
	llm.SetSleep(c, func(ctx context.Context, d time.Duration) error { cancel2(); <-ctx.Done(); return ctx.Err() })
	_, err = c.Complete(ctx2, llm.ChatRequest{Messages: userMsg("x")})
	if !errors.Is(err, context.Canceled) || len(srv.Requests()) != 2 {
		t.Fatalf("err = %v, %d requests", err, len(srv.Requests()))
	}
}

func TestConcurrencyLimit(t *testing.T) {
	srv := llmtest.New()
	srv.Handler = func(llm.ChatRequest) llmtest.Reply {
		time.Sleep(5 * time.Millisecond) // let requests overlap if the client allows it
		return llmtest.Reply{Content: "ok"}
	}
	defer srv.Close()
	c, _ := newClient(t, srv, func(c *llm.Config) { c.Concurrency = 2 })
	var wg sync.WaitGroup
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Complete(context.Background(), llm.ChatRequest{Messages: userMsg("x")}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if p := srv.PeakInFlight(); p > 2 || p < 1 {
		t.Fatalf("peak in flight %d with limit 2", p)
	}
}

func TestKeyNeverLoggedOrPrinted(t *testing.T) {
	const key = "sk-SECRET-abcdef0123456789"
	srv := llmtest.New(
		llmtest.Reply{Status: 503, ErrMessage: "upstream says key " + key + " is throttled"},
		llmtest.Reply{Status: 401, ErrMessage: "Incorrect API key provided: " + key},
	)
	defer srv.Close()
	var logs bytes.Buffer
	lg := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := llm.Config{BaseURL: srv.URL(), Model: "m", APIKey: llm.NewSecret(key), Logger: lg, MaxRetries: 2}
	c, err := llm.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	llm.SetSleep(c, func(context.Context, time.Duration) error { return nil })
	lg.Info("config", "cfg", cfg, "key", cfg.APIKey)
	_, err = c.Complete(context.Background(), llm.ChatRequest{Messages: userMsg("x")})
	if err == nil {
		t.Fatal("want 401 error")
	}
	//lint:ignore SA1026 cfg.HTTPClient is nil here, so it marshals; the key is what is checked
	js, _ := json.Marshal(cfg)
	printed := fmt.Sprintf("%v %+v %#v %s %q", cfg, cfg, cfg, cfg.APIKey, cfg.APIKey)
	for name, s := range map[string]string{"logs": logs.String(), "error": err.Error(), "json": string(js), "fmt": printed} {
		if strings.Contains(s, key) || strings.Contains(s, "SECRET") {
			t.Errorf("key leaked in %s: %s", name, s)
		}
	}
	if !strings.Contains(logs.String(), "llm retry") {
		t.Errorf("expected a retry log line, got %s", logs.String())
	}
	if got := srv.Requests()[0].Header.Get("Authorization"); got != "Bearer "+key {
		t.Errorf("Authorization = %q", got)
	}
}

func TestNoKeyNoAuthorization(t *testing.T) {
	srv := llmtest.New(llmtest.Reply{Content: "ok"})
	defer srv.Close()
	c, _ := newClient(t, srv, nil)
	if _, err := c.Complete(context.Background(), llm.ChatRequest{Messages: userMsg("x")}); err != nil {
		t.Fatal(err)
	}
	if h := srv.Requests()[0].Header.Get("Authorization"); h != "" {
		t.Fatalf("Authorization sent without a key: %q", h)
	}
}

func TestEndpoint(t *testing.T) {
	cases := []struct{ in, want, err string }{
		{"http://localhost:11434", "http://localhost:11434/v1/chat/completions", ""},
		{"http://localhost:8000/v1", "http://localhost:8000/v1/chat/completions", ""},
		{"http://localhost:8000/v1/", "http://localhost:8000/v1/chat/completions", ""},
		{"https://api.example.com/openai/v1", "https://api.example.com/openai/v1/chat/completions", ""},
		{"http://h:1/v1/chat/completions", "http://h:1/v1/chat/completions", ""},
		{"", "", "no server URL"},
		{"ftp://h/v1", "", "scheme"},
		{"localhost:8080", "", "scheme"},
		{"http:///v1", "", "no host"},
	}
	for _, tc := range cases {
		got, err := llm.Endpoint(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := llm.New(llm.Config{BaseURL: "http://h"}); err == nil || !strings.Contains(err.Error(), "model") {
		t.Errorf("missing model: %v", err)
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{"TELL_LLM_URL": "http://h:1", "TELL_LLM_MODEL": "qwen2.5vl", "OPENAI_API_KEY": "sk-openai"}
	cfg := llm.ConfigFromEnv(func(k string) string { return env[k] })
	if cfg.BaseURL != "http://h:1" || cfg.Model != "qwen2.5vl" || cfg.APIKey.Reveal() != "sk-openai" {
		t.Fatalf("cfg = %+v / %s", cfg, cfg.APIKey.Reveal())
	}
	env["TELL_LLM_API_KEY"] = "sk-tell"
	if k := llm.ConfigFromEnv(func(k string) string { return env[k] }).APIKey.Reveal(); k != "sk-tell" {
		t.Fatalf("TELL_LLM_API_KEY should win, got %q", k)
	}
}

func TestMessageJSONRoundTrip(t *testing.T) {
	in := []llm.Message{
		{Role: "system", Text: "s"},
		{Role: "user", Parts: []llm.Part{llm.TextPart("t"), {Type: "image_url", ImageURL: &llm.ImageURL{URL: "data:image/png;base64,AAAA"}}}},
		{Role: "assistant", Text: "a"},
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"t"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]},{"role":"assistant","content":"a"}]`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	var out []llm.Message
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out[1].Parts[1].ImageURL.URL != "data:image/png;base64,AAAA" || out[2].Text != "a" || out[1].Content() != "t" {
		t.Fatalf("round trip: %+v", out)
	}
	var null llm.Message
	if err := json.Unmarshal([]byte(`{"role":"assistant","content":null}`), &null); err != nil || null.Text != "" {
		t.Fatalf("null content: %v %+v", err, null)
	}
	if err := json.Unmarshal([]byte(`{"role":"assistant","content":5}`), &null); err == nil {
		t.Fatal("numeric content accepted")
	}
}
