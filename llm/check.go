package llm

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/facs"
)

// IssueKind names what is wrong with a model's answer.
type IssueKind string

// The issue kinds. Malformed, OutsideClasses, HallucinatedAU and
// Contradiction reject the answer; MissingHeadings and OmittedAU are noted
// only.
const (
	IssueMalformed       IssueKind = "malformed"
	IssueOutsideClasses  IssueKind = "label_outside_classes"
	IssueHallucinatedAU  IssueKind = "hallucinated_au"
	IssueContradiction   IssueKind = "contradiction"
	IssueMissingHeadings IssueKind = "missing_headings"
	IssueOmittedAU       IssueKind = "omitted_au"
)

// Issue is one finding of Check.
type Issue struct {
	Kind   IssueKind `json:"kind"`
	Detail string    `json:"detail"`
	// AUs lists the AUs concerned (hallucinated or omitted), if any.
	AUs []int `json:"aus,omitempty"`
}

// Rejects reports whether the issue disqualifies the answer.
func (i Issue) Rejects() bool {
	switch i.Kind {
	case IssueMissingHeadings, IssueOmittedAU:
		return false
	}
	return true
}

func (i Issue) String() string { return string(i.Kind) + ": " + i.Detail }

// CheckOptions tunes Check.
type CheckOptions struct {
	// MinIntensity is the intensity from which a measured AU counts as
	// present (0 means DefaultMinIntensity); an AU the answer claims must be
	// present. AUs the answer omits are noted from twice that intensity.
	MinIntensity float64
	// ReadLabel reads the label back from the answer's text alone
	// (Des2Exp); a disagreement with the stated conclusion is a
	// contradiction. Model uses the cot engine's reader when it is nil;
	// Check skips the test when it is nil.
	ReadLabel func(text string, classes []string) string
	// LabelAnswer is the model's answer to the label request, when the CoT
	// followed one; a conclusion that differs from it is a contradiction.
	LabelAnswer string
}

// nonEmotional are classes whose conclusion no AU pattern argues against.
var nonEmotional = map[string]bool{"others": true, "neutral": true}

// Check tests a parsed answer against the measurements and the class set:
// a label outside the classes, AUs claimed but not measured, a conclusion
// contradicting the answer's own observations or interpretation (or its
// label answer, or what Des2Exp reads from its text). Issues that reject
// come first.
func Check(p Parsed, ev []cot.Evidence, classes []string, o CheckOptions) []Issue {
	var issues []Issue
	c := p.CoT
	label := c.Conclusion.Label
	if p.Outside || !inClasses(label, classes) {
		issues = append(issues, Issue{Kind: IssueOutsideClasses,
			Detail: fmt.Sprintf("conclusion %q is not one of %s", firstNonEmpty(p.RawLabel, label), strings.Join(classes, ", "))})
	}
	minI := o.MinIntensity
	if minI <= 0 {
		minI = DefaultMinIntensity
	}
	measured := map[int]float64{}
	for _, e := range ev {
		measured[e.AU] = max(measured[e.AU], e.Intensity)
	}
	var halluc []int
	claimed := map[int]bool{}
	for _, ob := range c.Observations {
		claimed[ob.AU] = true
		if measured[ob.AU] < minI && !containsInt(halluc, ob.AU) {
			halluc = append(halluc, ob.AU)
		}
	}
	if len(halluc) > 0 {
		sort.Ints(halluc)
		issues = append(issues, Issue{Kind: IssueHallucinatedAU, AUs: halluc,
			Detail: fmt.Sprintf("claims %s, not measured (below %.2f)", auList(halluc), minI)})
	}
	if msg := contradiction(c, classes, o); msg != "" && inClasses(label, classes) {
		issues = append(issues, Issue{Kind: IssueContradiction, Detail: msg})
	}
	if !p.JSON && p.Headings < 3 {
		issues = append(issues, Issue{Kind: IssueMissingHeadings, Detail: fmt.Sprintf("%d of the 3 ExpLLM headings found", p.Headings)})
	}
	var omitted []int
	for au, v := range measured {
		if v >= 2*minI && !claimed[au] {
			omitted = append(omitted, au)
		}
	}
	if len(omitted) > 0 {
		sort.Ints(omitted)
		issues = append(issues, Issue{Kind: IssueOmittedAU, AUs: omitted, Detail: fmt.Sprintf("does not mention measured %s", auList(omitted))})
	}
	return issues
}

// contradiction returns why the conclusion contradicts the rest of the
// answer, or "".
func contradiction(c cot.CoT, classes []string, o CheckOptions) string {
	label := c.Conclusion.Label
	if o.LabelAnswer != "" && !strings.EqualFold(o.LabelAnswer, label) {
		return fmt.Sprintf("concludes %q after answering %q to the label request", label, o.LabelAnswer)
	}
	if d := c.Interpretation.Dominant; d != "" {
		if dc, ok := classOf(d, classes); ok && !strings.EqualFold(dc, label) {
			return fmt.Sprintf("interpretation names %q as dominant (class %q) but concludes %q", d, dc, label)
		}
	}
	if !nonEmotional[strings.ToLower(label)] {
		support := map[string]bool{}
		for _, ob := range c.Observations {
			for _, e := range ob.Emotions {
				if ec, ok := classOf(e, classes); ok {
					support[strings.ToLower(ec)] = true
				}
			}
		}
		if len(support) > 0 && !support[strings.ToLower(label)] {
			var s []string
			for k := range support {
				s = append(s, k)
			}
			sort.Strings(s)
			return fmt.Sprintf("observations tie the AUs to %s, none of them %q", strings.Join(s, ", "), label)
		}
	}
	if msg := againstFACS(c); msg != "" {
		return msg
	}
	if o.ReadLabel != nil && c.Text != "" {
		if rl := o.ReadLabel(c.Text, classes); rl != "" && !strings.EqualFold(rl, label) {
			return fmt.Sprintf("the text alone reads as %q (Des2Exp) but concludes %q", rl, label)
		}
	}
	return ""
}

// againstFACS checks a conclusion whose observations name no emotions
// against FACS knowledge: a basic emotion none of the observed AUs is usually
// tied to contradicts them. Labels without an EMFACS prototype (others,
// repression, the composite classes) are not judged this way.
func againstFACS(c cot.CoT) string {
	if len(c.Observations) == 0 {
		return ""
	}
	for _, ob := range c.Observations {
		if len(ob.Emotions) > 0 {
			return "" // the answer's own ties were checked above
		}
	}
	em := canonical(c.Conclusion.Label)
	if _, ok := facs.PrototypeOf(em); !ok {
		return ""
	}
	var aus []int
	for _, ob := range c.Observations {
		aus = append(aus, ob.AU)
		for _, e := range facs.EmotionsOf(ob.AU) {
			if e == em {
				return ""
			}
		}
	}
	return fmt.Sprintf("none of the observed %s is usually tied to %s (FACS)", auList(aus), em)
}

func inClasses(label string, classes []string) bool {
	for _, c := range classes {
		if strings.EqualFold(c, label) {
			return true
		}
	}
	return false
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func auList(aus []int) string {
	s := make([]string, len(aus))
	for i, a := range aus {
		s[i] = fmt.Sprintf("AU%d", a)
	}
	return strings.Join(s, ", ")
}

// Rejections returns the issues that reject the answer.
func Rejections(issues []Issue) []Issue {
	var out []Issue
	for _, i := range issues {
		if i.Rejects() {
			out = append(out, i)
		}
	}
	return out
}
