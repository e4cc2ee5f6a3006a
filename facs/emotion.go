package facs

import (
	"sort"
	"strings"
)

// Emotion labels used across tell (lower case, as manifests write them).
const (
	Happiness  = "happiness"
	Sadness    = "sadness"
	Surprise   = "surprise"
	Fear       = "fear"
	Anger      = "anger"
	Disgust    = "disgust"
	Contempt   = "contempt"
	Repression = "repression" // CASME II: a suppressed feeling, AU15 and/or AU17
	Neutral    = "neutral"
	Others     = "others"
)

// MEGC2019 composite classes.
const (
	Negative = "negative"
	Positive = "positive"
)

// BasicEmotions are the seven emotions with EMFACS prototypes, in the order
// FER datasets usually list them.
var basicEmotions = [...]string{Happiness, Sadness, Surprise, Fear, Anger, Disgust, Contempt}

// BasicEmotions returns the seven emotions that have an EMFACS prototype.
func BasicEmotions() []string { return append([]string(nil), basicEmotions[:]...) }

// Prototype is an emotion's EMFACS prototype: the AU configuration that by
// itself signals the emotion.
type Prototype struct {
	Emotion string
	Code    Code
}

// prototypeStrings are the EMFACS prototypes (Friesen & Ekman 1983,
// as commonly tabulated for FACS-based emotion prediction).
var prototypeStrings = [...][2]string{
	{Happiness, "6+12"},
	{Sadness, "1+4+15"},
	{Surprise, "1+2+5B+26"},
	{Fear, "1+2+4+5+7+20+26"},
	{Anger, "4+5+7+23"},
	{Disgust, "9+15+16"},
	{Contempt, "R12A+R14A"},
}

// Prototypes returns the EMFACS prototype of each basic emotion.
func Prototypes() []Prototype {
	out := make([]Prototype, len(prototypeStrings))
	for i, p := range prototypeStrings {
		out[i] = Prototype{p[0], MustParse(p[1])}
	}
	return out
}

// PrototypeOf returns the EMFACS prototype of emotion e.
func PrototypeOf(e string) (Code, bool) {
	for _, p := range prototypeStrings {
		if p[0] == lower(e) {
			return MustParse(p[1]), true
		}
	}
	return Code{}, false
}

// ObjectiveClass is one of Davison et al.'s (2018) objective classes I..VII,
// which group micro-expressions by the AUs that move rather than by the
// emotion the coder guessed.
type ObjectiveClass int

// The objective classes. ClassVII is "others".
const (
	ClassI ObjectiveClass = iota + 1
	ClassII
	ClassIII
	ClassIV
	ClassV
	ClassVI
	ClassVII
)

var romans = [...]string{"", "I", "II", "III", "IV", "V", "VI", "VII"}

// String returns the roman numeral.
func (c ObjectiveClass) String() string {
	if c < ClassI || c > ClassVII {
		return "?"
	}
	return romans[c]
}

// Emotion is the emotion the objective class stands for in Davison et al.
// (2018, Table 2): I happiness, II surprise, III anger, IV disgust, V
// sadness, VI fear; VII is others (every other combination).
func (c ObjectiveClass) Emotion() string {
	switch c {
	case ClassI:
		return Happiness
	case ClassII:
		return Surprise
	case ClassIII:
		return Anger
	case ClassIV:
		return Disgust
	case ClassV:
		return Sadness
	case ClassVI:
		return Fear
	}
	return Others
}

// ParseObjective reads an objective class as String writes it ("III"),
// with or without the word "class" before it.
func ParseObjective(s string) (ObjectiveClass, bool) {
	s = strings.TrimSpace(s)
	if t, ok := strings.CutPrefix(strings.ToLower(s), "class "); ok {
		s = strings.ToUpper(strings.TrimSpace(t))
	}
	for c := ClassI; c <= ClassVII; c++ {
		if romans[c] == s {
			return c, true
		}
	}
	return 0, false
}

// objectiveCombos lists the AU combinations of each class (Davison et al.
// 2018, Table 2).
var objectiveCombos = [...][]string{
	ClassI:   {"6", "12", "6+12", "6+7+12", "7+12"},
	ClassII:  {"1+2", "5", "25", "1+2+25", "25+26", "5+24"},
	ClassIII: {"23", "4", "4+7", "4+5", "4+5+7", "17+24", "4+6+7", "4+38"},
	ClassIV:  {"10", "9", "4+9", "4+40", "4+5+40", "4+7+9", "4+9+17", "4+7+10", "4+5+7+9", "7+10"},
	ClassV:   {"1", "15", "1+4", "6+15", "15+17"},
	ClassVI:  {"1+2+4", "20"},
}

