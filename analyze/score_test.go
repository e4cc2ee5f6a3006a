package analyze

import (
	"context"
	"image"
	"io"
	"log/slog"
	"math"
	"strings"
	"testing"

	"github.com/tell-project/tell/appearance"
	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/facs"
)

func probs(m map[string]float32) *appearance.Probs {
	var p appearance.Probs
	for i, l := range appearance.Labels() {
		p[i] = m[l]
	}
	return &p
}

func checkScored(t *testing.T, s scored) {
	t.Helper()
	sum, best := 0.0, ""
	for c, p := range s.probs {
		sum += p
		if best == "" || p > s.probs[best] {
			best = c
		}
	}
	if math.Abs(sum-1) > 1e-9 || s.label != best || s.conf != s.probs[best] {
		t.Fatalf("label %s (%.4f) but argmax %s (%.4f), sum %v", s.label, s.conf, best, s.probs[best], sum)
	}
}

// TestScoreFusion: the label is the argmax of the fused probabilities; a
// confident appearance net is not overruled by AUs, an unsure one is
// decided by them; uncalibrated AUs change nothing.
func TestScoreFusion(t *testing.T) {
	smile := cot.EvidenceFromCode(facs.MustParse("6C+12C"))
	brows := cot.EvidenceFromCode(facs.MustParse("4D+7C+23C"))
	cases := []struct {
		name     string
		ev       []cot.Evidence
		measured bool
		app      map[string]float32
		want     string
	}{
		{"confident net, AUs against", brows, true, map[string]float32{"happiness": 0.97, "anger": 0.01, "neutral": 0.02}, "happiness"},
		{"unsure net, AUs decide", brows, true, map[string]float32{"happiness": 0.4, "anger": 0.35, "neutral": 0.25}, "anger"},
		{"unsure net, AUs agree", smile, true, map[string]float32{"happiness": 0.4, "anger": 0.35, "neutral": 0.25}, "happiness"},
		{"uncalibrated AUs are not weighed", brows, false, map[string]float32{"happiness": 0.4, "anger": 0.35, "neutral": 0.25}, "happiness"},
		{"no movement, net says neutral", nil, true, map[string]float32{"neutral": 0.6, "sadness": 0.4}, "neutral"},
	}
	for _, c := range cases {
		s, err := scoreEvent(scoreInput{ev: c.ev, measured: c.measured, app: probs(c.app)})
		if err != nil {
			t.Fatal(err)
		}
		checkScored(t, s)
		if s.label != c.want {
			t.Errorf("%s: %s (%v), want %s", c.name, s.label, s.probs, c.want)
		}
		if want := map[bool]int{true: 8, false: 7}[c.measured]; len(s.probs) != want {
			t.Errorf("%s: classes %v, want %d (contempt only with measured AUs)", c.name, s.classes, want)
		}
	}
	// λ = 0 for uncalibrated AUs: the net's probabilities as they are.
	app := map[string]float32{"happiness": 0.5, "anger": 0.3, "neutral": 0.2}
	s, _ := scoreEvent(scoreInput{ev: brows, app: probs(app)})
	for k, v := range app {
		if math.Abs(s.probs[k]-float64(v)) > 1e-3 { // the 1e-4 floor of absent classes
			t.Errorf("uncalibrated: %s %v, net %v", k, s.probs[k], v)
		}
	}
}

// TestScoreClasses: a flow model's three classes are the label set; the
// appearance net's classes are summed into them.
func TestScoreClasses(t *testing.T) {
	app := probs(map[string]float32{"sadness": 0.3, "anger": 0.3, "happiness": 0.35, "neutral": 0.05})
	flowP := map[string]float64{"negative": 0.5, "positive": 0.3, "surprise": 0.2}
	s, err := scoreEvent(scoreInput{measured: true, app: app, flow: flowP, classes: []string{"negative", "positive", "surprise"}})
	if err != nil {
		t.Fatal(err)
	}
	checkScored(t, s)
	if s.label != "negative" || len(s.probs) != 3 {
		t.Errorf("three classes: %s %v", s.label, s.probs)
	}
	// AUs alone: the basic emotions with neutral and others.
	s, _ = scoreEvent(scoreInput{ev: cot.EvidenceFromCode(facs.MustParse("1C+4C+15C")), measured: true})
	checkScored(t, s)
	if s.label != facs.Sadness || len(s.probs) != 9 {
		t.Errorf("AU only: %s %v", s.label, s.probs)
	}
	s, _ = scoreEvent(scoreInput{measured: true})
	if s.label != facs.Neutral {
		t.Errorf("nothing moved: %s", s.label)
	}
}

// otherReasoner concludes a fixed label, as a vision LLM might.
type otherReasoner struct{ label string }

func (o otherReasoner) Reason(context.Context, []cot.Evidence, []image.Image) (cot.CoT, error) {
	return cot.CoT{Text: "**Conclusion:**\n" + o.label, Conclusion: cot.Conclusion{Label: o.label, Confidence: 0.9}}, nil
}

