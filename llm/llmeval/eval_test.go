package llmeval_test

import (
	"context"
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

	"github.com/tell-project/tell/dataset"
	"github.com/tell-project/tell/llm"
	"github.com/tell-project/tell/llm/llmeval"
	"github.com/tell-project/tell/llm/llmtest"
)

func writePNG(t *testing.T, path string, c color.RGBA) {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := 0; i < len(m.Pix); i += 4 {
		m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, m); err != nil {
		t.Fatal(err)
	}
}

// fixture writes a manifest of n samples: even ones smile (6+12,
// happiness), odd ones frown (4+7, anger).
func fixture(t *testing.T, n int) *dataset.Manifest {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("sample,subject,label,image,flow,aus\n")
	for i := 0; i < n; i++ {
		img := fmt.Sprintf("face %d.png", i) // paths may contain spaces
		writePNG(t, filepath.Join(dir, img), color.RGBA{uint8(i * 20), 100, 100, 255})
		label, aus := "happiness", "6B+12C"
		if i%2 == 1 {
			label, aus = "anger", "4C+7B"
		}
		flow := ""
		if i == 0 {
			flow = "flow0.png"
			writePNG(t, filepath.Join(dir, flow), color.RGBA{128, 128, 0, 255})
		}
		fmt.Fprintf(&b, "s%d,sub%d,%s,%s,%s,%s\n", i, i/2, label, img, flow, aus)
	}
	p := filepath.Join(dir, "manifest.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := dataset.Read(p)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// reader is a fake model that reads the grounding: AU12 → happiness,
// otherwise anger; sample s3's answer claims AU9 (hallucinated) and s5's is
// malformed.
func reader(req llm.ChatRequest) llmtest.Reply {
	text := req.Messages[1].Content()
	label, aus := "anger", "- AU4 (Brow Lowerer): 0.5, anger.\n- AU7 (Lid Tightener): 0.3, anger."
	if strings.Contains(text, "AU12") {
		label, aus = "happiness", "- AU12 (Lip Corner Puller): 0.5, happiness.\n- AU6 (Cheek Raiser): 0.3, happiness."
	}
	if strings.Contains(text, "red=3") {
		aus += "\n- AU9 (Nose Wrinkler): 0.4, anger."
	}
	if len(req.Messages) == 2 {
		return llmtest.Reply{Content: label}
	}
	if strings.Contains(text, "red=5") {
		return llmtest.Reply{Content: "I'd rather not say."}
	}
	return llmtest.Reply{Content: "**Key Observations:**\n" + aus + "\n**Overall Emotional Interpretation:**\nThe AUs point to " + label + ".\n**Conclusion:**\n" + label + "."}
}

func model(t *testing.T, srv *llmtest.Server) *llm.Model {
	c, err := llm.New(llm.Config{BaseURL: srv.URL(), Model: "m", NoStructured: true, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return &llm.Model{Client: c}
}

// tagged wraps the fake so that each request says which sample it is
// about (its image's red value), which the fake cannot see in a PNG.
func tagged(m *llm.Model) llm.Reasoner {
	return llm.ReasonerFunc(func(ctx context.Context, r llm.Request) (llm.Answer, error) {
		red, _, _, _ := r.Apex.At(0, 0).RGBA()
		m2 := *m
		m2.Prompt.AUName = func(au int) string { return fmt.Sprintf("red=%d", red>>8/20) }
		return m2.Reason(ctx, r)
	})
}

func TestRunScoresAndResumes(t *testing.T) {
	m := fixture(t, 8)
	srv := llmtest.New()
	var fail atomic.Bool
	fail.Store(true)
	srv.Handler = func(req llm.ChatRequest) llmtest.Reply {
		// The first run's server fails for samples 6 and 7.
		text := req.Messages[1].Content()
		if fail.Load() && (strings.Contains(text, "red=6") || strings.Contains(text, "red=7")) {
			return llmtest.Reply{Status: 500, ErrMessage: "out of memory"}
		}
		return reader(req)
	}
	defer srv.Close()
	out := t.TempDir()
	opt := llmeval.Options{Out: out, Workers: 3, Model: "m"}
	mt, err := llmeval.Run(context.Background(), m, tagged(model(t, srv)), opt)
	if err != nil {
		t.Fatal(err)
	}
	if mt.Samples != 8 || mt.Failed != 2 || mt.Answered != 6 || mt.Invalid != 1 {
		t.Fatalf("first run: %+v", mt)
	}
	first := len(srv.Requests())
	// Rerun: only the two failed samples are asked again.
	fail.Store(false)
	mt, err = llmeval.Run(context.Background(), m, tagged(model(t, srv)), opt)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(srv.Requests()) - first; got != 4 {
		t.Fatalf("rerun sent %d requests, want 4 (2 samples x 2 turns)", got)
	}
	if mt.Samples != 8 || mt.Failed != 0 || mt.Answered != 8 || mt.Invalid != 1 {
		t.Fatalf("rerun: %+v", mt)
	}
	// 7 valid answers, all correct; the malformed one counts as wrong in
	// accuracy_all.
	if mt.N != 7 || mt.Accuracy != 1 || mt.UF1 != 1 || mt.UAR != 1 || mt.AccuracyAll != 7.0/8 {
		t.Fatalf("scores: n %d acc %v uf1 %v uar %v all %v", mt.N, mt.Accuracy, mt.UF1, mt.UAR, mt.AccuracyAll)
	}
	f := mt.Faithfulness
	// 7 parsed chains; s3 claims AU9.
	if f.Answers != 7 || f.NoHallucination != 6.0/7 || f.AUMatch != 6.0/7 || f.Consistent != 1 || f.AURecall != 1 || f.AUPrecision != 14.0/15 {
		t.Fatalf("faithfulness %+v", f)
	}
	if mt.Cost.Calls != 16 || mt.Cost.TotalTokens == 0 || mt.Cost.LatencyP50MS <= 0 || mt.Cost.LatencyP99MS < mt.Cost.LatencyP50MS {
		t.Fatalf("cost %+v", mt.Cost)
	}
	// metrics.json on disk carries the contract fields and the LLM ones.
	b, err := os.ReadFile(filepath.Join(out, llmeval.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"protocol", "classes", "n", "uf1", "uar", "accuracy", "per_class", "confusion", "folds", "seconds", "faithfulness", "cost", "accuracy_all"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("metrics.json lacks %q", k)
		}
	}
	// The flow image of s0 reached the model as a second image.
	for _, r := range srv.Requests() {
		if strings.Contains(r.Req.Messages[1].Content(), "red=0") {
			if n := len(r.Req.Messages[1].Parts); n != 3 {
				t.Fatalf("s0 request has %d parts, want apex + flow + text", n)
			}
			break
		}
	}
}

func TestRunLimitAndTornLine(t *testing.T) {
	m := fixture(t, 6)
	srv := llmtest.New()
	srv.Handler = reader
	defer srv.Close()
	out := t.TempDir()
	// A torn line and a failed record from an earlier run are dropped.
	os.WriteFile(filepath.Join(out, llmeval.AnswersFile), []byte(`{"sample":"s0","label":"happiness","pred":"happiness","valid":true,"calls":2}`+"\n"+`{"sample":"s1","error":"boom"}`+"\n"+`{"sample":"s2","lab`), 0o644)
	mt, err := llmeval.Run(context.Background(), m, tagged(model(t, srv)), llmeval.Options{Out: out, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if mt.Samples != 3 || len(srv.Requests()) != 4 {
		t.Fatalf("samples %d requests %d (want 3 and 4: s0 kept, s1 and s2 asked)", mt.Samples, len(srv.Requests()))
	}
	b, _ := os.ReadFile(filepath.Join(out, llmeval.AnswersFile))
	if n := strings.Count(string(b), "\n"); n != 3 || strings.Contains(string(b), "boom") {
		t.Fatalf("answers.jsonl:\n%s", b)
	}
}

func TestRunCancelledThenResumed(t *testing.T) {
	m := fixture(t, 6)
	srv := llmtest.New()
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int32
	srv.Handler = func(req llm.ChatRequest) llmtest.Reply {
		if n.Add(1) == 5 {
			cancel()
			return llmtest.Reply{Hang: true}
		}
		return reader(req)
	}
	defer srv.Close()
	out := t.TempDir()
	_, err := llmeval.Run(ctx, m, tagged(model(t, srv)), llmeval.Options{Out: out, Workers: 1})
	if err == nil || !strings.Contains(err.Error(), "rerun to resume") {
		t.Fatalf("err = %v", err)
	}
	srv.Handler = reader
	mt, err := llmeval.Run(context.Background(), m, tagged(model(t, srv)), llmeval.Options{Out: out, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if mt.Answered != 6 {
		t.Fatalf("%+v", mt)
	}
	// Two samples were done before the cancel: 6 + 2*4 requests... at
	// most, since the cancelled one is asked again.
	if got := len(srv.Requests()); got != 5+8 {
		t.Fatalf("%d requests", got)
	}
}

func TestBadInputNamesTheRow(t *testing.T) {
	m := fixture(t, 2)
	m.Samples[1].AUs = "soft focus" // no FACS at all ("4+Z" gives AU4 now)
	srv := llmtest.New()
	srv.Handler = reader
	defer srv.Close()
	_, err := llmeval.Run(context.Background(), m, tagged(model(t, srv)), llmeval.Options{Out: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), `sample "s1" (line 3): column aus`) {
		t.Fatalf("err = %v", err)
	}
	m = fixture(t, 2)
	os.WriteFile(m.Samples[0].Image, []byte("not a png"), 0o644)
	_, err = llmeval.Run(context.Background(), m, tagged(model(t, srv)), llmeval.Options{Out: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), `sample "s0" (line 2): column image`) {
		t.Fatalf("err = %v", err)
	}
	m.Samples[0].Label = "fear"
	_, err = llmeval.Run(context.Background(), m, tagged(model(t, srv)), llmeval.Options{Out: t.TempDir(), Classes: []string{"anger", "happiness"}})
	if err == nil || !strings.Contains(err.Error(), `label "fear"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestPercentile(t *testing.T) {
	v := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tc := range []struct{ p, want float64 }{{50, 5}, {90, 9}, {99, 10}, {100, 10}, {1, 1}, {0, 1}} {
		if got := llmeval.Percentile(v, tc.p); got != tc.want {
			t.Errorf("p%v = %v, want %v", tc.p, got, tc.want)
		}
	}
	if llmeval.Percentile(nil, 50) != 0 {
		t.Error("empty")
	}
}

func TestRunFramesGiveApexAndOnset(t *testing.T) {
	dir := t.TempDir()
	clip := filepath.Join(dir, "sub01", "EP02_01f")
	if err := os.MkdirAll(clip, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		writePNG(t, filepath.Join(clip, fmt.Sprintf("img%d.png", i)), color.RGBA{uint8(40 * i), 0, 0, 255})
	}
	csv := "sample,subject,label,frames,onset,apex,offset,aus\nc1,sub01,happiness,sub01/EP02_01f,1,4,5,12\nc2,sub01,anger,sub01/EP02_01f,2,3,5,4\n"
	p := filepath.Join(dir, "m.csv")
	os.WriteFile(p, []byte(csv), 0o644)
	m, err := dataset.Read(p)
	if err != nil {
		t.Fatal(err)
	}
	srv := llmtest.New()
	srv.Handler = reader
	defer srv.Close()
	mt, err := llmeval.Run(context.Background(), m, model(t, srv), llmeval.Options{Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if mt.Answered != 2 || mt.Accuracy != 1 {
		t.Fatalf("%+v", mt)
	}
	r := srv.Requests()[0].Req.Messages[1]
	if len(r.Parts) != 3 || !strings.Contains(r.Content(), "micro-expression") || !strings.Contains(r.Content(), "onset frame") {
		t.Fatalf("%d parts: %s", len(r.Parts), r.Content())
	}
	m.Samples[1].Apex = "99"
	_, err = llmeval.Run(context.Background(), m, model(t, srv), llmeval.Options{Out: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), `sample "c2" (line 3): column apex`) {
		t.Fatalf("err = %v", err)
	}
}

func TestScoreAllFailedStillWritesJSON(t *testing.T) {
	m, err := llmeval.Score([]llmeval.Record{{Sample: "a", Label: "anger", Error: "down"}, {Sample: "b", Label: "happiness", Pred: "contempt"}}, []string{"anger", "happiness"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := json.Marshal(m); err != nil {
		t.Fatalf("metrics of a failed run do not marshal: %v", err)
	}
	if m.Failed != 1 || m.Invalid != 1 || m.N != 0 || m.AccuracyAll != 0 {
		t.Fatalf("%+v", m)
	}
}
