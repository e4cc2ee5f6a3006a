package llm_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/llm"
)

var smileEvidence = []cot.Evidence{{AU: 6, Intensity: 3}, {AU: 12, Side: "left", Intensity: 4}, {AU: 25, Intensity: 1.5}, {AU: 4, Intensity: 0.1}}

func kinds(is []llm.Issue) []llm.IssueKind {
	var k []llm.IssueKind
	for _, i := range is {
		k = append(k, i.Kind)
	}
	return k
}

func TestCheck(t *testing.T) {
	cases := []struct {
		name    string
		answer  string
		opt     llm.CheckOptions
		want    []llm.IssueKind
		rejects bool
	}{
		{"faithful", expllmText, llm.CheckOptions{}, nil, false},
		{"hallucinated AU", strings.Replace(expllmText, "AU25 (Lips Part)", "AU9 (Nose Wrinkler)", 1), llm.CheckOptions{},
			[]llm.IssueKind{llm.IssueHallucinatedAU, llm.IssueOmittedAU}, true},
		{"measured below threshold counts as not measured", "**Key Observations:**\n- AU12: 0.8 happiness\n- AU4: 0.3 anger\n**Overall Emotional Interpretation:** happiness\n**Conclusion:** happiness", llm.CheckOptions{},
			[]llm.IssueKind{llm.IssueHallucinatedAU, llm.IssueOmittedAU}, true},
		{"outside classes", strings.Replace(expllmText, "The facial expression is happiness", "The facial expression is contempt", 1), llm.CheckOptions{},
			[]llm.IssueKind{llm.IssueOutsideClasses}, true},
		{"conclusion against its interpretation", strings.Replace(expllmText, "The facial expression is happiness", "The facial expression is sadness", 1), llm.CheckOptions{},
			[]llm.IssueKind{llm.IssueContradiction}, true},
		{"conclusion against its observations", "**Key Observations:**\n- AU6: 0.6 (happiness)\n- AU12: 0.8 (happiness)\n- AU25: 0.3\n**Overall Emotional Interpretation:**\nThe AUs combine.\n**Conclusion:** fear", llm.CheckOptions{},
			[]llm.IssueKind{llm.IssueContradiction}, true},
		{"conclusion against the label answer", expllmText, llm.CheckOptions{LabelAnswer: "surprise"}, []llm.IssueKind{llm.IssueContradiction}, true},
		{"Des2Exp disagrees", expllmText, llm.CheckOptions{ReadLabel: func(string, []string) string { return "surprise" }}, []llm.IssueKind{llm.IssueContradiction}, true},
		{"Des2Exp agrees", expllmText, llm.CheckOptions{ReadLabel: func(string, []string) string { return "happiness" }}, nil, false},
		{"observed AUs never tied to the conclusion (FACS)", "**Key Observations:**\n- AU6: 0.6\n- AU12: 0.8\n**Overall Emotional Interpretation:**\nThe AUs combine.\n**Conclusion:** fear", llm.CheckOptions{},
			[]llm.IssueKind{llm.IssueContradiction, llm.IssueOmittedAU}, true},
		{"observed AUs tied to the conclusion (FACS)", "**Key Observations:**\n- AU6: 0.6\n- AU12: 0.8\n- AU25: 0.3\n**Overall Emotional Interpretation:**\nThe AUs combine.\n**Conclusion:** happiness", llm.CheckOptions{},
			nil, false},
		{"missing headings only noted", "AU6 and AU12 are raised, AU25 parted: happiness.", llm.CheckOptions{}, []llm.IssueKind{llm.IssueMissingHeadings}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := llm.ParseCoT(tc.answer, seven)
			if err != nil {
				t.Fatal(err)
			}
			is := llm.Check(p, smileEvidence, seven, tc.opt)
			if got := kinds(is); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("issues %v, want %v", is, tc.want)
			}
			if rej := len(llm.Rejections(is)) > 0; rej != tc.rejects {
				t.Fatalf("rejects = %v", rej)
			}
		})
	}
}

func TestCheckHallucinationDetail(t *testing.T) {
	p, err := llm.ParseCoT("**Key Observations:**\n- AU9 0.5 disgust\n- AU10 0.4 disgust\n- AU12 0.8\n**Conclusion:** disgust", seven)
	if err != nil {
		t.Fatal(err)
	}
	is := llm.Check(p, smileEvidence, seven, llm.CheckOptions{})
	if is[0].Kind != llm.IssueHallucinatedAU || !reflect.DeepEqual(is[0].AUs, []int{9, 10}) || !strings.Contains(is[0].Detail, "AU9, AU10") {
		t.Fatalf("%+v", is[0])
	}
}

func TestCheckOthersIsNotContradicted(t *testing.T) {
	classes := []string{"happiness", "disgust", "repression", "surprise", "others"}
	p, err := llm.ParseCoT("**Key Observations:**\n- AU12: 0.8, tied to happiness\n**Conclusion:** others", classes)
	if err != nil {
		t.Fatal(err)
	}
	if is := llm.Check(p, smileEvidence, classes, llm.CheckOptions{}); len(llm.Rejections(is)) != 0 {
		t.Fatalf("%v", is)
	}
}
