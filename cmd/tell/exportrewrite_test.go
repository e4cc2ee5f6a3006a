package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tell-project/tell/llm"
	"github.com/tell-project/tell/llm/llmtest"
)

// TestExportRewriteWith runs tell export --rewrite-with against an
// in-process server that rephrases faithfully, except for the disgust clip,
// whose rewrite drops every AU.
func TestExportRewriteWith(t *testing.T) {
	t.Setenv("TELL_LLM_MODEL", "")
	dir, manifest := writeExportFixture(t)
	srv := llmtest.New()
	srv.Handler = func(req llm.ChatRequest) llmtest.Reply {
		orig := req.Messages[1].Text
		orig = orig[strings.Index(orig, "\n\n")+2:]
		if strings.Contains(orig, "disgust") {
			return llmtest.Reply{Content: "**Key Observations:**\nThe nose wrinkles.\n**Overall Emotional Interpretation:**\nDisgust.\n**Conclusion:**\nThe expression is disgust."}
		}
		return llmtest.Reply{Content: strings.Replace(orig, "**Conclusion:**\n", "**Conclusion:**\nAll told, ", 1)}
	}
	defer srv.Close()
	out := filepath.Join(dir, "rw.jsonl")
	code, stdout, stderr := runTell(t, "export", "--manifest", manifest, "--format", "expllm", "--out", out, "--rewrite-with", srv.URL(), "--llm-model", "m")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "with_cot=4") || !strings.Contains(stdout, "llm_rewritten=2 llm_kept=2") {
		t.Fatalf("summary %q", stdout)
	}
	if !strings.Contains(stderr, "built-in text kept: LLM rewrite rejected after 3 attempts") {
		t.Fatalf("report lacks the kept record:\n%s", stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "All told, "); n < 2*2 { // text in the task turn and in the cot object
		t.Fatalf("rewritten text appears %d times:\n%s", n, data)
	}
	// 2 accepted at the first attempt, 2 rejected three times.
	if n := len(srv.Requests()); n != 8 {
		t.Fatalf("%d requests, want 8", n)
	}
	// TELL_LLM_URL alone does not make export send anything.
	t.Setenv("TELL_LLM_URL", srv.URL())
	t.Setenv("TELL_LLM_MODEL", "m")
	if code, _, stderr := runTell(t, "export", "--manifest", manifest, "--format", "expllm", "--out", out); code != 0 || len(srv.Requests()) != 8 {
		t.Fatalf("exit %d, %d requests: %s", code, len(srv.Requests()), stderr)
	}
	t.Setenv("TELL_LLM_MODEL", "")
	// Without a model name the command refuses before sending anything.
	code, _, stderr = runTell(t, "export", "--manifest", manifest, "--format", "expllm", "--out", out, "--rewrite-with", srv.URL())
	if code != 2 || !strings.Contains(stderr, "no model name") || len(srv.Requests()) != 8 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}
