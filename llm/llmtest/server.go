// Package llmtest runs an OpenAI-compatible chat-completions server inside a
// test process: it speaks the wire format (JSON and server-sent events,
// usage fields, error bodies, 429 with Retry-After), records every request,
// and answers from a script or a function, so that clients can be tested
// without a network or a model.
//
// Limits: a test double: it answers from scripts, never from a model, and
// implements only the parts of the wire format tell uses.
package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tell-project/tell/llm"
)

// Reply is one scripted answer.
type Reply struct {
	// Status, when not 0 or 200, answers with an OpenAI-style error body
	// carrying ErrMessage (and ErrType).
	Status     int
	ErrMessage string
	ErrType    string
	// RetryAfter is sent as the Retry-After header when not empty.
	RetryAfter string
	// Content is the assistant's text for a successful answer.
	Content string
	// FinishReason defaults to "stop".
	FinishReason string
	// NoUsage leaves usage out of the answer.
	NoUsage bool
	// Raw, when set, is written as the whole 200 body, as is (for
	// malformed answers).
	Raw string
	// Hang blocks until the client goes away (for timeouts).
	Hang bool
	// CutStream ends a streaming answer after half its pieces, without
	// finish_reason or [DONE].
	CutStream bool
}

// Recorded is one request the server received.
type Recorded struct {
	Header http.Header
	Body   []byte
	Req    llm.ChatRequest
}

// Server is the fake server. Answers come from Script (in order) while it
// lasts, then from Handler, then an echo of the last user text.
type Server struct {
	*httptest.Server
	// Key, when set, is the API key requests must carry.
	Key string
	// NoSchema makes the server refuse json_schema response formats with a
	// 400, as servers without structured output do.
	NoSchema bool
	// Handler answers requests the script does not cover.
	Handler func(req llm.ChatRequest) Reply

	mu       sync.Mutex
	script   []Reply
	requests []Recorded
	inflight int
	peak     int
	seq      int
}

// New starts a server answering with script first.
func New(script ...Reply) *Server {
	s := &Server{script: script}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL returns the base URL clients should be given (ending in /v1).
func (s *Server) URL() string { return s.Server.URL + "/v1" }

// Requests returns the requests received so far.
func (s *Server) Requests() []Recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Recorded(nil), s.requests...)
}

// PeakInFlight returns the most requests that were being served at once.
func (s *Server) PeakInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// Push appends replies to the script.
func (s *Server) Push(r ...Reply) {
	s.mu.Lock()
	s.script = append(s.script, r...)
	s.mu.Unlock()
}

