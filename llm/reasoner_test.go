package llm_test

import (
	"context"
	"encoding/json"
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/llm"
	"github.com/tell-project/tell/llm/llmtest"
)

// fakeModel answers the label turn with label and the CoT turn with cotText
// (JSON when the request carries a schema and json is set).
func fakeModel(label, cotText, cotJSON string) func(llm.ChatRequest) llmtest.Reply {
	return func(req llm.ChatRequest) llmtest.Reply {
		isCoT := len(req.Messages) > 2
		if !isCoT {
			if req.ResponseFormat != nil {
				return llmtest.Reply{Content: `{"label":"` + label + `"}`}
			}
			return llmtest.Reply{Content: label}
		}
		if req.ResponseFormat != nil && cotJSON != "" {
			return llmtest.Reply{Content: cotJSON}
		}
		return llmtest.Reply{Content: cotText}
	}
}

// builtin stands in for the cot engine: it records that it was asked.
type builtin struct{ calls int }

func (b *builtin) Reason(_ context.Context, r llm.Request) (llm.Answer, error) {
	b.calls++
	return llm.Answer{Source: "builtin", CoT: cot.CoT{Conclusion: cot.Conclusion{Label: "happiness"}, Text: "built-in text"}}, nil
}

const smileJSON = `{"observations":[{"au":12,"name":"Lip Corner Puller","side":"left","intensity":0.8,"intensity_word":"strong","emotions":["happiness"]},
{"au":6,"name":"Cheek Raiser","side":"","intensity":0.6,"intensity_word":"marked","emotions":["happiness"]},
{"au":25,"name":"Lips Part","side":"","intensity":0.3,"intensity_word":"slight","emotions":["surprise"]}],
"interpretation":{"dominant":"happiness","secondary":["surprise"],"interactions":["6+12"],"rationale":"A Duchenne smile."},
"conclusion":{"label":"happiness","confidence":0.9}}`

func newModel(t *testing.T, srv *llmtest.Server, fb llm.Reasoner) *llm.Model {
	t.Helper()
	c, _ := newClient(t, srv, nil)
	return &llm.Model{Client: c, Fallback: fb}
}

