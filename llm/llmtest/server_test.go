package llmtest_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tell-project/tell/llm/llmtest"
)

func post(t *testing.T, url, body string, hdr map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestWireFormat checks the fake against the chat-completions format with a
// plain HTTP client, independent of package llm's decoding.
func TestWireFormat(t *testing.T) {
	srv := llmtest.New(llmtest.Reply{Content: "hello"}, llmtest.Reply{Content: "héllo wörld, streamed"})
	defer srv.Close()
	ep := srv.URL() + "/chat/completions"
	resp := post(t, ep, `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}}]}]}`, nil)
	var v struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		Model   string `json:"model"`
		Choices []struct {
			Index   int `json:"index"`
			Message struct {
				Role    string `json:"role"`
				Content string `json:"content"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			Prompt, Completion, Total int
		} `json:"usage"`
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	var u map[string]map[string]int
	json.Unmarshal(b, &u)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || !strings.HasPrefix(v.ID, "chatcmpl-") || v.Object != "chat.completion" ||
		v.Created == 0 || v.Model != "m" || v.Choices[0].Message.Role != "assistant" || v.Choices[0].Message.Content != "hello" || v.Choices[0].FinishReason != "stop" {
		t.Fatalf("non-streaming body %s", b)
	}
	if us := u["usage"]; us["prompt_tokens"] != 4+1+85 || us["completion_tokens"] != 2 || us["total_tokens"] != us["prompt_tokens"]+2 {
		t.Fatalf("usage %v", u["usage"])
	}

	resp = post(t, ep, `{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`, nil)
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	var text strings.Builder
	var sawRole, sawFinish, sawUsage, sawDone bool
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, ":") {
			continue
		}
		if !strings.HasPrefix(line, "data: ") {
			t.Fatalf("bad SSE line %q", line)
		}
		data := strings.TrimPrefix(line, "data: ")
		if data == "[DONE]" {
			sawDone = true
			continue
		}
		var ch struct {
			Object  string `json:"object"`
			Choices []struct {
				Delta struct {
					Role, Content string
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			Usage *struct {
				Total int `json:"total_tokens"`
			} `json:"usage"`
		}
		if err := json.Unmarshal([]byte(data), &ch); err != nil || ch.Object != "chat.completion.chunk" {
			t.Fatalf("chunk %q: %v", data, err)
		}
		if ch.Usage != nil {
			sawUsage = len(ch.Choices) == 0 && ch.Usage.Total > 0
			continue
		}
		d := ch.Choices[0]
		sawRole = sawRole || d.Delta.Role == "assistant"
		sawFinish = sawFinish || d.FinishReason != nil && *d.FinishReason == "stop"
		text.WriteString(d.Delta.Content)
	}
	if text.String() != "héllo wörld, streamed" || !sawRole || !sawFinish || !sawUsage || !sawDone {
		t.Fatalf("stream: %q role %v finish %v usage %v done %v", text.String(), sawRole, sawFinish, sawUsage, sawDone)
	}
}

func TestErrors(t *testing.T) {
	srv := llmtest.New(llmtest.Reply{Status: 429, ErrMessage: "slow down", RetryAfter: "2"})
	srv.Key = "k1"
	defer srv.Close()
	ep := srv.URL() + "/chat/completions"
	ok := `{"model":"m","messages":[{"role":"user","content":"x"}]}`
	cases := []struct {
		body   string
		hdr    map[string]string
		status int
		msg    string
	}{
		{ok, map[string]string{"Authorization": "Bearer k1"}, 429, "slow down"},
		{ok, map[string]string{"Authorization": "Bearer nope"}, 401, "Incorrect API key"},
		{`{"messages":[{"role":"user","content":"x"}]}`, map[string]string{"Authorization": "Bearer k1"}, 400, "model"},
		{`{"model":"m","messages":[]}`, map[string]string{"Authorization": "Bearer k1"}, 400, "messages"},
		{`{not json`, map[string]string{"Authorization": "Bearer k1"}, 400, "invalid JSON"},
	}
	for i, tc := range cases {
		resp := post(t, ep, tc.body, tc.hdr)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e struct {
			Error struct {
				Message, Type string
			} `json:"error"`
		}
		json.Unmarshal(b, &e)
		if resp.StatusCode != tc.status || !strings.Contains(e.Error.Message, tc.msg) || e.Error.Type == "" {
			t.Errorf("case %d: %d %s", i, resp.StatusCode, b)
		}
		if i == 0 && resp.Header.Get("Retry-After") != "2" {
			t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
		}
	}
	srv.NoSchema = true
	resp := post(t, ep, `{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"n","schema":{}}}}`, map[string]string{"Authorization": "Bearer k1"})
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("schema refused with %d", resp.StatusCode)
	}
	resp = post(t, srv.Server.URL+"/v1/completions", ok, nil)
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("unknown path: %d", resp.StatusCode)
	}
}

func TestPieces(t *testing.T) {
	s := "a😀bcdéf"
	ps := llmtest.Pieces(s, 2)
	if strings.Join(ps, "") != s {
		t.Fatal("pieces lose text")
	}
	for _, p := range ps {
		if p != "😀" && len(p) > 2 {
			t.Fatalf("piece %q too long", p)
		}
		if strings.ContainsRune(p, '\uFFFD') {
			t.Fatal("split inside a rune")
		}
	}
}