func writeError(w http.ResponseWriter, status int, typ, msg, param string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	var p any
	if param != "" {
		p = param
	}
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": p, "code": nil}})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/chat/completions" {
		writeError(w, http.StatusNotFound, "invalid_request_error", "unknown path "+r.URL.Path, "")
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "invalid_request_error", "use POST", "")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "reading body: "+err.Error(), "")
		return
	}
	var req llm.ChatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid JSON body: "+err.Error(), "")
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, Recorded{Header: r.Header.Clone(), Body: body, Req: req})
	s.inflight++
	s.peak = max(s.peak, s.inflight)
	s.seq++
	seq := s.seq
	var reply Reply
	scripted := len(s.script) > 0
	if scripted {
		reply, s.script = s.script[0], s.script[1:]
	}
	s.mu.Unlock()
	defer func() { s.mu.Lock(); s.inflight--; s.mu.Unlock() }()

	if s.Key != "" && r.Header.Get("Authorization") != "Bearer "+s.Key {
		writeError(w, http.StatusUnauthorized, "invalid_request_error", "Incorrect API key provided.", "")
		return
	}
	if r.Header.Get("Content-Type") != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "invalid_request_error", "Content-Type must be application/json", "")
		return
	}
	if req.Model == "" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "you must provide a model parameter", "model")
		return
	}
	if len(req.Messages) == 0 {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "messages must not be empty", "messages")
		return
	}
	if s.NoSchema && req.ResponseFormat != nil && req.ResponseFormat.Type == "json_schema" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "response_format of type json_schema is not supported by this server", "response_format")
		return
	}
	if !scripted {
		if s.Handler != nil {
			reply = s.Handler(req)
		} else {
			reply = Reply{Content: "echo: " + lastUser(req)}
		}
	}
	if reply.Hang {
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
		return
	}
	if reply.Status != 0 && reply.Status != http.StatusOK {
		if reply.RetryAfter != "" {
			w.Header().Set("Retry-After", reply.RetryAfter)
		}
		typ := reply.ErrType
		if typ == "" {
			typ = "server_error"
			if reply.Status < 500 {
				typ = "invalid_request_error"
			}
		}
		writeError(w, reply.Status, typ, reply.ErrMessage, "")
		return
	}
	if reply.Raw != "" {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, reply.Raw)
		return
	}
	finish := reply.FinishReason
	if finish == "" {
		finish = "stop"
	}
	usage := &llm.Usage{PromptTokens: PromptTokens(req), CompletionTokens: Tokens(reply.Content)}
	usage.TotalTokens = usage.PromptTokens + usage.CompletionTokens
	if reply.NoUsage {
		usage = nil
	}
	id := fmt.Sprintf("chatcmpl-test%d", seq)
	created := int64(1700000000 + seq)
	if !req.Stream {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(llm.ChatResponse{
			ID: id, Object: "chat.completion", Created: created, Model: req.Model,
			Choices: []llm.Choice{{Index: 0, Message: llm.Message{Role: "assistant", Text: reply.Content}, FinishReason: finish}},
			Usage:   usage,
		})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fl, _ := w.(http.Flusher)
	send := func(v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "data: %s\n\n", b)
		if fl != nil {
			fl.Flush()
		}
	}
	chunk := func(d llm.Delta, fin *string) llm.ChatChunk {
		return llm.ChatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: req.Model,
			Choices: []llm.ChunkChoice{{Index: 0, Delta: d, FinishReason: fin}}}
	}
	fmt.Fprint(w, ": keep-alive\n\n")
	send(chunk(llm.Delta{Role: "assistant"}, nil))
	pieces := Pieces(reply.Content, 7)
	if reply.CutStream {
		pieces = pieces[:len(pieces)/2]
	}
	for _, p := range pieces {
		send(chunk(llm.Delta{Content: p}, nil))
	}
	if reply.CutStream {
		return
	}
	send(chunk(llm.Delta{}, &finish))
	if usage != nil && req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		send(llm.ChatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: req.Model, Choices: []llm.ChunkChoice{}, Usage: usage})
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
}

// Pieces splits s into pieces of at most n bytes on rune boundaries, the
// way a server streams tokens.
func Pieces(s string, n int) []string {
	var out []string
	for len(s) > 0 {
		k := min(n, len(s))
		for k < len(s) && k > 0 && !isRuneStart(s[k]) {
			k--
		}
		if k == 0 { // a rune longer than n: send it whole
			_, k = utf8.DecodeRuneInString(s)
		}
		out = append(out, s[:k])
		s = s[k:]
	}
	return out
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// Tokens estimates a text's token count (4 bytes a token, as rough
// tokenizers count English).
func Tokens(s string) int { return (len(s) + 3) / 4 }

// PromptTokens estimates the prompt's tokens: its text plus 85 per image
// (a low-detail image's cost on hosted services).
func PromptTokens(req llm.ChatRequest) int {
	n := 0
	for _, m := range req.Messages {
		n += 4 + Tokens(m.Text)
		for _, p := range m.Parts {
			if p.Type == "image_url" {
				n += 85
			} else {
				n += Tokens(p.Text)
			}
		}
	}
	return n
}

func lastUser(req llm.ChatRequest) string {
	for i := len(req.Messages) - 1; i >= 0; i-- {
		if req.Messages[i].Role == "user" {
			return req.Messages[i].Content()
		}
	}
	return ""
}

// LastUserText returns the text of the request's last user turn.
func LastUserText(req llm.ChatRequest) string { return lastUser(req) }