// ObjectiveCombos returns the AU combinations listed for class c (none for
// ClassVII, which is everything else).
func ObjectiveCombos(c ObjectiveClass) []Code {
	if c < ClassI || c > ClassVI {
		return nil
	}
	var out []Code
	for _, s := range objectiveCombos[c] {
		out = append(out, MustParse(s))
	}
	return out
}

// Objective assigns AU code c to an objective class. Sides, intensities,
// uncertainty and incidental actions (blinks, head and gaze movements) are
// ignored; alternatives all count. An exact match with a listed combination
// wins; otherwise the class of the largest listed combination contained in
// the code, earlier classes winning ties of equal size; with no listed
// combination contained, ClassVII.
func Objective(c Code) ObjectiveClass {
	set := make(map[int]bool)
	for n := range c.Numbers() {
		if i, ok := Lookup(n); ok && i.Incidental {
			continue
		}
		set[n] = true
	}
	if len(set) == 0 {
		return ClassVII
	}
	best, bestSize := ClassVII, 0
	for cls := ClassI; cls <= ClassVI; cls++ {
		for _, s := range objectiveCombos[cls] {
			nums := comboNumbers(s)
			contained := true
			for _, n := range nums {
				if !set[n] {
					contained = false
					break
				}
			}
			if !contained {
				continue
			}
			if len(nums) == len(set) {
				return cls // exact match
			}
			if len(nums) > bestSize {
				best, bestSize = cls, len(nums)
			}
		}
	}
	return best
}

func comboNumbers(s string) []int {
	var out []int
	for _, a := range MustParse(s).AUs() {
		out = append(out, a.Number)
	}
	return out
}

// CASME2Criteria returns the emotions whose CASME II coding criterion the
// code meets (Yan et al. 2014; recalled from the paper, not checked against it
// here): happiness AU6 or AU12; disgust AU9, AU10 or AU4+7; surprise
// AU1+2, AU25 or AU2; repression AU15 and/or AU17. The result is sorted; an
// empty result means none applies ("others" in CASME II).
func CASME2Criteria(c Code) []string {
	h := c.Has
	var out []string
	if h(6) || h(12) {
		out = append(out, Happiness)
	}
	if h(9) || h(10) || h(4) && h(7) {
		out = append(out, Disgust)
	}
	if h(1) && h(2) || h(25) || h(2) {
		out = append(out, Surprise)
	}
	if h(15) || h(17) {
		out = append(out, Repression)
	}
	sort.Strings(out)
	return out
}

// ThreeClass maps a dataset's emotion label to the MEGC2019 composite class:
// "positive" (happiness), "negative" (sadness, disgust, contempt, fear,
// anger, repression) or "surprise". ok is false for labels the composite
// leaves out (others, neutral, unknown words).
//
// The mapping depends on the dataset where MEGC2019 did: for CASME II only
// disgust and repression count as negative, so its few sadness and fear
// clips are left out (that is how the composite reaches CASME II's 88
// negative clips). SMIC's own classes ("positive", "negative", "surprise",
// "po", "ne", "sur") map to themselves; the label is read by Emotion
// ("Disgusted", "happy"). dataset is matched case-insensitively
// ignoring punctuation ("CASME II", "casme2", "casme_ii").
func ThreeClass(emotion, dataset string) (class string, ok bool) {
	e := Emotion(emotion)
	switch e {
	case Happiness, Positive:
		return Positive, true
	case Surprise, Negative:
		return e, true
	}
	if normDataset(dataset) == "casme2" {
		switch e {
		case Disgust, Repression:
			return Negative, true
		}
		return "", false
	}
	switch e {
	case Sadness, Disgust, Contempt, Fear, Anger, Repression:
		return Negative, true
	}
	return "", false
}

// DatasetKey folds a dataset's name to one key: "CASME II", "casme_2",
// "CASME2" → "casme2"; "SAMM" → "samm".
func DatasetKey(s string) string { return normDataset(s) }

// normDataset folds dataset names: "CASME II", "casme_2", "CASME2" → "casme2".
func normDataset(s string) string {
	var b strings.Builder
	for _, r := range lower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	out := b.String()
	if strings.HasSuffix(out, "ii") && !strings.HasSuffix(out, "iii") {
		out = strings.TrimSuffix(out, "ii") + "2"
	}
	return out
}

// EmotionsOf returns the emotions AU n is usually tied to.
func EmotionsOf(n int) []string {
	i, _ := Lookup(n)
	return i.Emotions
}
