package merclip

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
)

// Special token ids. Every vocabulary starts with them.
const (
	TokPad = 0 // padding after the end of a text
	TokUnk = 1 // a word not in the vocabulary
	TokCLS = 2 // first token; its output is the text embedding
)

var specialTokens = [...]string{"[pad]", "[unk]", "[cls]"}

// Vocab is a word-level vocabulary: lower-case words (letters, digits and
// apostrophes), punctuation dropped. It is built from a corpus (the FACS
// movement descriptions and the templates), sorted, so the same corpus gives
// the same ids on every machine.
type Vocab struct {
	words []string
	ids   map[string]int
}

// NewVocab builds a vocabulary from the words of the corpus.
func NewVocab(corpus []string) *Vocab {
	seen := map[string]bool{}
	for _, s := range corpus {
		for _, w := range Words(s) {
			seen[w] = true
		}
	}
	words := make([]string, 0, len(seen))
	for w := range seen {
		words = append(words, w)
	}
	sort.Strings(words)
	return vocabOf(append(specialTokens[:len(specialTokens):len(specialTokens)], words...))
}

// VocabFromWords restores a vocabulary from its word list (as Words returns
// it, special tokens first), for example one stored with a model.
func VocabFromWords(words []string) (*Vocab, error) {
	if len(words) < len(specialTokens) {
		return nil, fmt.Errorf("merclip: vocabulary of %d words lacks the special tokens", len(words))
	}
	for i, s := range specialTokens {
		if words[i] != s {
			return nil, fmt.Errorf("merclip: vocabulary word %d is %q, want %q", i, words[i], s)
		}
	}
	v := vocabOf(append([]string(nil), words...))
	if len(v.ids) != len(words) {
		return nil, fmt.Errorf("merclip: vocabulary has duplicate words")
	}
	return v, nil
}

func vocabOf(words []string) *Vocab {
	v := &Vocab{words: words, ids: make(map[string]int, len(words))}
	for i, w := range words {
		v.ids[w] = i
	}
	return v
}

// Size is the number of token ids.
func (v *Vocab) Size() int { return len(v.words) }

// List returns the words in id order, special tokens first.
func (v *Vocab) List() []string { return append([]string(nil), v.words...) }

// Words splits text into lower-case words; anything but letters, digits and
// apostrophes separates words.
func Words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'')
	})
}

// Encode writes the token ids of text into dst (length maxLen): the class
// token, the words, then padding. Words beyond maxLen−1 are cut. It returns
// the number of tokens before padding.
func (v *Vocab) Encode(text string, dst []int32) int {
	clear(dst)
	if len(dst) == 0 {
		return 0
	}
	dst[0] = TokCLS
	n := 1
	for _, w := range Words(text) {
		if n == len(dst) {
			break
		}
		id, ok := v.ids[w]
		if !ok {
			id = TokUnk
		}
		dst[n] = int32(id)
		n++
	}
	return n
}

// Decode turns ids back into words, stopping at the first padding token.
func (v *Vocab) Decode(ids []int32) string {
	var b []string
	for _, id := range ids {
		if id == TokPad {
			break
		}
		if id == TokCLS {
			continue
		}
		if int(id) < len(v.words) {
			b = append(b, v.words[id])
		} else {
			b = append(b, specialTokens[TokUnk])
		}
	}
	return strings.Join(b, " ")
}
