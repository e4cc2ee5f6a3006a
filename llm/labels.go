package llm

import (
	"strings"

	"github.com/tell-project/tell/facs"
)

// words returns the [start, end) spans of the ASCII letter runs of s (a
// hand-rolled scan: this runs once per section of every answer).
func words(s string) [][2]int {
	var out [][2]int
	start := -1
	for i := 0; i <= len(s); i++ {
		letter := i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z')
		switch {
		case letter && start < 0:
			start = i
		case !letter && start >= 0:
			out = append(out, [2]int{start, i})
			start = -1
		}
	}
	return out
}

// canonical returns the canonical emotion of a word or label ("" if none).
func canonical(s string) string {
	e, _ := facs.EmotionInAnswer(s)
	return e
}

// classOf maps an emotion word or label to a class of classes: exact
// (case-insensitive) match, same canonical emotion, or the coarse class
// containing it. ok is false when nothing in classes fits.
func classOf(word string, classes []string) (string, bool) {
	w := strings.ToLower(strings.TrimSpace(word))
	for _, c := range classes {
		if strings.ToLower(c) == w {
			return c, true
		}
	}
	cw := canonical(w)
	if cw == "" {
		return "", false
	}
	for _, c := range classes {
		if canonical(c) == cw {
			return c, true
		}
	}
	// The composite (MEGC2019) class of the emotion, so that "disgust"
	// answers a "negative" class: facs.ThreeClass's mapping without a
	// dataset (its dataset-specific rules concern labels, not answers).
	if g, ok := facs.ThreeClass(cw, ""); ok {
		for _, c := range classes {
			if canonical(c) == g {
				return c, true
			}
		}
	}
	return "", false
}

// mention is one emotion or class named in a text.
type mention struct {
	word    string // as written
	emotion string // canonical emotion, or the class name for class-only words
	pos     int
	negated bool
}

// negators precede a mention that the text denies ("not happiness",
// "rather than anger", "no sign of fear").
var negators = []string{"not", "no", "without", "rather than", "instead of", "absence of", "lack of", "ruling out", "rule out", "rules out", "unlike", "isn't", "aren't", "nor", "than"}

// mentions finds emotion words and class names in s, in order.
func mentions(s string, classes []string) []mention {
	classWord := map[string]string{}
	for _, c := range classes {
		lc := strings.ToLower(c)
		if canonical(lc) == "" {
			classWord[lc] = c
		}
	}
	var out []mention
	for _, loc := range words(s) {
		// Lower-case word by word: the words are ASCII, so byte offsets
		// stay those of s (strings.ToLower of the whole text may not keep
		// them for non-ASCII letters).
		w := strings.ToLower(s[loc[0]:loc[1]])
		em, _ := facs.EmotionInAnswer(w)
		if em == "" {
			c, ok := classWord[w]
			if !ok {
				continue
			}
			em = c
		}
		out = append(out, mention{word: s[loc[0]:loc[1]], emotion: em, pos: loc[0], negated: negatedBefore(s[:loc[0]])})
	}
	return out
}

// negatedBefore reports whether the few words before a mention negate it.
func negatedBefore(prefix string) bool {
	// Look back within the current clause only (and a bounded window, so
	// that scanning a long text stays linear).
	if len(prefix) > 120 {
		prefix = prefix[len(prefix)-120:]
	}
	prefix = strings.ToLower(prefix)
	if i := strings.LastIndexAny(prefix, ".;:!?\n,("); i >= 0 {
		prefix = prefix[i+1:]
	}
	// "not anger but disgust": a contrast word starts a new clause.
	for _, sep := range []string{" but ", " rather ", " however "} {
		if i := strings.LastIndex(" "+prefix, sep); i >= 0 {
			prefix = prefix[max(0, i+len(sep)-1):]
		}
	}
	words := strings.Fields(prefix)
	if len(words) > 4 {
		words = words[len(words)-4:]
	}
	tail := " " + strings.Join(words, " ") + " "
	for _, n := range negators {
		if strings.Contains(tail, " "+n+" ") {
			return true
		}
	}
	return false
}
