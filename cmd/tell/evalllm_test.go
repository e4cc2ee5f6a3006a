package main

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tell-project/tell/face/facetest"
	"github.com/tell-project/tell/llm"
	"github.com/tell-project/tell/llm/llmtest"
)

// llmManifest writes a manifest of smiling and frowning samples with
// their AU codes and a PNG face each.
func llmManifest(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("sample,subject,label,image,aus\n")
	for i := 0; i < n; i++ {
		m := image.NewRGBA(image.Rect(0, 0, 8, 8))
		m.Set(0, 0, color.RGBA{uint8(i), 0, 0, 255})
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("f%d.png", i)))
		if err != nil {
			t.Fatal(err)
		}
		png.Encode(f, m)
		f.Close()
		label, aus := "happiness", "6+12"
		if i%2 == 1 {
			label, aus = "anger", "4+7"
		}
		fmt.Fprintf(&b, "s%d,p%d,%s,f%d.png,%s\n", i, i, label, i, aus)
	}
	p := filepath.Join(dir, "m.csv")
	os.WriteFile(p, []byte(b.String()), 0o644)
	return p
}

// groundedModel answers from the AU grounding in the prompt.
func groundedModel(req llm.ChatRequest) llmtest.Reply {
	label, obs := "anger", "- AU4 (Brow Lowerer): present, anger.\n- AU7 (Lid Tightener): present, anger."
	if strings.Contains(req.Messages[1].Content(), "AU12") {
		label, obs = "happiness", "- AU6 (Cheek Raiser): present, happiness.\n- AU12 (Lip Corner Puller): present, happiness."
	}
	if len(req.Messages) == 2 {
		if req.ResponseFormat != nil {
			return llmtest.Reply{Content: `{"label":"` + label + `"}`}
		}
		return llmtest.Reply{Content: label}
	}
	return llmtest.Reply{Content: "**Key Observations:**\n" + obs + "\n**Overall Emotional Interpretation:**\n" + label + " dominates.\n**Conclusion:**\n" + label}
}

func TestEvalLLMCommand(t *testing.T) {
	const key = "sk-eval-key-0123456789"
	t.Setenv("TELL_LLM_API_KEY", key)
	t.Setenv("OPENAI_API_KEY", "")
	srv := llmtest.New()
	srv.Key = key
	srv.Handler = groundedModel
	defer srv.Close()
	man := llmManifest(t, 4)
	out := t.TempDir()
	code, stdout, stderr := runTell(t, "eval-llm", "--manifest", man, "--llm-url", srv.URL(), "--llm-model", "qwen2.5vl:7b", "--out", out, "--limit", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, w := range []string{"samples=3 answered=3 invalid=0 failed=0", "au_match=1.0000", "accuracy=1.0000 uf1=1.0000 uar=1.0000"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("output lacks %q:\n%s", w, stdout)
		}
	}
	for _, f := range []string{"metrics.json", "answers.jsonl"} {
		b, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), key) {
			t.Fatalf("%s contains the API key", f)
		}
	}
	if strings.Contains(stdout+stderr, key) {
		t.Fatal("output contains the API key")
	}
}

// A run whose requests all failed exited 0 with zero metrics; it must fail,
// say why, keep what it wrote, and finish on a rerun once the server answers.
func TestEvalLLMFailedRequests(t *testing.T) {
	srv := llmtest.New()
	var down atomic.Bool
	down.Store(true)
	srv.Handler = func(req llm.ChatRequest) llmtest.Reply {
		if down.Load() {
			return llmtest.Reply{Status: 400, ErrMessage: "model not loaded"}
		}
		return groundedModel(req)
	}
	defer srv.Close()
	man := llmManifest(t, 2)
	out := t.TempDir()
	args := []string{"eval-llm", "--manifest", man, "--llm-url", srv.URL(), "--llm-model", "m", "--out", out, "--llm-retries", "0"}
	code, stdout, stderr := runTell(t, args...)
	if code != 1 || !strings.Contains(stdout, "failed=2") || !strings.Contains(stderr, "2 of 2 samples got no answer") || !strings.Contains(stderr, "model not loaded") {
		t.Fatalf("server refusing: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "answers.jsonl")); err != nil {
		t.Fatalf("answers of the failed run lost: %v", err)
	}
	down.Store(false)
	code, stdout, stderr = runTell(t, args...)
	if code != 0 || !strings.Contains(stdout, "answered=2 invalid=0 failed=0") {
		t.Fatalf("rerun: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestEvalLLMUsage(t *testing.T) {
	t.Setenv("TELL_LLM_URL", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"eval-llm", "--out", "x", "--llm-url", "http://h"}, "--manifest is required"},
		{[]string{"eval-llm", "--manifest", "m.csv", "--llm-url", "http://h"}, "--out is required"},
		{[]string{"eval-llm", "--manifest", "m.csv", "--out", "x"}, "--llm-url"},
	} {
		code, _, stderr := runTell(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %s", tc.args, code, stderr)
		}
	}
	code, _, stderr := runTell(t, "eval-llm", "--manifest", "/nonexistent/m.csv", "--out", t.TempDir(), "--llm-url", "http://127.0.0.1:1", "--llm-model", "m")
	if code != 1 || !strings.Contains(stderr, "/nonexistent/m.csv") {
		t.Errorf("missing manifest: exit %d, %s", code, stderr)
	}
}

// TestEvalLLMMeasured grounds the model in AUs tell measures itself on
// synthetic clips rather than in the manifest's codes.
func TestEvalLLMMeasured(t *testing.T) {
	facetest.ModelPath(t)
	dir := t.TempDir()
	if code, out, errOut := runTell(t, "synth", "--out", dir, "--n", "2", "--seed", "3", "--fps", "30", "--no-mp4"); code != 0 {
		t.Fatalf("synth: exit %d\n%s%s", code, out, errOut)
	}
	srv := llmtest.New()
	srv.Handler = groundedModel
	defer srv.Close()
	out := t.TempDir()
	code, stdout, stderr := runTell(t, "eval-llm", "--manifest", filepath.Join(dir, "manifest.csv"), "--llm-url", srv.URL(), "--llm-model", "m",
		"--out", out, "--evidence", "measured", "--classes", "happiness,sadness,anger,fear,surprise,disgust,contempt")
	if code != 0 || !strings.Contains(stdout, "samples=2 answered=2") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	b, err := os.ReadFile(filepath.Join(out, "answers.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var measured int
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r struct {
			MeasuredAUs []int `json:"measured_aus"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		measured += len(r.MeasuredAUs)
	}
	if measured == 0 {
		t.Fatalf("no AU measured on two expressive clips:\n%s", b)
	}
	if !strings.Contains(srv.Requests()[0].Req.Messages[1].Content(), "Action Units measured by tell") {
		t.Fatal("grounding missing")
	}
	if code, _, stderr := runTell(t, "eval-llm", "--manifest", "m.csv", "--out", out, "--llm-url", "http://h", "--evidence", "guess"); code != 2 || !strings.Contains(stderr, "want aus or measured") {
		t.Fatalf("bad --evidence: exit %d %s", code, stderr)
	}
}
