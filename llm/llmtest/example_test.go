package llmtest_test

import (
	"context"
	"fmt"

	"github.com/tell-project/tell/llm"
	"github.com/tell-project/tell/llm/llmtest"
)

func ExampleNew() {
	// A rate limit first, then an answer: the client waits and retries.
	srv := llmtest.New(
		llmtest.Reply{Status: 429, ErrMessage: "Rate limit reached", RetryAfter: "0.01"},
		llmtest.Reply{Content: "surprise"},
	)
	defer srv.Close()
	c, _ := llm.New(llm.Config{BaseURL: srv.URL(), Model: "m"})
	comp, err := c.Complete(context.Background(), llm.ChatRequest{Messages: []llm.Message{{Role: "user", Text: "Which expression?"}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(comp.Content, comp.Attempts, len(srv.Requests()), comp.Usage.CompletionTokens)
	// Output: surprise 2 2 2
}
