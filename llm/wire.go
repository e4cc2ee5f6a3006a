package llm

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The wire types below follow the OpenAI chat-completions format that vLLM,
// llama.cpp's server, Ollama, LM Studio and hosted services accept. Only the
// fields tell uses are declared; unknown response fields are ignored.

// ChatRequest is the body of POST /v1/chat/completions.
type ChatRequest struct {
	Model          string          `json:"model"`
	Messages       []Message       `json:"messages"`
	Temperature    *float64        `json:"temperature,omitempty"`
	MaxTokens      int             `json:"max_tokens,omitempty"`
	Seed           *int64          `json:"seed,omitempty"`
	Stream         bool            `json:"stream,omitempty"`
	StreamOptions  *StreamOptions  `json:"stream_options,omitempty"`
	ResponseFormat *ResponseFormat `json:"response_format,omitempty"`
}

// StreamOptions asks a streaming server to send a final usage chunk.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// ResponseFormat selects structured output. Type is "json_schema" (with
// JSONSchema set), "json_object" or "text".
type ResponseFormat struct {
	Type       string      `json:"type"`
	JSONSchema *JSONSchema `json:"json_schema,omitempty"`
}

// JSONSchema names a schema for structured output.
type JSONSchema struct {
	Name   string          `json:"name"`
	Strict bool            `json:"strict,omitempty"`
	Schema json.RawMessage `json:"schema"`
}

// Message is one chat turn. Content is either a plain string (Text) or a list
// of parts (Parts) mixing text and images; Parts wins when both are set.
type Message struct {
	Role  string `json:"-"`
	Text  string `json:"-"`
	Parts []Part `json:"-"`
}

// Part is one element of a multi-part message: text or an image URL (a
// base64 data URL for local images).
type Part struct {
	Type     string    `json:"type"` // "text" or "image_url"
	Text     string    `json:"text,omitempty"`
	ImageURL *ImageURL `json:"image_url,omitempty"`
}

// ImageURL is an image part's address; Detail is "low", "high" or "auto".
type ImageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

// TextPart returns a text part.
func TextPart(s string) Part { return Part{Type: "text", Text: s} }

type wireMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// MarshalJSON writes content as a string or as a part list.
func (m Message) MarshalJSON() ([]byte, error) {
	var content []byte
	var err error
	if len(m.Parts) > 0 {
		content, err = json.Marshal(m.Parts)
	} else {
		content, err = json.Marshal(m.Text)
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(wireMessage{Role: m.Role, Content: content})
}

// UnmarshalJSON reads content given as a string, a part list or null.
func (m *Message) UnmarshalJSON(b []byte) error {
	var w wireMessage
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*m = Message{Role: w.Role}
	c := strings.TrimSpace(string(w.Content))
	switch {
	case c == "" || c == "null":
	case c[0] == '"':
		return json.Unmarshal(w.Content, &m.Text)
	case c[0] == '[':
		return json.Unmarshal(w.Content, &m.Parts)
	default:
		return fmt.Errorf("message content: want string or list, got %.20s", c)
	}
	return nil
}

// Content returns the message's text: Text, or its text parts joined.
func (m Message) Content() string {
	if len(m.Parts) == 0 {
		return m.Text
	}
	var b strings.Builder
	for _, p := range m.Parts {
		if p.Type == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// ChatResponse is a non-streaming completion.
type ChatResponse struct {
	ID      string   `json:"id"`
	Object  string   `json:"object"`
	Created int64    `json:"created"`
	Model   string   `json:"model"`
	Choices []Choice `json:"choices"`
	Usage   *Usage   `json:"usage,omitempty"`
}

// Choice is one completion alternative.
type Choice struct {
	Index        int     `json:"index"`
	Message      Message `json:"message"`
	FinishReason string  `json:"finish_reason"`
}

// Usage counts tokens as the server reports them.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Add accumulates u2 into u.
func (u *Usage) Add(u2 Usage) {
	u.PromptTokens += u2.PromptTokens
	u.CompletionTokens += u2.CompletionTokens
	u.TotalTokens += u2.TotalTokens
}

// ChatChunk is one server-sent event of a streaming completion.
type ChatChunk struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []ChunkChoice `json:"choices"`
	Usage   *Usage        `json:"usage,omitempty"`
	Error   *ErrorBody    `json:"error,omitempty"` // some servers report errors mid-stream
}

// ChunkChoice is one alternative's increment.
type ChunkChoice struct {
	Index        int     `json:"index"`
	Delta        Delta   `json:"delta"`
	FinishReason *string `json:"finish_reason"`
}

// Delta is the new text of a streaming choice.
type Delta struct {
	Role    string `json:"role,omitempty"`
	Content string `json:"content,omitempty"`
}

// ErrorBody is the "error" object of an error response.
type ErrorBody struct {
	Message string `json:"message"`
	Type    string `json:"type,omitempty"`
	Param   any    `json:"param,omitempty"`
	Code    any    `json:"code,omitempty"`
}

// errorEnvelope reads {"error": {...}} and also {"error": "text"} (some
// servers) so that the message is never lost.
type errorEnvelope struct {
	Error json.RawMessage `json:"error"`
}

func parseErrorBody(b []byte) (ErrorBody, bool) {
	var env errorEnvelope
	if json.Unmarshal(b, &env) != nil || len(env.Error) == 0 {
		return ErrorBody{}, false
	}
	var eb ErrorBody
	if json.Unmarshal(env.Error, &eb) == nil && eb.Message != "" {
		return eb, true
	}
	var s string
	if json.Unmarshal(env.Error, &s) == nil && s != "" {
		return ErrorBody{Message: s}, true
	}
	return ErrorBody{}, false
}
