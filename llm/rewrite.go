package llm

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/tell-project/tell/cot"
)

// Rewriter is the Exp-CoT loop with an LLM as the writer (Lan et al., ExpLLM,
// arXiv 2409.02828):
// the model rephrases a built-in chain of thought for fluency; the rewrite is
// verified — the three headings kept, exactly the same AUs named, and
// Des2Exp reading the same label from the text alone — and on failure the
// model is asked again with the memory of why each attempt failed. When no
// attempt passes, the built-in text is kept.
type Rewriter struct {
	Client *Client
	// MaxTries bounds the attempts per chain of thought (0 means 3).
	MaxTries int
	// MaxTokens bounds each answer (0 means 1024).
	MaxTokens int
}

// RewriteResult says what happened to one chain of thought.
type RewriteResult struct {
	// Rewritten is true when the returned CoT carries the model's text.
	Rewritten bool     `json:"rewritten"`
	Attempts  int      `json:"attempts"`
	Feedback  []string `json:"feedback,omitempty"` // why each failed attempt failed
	Usage     Usage    `json:"usage"`
}

// RewriteSystemPrompt frames the model as an editor that must not change
// the facts.
const RewriteSystemPrompt = `You edit facial expression analyses written with the Facial Action Coding System. ` +
	`You make the text fluent and natural while keeping every fact: the same Action Units (AUs) with their numbers, sides and intensities, ` +
	`no AU added, the same three headings, and the same conclusion.`

// Rewrite rephrases c (a built-in CoT whose conclusion is the label to
// keep). It returns the CoT to use — c with the verified rewrite as its
// text, or c unchanged — and what happened. An error means the server could
// not be used at all (c is returned unchanged with it).
func (w *Rewriter) Rewrite(ctx context.Context, c cot.CoT, classes []string) (cot.CoT, RewriteResult, error) {
	var res RewriteResult
	tries := w.MaxTries
	if tries <= 0 {
		tries = 3
	}
	maxTok := w.MaxTokens
	if maxTok <= 0 {
		maxTok = 1024
	}
	label := c.Conclusion.Label
	// The AUs to keep: those the original names, in its observations or
	// anywhere in its text.
	want := auSet(c.Observations)
	for _, a := range auSet(parseObservations(c.Text, classes)) {
		if !containsInt(want, a) {
			want = append(want, a)
		}
	}
	sort.Ints(want)
	if len(classes) == 0 {
		classes = []string{label}
	}
	msgs := []Message{{Role: "system", Text: RewriteSystemPrompt}, {Role: "user", Text: rewriteRequest(c.Text, want, label)}}
	zero := 0.3 // a little variety helps a retry find another wording
	for k := 1; k <= tries; k++ {
		comp, err := w.Client.Complete(ctx, ChatRequest{Messages: msgs, Temperature: &zero, MaxTokens: maxTok})
		if err != nil {
			return c, res, err
		}
		res.Attempts = k
		res.Usage.Add(comp.Usage)
		text := strings.TrimSpace(cleanAnswer(stripFence(comp.Content)))
		why := verifyRewrite(text, want, label, classes)
		if len(why) == 0 {
			out := c
			out.Text = text
			v := cot.Verification{}
			if c.Verification != nil {
				v = *c.Verification
			}
			v.ReadLabel = des2exp(text, classes)
			v.Feedback = append(append([]string(nil), v.Feedback...), res.Feedback...)
			v.Feedback = append(v.Feedback, fmt.Sprintf("rewritten by %s (attempt %d), verified: AUs kept, Des2Exp reads %s", w.Client.Model(), k, label))
			out.Verification = &v
			res.Rewritten = true
			return out, res, nil
		}
		note := fmt.Sprintf("rewrite attempt %d: %s", k, strings.Join(why, "; "))
		res.Feedback = append(res.Feedback, note)
		// Feedback reflection: show the model its attempt and every reason
		// so far, and ask again.
		msgs = append(msgs, Message{Role: "assistant", Text: text},
			Message{Role: "user", Text: "That rewrite is not acceptable: " + strings.Join(why, "; ") +
				". Rewrite the original analysis again, fixing these problems. Return only the rewritten analysis."})
	}
	return c, res, nil
}

