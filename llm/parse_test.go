package llm_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/llm"
)

var seven = []string{"anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"}

const expllmText = `**Key Observations:**
- AU6 (Cheek Raiser): 0.62, usually tied to happiness.
- AU12 (Lip Corner Puller), left: significantly activated (0.81), associated with happiness and contempt.
- AU25 (Lips Part): slightly, neutral to surprise.

**Overall Emotional Interpretation:**
The combination AU6+AU12 forms a Duchenne smile, so happiness dominates; AU25 adds a hint of surprise as a secondary emotion. There is no sign of anger.

**Conclusion:**
The facial expression is happiness (confidence 0.9).`

func TestParseCoTExpLLMText(t *testing.T) {
	p, err := llm.ParseCoT(expllmText, seven)
	if err != nil {
		t.Fatal(err)
	}
	if p.JSON || p.Headings != 3 || p.Outside {
		t.Fatalf("json %v headings %d outside %v", p.JSON, p.Headings, p.Outside)
	}
	want := []cot.Observation{
		{AU: 6, Name: "Cheek Raiser", Intensity: 0.62, Emotions: []string{"happiness"}},
		{AU: 12, Name: "Lip Corner Puller", Side: "left", Intensity: 0.81, IntensityWord: "significant", Emotions: []string{"happiness", "contempt"}},
		{AU: 25, Name: "Lips Part", Intensity: 1.25, IntensityWord: "slight", Emotions: []string{"neutral", "surprise"}},
	}
	if !reflect.DeepEqual(p.CoT.Observations, want) {
		t.Fatalf("observations\n got %+v\nwant %+v", p.CoT.Observations, want)
	}
	it := p.CoT.Interpretation
	if it.Dominant != "happiness" || !reflect.DeepEqual(it.Secondary, []string{"surprise"}) || !reflect.DeepEqual(it.Interactions, []string{"6+12"}) {
		t.Fatalf("interpretation %+v", it)
	}
	if c := p.CoT.Conclusion; c.Label != "happiness" || c.Confidence != 0.9 {
		t.Fatalf("conclusion %+v", c)
	}
	if p.CoT.Text != expllmText {
		t.Fatal("text not kept")
	}
}

func TestParseCoTVariants(t *testing.T) {
	cases := []struct {
		name, in string
		classes  []string
		label    string
		aus      []int
		headings int
		outside  bool
		json     bool
	}{
		{"markdown headings", "### Key Observations\n* AU 4 - Brow Lowerer: 0.7 (anger)\n* AU07: 0.4\n### Overall Emotional Interpretation\nAnger dominates.\n### Conclusion\nAnger.", seven, "anger", []int{4, 7}, 3, false, false},
		{"numbered bold, colon outside", "1. **Key Observations**: AU1, AU4 and AU15 are active.\n2. **Overall Emotional Interpretation**: sad.\n3. **Conclusion**: The person looks sad, not angry.", seven, "sadness", []int{1, 4, 15}, 3, false, false},
		{"inline conclusion synonyms", "**Key Observations:** AU12R strongly raised.\n**Conclusion:** Happy.", seven, "happiness", []int{12}, 2, false, false},
		{"negated first mention", "**Key Observations:**\n- AU9: 0.5\n**Conclusion:**\nNot anger but disgust.", seven, "disgust", []int{9}, 2, false, false},
		{"coarse classes", "**Key Observations:**\n- AU4 0.3, AU7 0.2\n**Conclusion:** disgust", []string{"negative", "positive", "surprise"}, "negative", []int{4, 7}, 2, false, false},
		{"free-text class", "**Key Observations:**\n- AU14 0.3\n**Conclusion:** repression", []string{"happiness", "repression", "others"}, "repression", []int{14}, 2, false, false},
		{"outside the classes", "**Key Observations:**\n- AU12 0.3\n**Conclusion:** contempt", seven, "contempt", []int{12}, 2, true, false},
		{"no headings", "I see AU1 and AU2 raised and AU26 jaw drop. This looks like surprise.", seven, "surprise", []int{1, 2, 26}, 0, false, false},
		{"absent AU skipped", "**Key Observations:**\n- AU12: 0.8\n- AU4: absent\n**Conclusion:** happiness", seven, "happiness", []int{12}, 2, false, false},
		{"think block dropped", "<think>maybe AU9 and fear?</think>\n**Key Observations:**\n- AU12: 0.8\n**Conclusion:** happiness", seven, "happiness", []int{12}, 2, false, false},
		{"GPT-style numbered bold AUs", "**Key Observations:**\n1. **AU6 (Cheek Raiser)** – Intensity: 0.62. Associated with happiness (Duchenne smile).\n2. **AU12 (Lip Corner Puller)** – Intensity: 0.81 (left). Strongly associated with happiness.\n\n**Overall Emotional Interpretation:**\nA genuine smile.\n\n**Conclusion:**\nHappiness", seven, "happiness", []int{6, 12}, 3, false, false},
		{"Qwen-style numbered markdown", "### 1. Key Observations:\n- AU4: 0.6 (anger)\n### 2. Overall Emotional Interpretation:\nAnger.\n### 3. Conclusion:\n**Anger**", seven, "anger", []int{4}, 3, false, false},
		{"conclusion inside a paragraph", "**Key Observations:**\n- AU1 0.4, AU15 0.5\n**Overall Emotional Interpretation:**\nThe brows rise inwards and the lip corners drop. In conclusion, this is sadness rather than fear.", seven, "sadness", []int{1, 15}, 2, false, false},
		{"json in a fence", "```json\n{\"observations\":[{\"au\":\"AU12\",\"side\":\"L\",\"intensity\":\"0.7\",\"emotions\":[\"happiness\"]}],\"interpretation\":{\"dominant\":\"happiness\"},\"conclusion\":{\"label\":\"Happy\",\"confidence\":0.8}}\n```", seven, "happiness", []int{12}, 0, false, true},
		{"json top-level label", `{"label":"surprise","observations":[{"au":5,"intensity":0.9}]}`, seven, "surprise", []int{5}, 0, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := llm.ParseCoT(tc.in, tc.classes)
			if err != nil {
				t.Fatal(err)
			}
			var aus []int
			for _, o := range p.CoT.Observations {
				aus = append(aus, o.AU)
			}
			if p.CoT.Conclusion.Label != tc.label || !reflect.DeepEqual(aus, tc.aus) || p.Headings != tc.headings || p.Outside != tc.outside || p.JSON != tc.json {
				t.Fatalf("label %q aus %v headings %d outside %v json %v", p.CoT.Conclusion.Label, aus, p.Headings, p.Outside, p.JSON)
			}
			if p.JSON && !strings.Contains(p.CoT.Text, cot.HeadingConclusion) {
				t.Fatalf("JSON answer not rendered: %q", p.CoT.Text)
			}
		})
	}
}

