package cot

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/tell-project/tell/facs"
)

func explainCode(t *testing.T, code string, o Options) CoT {
	t.Helper()
	c, err := Explain(EvidenceFromCode(facs.MustParse(code)), o)
	if err != nil {
		t.Fatalf("Explain(%q): %v", code, err)
	}
	return c
}

// withIntensity gives every AU of code the same coded intensity.
func withIntensity(code string, v float64) []Evidence {
	ev := EvidenceFromCode(facs.MustParse(code))
	for i := range ev {
		if ev[i].IntensityUnknown {
			ev[i].Intensity, ev[i].IntensityUnknown = v, false
		}
	}
	return ev
}

func checkShape(t *testing.T, c CoT) {
	t.Helper()
	i1 := strings.Index(c.Text, HeadingObservations)
	i2 := strings.Index(c.Text, HeadingInterpretation)
	i3 := strings.Index(c.Text, HeadingConclusion)
	if i1 != 0 || i2 <= i1 || i3 <= i2 {
		t.Fatalf("headings missing or out of order:\n%s", c.Text)
	}
	for _, h := range []string{HeadingObservations, HeadingInterpretation, HeadingConclusion} {
		if strings.Count(c.Text, h) != 1 {
			t.Fatalf("heading %s not exactly once:\n%s", h, c.Text)
		}
	}
	if err := Check(c); err != nil {
		t.Fatalf("text and structure disagree: %v\n%s", err, c.Text)
	}
	if c.Verification == nil || c.Verification.ReadLabel != c.Conclusion.Label {
		t.Fatalf("verification %+v does not read back %q", c.Verification, c.Conclusion.Label)
	}
}

func TestPrototypesConcludeTheirEmotion(t *testing.T) {
	for _, p := range facs.Prototypes() {
		for _, ev := range [][]Evidence{
			EvidenceFromCode(p.Code),          // as coded (contempt's A letters)
			withIntensity(p.Code.String(), 3), // marked intensity where none is coded
			withIntensity(p.Code.String(), 1.25),
		} {
			for seed := uint64(0); seed < 5; seed++ {
				c, err := Explain(ev, Options{Seed: seed})
				if err != nil {
					t.Fatal(err)
				}
				checkShape(t, c)
				if c.Conclusion.Label != p.Emotion || c.Interpretation.Dominant != p.Emotion {
					t.Errorf("prototype %s (%s) concluded %s:\n%s", p.Emotion, p.Code, c.Conclusion.Label, c.Text)
				}
				if !strings.Contains(c.Text, p.Emotion) {
					t.Errorf("text never names %s", p.Emotion)
				}
			}
		}
	}
}

func TestKnownAnswers(t *testing.T) {
	tests := []struct {
		code    string
		want    string
		dataset string
	}{
		// 4+7: Davison's class III (anger) in general, CASME II's own
		// disgust criterion on CASME II rows.
		{"4+7", facs.Anger, ""},
		{"4+7", facs.Anger, "SAMM"},
		{"4+7", facs.Disgust, "CASME II"},
		{"R12A+R14A", facs.Contempt, ""},
		{"L12A+L14A", facs.Contempt, ""},
		{"R14", facs.Contempt, ""},
		// A one-sided smile alone is happiness to CASME II's criterion and
		// Davison's class I; contempt needs the one-sided dimpler.
		{"L12C", facs.Happiness, ""},
		{"R12", facs.Happiness, ""},
		{"L12+R12", facs.Happiness, ""}, // both sides: a smile
		{"12", facs.Happiness, ""},
		{"1+2", facs.Surprise, ""},
		{"4B+7A+L10", facs.Disgust, ""},
		{"1+2+4", facs.Fear, ""},
		{"9", facs.Disgust, ""},
		{"4+7+23", facs.Anger, ""},
		{"6+15", facs.Sadness, ""},
		{"17", facs.Others, ""}, // one shared action: no emotion claimed
		{"45", facs.Neutral, ""},
		{"", facs.Neutral, ""},
		{"0", facs.Neutral, ""},
	}
	for _, tc := range tests {
		c := explainCode(t, tc.code, Options{Dataset: tc.dataset})
		checkShape(t, c)
		if c.Conclusion.Label != tc.want {
			t.Errorf("%q (dataset %q) concluded %s (%.2f), want %s:\n%s", tc.code, tc.dataset, c.Conclusion.Label, c.Conclusion.Confidence, tc.want, c.Text)
		}
	}
	// 4+7 is negative either way, the other reading second.
	for _, ds := range []string{"", "CASME II"} {
		c := explainCode(t, "4+7", Options{Dataset: ds})
		if cls, _ := facs.ThreeClass(c.Conclusion.Label, ""); cls != facs.Negative || len(c.Interpretation.Secondary) == 0 {
			t.Errorf("4+7 (dataset %q): %s, secondary %v", ds, c.Conclusion.Label, c.Interpretation.Secondary)
		}
	}
	// A one-sided smile keeps contempt as the rival reading.
	if c := explainCode(t, "R12", Options{}); !slices.Contains(c.Interpretation.Secondary, facs.Contempt) {
		t.Errorf("R12: secondary %v, want contempt among them", c.Interpretation.Secondary)
	}
}

