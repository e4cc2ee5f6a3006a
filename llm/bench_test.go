package llm_test

import (
	"context"
	"testing"

	"github.com/tell-project/tell/llm"
	"github.com/tell-project/tell/llm/llmtest"
	"github.com/tell-project/tell/portrait"
)

// BenchmarkBuildLabelMessages is tell's per-face cost before a request
// leaves: three 512x512 images downscaled to 448 px, PNG-encoded, base64.
func BenchmarkBuildLabelMessages(b *testing.B) {
	face, err := portrait.Astronaut()
	if err != nil {
		b.Fatal(err)
	}
	r := llm.Request{Evidence: smileEvidence, Classes: seven, Apex: face, Onset: face, Flow: face}
	for b.Loop() {
		if _, err := llm.BuildLabelMessages(r, llm.PromptOptions{}, true); err != nil {
			b.Fatal(err)
		}
	}
}

func benchComplete(b *testing.B, stream bool) {
	srv := llmtest.New()
	srv.Handler = func(llm.ChatRequest) llmtest.Reply { return llmtest.Reply{Content: expllmText} }
	defer srv.Close()
	c, err := llm.New(llm.Config{BaseURL: srv.URL(), Model: "m"})
	if err != nil {
		b.Fatal(err)
	}
	req := llm.ChatRequest{Messages: userMsg("x"), Stream: stream}
	for b.Loop() {
		if _, err := c.Complete(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkComplete is one round trip to the in-process server: the
// client's own overhead, next to the seconds a vision model takes.
func BenchmarkComplete(b *testing.B) { benchComplete(b, false) }

// BenchmarkCompleteStream is the same answer as server-sent events.
func BenchmarkCompleteStream(b *testing.B) { benchComplete(b, true) }
