package llm

import (
	"flag"
	"fmt"
	"log/slog"
	"time"
)

// Flags are the command-line settings of every command that talks to a
// vision LLM (tell analyze --reasoner llm, eval-llm, export
// --rewrite-with): the --llm-* flags, defined once here so that they read
// the same everywhere. Defaults come from the environment (ConfigFromEnv).
type Flags struct {
	URL, Model  string
	Key         Secret
	Timeout     time.Duration
	Retries     int
	Concurrency int
	MaxTokens   int
	Stream      bool
	NoSchema    bool
}

// secretFlag is a flag.Value that never prints its value.
type secretFlag struct{ s *Secret }

func (f secretFlag) String() string {
	if f.s == nil {
		return ""
	}
	return f.s.String()
}

func (f secretFlag) Set(v string) error { *f.s = NewSecret(v); return nil }

// AddFlags defines the --llm-* flags on fs, their defaults read through
// getenv (os.Getenv in programs).
func AddFlags(fs *flag.FlagSet, getenv func(string) string) *Flags {
	env := ConfigFromEnv(getenv)
	f := &Flags{Key: env.APIKey}
	fs.StringVar(&f.URL, "llm-url", env.BaseURL, "`URL` server base URL, e.g. http://localhost:11434 (Ollama), http://localhost:8080 (llama.cpp), http://localhost:8000/v1 (vLLM); default $TELL_LLM_URL")
	fs.StringVar(&f.Model, "llm-model", env.Model, "`NAME` model name; default $TELL_LLM_MODEL")
	fs.Var(secretFlag{&f.Key}, "llm-api-key", "`KEY` API key; default $TELL_LLM_API_KEY or $OPENAI_API_KEY (prefer the environment: flags show in process lists). The key is never logged or written.")
	fs.DurationVar(&f.Timeout, "llm-timeout", DefaultTimeout, "`D` limit per attempt (default 2m)")
	fs.IntVar(&f.Retries, "llm-retries", DefaultMaxRetries, "`N` retries on 429, 5xx, timeouts (default 4)")
	fs.IntVar(&f.Concurrency, "llm-concurrency", DefaultConcurrency, "`N` requests in flight at once (default 4)")
	fs.IntVar(&f.MaxTokens, "llm-max-tokens", 1024, "`N` longest answer per request (default 1024; raise it for models that think aloud before answering)")
	fs.BoolVar(&f.Stream, "llm-stream", false, "ask for server-sent events")
	fs.BoolVar(&f.NoSchema, "llm-no-schema", false, "never send a JSON schema (response_format)")
	return f
}

// Client returns a client for the flags; url overrides --llm-url when set.
// A value Config would quietly replace by its default is refused, naming
// its flag.
func (f *Flags) Client(url string, log *slog.Logger) (*Client, error) {
	switch {
	case f.Timeout <= 0:
		return nil, fmt.Errorf("--llm-timeout %v: want a positive duration", f.Timeout)
	case f.Retries < 0:
		return nil, fmt.Errorf("--llm-retries %d: want 0 or more", f.Retries)
	case f.Concurrency < 1:
		return nil, fmt.Errorf("--llm-concurrency %d: want at least 1", f.Concurrency)
	case f.MaxTokens < 1:
		return nil, fmt.Errorf("--llm-max-tokens %d: want at least 1", f.MaxTokens)
	}
	if url == "" {
		url = f.URL
	}
	retries := f.Retries
	if retries == 0 {
		retries = -1 // Config reads 0 as "default"
	}
	return New(Config{
		BaseURL: url, Model: f.Model, APIKey: f.Key, Timeout: f.Timeout,
		MaxRetries: retries, Concurrency: f.Concurrency, NoStructured: f.NoSchema, Logger: log,
	})
}

// Reasoner returns the LLM reasoner for the flags: ExpLLM prompts, checks,
// and fallback (nil: a rejected answer is returned as it is, for eval-llm).
func (f *Flags) Reasoner(c *Client, fallback Reasoner) *Model {
	return &Model{Client: c, Fallback: fallback, Stream: f.Stream, MaxTokens: f.MaxTokens}
}
