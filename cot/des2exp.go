package cot

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/tell-project/tell/facs"
)

// negators are words that, just before an emotion word, mean the text is
// ruling the emotion out ("rather than anger", "not happiness").
var negators = map[string]bool{
	"not": true, "no": true, "than": true, "instead": true, "without": true,
	"nor": true, "unlike": true, "except": true, "against": true, "excluding": true,
}

// fillers may stand between a negator and the emotion word.
var fillers = map[string]bool{"of": true, "a": true, "an": true, "the": true, "any": true, "to": true}

// ErrNoLabel means the reader found no asserted label in the text.
var ErrNoLabel = errors.New("cot: no label found in the conclusion")

// ReadLabel is Des2Exp: it infers the expression label from the CoT text
// alone, by reading the Conclusion section and taking the first emotion word
// that is not ruled out by a negator just before it ("rather than anger",
// "instead of anger"). It never looks at AUs or at the structured CoT.
func ReadLabel(text string) (string, error) {
	i := strings.Index(text, HeadingConclusion)
	if i < 0 {
		return "", fmt.Errorf("cot: text has no %s section", HeadingConclusion)
	}
	words := strings.FieldsFunc(strings.ToLower(text[i+len(HeadingConclusion):]), func(r rune) bool {
		return !unicode.IsLetter(r)
	})
	for k, w := range words {
		// The reader's vocabulary (facs' words that name an emotion in
		// prose) is independent of the rules that wrote the text.
		l, ok := facs.EmotionInProse(w)
		if !ok {
			continue
		}
		// "not anger", "than anger"; "instead of anger", "not an anger".
		negated := k >= 1 && negators[words[k-1]] ||
			k >= 2 && negators[words[k-2]] && fillers[words[k-1]]
		if !negated {
			return l, nil
		}
	}
	return "", ErrNoLabel
}

// Check reports whether the label Des2Exp reads from c.Text equals
// c.Conclusion.Label.
func Check(c CoT) error {
	got, err := ReadLabel(c.Text)
	if err != nil {
		return err
	}
	if !strings.EqualFold(got, c.Conclusion.Label) {
		return fmt.Errorf("cot: text concludes %q but the structured label is %q", got, c.Conclusion.Label)
	}
	return nil
}