func TestParseCoTJSONFields(t *testing.T) {
	p, err := llm.ParseCoT(`{"observations":[{"au":12,"name":"Lip Corner Puller","side":"right","intensity":3.5,"intensity_word":"marked","emotions":["happiness"]}],
	  "interpretation":{"dominant":"happiness","secondary":["surprise"],"interactions":["6+12"],"rationale":"A smile."},
	  "conclusion":{"label":"happiness","confidence":"85%"}}`, seven)
	if err != nil {
		t.Fatal(err)
	}
	o := p.CoT.Observations[0]
	if o.Side != "right" || o.Intensity != 3.5 || o.Name != "Lip Corner Puller" || o.IntensityWord != "marked" {
		t.Fatalf("observation %+v (3.5 on the 0..5 scale it was asked for)", o)
	}
	if p.CoT.Conclusion.Confidence != 0.85 || p.CoT.Interpretation.Rationale != "A smile." {
		t.Fatalf("%+v", p.CoT)
	}
	for _, h := range []string{cot.HeadingObservations, cot.HeadingInterpretation, cot.HeadingConclusion, "AU12 (Lip Corner Puller, right)"} {
		if !strings.Contains(p.CoT.Text, h) {
			t.Errorf("rendered text lacks %q:\n%s", h, p.CoT.Text)
		}
	}
	// The rendered text parses back to the same structure's essentials.
	back, err := llm.ParseCoT(p.CoT.Text, seven)
	if err != nil || back.CoT.Conclusion.Label != "happiness" || back.CoT.Observations[0].AU != 12 || back.CoT.Observations[0].Side != "right" || back.Headings != 3 {
		t.Fatalf("round trip: %+v %v", back, err)
	}
}

func TestParseMalformed(t *testing.T) {
	for _, in := range []string{"", "I cannot help with that.", "{\"foo\": 1}", "**Key Observations:**\n- AU12: 0.8\n**Conclusion:**\nUnclear."} {
		if _, err := llm.ParseCoT(in, seven); !errors.Is(err, llm.ErrMalformed) {
			t.Errorf("%q: err = %v, want ErrMalformed", in, err)
		}
	}
}

func TestParseLabel(t *testing.T) {
	cases := []struct {
		in      string
		classes []string
		want    string
		outside bool
		err     bool
	}{
		{`{"label":"happiness"}`, seven, "happiness", false, false},
		{"Surprise.", seven, "surprise", false, false},
		{"The expression is **sad**.", seven, "sadness", false, false},
		{"It is not happiness, it is fear", seven, "fear", false, false},
		{`{"label":"joy"}`, []string{"positive", "negative", "surprise"}, "positive", false, false},
		{`{"label":"confusion"}`, seven, "confusion", true, false},
		{"contempt", seven, "contempt", true, false},
		{"<think>anger?</think>disgust", seven, "disgust", false, false},
		{"hmm", seven, "", false, true},
	}
	for _, tc := range cases {
		got, outside, err := llm.ParseLabel(tc.in, tc.classes)
		if (err != nil) != tc.err || got != tc.want || outside != tc.outside {
			t.Errorf("%q: got %q outside %v err %v", tc.in, got, outside, err)
		}
	}
}

func FuzzParseCoT(f *testing.F) {
	for _, s := range []string{expllmText, `{"observations":[{"au":"AU1"}],"conclusion":{"label":"fear"}}`, "**Conclusion:** AU12+AU6 happy 50%", "<think>", "{", "AU99Z", "**Conclusion:** İİİ not happy İ sad"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := llm.ParseCoT(s, seven)
		if err != nil {
			if !errors.Is(err, llm.ErrMalformed) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if p.CoT.Conclusion.Label == "" {
			t.Fatal("parsed without a label")
		}
		for _, o := range p.CoT.Observations {
			if o.Intensity < 0 || o.Intensity > cot.MaxIntensity {
				t.Fatalf("intensity %v out of [0,5]", o.Intensity)
			}
		}
		if c := p.CoT.Conclusion.Confidence; c < 0 || c > 1 {
			t.Fatalf("confidence %v", c)
		}
		lb, _, err := llm.ParseLabel(s, seven)
		if err == nil && lb == "" {
			t.Fatal("label parsed empty")
		}
	})
}

func BenchmarkParseCoT(b *testing.B) {
	for b.Loop() {
		if _, err := llm.ParseCoT(expllmText, seven); err != nil {
			b.Fatal(err)
		}
	}
}