// TestDecideConclusionIsLabel: whatever the reasoner concludes, the event's
// chain of thought concludes the scorer's label.
func TestDecideConclusionIsLabel(t *testing.T) {
	in := scoreInput{ev: cot.EvidenceFromCode(facs.MustParse("6C+12C")), measured: true, app: probs(map[string]float32{"happiness": 0.8, "neutral": 0.2})}
	for _, rs := range []Reasoner{BuiltinReasoner{}, otherReasoner{"anger"}, otherReasoner{"happiness"}} {
		r := &run{opt: Options{Reasoner: rs, Name: "test"}, log: discardLog()}
		s, c, _, _, err := r.decide(context.Background(), in, nil, FlowInput{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.Conclusion.Label != s.label || s.label != facs.Happiness {
			t.Errorf("%T: conclusion %s, label %s", rs, c.Conclusion.Label, s.label)
		}
		if o, ok := rs.(otherReasoner); ok && o.label == "anger" {
			if v := c.Verification; v == nil || !strings.Contains(strings.Join(v.Feedback, " "), `concluded "anger"`) {
				t.Errorf("the reasoner's disagreement is not recorded: %+v", c.Verification)
			}
		}
	}
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestScoreChange: in a video the appearance evidence is the change from
// the onset; a reading that did not change leaves the AUs to decide, one
// that rose from neutral carries the label.
func TestScoreChange(t *testing.T) {
	surprise := cot.EvidenceFromCode(facs.MustParse("1C+2C+5B+26C"))
	smiling := probs(map[string]float32{"happiness": 0.98, "neutral": 0.02})
	s, _ := scoreEvent(scoreInput{ev: surprise, measured: true, app: smiling, base: smiling})
	checkScored(t, s)
	if s.label != facs.Surprise {
		t.Errorf("a resting smile labels the movement: %s %v", s.label, s.probs)
	}
	s, _ = scoreEvent(scoreInput{ev: surprise, measured: true, app: smiling})
	if s.label != facs.Happiness {
		t.Errorf("a still's reading is its level: %s", s.label)
	}
	rose := probs(map[string]float32{"happiness": 0.7, "neutral": 0.3})
	calm := probs(map[string]float32{"happiness": 0.05, "neutral": 0.95})
	s, _ = scoreEvent(scoreInput{measured: true, app: rose, base: calm, ev: cot.EvidenceFromCode(facs.MustParse("12B"))})
	checkScored(t, s)
	if s.label != facs.Happiness {
		t.Errorf("a smile rising from neutral: %s %v", s.label, s.probs)
	}
}

// TestExpertWeights: experts that development data put at chance are run
// and reported but do not move the label: the appearance net on
// micro-expressions, the shipped synthetic flow model everywhere.
func TestExpertWeights(t *testing.T) {
	brows := cot.EvidenceFromCode(facs.MustParse("4D+7C+23C"))
	happy := probs(map[string]float32{"happiness": 0.97, "anger": 0.01, "neutral": 0.02})
	calm := probs(map[string]float32{"happiness": 0.05, "anger": 0.05, "neutral": 0.9})
	// Macro: a confident net that rose from neutral carries the label.
	s, err := scoreEvent(scoreInput{ev: brows, measured: true, kind: "macro", app: happy, base: calm})
	if err != nil {
		t.Fatal(err)
	}
	if s.label != facs.Happiness {
		t.Errorf("macro: %s, want the appearance net's happiness", s.label)
	}
	// Micro: the same net is reported, not weighed; the AUs decide.
	s, _ = scoreEvent(scoreInput{ev: brows, measured: true, kind: "micro", app: happy, base: calm})
	checkScored(t, s)
	if s.label != facs.Anger {
		t.Errorf("micro: %s, want the AUs' anger", s.label)
	}
	app := expertNamed(t, s, "appearance")
	if app.Weight != 0 || app.Label != facs.Happiness || app.Why == "" {
		t.Errorf("micro appearance expert %+v: want weight 0, its own reading happiness, and why", app)
	}
	if au := expertNamed(t, s, "aus"); au.Weight != auOnlyWeight || au.Label != facs.Anger {
		t.Errorf("micro AU expert %+v", au)
	}
	if !strings.Contains(s.basis, "not weighed") {
		t.Errorf("basis %q does not say the appearance model was not weighed", s.basis)
	}
	// The shipped flow model: reported, not weighed.
	flow := map[string]float64{"anger": 0.01, "happiness": 0.97, "sadness": 0.02}
	classes := []string{"anger", "happiness", "sadness"}
	s, _ = scoreEvent(scoreInput{ev: brows, measured: true, kind: "micro", flow: flow, classes: classes, builtinFlow: true})
	if s.label != facs.Anger || expertNamed(t, s, "flow").Weight != 0 {
		t.Errorf("builtin flow: %s, experts %+v", s.label, s.experts)
	}
	// A trained flow model is weighed.
	s, _ = scoreEvent(scoreInput{ev: brows, measured: true, kind: "micro", flow: flow, classes: classes})
	if expertNamed(t, s, "flow").Weight != flowWeight {
		t.Errorf("trained flow model not weighed: %+v", s.experts)
	}
}

func expertNamed(t *testing.T, s scored, name string) Expert {
	t.Helper()
	for _, e := range s.experts {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("no %s expert in %+v", name, s.experts)
	return Expert{}
}

// TestDoubt: when the top two are close or a weighed expert reads another
// class, the scorer says so, the conclusion says it after the label (which
// still reads back) and the verification flags it; events keep the top 2.
func TestDoubt(t *testing.T) {
	brows := cot.EvidenceFromCode(facs.MustParse("4D+7C+23C"))
	// The net is sure of happiness, the AUs read anger: the experts
	// disagree.
	happy := probs(map[string]float32{"happiness": 0.9, "anger": 0.05, "neutral": 0.05})
	s, err := scoreEvent(scoreInput{ev: brows, measured: true, kind: "macro", app: happy})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.top2) != 2 || s.top2[0].Label != s.label || s.top2[0].Probability < s.top2[1].Probability {
		t.Fatalf("top2 %+v for label %s", s.top2, s.label)
	}
	if !strings.Contains(s.doubt, "uncertain between") || !strings.Contains(s.doubt, "the AUs alone read anger") {
		t.Fatalf("doubt %q", s.doubt)
	}
	c, err := cot.Conclude(brows, s.label, s.conf, cot.ConcludeOptions{Basis: s.basis, AUAlone: s.auAlone, Doubt: s.doubt})
	if err != nil {
		t.Fatal(err)
	}
	v := c.Verification
	if !v.ReadBack || !v.Flagged || v.Doubt != s.doubt || !strings.Contains(c.Text, s.doubt) {
		t.Errorf("verification %+v, text:\n%s", v, c.Text)
	}
	// Agreement and a clear margin: no doubt, not flagged.
	smile := cot.EvidenceFromCode(facs.MustParse("6C+12C"))
	s, _ = scoreEvent(scoreInput{ev: smile, measured: true, kind: "macro", app: happy})
	if s.doubt != "" {
		t.Errorf("agreeing experts, %s %.2f: doubt %q", s.label, s.conf, s.doubt)
	}
	c, _ = cot.Conclude(smile, s.label, s.conf, cot.ConcludeOptions{Basis: s.basis, AUAlone: s.auAlone, Doubt: s.doubt})
	if c.Verification.Flagged {
		t.Errorf("flagged without doubt: %+v", c.Verification)
	}
	// Close top two (a flat net on a still without reference, whose AU
	// indications are not weighed): doubt names the two.
	flat := probs(map[string]float32{"happiness": 0.36, "surprise": 0.34, "neutral": 0.3})
	s, _ = scoreEvent(scoreInput{kind: "still", app: flat})
	if !strings.Contains(s.doubt, "within 0.10") {
		t.Errorf("close top two %+v: doubt %q", s.top2, s.doubt)
	}
}

// TestAUAloneIsTheEngine: with no other expert an event's probabilities
// are the Exp-CoT engine's calibrated reading of its AUs (cot.Read at
// cot.Temperature over the same nine labels), the AU expert's own
// probability is its label's, and the doubt follows the engine's margin.
func TestAUAloneIsTheEngine(t *testing.T) {
	for _, code := range []string{"12", "4", "4+7", "1+2", "6C+12C", "R12A+R14A", "1+4+15", "45", "9+15+16"} {
		ev := cot.EvidenceFromCode(facs.MustParse(code))
		s, err := scoreEvent(scoreInput{ev: ev, measured: true, kind: "micro"})
		if err != nil {
			t.Fatal(err)
		}
		rd, err := cot.Read(ev, cot.Options{})
		if err != nil {
			t.Fatal(err)
		}
		p := rd.Probabilities(cot.Temperature)
		if len(rd.Labels) != len(s.probs) {
			t.Fatalf("%s: engine labels %v, event classes %v", code, rd.Labels, s.classes)
		}
		for i, l := range rd.Labels {
			if math.Abs(s.probs[l]-p[i]) > 1e-12 {
				t.Errorf("%s: p(%s) event %.6f, engine %.6f", code, l, s.probs[l], p[i])
			}
		}
		au := expertNamed(t, s, "aus")
		if au.Label != s.label || au.Probability != round3(s.conf) {
			t.Errorf("%s: AU expert %+v, event %s %.3f", code, au, s.label, s.conf)
		}
		c, err := cot.Explain(ev, cot.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if c.Conclusion.Label != s.label && s.probs[c.Conclusion.Label] != s.conf {
			t.Errorf("%s: engine concludes %s, event %s", code, c.Conclusion.Label, s.label)
		}
		close := s.top2[0].Probability-s.top2[1].Probability < cot.DoubtMargin
		if close != strings.Contains(s.doubt, "within") {
			t.Errorf("%s: top2 %+v, doubt %q", code, s.top2, s.doubt)
		}
	}
}
