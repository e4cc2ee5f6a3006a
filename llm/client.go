// Package llm talks to vision LLMs over the OpenAI-compatible
// chat-completions API (vLLM, llama.cpp's server, Ollama, LM Studio, hosted
// services), prompts them in ExpLLM's layout with tell's own AU measurements
// as grounding, parses their answer into a cot.CoT and checks it against
// those measurements, falling back to the built-in engine when it fails.
//
// Limits: the answers are the model's; tell checks them against its own
// measurements (labels outside the classes, AUs not measured, conclusions
// against the observations) but cannot make them true. JSON-schema output
// and streaming depend on the server; token counts and latencies are what
// the server reports.
//
// Nothing is sent anywhere unless a base URL is configured, and the API key
// never appears in logs, errors or output files.
package llm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Defaults for Config fields left zero.
const (
	DefaultTimeout       = 120 * time.Second // per attempt; vision models on CPUs are slow
	DefaultMaxRetries    = 4
	DefaultBaseDelay     = 500 * time.Millisecond
	DefaultMaxDelay      = 20 * time.Second
	DefaultMaxRetryAfter = 2 * time.Minute
	DefaultConcurrency   = 4
	maxBodyBytes         = 32 << 20
	maxErrorBytes        = 64 << 10
)

// Config configures a Client.
type Config struct {
	// BaseURL is the server's address: "http://localhost:11434",
	// "http://localhost:8000/v1" or the full ".../v1/chat/completions".
	BaseURL string
	// Model is the model name the server knows (llama.cpp accepts any name).
	Model  string
	APIKey Secret
	// Timeout bounds one attempt (connect, generate, read).
	Timeout time.Duration
	// MaxRetries is how many times a failed attempt (429, 5xx, network
	// error, attempt timeout) is retried. Negative means none.
	MaxRetries int
	// BaseDelay and MaxDelay shape the exponential backoff with jitter.
	BaseDelay, MaxDelay time.Duration
	// MaxRetryAfter is the longest server-requested wait (Retry-After) that
	// is honoured; a longer one ends the call with the server's error.
	MaxRetryAfter time.Duration
	// Concurrency bounds requests in flight from this client.
	Concurrency int
	// NoStructured disables JSON-schema structured output from the start.
	NoStructured bool
	HTTPClient   *http.Client
	Logger       *slog.Logger
}

// Environment variables read by ConfigFromEnv.
const (
	EnvURL       = "TELL_LLM_URL"
	EnvModel     = "TELL_LLM_MODEL"
	EnvAPIKey    = "TELL_LLM_API_KEY"
	EnvOpenAIKey = "OPENAI_API_KEY"
)

// ConfigFromEnv fills URL, model and key from the environment through
// getenv (os.Getenv in programs; a map in tests). TELL_LLM_API_KEY wins over
// OPENAI_API_KEY.
func ConfigFromEnv(getenv func(string) string) Config {
	key := getenv(EnvAPIKey)
	if key == "" {
		key = getenv(EnvOpenAIKey)
	}
	return Config{
		BaseURL: getenv(EnvURL),
		Model:   getenv(EnvModel),
		APIKey:  NewSecret(key),
	}
}

