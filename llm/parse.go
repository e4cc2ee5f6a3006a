package llm

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/facs"
)

// ErrMalformed marks an answer that could not be read as a label or a chain
// of thought at all.
var ErrMalformed = errors.New("malformed answer")

// Parsed is a model's chain of thought read into cot's structure, with how
// it was read.
type Parsed struct {
	CoT cot.CoT
	// JSON is true when the answer was a JSON object (structured output);
	// false when the three-heading text was parsed.
	JSON bool
	// Headings counts the ExpLLM headings found in a text answer (0..3).
	Headings int
	// RawLabel is the conclusion as the model wrote it, before it was
	// mapped to a class; Outside is true when it maps to none.
	RawLabel string
	Outside  bool
}

var thinkRE = regexp.MustCompile(`(?s)<think>.*?</think>`)

// cleanAnswer drops reasoning blocks that some models emit before the answer.
func cleanAnswer(s string) string {
	s = thinkRE.ReplaceAllString(s, "")
	if i := strings.Index(s, "<think>"); i >= 0 { // unterminated: keep what precedes
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// jsonObject returns the outermost {...} of s (inside a code fence or not).
func jsonObject(s string) (string, bool) {
	i := strings.IndexByte(s, '{')
	j := strings.LastIndexByte(s, '}')
	if i < 0 || j <= i {
		return "", false
	}
	return s[i : j+1], true
}

// ParseLabel reads the answer to the label request: {"label": "..."} or a
// free-text answer naming a class. The label is mapped onto classes;
// outside is true when the named label is none of them.
func ParseLabel(answer string, classes []string) (label string, outside bool, err error) {
	s := cleanAnswer(answer)
	if obj, ok := jsonObject(s); ok {
		var v struct {
			Label      string `json:"label"`
			Expression string `json:"expression"`
			Emotion    string `json:"emotion"`
		}
		if json.Unmarshal([]byte(obj), &v) == nil {
			raw := firstNonEmpty(v.Label, v.Expression, v.Emotion)
			if raw != "" {
				if c, ok := classOf(raw, classes); ok {
					return c, false, nil
				}
				return raw, true, nil
			}
		}
	}
	ms := mentions(s, classes)
	for _, m := range ms {
		if m.negated {
			continue
		}
		if c, ok := classOf(m.emotion, classes); ok {
			return c, false, nil
		}
		return m.emotion, true, nil
	}
	return "", false, fmt.Errorf("%w: no expression label in %q", ErrMalformed, clip(s, 120))
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// jsonCoT mirrors cot.CoT's JSON with lenient types: models send numbers as
// strings and a bare label at the top level.
type jsonCoT struct {
	Observations []struct {
		AU            flexInt   `json:"au"`
		Name          string    `json:"name"`
		Side          string    `json:"side"`
		Intensity     flexFloat `json:"intensity"`
		IntensityWord string    `json:"intensity_word"`
		Emotions      []string  `json:"emotions"`
	} `json:"observations"`
	Interpretation struct {
		Dominant     string   `json:"dominant"`
		Secondary    []string `json:"secondary"`
		Interactions []string `json:"interactions"`
		Rationale    string   `json:"rationale"`
	} `json:"interpretation"`
	Conclusion struct {
		Label      string    `json:"label"`
		Confidence flexFloat `json:"confidence"`
	} `json:"conclusion"`
	Label string `json:"label"`
}

// flexInt reads 12, "12", "AU12" or "AU 12".
type flexInt int

func (f *flexInt) UnmarshalJSON(b []byte) error {
	var n float64
	if json.Unmarshal(b, &n) == nil {
		*f = flexInt(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	s = strings.TrimSpace(strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "AU"))
	s = strings.TrimRight(s, "LRABCDE ")
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("AU %q: %w", s, err)
	}
	*f = flexInt(v)
	return nil
}

// flexFloat reads 0.6, "0.6", "60%" or an intensity word.
type flexFloat float64

func (f *flexFloat) UnmarshalJSON(b []byte) error {
	var n float64
	if json.Unmarshal(b, &n) == nil {
		*f = flexFloat(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if v, ok := readIntensity(s); ok {
		*f = flexFloat(v)
	}
	return nil
}

// ParseCoT reads a chain-of-thought answer: a JSON object (structured
// output, or a model that wrote JSON anyway) or ExpLLM's three-heading text,
// tolerating markdown variants of the headings. The conclusion is mapped
// onto classes.
func ParseCoT(answer string, classes []string) (Parsed, error) {
	s := cleanAnswer(answer)
	if obj, ok := jsonObject(s); ok {
		var j jsonCoT
		if json.Unmarshal([]byte(obj), &j) == nil && (len(j.Observations) > 0 || j.Conclusion.Label != "" || j.Label != "") {
			p := fromJSON(j, classes)
			if p.RawLabel == "" {
				return p, fmt.Errorf("%w: JSON answer has no conclusion label", ErrMalformed)
			}
			return p, nil
		}
	}
	return parseText(s, classes)
}

func fromJSON(j jsonCoT, classes []string) Parsed {
	var p Parsed
	p.JSON = true
	c := &p.CoT
	for _, o := range j.Observations {
		side := normSide(o.Side)
		c.Observations = append(c.Observations, cot.Observation{
			AU: int(o.AU), Name: strings.TrimSpace(o.Name), Side: side, Intensity: clampIntensity(float64(o.Intensity)),
			IntensityWord: strings.TrimSpace(o.IntensityWord), Emotions: o.Emotions,
		})
	}
	c.Interpretation = cot.Interpretation{
		Dominant: strings.TrimSpace(j.Interpretation.Dominant), Secondary: j.Interpretation.Secondary,
		Interactions: j.Interpretation.Interactions, Rationale: strings.TrimSpace(j.Interpretation.Rationale),
	}
	p.RawLabel = firstNonEmpty(j.Conclusion.Label, j.Label)
	c.Conclusion.Label, p.Outside = mapLabel(p.RawLabel, classes)
	c.Conclusion.Confidence = clamp01(float64(j.Conclusion.Confidence))
	c.Text = Render(*c)
	return p
}

func mapLabel(raw string, classes []string) (string, bool) {
	if raw == "" {
		return "", false
	}
	if c, ok := classOf(raw, classes); ok {
		return c, false
	}
	// A phrase: "happiness (joy)", "Happy".
	for _, m := range mentions(raw, classes) {
		if !m.negated {
			if c, ok := classOf(m.emotion, classes); ok {
				return c, false
			}
		}
	}
	return raw, true
}

func normSide(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "left", "l":
		return "left"
	case "right", "r":
		return "right"
	}
	return ""
}

// clampIntensity bounds an answer's AU intensity to the 0–5 scale it was
// asked for.
func clampIntensity(v float64) float64 {
	if math.IsNaN(v) || v < 0 {
		return 0
	}
	return math.Min(v, cot.MaxIntensity)
}

func clamp01(v float64) float64 {
	if math.IsNaN(v) || v < 0 {
		return 0
	}
	if v > 1 {
		if v <= 5 { // a 0..5 (OpenFace) scale
			return v / 5
		}
		return 1
	}
	return v
}

// headingRE finds the three headings at a line start in their usual markdown
// variants: "**Key Observations:**", "### Key Observations", "1. **Key
// Observations**:", "Conclusion -".
var headingRE = regexp.MustCompile(`(?im)^[ \t>]*(?:#{1,6}[ \t]*)?(?:\d+[.)][ \t]*)?(?:\*\*|__)?[ \t]*(key[ \t]+observations?|overall[ \t]+emotional[ \t]+interpretation|(?:final[ \t]+)?conclusion)[ \t]*(?:\*\*|__)?[ \t]*[:\-–]?[ \t]*(?:\*\*|__)?`)

func parseText(s string, classes []string) (Parsed, error) {
	var p Parsed
	p.CoT.Text = s
	sections := map[string]string{}
	locs := headingRE.FindAllStringSubmatchIndex(s, -1)
	for i, loc := range locs {
		name := strings.ToLower(s[loc[2]:loc[3]])
		end := len(s)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		key := "conclusion"
		switch {
		case strings.HasPrefix(name, "key"):
			key = "observations"
		case strings.HasPrefix(name, "overall"):
			key = "interpretation"
		}
		if _, seen := sections[key]; !seen {
			sections[key] = strings.TrimSpace(s[loc[1]:end])
			p.Headings++
		}
	}
	obsText, hasObs := sections["observations"]
	concl, hasConcl := sections["conclusion"]
	interp := sections["interpretation"]
	if !hasObs {
		// No observations section: read AUs from the whole text.
		obsText = s
	}
	if !hasConcl {
		// No conclusion heading ("In conclusion, ..." inside a paragraph):
		// the label is in the last sentence that names one.
		concl = lastLabelSentence(s, classes)
	}
	p.CoT.Observations = parseObservations(obsText, classes)
	p.CoT.Interpretation = parseInterpretation(interp, classes)
	var raw string
	for _, m := range mentions(concl, classes) {
		if !m.negated {
			raw = m.word
			break
		}
	}
	if raw == "" {
		return p, fmt.Errorf("%w: no conclusion label (headings found: %d)", ErrMalformed, p.Headings)
	}
	p.RawLabel = raw
	p.CoT.Conclusion.Label, p.Outside = mapLabel(raw, classes)
	if p.Outside {
		p.CoT.Conclusion.Label = canonicalOr(raw)
	}
	p.CoT.Conclusion.Confidence = readConfidence(concl)
	return p, nil
}

func canonicalOr(w string) string {
	if c := canonical(w); c != "" {
		return c
	}
	return strings.ToLower(w)
}

func lastLabelSentence(s string, classes []string) string {
	sents := sentenceRE.Split(s, -1)
	for i := len(sents) - 1; i >= 0; i-- {
		for _, m := range mentions(sents[i], classes) {
			if !m.negated {
				return sents[i]
			}
		}
	}
	return ""
}

// auRE finds "AU12", "AU 12", "AU-12", "AU12L", "AU12 (R)", "AU12C".
var auRE = regexp.MustCompile(`(?i)\bAU[ \t\-#]?0*(\d{1,2})([LRABCDE])?\b`)

var absentRE = regexp.MustCompile(`(?i)\b(absent|not (?:active|present|observed|measured|visible|detected)|inactive|no activation)\b`)

// parseObservations reads one observation per AU mention; the text up to the
// next mention holds its side, intensity and emotions.
func parseObservations(s string, classes []string) []cot.Observation {
	var out []cot.Observation
	seen := map[[2]any]bool{}
	locs := auRE.FindAllStringSubmatchIndex(s, -1)
	for i, loc := range locs {
		au, _ := strconv.Atoi(s[loc[2]:loc[3]])
		end := len(s)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		if nl := strings.IndexByte(s[loc[1]:end], '\n'); nl >= 0 {
			end = loc[1] + nl
		}
		tail := s[loc[1]:end]
		// A mention inside a combination ("AU6+AU12") shares the tail
		// that follows the last member.
		if strings.TrimSpace(tail) == "+" || strings.HasPrefix(strings.TrimSpace(tail), "+") && len(strings.TrimSpace(tail)) < 3 {
			tail = s[loc[1]:lineEnd(s, loc[1])]
		}
		if absentRE.MatchString(tail) || absentRE.MatchString(lineStart(s, loc[0])) {
			continue
		}
		o := cot.Observation{AU: au}
		if loc[4] >= 0 {
			switch strings.ToUpper(s[loc[4]:loc[5]]) {
			case "L":
				o.Side = "left"
			case "R":
				o.Side = "right"
			default:
				o.Intensity = letterIntensity(s[loc[4]:loc[5]])
				o.IntensityWord = strings.ToUpper(s[loc[4]:loc[5]])
			}
		}
		if o.Side == "" {
			o.Side = sideIn(tail)
		}
		if o.Intensity == 0 {
			if v, w, ok := intensityIn(tail); ok {
				o.Intensity, o.IntensityWord = v, w
			}
		}
		o.Name = nameIn(tail)
		for _, m := range mentions(tail, classes) {
			if !m.negated && !containsStr(o.Emotions, m.emotion) {
				o.Emotions = append(o.Emotions, m.emotion)
			}
		}
		k := [2]any{o.AU, o.Side}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, o)
	}
	return out
}

func lineEnd(s string, i int) int {
	if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
		return i + j
	}
	return len(s)
}

func lineStart(s string, i int) string {
	j := strings.LastIndexByte(s[:i], '\n')
	return s[j+1 : i]
}

func containsStr(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

var sideRE = regexp.MustCompile(`(?i)\b(left|right|unilateral(?:ly)?[ \t]+(?:left|right))\b|\((L|R)\)`)

func sideIn(s string) string {
	m := sideRE.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	w := strings.ToLower(m[1] + m[2])
	switch {
	case strings.Contains(w, "left") || w == "l":
		return "left"
	case strings.Contains(w, "right") || w == "r":
		return "right"
	}
	return ""
}

// nameIn returns a parenthesised or dash-led AU name right after the AU
// ("AU12 (Lip Corner Puller)", "AU12 - Lip Corner Puller:").
var nameRE = regexp.MustCompile(`^\s*(?:\(([A-Za-z][A-Za-z \-]{2,40})\)|[\-–:]\s*([A-Z][A-Za-z \-]{2,40}?)\s*[:,(\-–])`)

func nameIn(tail string) string {
	m := nameRE.FindStringSubmatch(tail)
	if m == nil {
		return ""
	}
	n := strings.TrimSpace(m[1] + m[2])
	if sideIn(n) != "" && len(strings.Fields(n)) == 1 {
		return ""
	}
	return n
}

var numRE = regexp.MustCompile(`(?:^|[^\d.])([0-4](?:\.\d+)?|\.\d+|5(?:\.0+)?)(?:[^\d.%]|$)|(\d{1,3})\s*%`)

// intensityWords maps intensity words to values, in the order ExpLLM's
// descriptions and FACS letters (A trace .. E maximum) grade them.
var intensityWords = []struct {
	word string
	v    float64
}{
	{"maximum", 1.0}, {"extreme", 0.95}, {"severe", 0.9}, {"very strong", 0.85}, {"intense", 0.8},
	{"significant", 0.75}, {"strong", 0.75}, {"pronounced", 0.7}, {"high", 0.7},
	{"marked", 0.5}, {"moderate", 0.5}, {"medium", 0.5}, {"noticeable", 0.45},
	{"mild", 0.3}, {"slight", 0.25}, {"low", 0.25}, {"subtle", 0.2}, {"weak", 0.2}, {"faint", 0.15}, {"trace", 0.1},
}

func readIntensity(s string) (float64, bool) {
	v, _, ok := intensityIn(s)
	return v, ok
}

// intensityIn finds the first number in [0,5] (or a percentage of 5) or an
// intensity word in s, on the 0–5 scale.
func intensityIn(s string) (float64, string, bool) {
	v, numOK := 0.0, false
	if m := numRE.FindStringSubmatchIndex(s); m != nil {
		if m[2] >= 0 {
			if x, err := strconv.ParseFloat(s[m[2]:m[3]], 64); err == nil {
				v, numOK = x, true
			}
		} else if m[4] >= 0 {
			if x, err := strconv.ParseFloat(s[m[4]:m[5]], 64); err == nil && x <= 100 {
				v, numOK = x/100*cot.MaxIntensity, true
			}
		}
	}
	l := strings.ToLower(s)
	best, bestPos := -1, len(l)+1
	for i, w := range intensityWords {
		if p := strings.Index(l, w.word); p >= 0 && p < bestPos {
			best, bestPos = i, p
		}
	}
	word := ""
	if best >= 0 {
		word = intensityWords[best].word
		if !numOK {
			v = intensityWords[best].v * cot.MaxIntensity
		}
	}
	// A number, when given, is more precise than a word.
	return v, word, numOK || best >= 0
}

// letterIntensity is a FACS letter's value on the 0–5 scale (A 1 … E 5).
func letterIntensity(l string) float64 {
	if x, err := facs.ParseLetter(l); err == nil {
		return cot.MaxIntensity * x.Value()
	}
	return 0
}

var (
	sentenceRE = regexp.MustCompile(`[.!?\n]+`)
	digitsRE   = regexp.MustCompile(`\d{1,2}`)
)

var comboRE = regexp.MustCompile(`(?i)\b(?:AU)?\s*(\d{1,2})\s*\+\s*(?:AU)?\s*(\d{1,2})(?:\s*\+\s*(?:AU)?\s*(\d{1,2}))*`)

func parseInterpretation(s string, classes []string) cot.Interpretation {
	it := cot.Interpretation{Rationale: s}
	for _, m := range mentions(s, classes) {
		if m.negated {
			continue
		}
		if it.Dominant == "" {
			it.Dominant = m.emotion
		} else if m.emotion != it.Dominant && !containsStr(it.Secondary, m.emotion) {
			it.Secondary = append(it.Secondary, m.emotion)
		}
	}
	for _, c := range comboRE.FindAllString(s, -1) {
		nums := digitsRE.FindAllString(c, -1)
		sort.SliceStable(nums, func(i, j int) bool { a, _ := strconv.Atoi(nums[i]); b, _ := strconv.Atoi(nums[j]); return a < b })
		k := strings.Join(nums, "+")
		if !containsStr(it.Interactions, k) {
			it.Interactions = append(it.Interactions, k)
		}
	}
	return it
}

var confRE = regexp.MustCompile(`(?i)confiden\w*[^0-9]{0,20}(0?\.\d+|1(?:\.0+)?|\d{1,3}\s*%)`)

func readConfidence(s string) float64 {
	m := confRE.FindStringSubmatch(s)
	if m == nil {
		return 0
	}
	t := strings.TrimSpace(m[1])
	if strings.HasSuffix(t, "%") {
		v, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(t, "%")), 64)
		return clamp01(v / 100)
	}
	v, _ := strconv.ParseFloat(t, 64)
	return clamp01(v)
}

// Render writes a structured chain of thought as ExpLLM's three-heading text.
func Render(c cot.CoT) string {
	var b strings.Builder
	b.WriteString(cot.HeadingObservations)
	b.WriteByte('\n')
	for _, o := range c.Observations {
		fmt.Fprintf(&b, "- AU%d", o.AU)
		var q []string
		if o.Name != "" {
			q = append(q, o.Name)
		}
		if o.Side != "" {
			q = append(q, o.Side)
		}
		if len(q) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(q, ", "))
		}
		fmt.Fprintf(&b, ": intensity %.2f", o.Intensity)
		if o.IntensityWord != "" {
			fmt.Fprintf(&b, " (%s)", o.IntensityWord)
		}
		if len(o.Emotions) > 0 {
			fmt.Fprintf(&b, "; usually tied to %s", strings.Join(o.Emotions, ", "))
		}
		b.WriteString(".\n")
	}
	b.WriteString("\n")
	b.WriteString(cot.HeadingInterpretation)
	b.WriteByte('\n')
	r := strings.TrimSpace(c.Interpretation.Rationale)
	if r == "" && c.Interpretation.Dominant != "" {
		r = "The dominant emotion is " + c.Interpretation.Dominant + "."
	}
	b.WriteString(r)
	b.WriteString("\n\n")
	b.WriteString(cot.HeadingConclusion)
	fmt.Fprintf(&b, "\nThe expression is %s.", c.Conclusion.Label)
	return b.String()
}
