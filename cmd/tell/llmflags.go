package main

import (
	"flag"
	"log/slog"
	"os"
	"time"

	"github.com/tell-project/tell/llm"
)

// llmFlags are the flags of every command that can talk to a vision LLM
// (analyze --reasoner llm, eval-llm, export --rewrite-with). Defaults come
// from TELL_LLM_URL, TELL_LLM_MODEL and TELL_LLM_API_KEY / OPENAI_API_KEY.
type llmFlags struct {
	url, model  string
	key         llm.Secret
	timeout     time.Duration
	retries     int
	concurrency int
	maxTokens   int
	stream      bool
	noSchema    bool
}

// secretFlag is a flag.Value that never prints its value.
type secretFlag struct{ s *llm.Secret }

func (f secretFlag) String() string {
	if f.s == nil {
		return ""
	}
	return f.s.String()
}

func (f secretFlag) Set(v string) error { *f.s = llm.NewSecret(v); return nil }

func addLLMFlags(fs *flag.FlagSet) *llmFlags {
	env := llm.ConfigFromEnv(os.Getenv)
	f := &llmFlags{key: env.APIKey}
	fs.StringVar(&f.url, "llm-url", env.BaseURL, "`URL` server base URL, e.g. http://localhost:11434 (Ollama), http://localhost:8080 (llama.cpp), http://localhost:8000/v1 (vLLM); default $TELL_LLM_URL")
	fs.StringVar(&f.model, "llm-model", env.Model, "`NAME` model name; default $TELL_LLM_MODEL")
	fs.Var(secretFlag{&f.key}, "llm-api-key", "`KEY` API key; default $TELL_LLM_API_KEY or $OPENAI_API_KEY (prefer the environment: flags show in process lists). The key is never logged or written.")
	fs.DurationVar(&f.timeout, "llm-timeout", llm.DefaultTimeout, "`D` limit per attempt (default 2m)")
	fs.IntVar(&f.retries, "llm-retries", llm.DefaultMaxRetries, "`N` retries on 429, 5xx, timeouts (default 4)")
	fs.IntVar(&f.concurrency, "llm-concurrency", llm.DefaultConcurrency, "`N` requests in flight at once (default 4)")
	fs.IntVar(&f.maxTokens, "llm-max-tokens", 1024, "`N` longest answer per request (default 1024; raise it for models that think aloud before answering)")
	fs.BoolVar(&f.stream, "llm-stream", false, "ask for server-sent events")
	fs.BoolVar(&f.noSchema, "llm-no-schema", false, "never send a JSON schema (response_format)")
	return f
}

// client returns a client for the flags; url overrides --llm-url when set.
func (f *llmFlags) client(url string, log *slog.Logger) (*llm.Client, error) {
	if url == "" {
		url = f.url
	}
	retries := f.retries
	if retries == 0 {
		retries = -1 // Config reads 0 as "default"
	}
	return llm.New(llm.Config{
		BaseURL: url, Model: f.model, APIKey: f.key, Timeout: f.timeout,
		MaxRetries: retries, Concurrency: f.concurrency, NoStructured: f.noSchema, Logger: log,
	})
}

// reasoner returns the LLM reasoner for the flags: ExpLLM prompts, checks,
// and fallback (nil: a rejected answer is returned as it is, for eval-llm).
func (f *llmFlags) reasoner(c *llm.Client, fallback llm.Reasoner) *llm.Model {
	return &llm.Model{Client: c, Fallback: fallback, Stream: f.stream, MaxTokens: f.maxTokens}
}