// Endpoint returns the chat-completions URL for a base URL.
func Endpoint(base string) (string, error) {
	base = strings.TrimSpace(base)
	if base == "" {
		return "", errors.New("llm: no server URL given (flag --llm-url or " + EnvURL + ")")
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("llm: server URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("llm: server URL %q: scheme must be http or https", u.Redacted())
	}
	if u.Host == "" {
		return "", fmt.Errorf("llm: server URL %q has no host", u.Redacted())
	}
	p := strings.TrimRight(u.Path, "/")
	switch {
	case strings.HasSuffix(p, "/chat/completions"):
	case strings.HasSuffix(p, "/v1"):
		p += "/chat/completions"
	default:
		p += "/v1/chat/completions"
	}
	u.Path = p
	return u.String(), nil
}

// Client sends chat-completion requests. It is safe for concurrent use.
type Client struct {
	cfg      Config
	endpoint string
	http     *http.Client
	log      *slog.Logger
	sem      chan struct{}
	// noSchema is set once the server rejects JSON-schema structured output.
	noSchema atomic.Bool
	// sleep waits between retries; tests replace it to observe delays.
	sleep func(ctx context.Context, d time.Duration) error
}

// New returns a client for cfg with defaults filled in.
func New(cfg Config) (*Client, error) {
	ep, err := Endpoint(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(cfg.Model) == "" {
		return nil, errors.New("llm: no model name given (flag --llm-model or " + EnvModel + "; llama.cpp's server accepts any name)")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = DefaultMaxRetries
	} else if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.BaseDelay <= 0 {
		cfg.BaseDelay = DefaultBaseDelay
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = DefaultMaxDelay
	}
	if cfg.MaxRetryAfter <= 0 {
		cfg.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	hc := cfg.HTTPClient
	if hc == nil {
		// Keep as many idle connections as requests may be in flight, so
		// that a concurrent run reuses them (the default keeps 2 per host).
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = cfg.Concurrency
		hc = &http.Client{Transport: tr}
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	c := &Client{cfg: cfg, endpoint: ep, http: hc, log: lg, sem: make(chan struct{}, cfg.Concurrency), sleep: sleepCtx}
	c.noSchema.Store(cfg.NoStructured)
	return c, nil
}

// Model returns the configured model name.
func (c *Client) Model() string { return c.cfg.Model }

// Endpoint returns the chat-completions URL (credentials in it redacted).
func (c *Client) Endpoint() string {
	u, err := url.Parse(c.endpoint)
	if err != nil {
		return ""
	}
	return u.Redacted()
}

// Structured reports whether requests should carry a JSON schema: true until
// the server rejects one (or NoStructured was set).
func (c *Client) Structured() bool { return !c.noSchema.Load() }

// DisableStructured makes later requests go without a JSON schema. It
// reports whether this call made the change (concurrent callers may race
// to it; one reports true).
func (c *Client) DisableStructured() bool { return c.noSchema.CompareAndSwap(false, true) }

// Completion is the outcome of one chat-completion call.
type Completion struct {
	Content      string
	FinishReason string
	Model        string // as the server reports it
	Usage        Usage
	// UsageReported is false when the server sent no usage numbers.
	UsageReported bool
	// Latency is the wall time of the successful attempt.
	Latency  time.Duration
	Attempts int
}

// APIError is a non-2xx answer from the server.
type APIError struct {
	Status     int
	Message    string
	Type       string
	Code       string
	RetryAfter time.Duration // 0 when the server gave none
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("llm: server answered %d %s", e.Status, http.StatusText(e.Status))
	if e.Status == 0 {
		s = "llm: server reported an error"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Temporary reports whether retrying may help.
func (e *APIError) Temporary() bool {
	switch {
	case e.Status == http.StatusRequestTimeout, e.Status == http.StatusTooManyRequests:
		return true
	case e.Status == http.StatusNotImplemented, e.Status == http.StatusHTTPVersionNotSupported:
		return false
	}
	return e.Status >= 500
}

// IsSchemaUnsupported reports whether err is the server refusing the
// response_format of the request, so that it should be sent without one.
func IsSchemaUnsupported(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	if ae.Status != http.StatusBadRequest && ae.Status != http.StatusUnprocessableEntity && ae.Status != http.StatusNotImplemented {
		return false
	}
	m := strings.ToLower(ae.Message + " " + ae.Code + " " + ae.Type)
	for _, w := range []string{"response_format", "json_schema", "schema", "grammar", "structured"} {
		if strings.Contains(m, w) {
			return true
		}
	}
	return false
}

// Complete sends req (Model filled in when empty) and returns the answer.
// With req.Stream set it reads the server-sent events. Failed attempts are
// retried as Config says; ctx cancels everything, including backoff waits.
func (c *Client) Complete(ctx context.Context, req ChatRequest) (*Completion, error) {
	return c.Stream(ctx, req, nil)
}

// Stream is Complete with streaming forced on; onDelta (may be nil) receives
// each piece of text as it arrives. Once a piece has been delivered, a
// failure is returned rather than retried, so onDelta never sees text twice.
func (c *Client) Stream(ctx context.Context, req ChatRequest, onDelta func(string)) (*Completion, error) {
	if req.Model == "" {
		req.Model = c.cfg.Model
	}
	if onDelta != nil {
		req.Stream = true
	}
	if req.Stream && req.StreamOptions == nil {
		req.StreamOptions = &StreamOptions{IncludeUsage: true}
	}
	if !req.Stream {
		req.StreamOptions = nil
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("llm: encode request: %w", err)
	}
	var delivered bool
	deliver := onDelta
	if onDelta != nil {
		deliver = func(s string) { delivered = true; onDelta(s) }
	}
	for attempt := 0; ; attempt++ {
		if err := c.acquire(ctx); err != nil {
			return nil, fmt.Errorf("llm: waiting for a request slot: %w", err)
		}
		start := time.Now()
		comp, err := c.once(ctx, body, req.Stream, deliver)
		<-c.sem
		if err == nil {
			comp.Latency = time.Since(start)
			comp.Attempts = attempt + 1
			c.log.Debug("llm answer", "url", c.Endpoint(), "model", req.Model, "attempts", comp.Attempts,
				"latency", comp.Latency, "prompt_tokens", comp.Usage.PromptTokens, "completion_tokens", comp.Usage.CompletionTokens)
			return comp, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("llm: %w", context.Cause(ctx))
		}
		if attempt >= c.cfg.MaxRetries || delivered || !retryable(err) {
			if attempt > 0 {
				return nil, fmt.Errorf("after %d attempts: %w", attempt+1, err)
			}
			return nil, err
		}
		delay := c.backoff(attempt)
		var ae *APIError
		if errors.As(err, &ae) && ae.RetryAfter > 0 {
			if ae.RetryAfter > c.cfg.MaxRetryAfter {
				return nil, fmt.Errorf("server asks to wait %v, longer than %v: %w", ae.RetryAfter, c.cfg.MaxRetryAfter, err)
			}
			delay = ae.RetryAfter
		}
		c.log.Warn("llm retry", "url", c.Endpoint(), "attempt", attempt+1, "delay", delay, "err", err.Error())
		if err := c.sleep(ctx, delay); err != nil {
			return nil, fmt.Errorf("llm: %w", err)
		}
	}
}

func (c *Client) acquire(ctx context.Context) error {
	select {
	case c.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// backoff is exponential with "equal jitter": uniform in [d/2, d], so that
// clients that failed together do not retry together.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.cfg.BaseDelay
	for i := 0; i < attempt && d < c.cfg.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, c.cfg.MaxDelay)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// errAttemptTimeout marks an attempt that ran past Config.Timeout.
var errAttemptTimeout = errors.New("attempt timed out")

func retryable(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Temporary()
	}
	if errors.Is(err, errAttemptTimeout) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe)
}

func (c *Client) once(ctx context.Context, body []byte, stream bool, onDelta func(string)) (*Completion, error) {
	actx, cancel := context.WithTimeoutCause(ctx, c.cfg.Timeout, errAttemptTimeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(actx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("llm: build request: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	if stream {
		hreq.Header.Set("Accept", "text/event-stream")
	} else {
		hreq.Header.Set("Accept", "application/json")
	}
	if !c.cfg.APIKey.IsZero() {
		hreq.Header.Set("Authorization", "Bearer "+c.cfg.APIKey.Reveal())
	}
	resp, err := c.http.Do(hreq)
	if err != nil {
		return nil, c.transportErr(actx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
		return nil, c.apiError(resp, b)
	}
	var comp *Completion
	if stream && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		comp, err = c.readStream(resp.Body, onDelta)
	} else {
		// A server may answer a streaming request with one JSON body.
		comp, err = c.readJSON(resp.Body, onDelta)
	}
	if err != nil {
		return nil, c.transportErr(actx, err)
	}
	return comp, nil
}

// transportErr names an attempt timeout as such and scrubs the key.
func (c *Client) transportErr(actx context.Context, err error) error {
	if errors.Is(context.Cause(actx), errAttemptTimeout) {
		return fmt.Errorf("llm: %s: %w after %v", c.Endpoint(), errAttemptTimeout, c.cfg.Timeout)
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return err
	}
	return fmt.Errorf("llm: %s: %s: %w", c.Endpoint(), c.cfg.APIKey.scrub(err.Error()), unwrapKind(err))
}

// unwrapKind keeps the classification of err (for retryable) without its
// text, which was already scrubbed into the message.
func unwrapKind(err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return io.ErrUnexpectedEOF
	case errors.As(err, &ne):
		return netKind{ne}
	}
	return errors.New("request failed")
}

type netKind struct{ ne net.Error }

func (k netKind) Error() string   { return "network error" }
func (k netKind) Timeout() bool   { return k.ne.Timeout() }
func (k netKind) Temporary() bool { return true }

var _ net.Error = netKind{}

func (c *Client) apiError(resp *http.Response, body []byte) *APIError {
	ae := &APIError{Status: resp.StatusCode, RetryAfter: retryAfter(resp.Header, time.Now())}
	if eb, ok := parseErrorBody(body); ok {
		ae.Message, ae.Type = eb.Message, eb.Type
		if eb.Code != nil {
			ae.Code = fmt.Sprint(eb.Code)
		}
	} else {
		ae.Message = strings.TrimSpace(string(body))
		if len(ae.Message) > 300 {
			ae.Message = ae.Message[:300] + "..."
		}
	}
	ae.Message = c.cfg.APIKey.scrub(ae.Message)
	return ae
}

// retryAfter reads Retry-After (seconds or an HTTP date) or the
// retry-after-ms header some services send.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if ms := h.Get("Retry-After-Ms"); ms != "" {
		if v, err := strconv.ParseFloat(ms, 64); err == nil && v > 0 {
			return time.Duration(v * float64(time.Millisecond))
		}
	}
	ra := strings.TrimSpace(h.Get("Retry-After"))
	if ra == "" {
		return 0
	}
	if v, err := strconv.ParseFloat(ra, 64); err == nil {
		if v <= 0 {
			return 0
		}
		return time.Duration(v * float64(time.Second))
	}
	if t, err := http.ParseTime(ra); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

func (c *Client) readJSON(r io.Reader, onDelta func(string)) (*Completion, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxBodyBytes))
	if err != nil {
		return nil, err
	}
	if eb, ok := parseErrorBody(b); ok {
		return nil, &APIError{Status: 0, Message: c.cfg.APIKey.scrub(eb.Message), Type: eb.Type}
	}
	var cr ChatResponse
	if err := json.Unmarshal(b, &cr); err != nil {
		return nil, &APIError{Status: http.StatusOK, Message: fmt.Sprintf("malformed completion body: %v", err)}
	}
	if len(cr.Choices) == 0 {
		return nil, &APIError{Status: http.StatusOK, Message: "completion has no choices"}
	}
	ch := cr.Choices[0]
	comp := &Completion{Content: ch.Message.Content(), FinishReason: ch.FinishReason, Model: cr.Model}
	if cr.Usage != nil {
		comp.Usage, comp.UsageReported = *cr.Usage, true
	}
	if onDelta != nil && comp.Content != "" {
		onDelta(comp.Content)
	}
	return comp, nil
}

// readStream reads server-sent events: "data: {chunk}" lines separated by
// blank lines, ending with "data: [DONE]".
func (c *Client) readStream(r io.Reader, onDelta func(string)) (*Completion, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 8<<20)
	comp := &Completion{}
	var text strings.Builder
	var data []string
	finished := false
	dispatch := func() (done bool, err error) {
		if len(data) == 0 {
			return false, nil
		}
		payload := strings.Join(data, "\n")
		data = data[:0]
		if strings.TrimSpace(payload) == "[DONE]" {
			return true, nil
		}
		var ch ChatChunk
		if err := json.Unmarshal([]byte(payload), &ch); err != nil {
			return false, &APIError{Status: http.StatusOK, Message: fmt.Sprintf("malformed stream event: %v", err)}
		}
		if ch.Error != nil {
			return false, &APIError{Status: 0, Message: c.cfg.APIKey.scrub(ch.Error.Message), Type: ch.Error.Type}
		}
		if ch.Model != "" {
			comp.Model = ch.Model
		}
		if ch.Usage != nil {
			comp.Usage, comp.UsageReported = *ch.Usage, true
		}
		for _, cc := range ch.Choices {
			if cc.Index != 0 {
				continue
			}
			if cc.Delta.Content != "" {
				text.WriteString(cc.Delta.Content)
				if onDelta != nil {
					onDelta(cc.Delta.Content)
				}
			}
			if cc.FinishReason != nil && *cc.FinishReason != "" {
				comp.FinishReason = *cc.FinishReason
				finished = true
			}
		}
		return false, nil
	}
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			done, err := dispatch()
			if err != nil {
				return nil, err
			}
			if done {
				comp.Content = text.String()
				return comp, nil
			}
		case strings.HasPrefix(line, ":"): // comment / keep-alive
		case strings.HasPrefix(line, "data:"):
			data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	done, err := dispatch()
	if err != nil {
		return nil, err
	}
	if !done && !finished {
		return nil, fmt.Errorf("stream ended before [DONE]: %w", io.ErrUnexpectedEOF)
	}
	comp.Content = text.String()
	return comp, nil
}
