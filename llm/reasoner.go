package llm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tell-project/tell/cot"
)

// Answer is a Reasoner's explanation of one face or event.
type Answer struct {
	CoT cot.CoT `json:"cot"`
	// Source is "llm" when the model's answer was used, "builtin" when the
	// built-in engine's was (always, or as a fallback).
	Source string `json:"source"`
	// Fallback says why the model's answer was not used ("" when it was).
	Fallback string `json:"fallback,omitempty"`
	// Issues are Check's findings on the model's answer (rejecting or not).
	Issues []Issue `json:"issues,omitempty"`
	// Model is the model's own answer, parsed, even when it was rejected;
	// nil when no answer came back.
	Model *cot.CoT `json:"model,omitempty"`
	// LabelAnswer is the model's answer to the label request.
	LabelAnswer string `json:"label_answer,omitempty"`
	// Raw is the model's chain-of-thought text as it came back.
	Raw string `json:"raw,omitempty"`
	// JSON is true when the model answered in structured JSON.
	JSON    bool          `json:"json,omitempty"`
	Usage   Usage         `json:"usage"`
	Latency time.Duration `json:"latency_ns"`
	Calls   int           `json:"calls"`
}

// Reasoner explains a face's expression from its AU evidence (and images).
// `tell analyze` calls one per event.
type Reasoner interface {
	Reason(ctx context.Context, r Request) (Answer, error)
}

// ReasonerFunc adapts a function to Reasoner.
type ReasonerFunc func(ctx context.Context, r Request) (Answer, error)

// Reason calls f.
func (f ReasonerFunc) Reason(ctx context.Context, r Request) (Answer, error) { return f(ctx, r) }

// Model is a Reasoner that asks a vision LLM, checks its answer and, when
// the answer is rejected or the server fails, uses Fallback's answer with
// the reason recorded. With Fallback nil a rejected answer is returned as
// it is (Source "llm", Fallback holding the reason) and a server failure as
// an error: the shape `tell eval-llm` wants.
type Model struct {
	Client   *Client
	Fallback Reasoner
	Prompt   PromptOptions
	Check    CheckOptions
	// Stream asks for server-sent events (some servers time out long
	// non-streaming answers behind proxies).
	Stream bool
	// MaxTokens bounds each answer; 0 means 1024.
	MaxTokens int
}

// Reason implements Reasoner.
func (m *Model) Reason(ctx context.Context, r Request) (Answer, error) {
	if len(r.Classes) == 0 {
		return Answer{}, errors.New("llm: request has no classes to choose from")
	}
	ans, err := m.ask(ctx, r)
	if err != nil {
		if ctx.Err() != nil {
			return Answer{}, err
		}
		return m.fallback(ctx, r, ans, fmt.Sprintf("model failed: %v", err), err)
	}
	if rej := Rejections(ans.Issues); len(rej) > 0 {
		reasons := make([]string, len(rej))
		for i, x := range rej {
			reasons[i] = x.String()
		}
		return m.fallback(ctx, r, ans, "model answer rejected: "+strings.Join(reasons, "; "), nil)
	}
	return ans, nil
}

func (m *Model) fallback(ctx context.Context, r Request, ans Answer, why string, cause error) (Answer, error) {
	ans.Fallback = why
	if m.Fallback == nil {
		if cause != nil {
			return ans, cause
		}
		return ans, nil
	}
	fb, err := m.Fallback.Reason(ctx, r)
	if err != nil {
		return ans, fmt.Errorf("llm: %s; fallback failed too: %w", why, err)
	}
	ans.CoT = fb.CoT
	ans.Source = fb.Source
	if ans.Source == "" || ans.Source == "llm" {
		ans.Source = "builtin"
	}
	// Copy the verification so that the fallback's own value is untouched.
	v := cot.Verification{}
	if ans.CoT.Verification != nil {
		v = *ans.CoT.Verification
	}
	v.Feedback = append(append([]string(nil), v.Feedback...), why)
	ans.CoT.Verification = &v
	return ans, nil
}

// ask runs the label request then the CoT request conditioned on the label,
// dropping the JSON schema for good if the server refuses it.
func (m *Model) ask(ctx context.Context, r Request) (Answer, error) {
	ans := Answer{Source: "llm"}
	structured := m.Client.Structured()
	call := func(msgs []Message, format *ResponseFormat) (*Completion, error) {
		maxTok := m.MaxTokens
		if maxTok <= 0 {
			maxTok = 1024
		}
		zero := 0.0
		req := ChatRequest{Messages: msgs, Temperature: &zero, MaxTokens: maxTok, Stream: m.Stream}
		if structured {
			req.ResponseFormat = format
		}
		comp, err := m.Client.Complete(ctx, req)
		if err != nil {
			return nil, err
		}
		ans.Usage.Add(comp.Usage)
		ans.Latency += comp.Latency
		ans.Calls++
		return comp, nil
	}

	labelMsgs, err := BuildLabelMessages(r, m.Prompt, structured)
	if err != nil {
		return ans, err
	}
	comp, err := call(labelMsgs, LabelFormat(r.Classes))
	if err != nil && structured && IsSchemaUnsupported(err) {
		if m.Client.DisableStructured() {
			m.Client.log.Info("llm server refused JSON-schema output; asking for text from now on", "url", m.Client.Endpoint())
		}
		structured = false
		if labelMsgs, err = BuildLabelMessages(r, m.Prompt, false); err != nil {
			return ans, err
		}
		comp, err = call(labelMsgs, nil)
	}
	if err != nil {
		return ans, err
	}
	label, outside, err := ParseLabel(comp.Content, r.Classes)
	ans.LabelAnswer = label
	if err != nil {
		ans.Issues = []Issue{{Kind: IssueMalformed, Detail: "label answer: " + err.Error()}}
		return ans, nil
	}
	if outside {
		// Ask for the chain of thought anyway, conditioned on what the
		// model said; the check below flags the label.
		ans.Issues = append(ans.Issues, Issue{Kind: IssueOutsideClasses, Detail: fmt.Sprintf("label answer %q is not one of %s", label, strings.Join(r.Classes, ", "))})
	}
	labelAnswer := strings.TrimSpace(comp.Content)
	comp, err = call(BuildCoTMessages(labelMsgs, labelAnswer, label, r, structured), CoTFormat(r.Classes))
	if err != nil && structured && IsSchemaUnsupported(err) {
		// Some grammar converters take the small label schema but not the
		// chain-of-thought one: ask for the three-heading text instead.
		if m.Client.DisableStructured() {
			m.Client.log.Info("llm server refused the chain-of-thought schema; asking for text from now on", "url", m.Client.Endpoint())
		}
		structured = false
		comp, err = call(BuildCoTMessages(labelMsgs, labelAnswer, label, r, false), nil)
	}
	if err != nil {
		return ans, err
	}
	ans.Raw = comp.Content
	p, err := ParseCoT(comp.Content, r.Classes)
	ans.JSON = p.JSON
	if err != nil {
		ans.Issues = append(ans.Issues, Issue{Kind: IssueMalformed, Detail: "chain of thought: " + err.Error()})
		return ans, nil
	}
	co := m.Check
	if co.ReadLabel == nil {
		co.ReadLabel = des2exp
	}
	if !outside {
		co.LabelAnswer = label
	}
	issues := Check(p, r.Evidence, r.Classes, co)
	ans.Issues = append(ans.Issues, issues...)
	ans.CoT = p.CoT
	mc := p.CoT
	ans.Model = &mc
	return ans, nil
}