func rewriteRequest(text string, aus []int, label string) string {
	return fmt.Sprintf("Rewrite this facial expression analysis so that it reads fluently. Keep the headings %s, %s and %s exactly as they are. "+
		"Name every one of these AUs as \"AU\" followed by its number: %s; mention no other AU. Keep sides and intensities. "+
		"The conclusion must remain: %s. Return only the rewritten analysis.\n\n%s",
		cot.HeadingObservations, cot.HeadingInterpretation, cot.HeadingConclusion, auList(aus), label, text)
}

// verifyRewrite returns why a rewrite fails, or nothing.
func verifyRewrite(text string, want []int, label string, classes []string) []string {
	var why []string
	for _, h := range []string{cot.HeadingObservations, cot.HeadingInterpretation, cot.HeadingConclusion} {
		if !strings.Contains(text, h) {
			why = append(why, "heading "+h+" missing")
		}
	}
	p, err := ParseCoT(text, classes)
	if err != nil {
		why = append(why, "no conclusion could be read")
	}
	got := auSet(p.CoT.Observations)
	// AUs may also be named outside Key Observations (in the
	// interpretation); count every AU the text names.
	for _, a := range auSet(parseObservations(text, classes)) {
		if !containsInt(got, a) {
			got = append(got, a)
		}
	}
	sort.Ints(got)
	var lost, added []int
	for _, a := range want {
		if !containsInt(got, a) {
			lost = append(lost, a)
		}
	}
	for _, a := range got {
		if !containsInt(want, a) {
			added = append(added, a)
		}
	}
	if len(lost) > 0 {
		why = append(why, "dropped "+auList(lost))
	}
	if len(added) > 0 {
		why = append(why, "added "+auList(added)+", which the original does not name")
	}
	if read := des2exp(text, classes); !strings.EqualFold(read, label) {
		if read == "" {
			read = "no label"
		}
		why = append(why, fmt.Sprintf("the conclusion reads as %s, not %s", read, label))
	}
	return why
}

func auSet(obs []cot.Observation) []int {
	var out []int
	for _, o := range obs {
		if !containsInt(out, o.AU) {
			out = append(out, o.AU)
		}
	}
	sort.Ints(out)
	return out
}

// stripFence removes a markdown code fence around a whole answer.
func stripFence(s string) string {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "```") {
		return s
	}
	t = strings.TrimPrefix(t, "```")
	if i := strings.IndexByte(t, '\n'); i >= 0 {
		t = t[i+1:]
	}
	return strings.TrimSuffix(strings.TrimSpace(t), "```")
}

// MaxConsecutiveFailures is how many records in a row may fail to reach the
// server before ForExport's hook stops the export.
const MaxConsecutiveFailures = 3

// ForExport adapts the rewriter to cot.ExportOptions.Rewrite: a verified
// rewrite replaces the text; a rejected one, or a single server failure,
// keeps the built-in text with the reason as its last feedback line; several
// failures in a row stop the export (the server is down, not one record
// too long). Export calls it from one goroutine.
func (w *Rewriter) ForExport(classes []string) func(ctx context.Context, r cot.Record, c cot.CoT) (cot.CoT, error) {
	failures := 0
	return func(ctx context.Context, r cot.Record, c cot.CoT) (cot.CoT, error) {
		out, res, err := w.Rewrite(ctx, c, classes)
		keep := func(why string) (cot.CoT, error) {
			v := cot.Verification{}
			if c.Verification != nil {
				v = *c.Verification
			}
			v.Feedback = append(append(append([]string(nil), v.Feedback...), res.Feedback...), why)
			c.Verification = &v
			return c, nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return c, err
			}
			failures++
			if failures >= MaxConsecutiveFailures {
				return c, fmt.Errorf("%d records in a row failed to reach the rewrite server, last: %w", failures, err)
			}
			return keep("LLM rewrite failed: " + err.Error())
		}
		failures = 0
		if !res.Rewritten {
			return keep(fmt.Sprintf("LLM rewrite rejected after %d attempts", res.Attempts))
		}
		return out, nil
	}
}