// More of a prototype raises confidence; a conflicting action lowers it and
// is named; fainter actions lower it.
func TestEvidenceMovesConfidence(t *testing.T) {
	conf := func(ev []Evidence) (string, float64, string) {
		c, err := Explain(ev, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return c.Conclusion.Label, c.Conclusion.Confidence, c.Interpretation.Rationale
	}
	_, partial, _ := conf(withIntensity("1+2", 3))
	_, full, _ := conf(withIntensity("1+2+5+26", 3))
	if !(full > partial) {
		t.Errorf("surprise: full prototype %.2f not above partial %.2f", full, partial)
	}
	l, clean, _ := conf(withIntensity("6+12", 3))
	l2, mixed, why := conf(withIntensity("6+12+15", 3))
	if l != facs.Happiness || l2 != facs.Happiness || !(mixed < clean) || !strings.Contains(why, "AU15") {
		t.Errorf("conflict: %s %.2f vs %s %.2f: %s", l, clean, l2, mixed, why)
	}
	_, faint, _ := conf(withIntensity("6+12", 0.75))
	if !(faint < clean) {
		t.Errorf("trace smile %.2f not below marked smile %.2f", faint, clean)
	}
	_, unsure, _ := conf(EvidenceFromCode(facs.MustParse("6?+12?")))
	_, sure, _ := conf(EvidenceFromCode(facs.MustParse("6+12")))
	if !(unsure < sure) {
		t.Errorf("uncertain coding %.2f not below certain %.2f", unsure, sure)
	}
}

func TestEmptyEvidenceClaimsNoEmotion(t *testing.T) {
	for _, ev := range [][]Evidence{
		nil,
		{{AU: 12, Intensity: 0.25}, {AU: 6, Intensity: 0.1}}, // below trace
		{{AU: 45, Intensity: 4.5}},                           // a blink only
	} {
		c, err := Explain(ev, Options{Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		checkShape(t, c)
		if c.Conclusion.Label != facs.Neutral || c.Interpretation.Secondary != nil {
			t.Errorf("%v concluded %q %v", ev, c.Conclusion.Label, c.Interpretation.Secondary)
		}
		for _, e := range facs.BasicEmotions() {
			if strings.Contains(c.Text, e) {
				t.Errorf("no-evidence text mentions %s:\n%s", e, c.Text)
			}
		}
	}
	// Classes without neutral fall back to others.
	c, _ := Explain(nil, Options{Classes: []string{"happiness", "others"}})
	if c.Conclusion.Label != facs.Others {
		t.Errorf("with classes {happiness, others}: %s", c.Conclusion.Label)
	}
}

// Weak, uncertain evidence never yields a confident emotion.
func TestWeakEvidenceIsNeverConfident(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	aus := []int{1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17, 20, 23, 24, 25, 26}
	for i := 0; i < 500; i++ {
		var ev []Evidence
		for k := 0; k < 1+r.IntN(4); k++ {
			ev = append(ev, Evidence{AU: aus[r.IntN(len(aus))], Intensity: 0.5 + 0.5*r.Float64(), Confidence: 0.1 + 0.2*r.Float64()})
		}
		c, err := Explain(ev, Options{Seed: uint64(i)})
		if err != nil {
			t.Fatal(err)
		}
		checkShape(t, c)
		isEmotion := c.Conclusion.Label != facs.Others && c.Conclusion.Label != facs.Neutral
		if isEmotion && c.Conclusion.Confidence >= 0.5 {
			t.Fatalf("confident %s (%.2f) from faint, uncertain evidence %+v", c.Conclusion.Label, c.Conclusion.Confidence, ev)
		}
	}
}

// The text's conclusion always equals the structured label, for any
// evidence, seed and label set.
func TestTextConclusionEqualsLabel(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	cat := facs.Catalogue()
	sides := []string{"", "left", "right", "asymmetric"}
	classSets := [][]string{nil, {"negative", "positive", "surprise"}, {"happiness", "disgust", "repression", "surprise", "others"}}
	for i := 0; i < 2000; i++ {
		var ev []Evidence
		for k := 0; k < r.IntN(8); k++ {
			ev = append(ev, Evidence{AU: cat[r.IntN(len(cat))].Number, Side: sides[r.IntN(4)], Intensity: 5 * r.Float64()})
		}
		o := Options{Seed: r.Uint64(), Classes: classSets[r.IntN(3)], Dataset: "CASME II"}
		c, err := Explain(ev, o)
		if err != nil {
			t.Fatal(err)
		}
		checkShape(t, c)
		none := c.Conclusion.Label == facs.Others || c.Conclusion.Label == facs.Neutral
		if len(o.Classes) > 0 && !o.has(c.Conclusion.Label) && !none {
			t.Fatalf("label %q outside classes %v", c.Conclusion.Label, o.Classes)
		}
		if c.Verification.Flagged {
			t.Fatalf("flagged without a true label: %+v", c.Verification)
		}
	}
}

func TestThreeClassMode(t *testing.T) {
	o := Options{Classes: []string{"negative", "positive", "surprise"}, Dataset: "SAMM"}
	for code, want := range map[string]string{"4+7": "negative", "6+12": "positive", "1+2+5+26": "surprise", "R12A+R14A": "negative"} {
		c := explainCode(t, code, o)
		checkShape(t, c)
		if c.Conclusion.Label != want {
			t.Errorf("%s: %s, want %s", code, c.Conclusion.Label, want)
		}
	}
	c := explainCode(t, "4+7", o)
	if c.Conclusion.Emotion != facs.Anger {
		t.Errorf("fine emotion %q", c.Conclusion.Emotion)
	}
	// A reading is negative by its valence on CASME II rows too, though
	// CASME II has no anger label: AU4 alone (Davison's class III).
	c = explainCode(t, "4", Options{Classes: o.Classes, Dataset: "CASME II"})
	if c.Conclusion.Label != facs.Negative || c.Conclusion.Emotion != facs.Anger {
		t.Errorf("AU4 on CASME II in three classes: %s (%s), want negative (anger)", c.Conclusion.Label, c.Conclusion.Emotion)
	}
	// CASME II five classes: repression is reachable.
	c = explainCode(t, "15+17", Options{Classes: []string{"happiness", "disgust", "repression", "surprise", "others"}})
	if c.Conclusion.Label != facs.Repression {
		t.Errorf("15+17 in CASME II classes: %s", c.Conclusion.Label)
	}
}

func TestLabelSynonyms(t *testing.T) {
	c, _ := Generate(EvidenceFromCode(facs.MustParse("6+12")), "Happy", Options{Classes: []string{"Happy", "Sad", "Surprised"}})
	if c.Conclusion.Label != facs.Happiness || !c.Verification.ReadBack || !c.Verification.MatchesTrueLabel {
		t.Errorf("Happy: %s %+v", c.Conclusion.Label, c.Verification)
	}
	c, _ = Generate(EvidenceFromCode(facs.MustParse("4+7")), "ne", Options{Classes: []string{"po", "ne", "sur"}})
	if c.Conclusion.Label != "negative" || !c.Verification.ReadBack {
		t.Errorf("ne: %s %+v", c.Conclusion.Label, c.Verification)
	}
}

func TestObservations(t *testing.T) {
	ev := []Evidence{{AU: 12, Side: "right", Intensity: 2.25}, {AU: 6, Intensity: 4}, {AU: 4, Side: "left", Intensity: 1.5}, {AU: 4, Side: "right", Intensity: 1.6}}
	c, err := Explain(ev, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Observations) != 3 {
		t.Fatalf("%d observations, want 3 (AU4 merged): %+v", len(c.Observations), c.Observations)
	}
	o := c.Observations[0]
	if o.AU != 6 || o.IntensityWord != "severe" || o.Letter != "D" || o.Name != "Cheek Raiser" || o.Emotions[0] != facs.Happiness {
		t.Errorf("strongest first, AU6 severe: %+v", o)
	}
	if o := c.Observations[1]; o.AU != 12 || o.Side != "right" || o.IntensityWord != "slight" || !strings.Contains(o.Movement, "right corner") {
		t.Errorf("AU12 right: %+v", o)
	}
	if o := c.Observations[2]; o.AU != 4 || o.Side != "" {
		t.Errorf("AU4 on both sides at similar strength is bilateral: %+v", o)
	}
	if !strings.Contains(c.Text, "right corner of the lips") {
		t.Errorf("text not side-aware:\n%s", c.Text)
	}
}

func TestTiming(t *testing.T) {
	ev := []Evidence{{AU: 6, Intensity: 2.5, Onset: 1.0, Apex: 1.1, Offset: 1.3}, {AU: 12, Intensity: 3, Onset: 1.05, Apex: 1.15, Offset: 1.25}}
	c, err := Explain(ev, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Interpretation.Duration != 0.3 || !strings.Contains(c.Text, "0.30 s") || !strings.Contains(c.Text, "micro-expression") {
		t.Errorf("duration %v:\n%s", c.Interpretation.Duration, c.Text)
	}
	ev[0].Offset, ev[1].Offset = 3, 3
	c, _ = Explain(ev, Options{})
	if !strings.Contains(c.Text, "macro-expression") {
		t.Errorf("2 s is a macro-expression:\n%s", c.Text)
	}
	if _, err := Explain([]Evidence{{AU: 6, Intensity: 2.5, Onset: 2, Offset: 1}}, Options{}); err == nil {
		t.Error("offset before onset accepted")
	}
}

func TestDeterministicAndVaried(t *testing.T) {
	ev := withIntensity("4+5+7+23", 2.5)
	texts := map[string]bool{}
	for seed := uint64(0); seed < 40; seed++ {
		a, _ := Explain(ev, Options{Seed: seed})
		b, _ := Explain(ev, Options{Seed: seed})
		if a.Text != b.Text {
			t.Fatalf("seed %d not deterministic", seed)
		}
		texts[a.Text] = true
	}
	if len(texts) < 20 {
		t.Errorf("only %d distinct texts over 40 seeds", len(texts))
	}
}

func TestLengthLikeExpLLM(t *testing.T) {
	total, n := 0, 0
	for _, p := range facs.Prototypes() {
		c, _ := Explain(withIntensity(p.Code.String(), 2.5), Options{Seed: 1})
		words := len(strings.Fields(c.Text))
		if words < 60 || words > 260 {
			t.Errorf("%s: %d words", p.Emotion, words)
		}
		total += words
		n++
	}
	if avg := total / n; avg < 90 || avg > 200 {
		t.Errorf("average %d words, want about 130", avg)
	}
}

func TestReadLabel(t *testing.T) {
	tests := []struct{ text, want string }{
		{"**Conclusion:**\nThe expression is anger.", "anger"},
		{"**Conclusion:**\nRather than anger, the face shows disgust.", "disgust"},
		{"**Conclusion:**\nNot happiness but contempt.", "contempt"},
		{"**Key Observations:**\nhappiness\n**Conclusion:**\nThe face looks sad.", "sadness"},
		{"**Conclusion:**\nThe expression is negative (the fine reading is disgust).", "negative"},
	}
	for _, tc := range tests {
		got, err := ReadLabel(tc.text)
		if err != nil || got != tc.want {
			t.Errorf("ReadLabel(%q) = %q, %v; want %q", tc.text, got, err, tc.want)
		}
	}
	if _, err := ReadLabel("The expression is anger."); err == nil {
		t.Error("no conclusion heading accepted")
	}
	if _, err := ReadLabel("**Conclusion:**\nHard to say."); err == nil {
		t.Error("no label accepted")
	}
}

// A planted inconsistency between text and structure is caught.
func TestVerificationCatchesPlantedInconsistency(t *testing.T) {
	c := explainCode(t, "6+12", Options{})
	if err := Check(c); err != nil {
		t.Fatal(err)
	}
	i := strings.Index(c.Text, HeadingConclusion)
	bad := c
	bad.Text = c.Text[:i] + strings.ReplaceAll(c.Text[i:], "happiness", "sadness")
	if err := Check(bad); err == nil {
		t.Fatalf("planted text/label mismatch not caught:\n%s", bad.Text)
	}
	bad = c
	bad.Conclusion.Label = facs.Anger
	if err := Check(bad); err == nil {
		t.Fatal("planted structured-label change not caught")
	}
}

func TestFeedbackLoop(t *testing.T) {
	ev := EvidenceFromCode(facs.MustParse("4+7"))
	cas := Options{Dataset: "CASME II"} // where 4+7 reads as disgust
	// Matches at once.
	c, err := Generate(ev, "Disgust", cas)
	if err != nil {
		t.Fatal(err)
	}
	if v := c.Verification; !v.MatchesTrueLabel || !v.ReadBack || v.Flagged || v.Attempts != 1 || len(v.Feedback) != 0 {
		t.Errorf("disgust: %+v", v)
	}
	// 4+7 supports anger too: the loop re-weighs and succeeds, recording why.
	c, _ = Generate(ev, "anger", cas)
	if v := c.Verification; !v.MatchesTrueLabel || v.Flagged || v.Attempts < 2 || len(v.Feedback) == 0 || c.Conclusion.Label != facs.Anger {
		t.Errorf("anger: label %s, %+v", c.Conclusion.Label, v)
	}
	checkShape(t, c)
	// Nothing in 4+7 supports happiness: flagged, never relabelled.
	c, _ = Generate(ev, "happiness", Options{MaxTries: 5, Dataset: "CASME II"})
	v := c.Verification
	if v.MatchesTrueLabel || !v.ReadBack || !v.Flagged || c.Conclusion.Label != facs.Disgust || len(v.Feedback) == 0 || v.TrueLabel != "happiness" {
		t.Errorf("happiness: label %s, %+v", c.Conclusion.Label, v)
	}
	if !strings.Contains(strings.Join(v.Feedback, " "), "no observed configuration of happiness") {
		t.Errorf("feedback does not say why: %v", v.Feedback)
	}
	// Bounded: a true label the loop cannot reach stops within MaxTries.
	c, _ = Generate(EvidenceFromCode(facs.MustParse("6+12+25")), "fear", Options{MaxTries: 2})
	if v := c.Verification; v.Attempts > 2 || !v.Flagged {
		t.Errorf("fear for a smile: %+v", v)
	}
	// Three-class label: disgust satisfies negative.
	c, _ = Generate(ev, "negative", Options{})
	if !c.Verification.MatchesTrueLabel {
		t.Errorf("negative: %+v", c.Verification)
	}
	// Others: an ambiguous fragment can be read as no emotion.
	c, _ = Generate(EvidenceFromCode(facs.MustParse("4")), "others", Options{})
	if !c.Verification.MatchesTrueLabel || c.Conclusion.Label != facs.Others {
		t.Errorf("others for AU4: %s %+v", c.Conclusion.Label, c.Verification)
	}
}

func TestBadEvidence(t *testing.T) {
	for _, ev := range [][]Evidence{
		{{AU: 0, Intensity: 2.5}},
		{{AU: 12, Intensity: 7.5}},
		{{AU: 12, Intensity: 2.5, Side: "up"}},
		{{AU: 12, Intensity: 2.5, Confidence: -1}},
	} {
		if _, err := Explain(ev, Options{}); err == nil || !strings.Contains(err.Error(), "evidence 0") {
			t.Errorf("%+v: error %v should name the entry", ev, err)
		}
	}
}

func TestParseEvidenceJSON(t *testing.T) {
	tests := []struct {
		in   string
		want []Evidence
	}{
		{`[{"au":12,"side":"right","intensity":2}]`, []Evidence{{AU: 12, Side: "right", Intensity: 2}}},
		{`{"evidence":[{"au":4,"intensity":1.5}]}`, []Evidence{{AU: 4, Intensity: 1.5}}},
		{`{"AU04": 2, "L12": 1.5, "AU12_r": 2.5, "AU12_c": 1}`, []Evidence{{AU: 4, Intensity: 2}, {AU: 12, Intensity: 2.5}, {AU: 12, Side: "left", Intensity: 1.5}}},
	}
	for _, tc := range tests {
		got, err := ParseEvidenceJSON([]byte(tc.in))
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(tc.want)
		if string(a) != string(b) {
			t.Errorf("%s: %s, want %s", tc.in, a, b)
		}
	}
	for _, bad := range []string{``, `[`, `{"AU99x": 1}`, `{"AU12": "high"}`, `[{"au":12,"intensity":15}]`, `{"12B": 0.4}`} {
		if _, err := ParseEvidenceJSON([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParseEvidenceJSON(f *testing.F) {
	f.Add(`[{"au":12,"side":"right","intensity":2}]`)
	f.Add(`{"AU04": 2, "L12": 1.5}`)
	f.Fuzz(func(t *testing.T, s string) {
		ev, err := ParseEvidenceJSON([]byte(s))
		if err != nil {
			return
		}
		c, err := Explain(ev, Options{})
		if err != nil {
			t.Fatalf("parsed evidence rejected by the engine: %v", err)
		}
		if err := Check(c); err != nil {
			t.Fatal(err)
		}
	})
}

func ExampleExplain() {
	code := facs.MustParse("R12A+R14A")
	c, err := Explain(EvidenceFromCode(code), Options{Seed: 1})
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Conclusion.Label, c.Observations[0].Side, c.Observations[0].IntensityWord)
	fmt.Println(strings.Split(c.Text, "\n")[0])
	// Output:
	// contempt right trace
	// **Key Observations:**
}

// ExampleExplain_text shows a whole chain of thought; the text was read and
// checked by hand (unilateral trace AU12+AU14: contempt, with low confidence).
func ExampleExplain_text() {
	c, _ := Explain(EvidenceFromCode(facs.MustParse("R12A+R14A")), Options{Seed: 1})
	fmt.Println(c.Text)
	// Output:
	// **Key Observations:**
	// - AU12 (Lip Corner Puller), at trace intensity (1.00): pulling the right corner of the lips; a one-sided smile: happiness to micro-expression coders, contempt when a one-sided dimpler joins it.
	// - AU14 (Dimpler), acting barely (1.00, level A): creating the right dimple; tied to contempt, especially when one-sided.
	//
	// **Overall Emotional Interpretation:**
	// Pulling the right corner of the lips and creating the right dimple (AU12+AU14) is the EMFACS prototype of contempt and carries the expression. Every action of the contempt prototype (R12A+R14A) is present. The one-sided dimpler decides it: a lip corner tightened on one side is the mark of contempt, not of a smile. All actions are faint (trace level), as in a brief or suppressed micro-expression, which limits confidence.
	//
	// **Conclusion:**
	// The expression is contempt, with moderate confidence (0.63).
}

func ExampleGenerate() {
	c, _ := Generate(EvidenceFromCode(facs.MustParse("4+7")), "happiness", Options{})
	fmt.Println(c.Conclusion.Label, c.Verification.Flagged)
	// Output:
	// anger true
}

func BenchmarkExplain(b *testing.B) {
	ev := withIntensity("1+2+4+5+7+20+26", 2.5)
	for b.Loop() {
		if _, err := Explain(ev, Options{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

// A label set naming no emotion the engine knows left no candidate, and
// decide indexed the empty match list (tell cot --aus 12 --classes a,b
// panicked).
func TestClassesWithoutKnownEmotion(t *testing.T) {
	for _, code := range []string{"12", "4+7", "6+12", "45"} {
		c := explainCode(t, code, Options{Classes: []string{"a", "b"}})
		checkShape(t, c)
		if c.Conclusion.Label == facs.Happiness || c.Conclusion.Label == facs.Disgust {
			t.Errorf("%s: named %s, which the label set does not hold", code, c.Conclusion.Label)
		}
	}
}

// TestOneScale: the numbers, letters and words of the observations and of
// the text all come from the evidence's 0–5 intensity: the same number,
// the FACS letter whose ±0.5 band holds it, and that letter's word.
func TestOneScale(t *testing.T) {
	for _, v := range []float64{0.5, 0.8, 1.0, 1.49, 1.5, 2.11, 2.6, 3.4, 4.2, 5} {
		c, err := Explain([]Evidence{{AU: 4, Intensity: v}}, Options{Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Observations) != 1 {
			t.Fatalf("intensity %v: %d observations", v, len(c.Observations))
		}
		o := c.Observations[0]
		l := facs.LetterFromValue(v / MaxIntensity)
		if o.Intensity != round2(v) || o.Letter != l.String() || o.IntensityWord != l.Word() {
			t.Errorf("intensity %v: observation %v %s %s, want %v %s %s", v, o.Intensity, o.Letter, o.IntensityWord, round2(v), l, l.Word())
		}
		if want := fmt.Sprintf("%.2f", v); !strings.Contains(c.Text, want) || !strings.Contains(c.Text, l.Word()) && !strings.Contains(c.Text, adverbs[l]) {
			t.Errorf("intensity %v: text lacks %s and %q:\n%s", v, want, l.Word(), c.Text)
		}
	}
	// A coded letter reads back as its value on the same scale.
	c, err := Explain(EvidenceFromCode(facs.MustParse("4C")), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if o := c.Observations[0]; o.Intensity != 3 || o.Letter != "C" || o.IntensityWord != "marked" {
		t.Errorf("4C: %+v", o)
	}
	// Below trace is no action.
	if c, _ := Explain([]Evidence{{AU: 4, Intensity: 0.49}}, Options{}); len(c.Observations) != 0 {
		t.Errorf("0.49 observed: %+v", c.Observations)
	}
}

// TestProbabilitiesSetConfidence: with the caller's probabilities the
// conclusion states the label's probability, in the structure and the text.
func TestProbabilitiesSetConfidence(t *testing.T) {
	ev := withIntensity("6+12", 2)
	c, err := Generate(ev, "happiness", Options{Probabilities: map[string]float64{"happiness": 0.62, "surprise": 0.38}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Conclusion.Label != "happiness" || c.Conclusion.Confidence != 0.62 || !strings.Contains(c.Text, "0.62") {
		t.Errorf("conclusion %+v; text:\n%s", c.Conclusion, c.Text)
	}
	// Without them the engine states its own, evidence-based confidence.
	plain, _ := Generate(ev, "happiness", Options{})
	if plain.Conclusion.Confidence == 0.62 || plain.Conclusion.Label != "happiness" {
		t.Errorf("without probabilities: %+v", plain.Conclusion)
	}
	// A probability for another label than the conclusion's is not used.
	other, _ := Generate(ev, "happiness", Options{Probabilities: map[string]float64{"surprise": 0.62}})
	if other.Conclusion.Confidence != plain.Conclusion.Confidence {
		t.Errorf("another label's probability changed the confidence: %+v", other.Conclusion)
	}
}
