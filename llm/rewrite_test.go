package llm_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/llm"
	"github.com/tell-project/tell/llm/llmtest"
)

func builtinSmile(t *testing.T) cot.CoT {
	t.Helper()
	c, err := cot.Generate([]cot.Evidence{{AU: 6, Intensity: 2.5}, {AU: 12, Intensity: 4}, {AU: 25, Intensity: 1.5}}, "happiness", cot.Options{Classes: seven})
	if err != nil || c.Conclusion.Label != "happiness" {
		t.Fatalf("%+v %v", c, err)
	}
	return c
}

const goodRewrite = "**Key Observations:**\n- AU12, the lip corner puller, is strongly active (0.80) and signals happiness.\n- AU6, the cheek raiser, works at a marked level (0.50), as in genuine smiles.\n- AU25 parts the lips slightly (0.30).\n\n" +
	"**Overall Emotional Interpretation:**\nThe cheeks rise with the lip corners: a Duchenne smile, so happiness leads.\n\n**Conclusion:**\nThe expression is happiness."

func TestRewriteAccepted(t *testing.T) {
	srv := llmtest.New(llmtest.Reply{Content: "```markdown\n" + goodRewrite + "\n```"})
	defer srv.Close()
	c, _ := newClient(t, srv, nil)
	orig := builtinSmile(t)
	got, res, err := (&llm.Rewriter{Client: c}).Rewrite(context.Background(), orig, seven)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Rewritten || res.Attempts != 1 || got.Text != goodRewrite || res.Usage.TotalTokens == 0 {
		t.Fatalf("res %+v text %q", res, got.Text)
	}
	if got.Conclusion != orig.Conclusion || len(got.Observations) != len(orig.Observations) {
		t.Fatal("structure changed")
	}
	fb := got.Verification.Feedback
	if !strings.Contains(fb[len(fb)-1], "rewritten by test-model (attempt 1)") || len(fb) != len(orig.Verification.Feedback)+1 {
		t.Fatalf("feedback %v", fb)
	}
	req := srv.Requests()[0].Req
	if req.Messages[0].Text != llm.RewriteSystemPrompt || !strings.Contains(req.Messages[1].Text, orig.Text) || !strings.Contains(req.Messages[1].Text, "AU6, AU12, AU25") {
		t.Fatalf("request %+v", req.Messages)
	}
}

func TestRewriteFeedbackLoop(t *testing.T) {
	dropped := strings.Replace(goodRewrite, "- AU25 parts the lips slightly (0.30).\n", "", 1)
	added := strings.Replace(goodRewrite, "AU25 parts", "AU25 and AU9 part", 1)
	srv := llmtest.New(llmtest.Reply{Content: dropped}, llmtest.Reply{Content: added}, llmtest.Reply{Content: goodRewrite})
	defer srv.Close()
	c, _ := newClient(t, srv, nil)
	got, res, err := (&llm.Rewriter{Client: c}).Rewrite(context.Background(), builtinSmile(t), seven)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Rewritten || res.Attempts != 3 || len(res.Feedback) != 2 || got.Text != goodRewrite {
		t.Fatalf("res %+v", res)
	}
	if !strings.Contains(res.Feedback[0], "dropped AU25") || !strings.Contains(res.Feedback[1], "added AU9") {
		t.Fatalf("feedback %v", res.Feedback)
	}
	// The third request carries the whole memory: both attempts and why.
	msgs := srv.Requests()[2].Req.Messages
	if len(msgs) != 6 || msgs[2].Text != dropped || !strings.Contains(msgs[3].Text, "dropped AU25") || !strings.Contains(msgs[5].Text, "added AU9") {
		t.Fatalf("third request: %d messages", len(msgs))
	}
}

func TestRewriteRejectedKeepsBuiltin(t *testing.T) {
	wrong := strings.Replace(goodRewrite, "The expression is happiness.", "The expression is surprise.", 1)
	noHead := strings.Replace(goodRewrite, "**Overall Emotional Interpretation:**", "Interpretation:", 1)
	srv := llmtest.New(llmtest.Reply{Content: wrong}, llmtest.Reply{Content: noHead})
	defer srv.Close()
	c, _ := newClient(t, srv, nil)
	orig := builtinSmile(t)
	got, res, err := (&llm.Rewriter{Client: c, MaxTries: 2}).Rewrite(context.Background(), orig, seven)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rewritten || res.Attempts != 2 || got.Text != orig.Text {
		t.Fatalf("res %+v", res)
	}
	if !strings.Contains(res.Feedback[0], "reads as surprise, not happiness") || !strings.Contains(res.Feedback[1], "heading **Overall Emotional Interpretation:** missing") {
		t.Fatalf("feedback %v", res.Feedback)
	}
	// Server failure: the original comes back with the error.
	srv.Push(llmtest.Reply{Status: 400, ErrMessage: "context length exceeded"})
	got, _, err = (&llm.Rewriter{Client: c}).Rewrite(context.Background(), orig, seven)
	if err == nil || got.Text != orig.Text {
		t.Fatalf("err %v", err)
	}
}

func TestRewriteForExport(t *testing.T) {
	srv := llmtest.New()
	defer srv.Close()
	c, _ := newClient(t, srv, func(c *llm.Config) { c.MaxRetries = -1 })
	hook := (&llm.Rewriter{Client: c, MaxTries: 1}).ForExport(seven)
	orig := builtinSmile(t)
	rec := cot.Record{ID: "s1"}
	srv.Push(llmtest.Reply{Content: goodRewrite})
	if got, err := hook(context.Background(), rec, orig); err != nil || got.Text != goodRewrite {
		t.Fatalf("accepted rewrite: %v %q", err, got.Text)
	}
	srv.Push(llmtest.Reply{Content: strings.Replace(goodRewrite, "is happiness.", "is fear.", 1)})
	got, err := hook(context.Background(), rec, orig)
	fb := got.Verification.Feedback
	if err != nil || got.Text != orig.Text || !strings.Contains(fb[len(fb)-1], "rejected after 1 attempts") || !strings.Contains(fb[len(fb)-2], "reads as fear") {
		t.Fatalf("rejected rewrite: %v %v", err, fb)
	}
	// Failures: two are tolerated (original kept), the third in a row stops.
	srv.Push(llmtest.Reply{Status: 500, ErrMessage: "down"}, llmtest.Reply{Status: 500, ErrMessage: "down"}, llmtest.Reply{Status: 500, ErrMessage: "down"})
	for i := 1; i <= 3; i++ {
		got, err := hook(context.Background(), rec, orig)
		if i < 3 && (err != nil || got.Text != orig.Text) {
			t.Fatalf("failure %d: %v", i, err)
		}
		if i == 3 && (err == nil || !strings.Contains(err.Error(), "3 records in a row")) {
			t.Fatalf("failure 3: %v", err)
		}
	}
	if orig.Verification != nil && len(orig.Verification.Feedback) != 0 {
		t.Fatal("hook changed the caller's CoT")
	}
}
