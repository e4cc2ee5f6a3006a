package facs

import (
	"fmt"
	"strconv"
	"strings"
)

// AU is one coded Action Unit as a dataset sheet writes it: "R12B?" is AU12
// on the right side at intensity B, marked uncertain.
type AU struct {
	Number    int
	Side      Side
	Intensity Letter // NoLetter when the sheet gives no intensity
	Uncertain bool   // "?" in the sheet
}

// String writes the AU canonically: side prefix, number, intensity letter,
// "?" when uncertain ("R12B?").
func (a AU) String() string {
	var b strings.Builder
	a.write(&b)
	return b.String()
}

func (a AU) write(b *strings.Builder) {
	b.WriteString(a.Side.Prefix())
	b.WriteString(strconv.Itoa(a.Number))
	b.WriteString(a.Intensity.String())
	if a.Uncertain {
		b.WriteByte('?')
	}
}

// Value is the AU's intensity in [0,1], or def when the sheet gave none.
func (a AU) Value(def float64) float64 {
	if a.Intensity.Valid() {
		return a.Intensity.Value()
	}
	return def
}

// Term is one conjunct of a Code: a single AU, or alternatives of which the
// coder saw one ("12/14", "12 or 14").
type Term []AU

// Code is a parsed AU string: the conjunction of its terms, in the order the
// sheet wrote them. The zero Code means "no action" ("0" or empty).
type Code struct {
	Terms []Term
}

// Empty reports whether the code holds no AU.
func (c Code) Empty() bool { return len(c.Terms) == 0 }

// String writes the code canonically: terms joined by "+", alternatives by
// "/", each AU as AU.String; the empty code is "". Parse(c.String()) equals c.
func (c Code) String() string {
	var b strings.Builder
	for i, t := range c.Terms {
		if i > 0 {
			b.WriteByte('+')
		}
		for j, a := range t {
			if j > 0 {
				b.WriteByte('/')
			}
			a.write(&b)
		}
	}
	return b.String()
}

// AUs returns every AU of the code, alternatives included, in order.
func (c Code) AUs() []AU {
	var out []AU
	for _, t := range c.Terms {
		out = append(out, t...)
	}
	return out
}

// Has reports whether AU n occurs in the code (on any side, in any
// alternative).
func (c Code) Has(n int) bool {
	for _, t := range c.Terms {
		for _, a := range t {
			if a.Number == n {
				return true
			}
		}
	}
	return false
}

// Numbers returns the set of AU numbers in the code, alternatives included.
func (c Code) Numbers() map[int]bool {
	m := make(map[int]bool)
	for _, t := range c.Terms {
		for _, a := range t {
			m[a.Number] = true
		}
	}
	return m
}

// ParseError reports a malformed AU string, naming the offending token.
type ParseError struct {
	Input  string
	Token  string
	Pos    int // byte offset of Token in Input
	Reason string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("facs: AU string %q: token %q at byte %d: %s", e.Input, e.Token, e.Pos, e.Reason)
}

// MustParse is Parse for constants known to be valid; it panics otherwise.
func MustParse(s string) Code {
	c, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return c
}

type tokenKind uint8

const (
	tokAtom  tokenKind = iota
	tokAnd             // "+", ",", ";", "&"
	tokOr              // "/", "|", "or"
	tokSpace           // white space: "and" unless next to another operator
)

type token struct {
	kind tokenKind
	text string // as in the input, for errors
	pos  int
	val  string // what to parse ("AU 12" merges to "AU12"); "" means text
}

func isAtomByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '?'
}

func tokenize(s string) []token {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0xa0:
			j := i
			for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r' || s[j] == 0xa0) {
				j++
			}
			toks = append(toks, token{kind: tokSpace, text: s[i:j], pos: i})
			i = j
		case c == '+' || c == ',' || c == ';' || c == '&':
			toks = append(toks, token{kind: tokAnd, text: s[i : i+1], pos: i})
			i++
		case c == '/' || c == '|':
			toks = append(toks, token{kind: tokOr, text: s[i : i+1], pos: i})
			i++
		case isAtomByte(c):
			j := i
			for j < len(s) && isAtomByte(s[j]) {
				j++
			}
			t := token{kind: tokAtom, text: s[i:j], pos: i}
			if strings.EqualFold(t.text, "or") {
				t.kind = tokOr
			}
			toks = append(toks, t)
			i = j
		default:
			// One unexpected byte (or a whole UTF-8 sequence) becomes an
			// atom so that the error names it.
			j := i + 1
			for j < len(s) && s[j]&0xc0 == 0x80 {
				j++
			}
			toks = append(toks, token{kind: tokAtom, text: s[i:j], pos: i})
			i = j
		}
	}
	return toks
}