func TestModelStructured(t *testing.T) {
	srv := llmtest.New()
	srv.Handler = fakeModel("happiness", expllmText, smileJSON)
	defer srv.Close()
	fb := &builtin{}
	m := newModel(t, srv, fb)
	ans, err := m.Reason(context.Background(), llm.Request{Evidence: smileEvidence, Classes: seven, Apex: solid(32, 32, color.RGBA{9, 9, 9, 255})})
	if err != nil {
		t.Fatal(err)
	}
	if ans.Source != "llm" || ans.Fallback != "" || fb.calls != 0 || !ans.JSON || ans.Calls != 2 {
		t.Fatalf("answer %+v", ans)
	}
	if ans.CoT.Conclusion.Label != "happiness" || len(ans.CoT.Observations) != 3 || !strings.Contains(ans.CoT.Text, cot.HeadingConclusion) {
		t.Fatalf("cot %+v", ans.CoT)
	}
	if ans.Usage.TotalTokens == 0 || ans.Usage.PromptTokens < 85 {
		t.Fatalf("usage %+v", ans.Usage)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	// Label turn: one image part, label schema.
	var body struct {
		Messages []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
		ResponseFormat struct {
			Type       string `json:"type"`
			JSONSchema struct {
				Name   string          `json:"name"`
				Schema json.RawMessage `json:"schema"`
			} `json:"json_schema"`
		} `json:"response_format"`
		Temperature *float64 `json:"temperature"`
	}
	if err := json.Unmarshal(reqs[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.ResponseFormat.Type != "json_schema" || body.ResponseFormat.JSONSchema.Name != "expression_label" || body.Temperature == nil || *body.Temperature != 0 {
		t.Fatalf("label request: %s", reqs[0].Body[:min(400, len(reqs[0].Body))])
	}
	var parts []map[string]any
	if err := json.Unmarshal(body.Messages[1].Content, &parts); err != nil {
		t.Fatal(err)
	}
	if len(parts) != 2 || parts[0]["type"] != "image_url" || !strings.HasPrefix(parts[0]["image_url"].(map[string]any)["url"].(string), "data:image/jpeg;base64,") {
		t.Fatalf("label request parts: %v", parts)
	}
	// CoT turn: the label answer as the assistant turn, the CoT schema.
	if err := json.Unmarshal(reqs[1].Body, &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Messages) != 4 || body.Messages[2].Role != "assistant" || string(body.Messages[2].Content) != `"{\"label\":\"happiness\"}"` ||
		body.ResponseFormat.JSONSchema.Name != "expllm_chain_of_thought" {
		t.Fatalf("CoT request: %d messages, assistant %s, schema %q", len(body.Messages), body.Messages[2].Content, body.ResponseFormat.JSONSchema.Name)
	}
}

func TestModelWithoutSchemaSupport(t *testing.T) {
	srv := llmtest.New()
	srv.NoSchema = true
	srv.Handler = fakeModel("happiness", expllmText, "")
	defer srv.Close()
	m := newModel(t, srv, &builtin{})
	ans, err := m.Reason(context.Background(), llm.Request{Evidence: smileEvidence, Classes: seven})
	if err != nil {
		t.Fatal(err)
	}
	if ans.Source != "llm" || ans.JSON || ans.CoT.Conclusion.Label != "happiness" || m.Client.Structured() {
		t.Fatalf("answer %+v structured %v", ans, m.Client.Structured())
	}
	reqs := srv.Requests()
	if len(reqs) != 3 || reqs[0].Req.ResponseFormat == nil || reqs[1].Req.ResponseFormat != nil || reqs[2].Req.ResponseFormat != nil {
		t.Fatalf("want schema, then none twice; got %d requests", len(reqs))
	}
	if !strings.Contains(reqs[2].Req.Messages[3].Content(), cot.HeadingObservations) {
		t.Fatal("text CoT request does not ask for the headings")
	}
	// The client remembers: the next face goes without a schema at once.
	if _, err := m.Reason(context.Background(), llm.Request{Evidence: smileEvidence, Classes: seven}); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Requests()); n != 5 {
		t.Fatalf("%d requests, want 5", n)
	}
}

func TestModelIgnoresSchema(t *testing.T) {
	srv := llmtest.New()
	// Schema sent, but the model answers in prose anyway.
	srv.Handler = func(req llm.ChatRequest) llmtest.Reply {
		if len(req.Messages) > 2 {
			return llmtest.Reply{Content: expllmText}
		}
		return llmtest.Reply{Content: "I think this is Happiness."}
	}
	defer srv.Close()
	m := newModel(t, srv, &builtin{})
	ans, err := m.Reason(context.Background(), llm.Request{Evidence: smileEvidence, Classes: seven})
	if err != nil {
		t.Fatal(err)
	}
	if ans.Source != "llm" || ans.JSON || ans.LabelAnswer != "happiness" || ans.CoT.Conclusion.Label != "happiness" || len(ans.CoT.Observations) != 3 {
		t.Fatalf("answer %+v", ans)
	}
	if srv.Requests()[1].Req.ResponseFormat == nil {
		t.Fatal("schema should still be sent: the server accepted it")
	}
}

func TestModelHallucinatedAUFallsBack(t *testing.T) {
	bad := strings.Replace(expllmText, "AU25 (Lips Part)", "AU9 (Nose Wrinkler)", 1)
	srv := llmtest.New()
	srv.NoSchema = true
	srv.Handler = fakeModel("happiness", bad, "")
	defer srv.Close()
	fb := &builtin{}
	m := newModel(t, srv, fb)
	ans, err := m.Reason(context.Background(), llm.Request{Evidence: smileEvidence, Classes: seven})
	if err != nil {
		t.Fatal(err)
	}
	if ans.Source != "builtin" || fb.calls != 1 || ans.CoT.Text != "built-in text" {
		t.Fatalf("answer %+v", ans)
	}
	if !strings.Contains(ans.Fallback, "hallucinated_au") || !strings.Contains(ans.Fallback, "AU9") {
		t.Fatalf("fallback reason %q", ans.Fallback)
	}
	if ans.CoT.Verification == nil || len(ans.CoT.Verification.Feedback) != 1 || ans.CoT.Verification.Feedback[0] != ans.Fallback {
		t.Fatalf("reason not recorded in the CoT: %+v", ans.CoT.Verification)
	}
	if ans.Model == nil || ans.Model.Observations[2].AU != 9 {
		t.Fatalf("model's own answer not kept: %+v", ans.Model)
	}
}

func TestModelMalformedAndOutside(t *testing.T) {
	cases := []struct {
		name, label, cotText, want string
	}{
		{"label answer unreadable", "I am not sure.", expllmText, "malformed"},
		{"CoT without a conclusion", "happiness", "**Key Observations:**\n- AU12 0.8\nThat is all.", "malformed"},
		{"label outside the classes", "contempt", strings.Replace(expllmText, "is happiness", "is contempt", 1), "label_outside_classes"},
		{"CoT contradicts the label answer", "surprise", expllmText, "contradiction"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := llmtest.New()
			srv.NoSchema = true
			srv.Handler = fakeModel(tc.label, tc.cotText, "")
			defer srv.Close()
			fb := &builtin{}
			ans, err := newModel(t, srv, fb).Reason(context.Background(), llm.Request{Evidence: smileEvidence, Classes: seven})
			if err != nil {
				t.Fatal(err)
			}
			if ans.Source != "builtin" || fb.calls != 1 || !strings.Contains(ans.Fallback, tc.want) {
				t.Fatalf("source %q fallback %q", ans.Source, ans.Fallback)
			}
		})
	}
}

func TestModelServerDown(t *testing.T) {
	srv := llmtest.New()
	srv.Handler = func(llm.ChatRequest) llmtest.Reply { return llmtest.Reply{Status: 503, ErrMessage: "loading model"} }
	defer srv.Close()
	fb := &builtin{}
	m := newModel(t, srv, fb)
	ans, err := m.Reason(context.Background(), llm.Request{Evidence: smileEvidence, Classes: seven})
	if err != nil || ans.Source != "builtin" || !strings.Contains(ans.Fallback, "loading model") {
		t.Fatalf("ans %+v err %v", ans, err)
	}
	// Without a fallback the failure is an error (eval-llm counts it).
	m.Fallback = nil
	if _, err := m.Reason(context.Background(), llm.Request{Evidence: smileEvidence, Classes: seven}); err == nil || !strings.Contains(err.Error(), "loading model") {
		t.Fatalf("err = %v", err)
	}
	if _, err := m.Reason(context.Background(), llm.Request{Evidence: smileEvidence}); err == nil {
		t.Fatal("no classes accepted")
	}
}

func TestModelStreaming(t *testing.T) {
	srv := llmtest.New()
	srv.Handler = fakeModel("happiness", expllmText, smileJSON)
	defer srv.Close()
	m := newModel(t, srv, nil)
	m.Stream = true
	ans, err := m.Reason(context.Background(), llm.Request{Evidence: smileEvidence, Classes: seven})
	if err != nil || ans.Source != "llm" || ans.Usage.CompletionTokens != llmtest.Tokens(`{"label":"happiness"}`)+llmtest.Tokens(smileJSON) {
		t.Fatalf("ans %+v err %v", ans, err)
	}
	for _, r := range srv.Requests() {
		if !r.Req.Stream {
			t.Fatal("not streamed")
		}
	}
}

func TestModelDes2ExpDisagreementFallsBack(t *testing.T) {
	// Our parser reads "happiness" (anger is negated four words back); the
	// cot engine's Des2Exp reader looks three words back and reads "anger".
	text := "**Key Observations:**\n- AU12: 0.8\n**Overall Emotional Interpretation:**\nA smile.\n**Conclusion:** Not at all like anger, this is happiness."
	srv := llmtest.New()
	srv.NoSchema = true
	srv.Handler = fakeModel("happiness", text, "")
	defer srv.Close()
	ans, err := newModel(t, srv, &builtin{}).Reason(context.Background(), llm.Request{Evidence: smileEvidence, Classes: seven})
	if err != nil {
		t.Fatal(err)
	}
	if ans.Source != "builtin" || !strings.Contains(ans.Fallback, "Des2Exp") {
		t.Fatalf("source %q fallback %q", ans.Source, ans.Fallback)
	}
}

func TestBuiltin(t *testing.T) {
	ans, err := llm.Builtin{}.Reason(context.Background(), llm.Request{Evidence: []cot.Evidence{{AU: 6, Intensity: 3.5}, {AU: 12, Intensity: 4}}, Classes: seven})
	if err != nil {
		t.Fatal(err)
	}
	if ans.Source != "builtin" || ans.CoT.Conclusion.Label != "happiness" || !strings.Contains(ans.CoT.Text, cot.HeadingConclusion) {
		t.Fatalf("%+v", ans)
	}
	// The LLM parser reads the engine's text back to the same label.
	p, err := llm.ParseCoT(ans.CoT.Text, seven)
	if err != nil || p.CoT.Conclusion.Label != "happiness" || p.Headings != 3 {
		t.Fatalf("parse of built-in text: %+v %v", p, err)
	}
	// And the checks pass on it: the engine only names measured AUs.
	if rej := llm.Rejections(llm.Check(p, []cot.Evidence{{AU: 6, Intensity: 3.5}, {AU: 12, Intensity: 4}}, seven, llm.CheckOptions{})); len(rej) != 0 {
		t.Fatalf("built-in text rejected: %v\n%s", rej, ans.CoT.Text)
	}
	// Three-class tasks map through MEGC2019.
	ans, err = llm.Builtin{}.Reason(context.Background(), llm.Request{Evidence: []cot.Evidence{{AU: 6, Intensity: 3.5}, {AU: 12, Intensity: 4}}, Classes: []string{"negative", "positive", "surprise"}})
	if err != nil || ans.CoT.Conclusion.Label != "positive" {
		t.Fatalf("%+v %v", ans.CoT.Conclusion, err)
	}
}

func TestGroundingNamesAUs(t *testing.T) {
	g := llm.Grounding([]cot.Evidence{{AU: 12, Intensity: 4}, {AU: 4, Intensity: 2.5, IntensityUnknown: true}}, llm.PromptOptions{})
	for _, w := range []string{"AU12 (Lip Corner Puller): 4.00 (D, severe)", "AU4 (Brow Lowerer): present (intensity not coded)"} {
		if !strings.Contains(g, w) {
			t.Errorf("grounding lacks %q:\n%s", w, g)
		}
	}
}

func TestEventReasoner(t *testing.T) {
	var got llm.Request
	inner := llm.ReasonerFunc(func(_ context.Context, r llm.Request) (llm.Answer, error) {
		got = r
		return llm.Answer{CoT: cot.CoT{Conclusion: cot.Conclusion{Label: "fear"}}}, nil
	})
	on, ap, fl := solid(4, 4, color.RGBA{1, 0, 0, 255}), solid(4, 4, color.RGBA{2, 0, 0, 255}), solid(4, 4, color.RGBA{3, 0, 0, 255})
	c, err := llm.EventReasoner{R: inner}.Reason(context.Background(), smileEvidence, []image.Image{on, ap, fl})
	if err != nil || c.Conclusion.Label != "fear" {
		t.Fatalf("%+v %v", c, err)
	}
	if got.Onset != on || got.Apex != ap || got.Flow != fl || !got.Micro() || len(got.Classes) != 9 || len(got.Evidence) != len(smileEvidence) {
		t.Fatalf("request %+v", got)
	}
	llm.EventReasoner{R: inner, Classes: seven}.Reason(context.Background(), nil, []image.Image{ap})
	if got.Apex != ap || got.Onset != nil || got.Micro() || len(got.Classes) != 7 {
		t.Fatalf("still: %+v", got)
	}
	// With the LLM and a fallback, a rejected answer's reason reaches the CoT.
	srv := llmtest.New()
	srv.NoSchema = true
	srv.Handler = fakeModel("happiness", strings.Replace(expllmText, "AU25 (Lips Part)", "AU9 (Nose Wrinkler)", 1), "")
	defer srv.Close()
	m := newModel(t, srv, llm.Builtin{})
	c, err = llm.EventReasoner{R: m}.Reason(context.Background(), smileEvidence, []image.Image{on, ap})
	if err != nil || c.Verification == nil || !strings.Contains(strings.Join(c.Verification.Feedback, " "), "hallucinated_au") || c.Conclusion.Label != "happiness" {
		t.Fatalf("%+v %v", c, err)
	}
}

func TestModelCoTSchemaRefused(t *testing.T) {
	srv := llmtest.New()
	model := fakeModel("happiness", expllmText, smileJSON)
	srv.Handler = func(req llm.ChatRequest) llmtest.Reply {
		if req.ResponseFormat != nil && req.ResponseFormat.JSONSchema.Name == "expllm_chain_of_thought" {
			return llmtest.Reply{Status: 400, ErrMessage: "failed to convert json_schema to grammar"}
		}
		return model(req)
	}
	defer srv.Close()
	m := newModel(t, srv, &builtin{})
	ans, err := m.Reason(context.Background(), llm.Request{Evidence: smileEvidence, Classes: seven})
	if err != nil || ans.Source != "llm" || ans.JSON || ans.CoT.Conclusion.Label != "happiness" || m.Client.Structured() {
		t.Fatalf("ans %+v err %v", ans, err)
	}
	reqs := srv.Requests()
	if len(reqs) != 3 || reqs[2].Req.ResponseFormat != nil || !strings.Contains(reqs[2].Req.Messages[3].Content(), cot.HeadingObservations) {
		t.Fatalf("%d requests", len(reqs))
	}
}
