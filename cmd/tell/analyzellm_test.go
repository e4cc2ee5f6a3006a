package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tell-project/tell/face/facetest"
	"github.com/tell-project/tell/llm"
	"github.com/tell-project/tell/llm/llmtest"
)

// TestAnalyzeWithLLM runs tell analyze --reasoner llm on a synthetic clip
// against an in-process server whose model claims an AU tell did not
// measure (AU43): the event must carry the built-in CoT with the reason.
func TestAnalyzeWithLLM(t *testing.T) {
	facetest.ModelPath(t)
	dir := t.TempDir()
	if code, out, errOut := runTell(t, "synth", "--out", dir, "--n", "1", "--seed", "3", "--fps", "30", "--no-mp4"); code != 0 {
		t.Fatalf("synth: exit %d\n%s%s", code, out, errOut)
	}
	srv := llmtest.New()
	srv.Handler = func(req llm.ChatRequest) llmtest.Reply {
		if len(req.Messages) == 2 {
			return llmtest.Reply{Content: `{"label":"happiness"}`}
		}
		return llmtest.Reply{Content: "**Key Observations:**\n- AU43 (Eyes Closed): 0.9, tied to happiness.\n**Overall Emotional Interpretation:**\nHappiness.\n**Conclusion:**\nHappiness."}
	}
	defer srv.Close()
	res := filepath.Join(dir, "analysis")
	code, out, errOut := runTell(t, "analyze", filepath.Join(dir, "clip000"), "--out", res, "--quiet",
		"--reasoner", "llm", "--llm-url", srv.URL(), "--llm-model", "vl-test")
	if code != 0 {
		t.Fatalf("analyze: exit %d\n%s%s", code, out, errOut)
	}
	reqs := srv.Requests()
	if len(reqs) < 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	parts := reqs[0].Req.Messages[1].Parts
	if len(parts) != 4 || !strings.Contains(parts[3].Text, "onset frame") || !strings.Contains(parts[3].Text, "Action Units measured by tell") {
		t.Fatalf("label request: %d parts, text %q", len(parts), parts[len(parts)-1].Text)
	}
	b, err := os.ReadFile(filepath.Join(res, "events.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Reasoner string `json:"reasoner"`
		Events   []struct {
			CoT struct {
				Text         string `json:"text"`
				Verification struct {
					Feedback []string `json:"feedback"`
				} `json:"verification"`
			} `json:"cot"`
		} `json:"events"`
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Reasoner != "llm:vl-test" || len(ev.Events) == 0 {
		t.Fatalf("events.json: %s", b)
	}
	c := ev.Events[0].CoT
	if fb := strings.Join(c.Verification.Feedback, " "); !strings.Contains(fb, "hallucinated_au") || !strings.Contains(fb, "AU43") || strings.Contains(c.Text, "AU43") {
		t.Fatalf("fallback not recorded or model text kept: %+v", c)
	}
}