// Parse reads an AU string as dataset sheets write it: "4+7", "R12", "L14",
// "12B", "4+L10", "1+2+25", "12 or 14", "1/2" (alternatives), "A2"
// (asymmetric), "12?" (uncertain), "R12A+R14A", "AU4, AU7", separated by "+",
// ",", ";" or spaces. "0", "none", "-" and the empty string mean no action.
// Alternatives bind tighter than conjunction: "4+7/43" is 4 and (7 or 43).
// Errors are *ParseError naming the offending token.
func Parse(s string) (Code, error) {
	switch lower(strings.TrimSpace(s)) {
	case "", "0", "none", "-", "n/a", "na":
		return Code{}, nil
	}
	toks := tokenize(s)
	// Merge "AU 12" into one atom and drop spaces adjacent to operators or
	// at the ends; the remaining spaces separate conjuncts ("1 2 4").
	var clean []token
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind == tokAtom && strings.EqualFold(t.text, "au") && i+2 < len(toks) &&
			toks[i+1].kind == tokSpace && toks[i+2].kind == tokAtom {
			t.val = t.text + toks[i+2].text
			t.text = s[t.pos : toks[i+2].pos+len(toks[i+2].text)]
			i += 2
		}
		if t.kind == tokSpace {
			if len(clean) == 0 || clean[len(clean)-1].kind != tokAtom ||
				i+1 >= len(toks) || toks[i+1].kind != tokAtom || toks[i+1].kind == tokAtom && strings.EqualFold(toks[i+1].text, "or") {
				continue
			}
			t.kind = tokAnd
		}
		clean = append(clean, t)
	}
	var code Code
	var term Term
	expectAtom := true
	var last token
	for _, t := range clean {
		last = t
		if t.kind == tokAtom {
			if !expectAtom {
				return Code{}, &ParseError{s, t.text, t.pos, "two AUs without a separator"}
			}
			v := t.val
			if v == "" {
				v = t.text
			}
			a, reason := parseAtom(v)
			if reason != "" {
				return Code{}, &ParseError{s, t.text, t.pos, reason}
			}
			term = append(term, a)
			expectAtom = false
			continue
		}
		if expectAtom {
			return Code{}, &ParseError{s, t.text, t.pos, "operator without an AU before it"}
		}
		if t.kind == tokAnd {
			code.Terms = append(code.Terms, term)
			term = nil
		}
		expectAtom = true
	}
	if expectAtom {
		return Code{}, &ParseError{s, last.text, last.pos, "operator without an AU after it"}
	}
	code.Terms = append(code.Terms, term)
	return code, nil
}

// parseAtom reads [L|R|A][AU]number[A-E][?]; it returns a reason when the
// atom is not an AU.
func parseAtom(s string) (AU, string) {
	const want = "not an AU (want e.g. 12, R12, L14, A2, 12B, 12?)"
	var a AU
	i := 0
	up := func(k int) byte { return s[k] &^ 0x20 }
	if i < len(s) && s[i] == '?' { // "?12": uncertain written in front
		a.Uncertain = true
		i++
	}
	// Side prefix, unless the letters are the "AU" prefix itself.
	if i < len(s) && !(i+1 < len(s) && up(i) == 'A' && up(i+1) == 'U') {
		switch up(i) {
		case 'L':
			a.Side, i = Left, i+1
		case 'R':
			a.Side, i = Right, i+1
		case 'A':
			a.Side, i = Asymmetric, i+1
		}
	}
	if i+1 < len(s) && up(i) == 'A' && up(i+1) == 'U' {
		i += 2
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == i {
		return AU{}, want
	}
	if j-i > 2 {
		return AU{}, "AU number out of range 1..99"
	}
	n, _ := strconv.Atoi(s[i:j])
	if n < 1 {
		return AU{}, "AU number out of range 1..99"
	}
	a.Number = n
	i = j
	if i < len(s) && s[i] != '?' {
		c := up(i)
		if c < 'A' || c > 'E' {
			return AU{}, fmt.Sprintf("intensity %q is not one of A..E", s[i:i+1])
		}
		a.Intensity = Letter(c)
		i++
	}
	for i < len(s) && s[i] == '?' {
		a.Uncertain = true
		i++
	}
	if i != len(s) {
		return AU{}, want
	}
	return a, ""
}
