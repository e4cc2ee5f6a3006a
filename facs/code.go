package facs

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind tells apart the code families FACS writes in one string.
type Kind uint8

// Code families. Action descriptors that FACS numbers like AUs (38, 39, 43,
// the 50- and 60-series head and eye codes, 70–74 visibility codes) are
// KindAU: they are written as plain numbers.
const (
	KindAU Kind = iota // an Action Unit or an action descriptor written as a number: 12, AU12
	KindAD             // an action descriptor written with FACS 2002's prefix: AD19, AD30
	KindM              // a movement code: M59 (head nod), M60 (head shake), M83
)

// Prefix returns "", "AD" or "M".
func (k Kind) Prefix() string {
	switch k {
	case KindAD:
		return "AD"
	case KindM:
		return "M"
	}
	return ""
}

// AU is one coded action as a dataset sheet writes it: "R12B?" is AU12
// on the right side at intensity B, marked uncertain; "4A/B" is AU4 at
// intensity A or B; "T18" is AU18 on the top lip.
type AU struct {
	Number    int
	Side      Side
	Intensity Letter // NoLetter when the sheet gives no intensity
	// IntensityMax is the upper end of an intensity range ("4A/B": A to B);
	// NoLetter when the sheet gives one letter or none.
	IntensityMax Letter
	// Uncertain: "?" in the sheet, or a code the coder marked as a
	// reference or doubtful ("ref(7B)").
	Uncertain bool
	Kind      Kind
}

// String writes the AU canonically: side prefix, kind prefix, number,
// intensity letter (or range "A/B"), "?" when uncertain ("R12B?", "4A/B",
// "AD19").
func (a AU) String() string {
	var b strings.Builder
	a.write(&b)
	return b.String()
}

func (a AU) write(b *strings.Builder) {
	b.WriteString(a.Side.Prefix())
	b.WriteString(a.Kind.Prefix())
	b.WriteString(strconv.Itoa(a.Number))
	b.WriteString(a.Intensity.String())
	if a.IntensityMax.Valid() && a.Intensity.Valid() && a.IntensityMax != a.Intensity {
		b.WriteByte('/')
		b.WriteString(a.IntensityMax.String())
	}
	if a.Uncertain {
		b.WriteByte('?')
	}
}

// Value is the AU's intensity in [0,1] (the middle of a range), or def when
// the sheet gave none.
func (a AU) Value(def float64) float64 {
	if !a.Intensity.Valid() {
		return def
	}
	if a.IntensityMax.Valid() && a.IntensityMax != a.Intensity {
		return (a.Intensity.Value() + a.IntensityMax.Value()) / 2
	}
	return a.Intensity.Value()
}

// Term is one conjunct of a Code: a single AU, or alternatives of which the
// coder saw one ("12/14", "12 or 14", "(R6 or R12)", "A/L12").
type Term []AU

// Code is a parsed AU string: the conjunction of its terms, in the order the
// sheet wrote them. The zero Code means "no action" ("0" or empty).
type Code struct {
	Terms []Term
	// Uncoded: the sheet wrote a lone "?" (the coder could not code the
	// movement, or not all of it). Terms holds whatever else was coded.
	Uncoded bool
}

// Empty reports whether the code holds no AU (an uncoded "?" holds none).
func (c Code) Empty() bool { return len(c.Terms) == 0 }

// String writes the code canonically: terms joined by "+", alternatives by
// "/", each AU as AU.String, a final "?" when uncoded; the empty code is "".
// Parse(c.String()) equals c.
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
	if c.Uncoded {
		if len(c.Terms) > 0 {
			b.WriteByte('+')
		}
		b.WriteByte('?')
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

// Remark is a part of an AU string that is not FACS (free text such as
// "soft focus", a stray operator, an AU number out of range), kept verbatim.
type Remark struct {
	Text   string // as in the input
	Pos    int    // byte offset of Text in the input
	Reason string // why it is not read as FACS
}

// MustParse is Parse for constants known to be valid; it panics otherwise.
func MustParse(s string) Code {
	c, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return c
}

// Parse reads an AU string as coders write it and fails on anything that is
// not FACS, with a *ParseError naming the first such token. It reads:
//
//   - conjunctions separated by "+", ",", ";", "&" or spaces: "4+7", "1 2 4",
//     "AU4, AU7";
//   - sides L, R, A (asymmetric) and the lip prefixes T (top) and B (bottom):
//     "R12", "A2", "T18";
//   - intensities and intensity ranges: "12B", "4A/B";
//   - uncertainty: "12?", "?12", and references or doubtful codes "ref(7B)"
//     (kept, marked uncertain); a lone "?" marks the code uncoded;
//   - alternatives with "/", "|" or "or", which bind tighter than
//     conjunction ("4+7/43" is 4 and (7 or 43)), parenthesised alternatives
//     "(R6 or R12)+R15", and side alternatives "A/L12" (A12 or L12);
//   - action descriptors and other codes FACS numbers (38, 39, 43, 51–64,
//     70–74, ...) and the prefixed ones "AD19" and "M59".
//
// "0", "none", "-" and the empty string mean no action. ParseLenient reads
// the same but keeps what is not FACS as remarks instead of failing.
func Parse(s string) (Code, error) {
	c, rs := ParseLenient(s)
	if len(rs) > 0 {
		r := rs[0]
		return Code{}, &ParseError{Input: s, Token: r.Text, Pos: r.Pos, Reason: r.Reason}
	}
	return c, nil
}

// MaxCodeLen bounds the AU strings Parse and ParseLenient read: a longer
// one is not FACS (the longest real sheet cell is about 30 bytes) and is
// refused whole, which keeps parsing time and nesting depth small.
const MaxCodeLen = 1024

// ParseLenient reads s as Parse does but never fails: what is FACS comes
// back as a Code, what is not comes back verbatim as remarks, in input
// order. A conjunct that is only partly FACS ("12 or blah", "(4+7)/43") is
// a remark as a whole, so that the code never claims more than the coder
// wrote. Code.String of the result parses back to the same Code with no
// remarks.
func ParseLenient(s string) (Code, []Remark) {
	if len(s) > MaxCodeLen {
		return Code{}, []Remark{{Text: s, Pos: 0, Reason: fmt.Sprintf("longer than %d bytes", MaxCodeLen)}}
	}
	switch lower(strings.TrimSpace(s)) {
	case "", "0", "none", "-", "n/a", "na":
		return Code{}, nil
	}
	p := &parser{s: s, toks: prepare(s, tokenize(s)), lastBadIdx: -1}
	c := p.expr(false)
	return c, p.remarks
}

type tokenKind uint8

const (
	tokAtom    tokenKind = iota
	tokAnd               // "+", ",", ";", "&", or a space between two operands
	tokOr                // "/", "|", "or"
	tokSpace             // white space (removed by prepare)
	tokOpen              // "("
	tokClose             // ")"
	tokRef               // "ref" right before "(": a reference or doubtful code
	tokUnknown           // a byte (or UTF-8 sequence) that is no part of FACS
)

type token struct {
	kind tokenKind
	pos  int
	end  int    // s[pos:end] is the token as written
	val  string // what to parse ("AU 12" merges to "AU12"); "" means s[pos:end]
}

func isAtomByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '?'
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func tokenize(s string) []token {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case isSpace(c) || c == 0xc2 && i+1 < len(s) && s[i+1] == 0xa0: // U+00A0 no-break space
			j := i
			for j < len(s) {
				if isSpace(s[j]) {
					j++
				} else if s[j] == 0xc2 && j+1 < len(s) && s[j+1] == 0xa0 {
					j += 2
				} else {
					break
				}
			}
			toks = append(toks, token{kind: tokSpace, pos: i, end: j})
			i = j
		case c == '+' || c == ',' || c == ';' || c == '&':
			toks = append(toks, token{kind: tokAnd, pos: i, end: i + 1})
			i++
		case c == '/' || c == '|':
			toks = append(toks, token{kind: tokOr, pos: i, end: i + 1})
			i++
		case c == '(':
			toks = append(toks, token{kind: tokOpen, pos: i, end: i + 1})
			i++
		case c == ')':
			toks = append(toks, token{kind: tokClose, pos: i, end: i + 1})
			i++
		case isAtomByte(c):
			j := i
			for j < len(s) && isAtomByte(s[j]) {
				j++
			}
			t := token{kind: tokAtom, pos: i, end: j}
			if strings.EqualFold(s[i:j], "or") {
				t.kind = tokOr
			}
			toks = append(toks, t)
			i = j
		default:
			j := i + 1
			for j < len(s) && s[j]&0xc0 == 0x80 {
				j++
			}
			toks = append(toks, token{kind: tokUnknown, pos: i, end: j})
			i = j
		}
	}
	return toks
}

// prepare merges "AU 12" / "AD 19" / "M 59" into one atom, marks "ref"
// before "(", and turns the spaces that separate two operands into
// conjunctions ("1 2 4"); other spaces go.
func prepare(s string, toks []token) []token {
	text := func(t token) string { return s[t.pos:t.end] }
	startsDigit := func(t token) bool { return t.kind == tokAtom && s[t.pos] >= '0' && s[t.pos] <= '9' }
	var out []token
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind == tokAtom && i+2 < len(toks) && toks[i+1].kind == tokSpace && toks[i+2].kind == tokAtom {
			switch w := lower(text(t)); {
			case w == "au", (w == "ad" || w == "m") && startsDigit(toks[i+2]):
				n := toks[i+2]
				t = token{kind: tokAtom, pos: t.pos, end: n.end, val: text(t) + text(n)}
				i += 2
			}
		}
		if t.kind == tokAtom && strings.EqualFold(text(t), "ref") {
			j := i + 1
			for j < len(toks) && toks[j].kind == tokSpace {
				j++
			}
			if j < len(toks) && toks[j].kind == tokOpen {
				t.kind = tokRef
			}
		}
		if t.kind == tokSpace {
			prevOperand := len(out) > 0 && (out[len(out)-1].kind == tokAtom || out[len(out)-1].kind == tokClose || out[len(out)-1].kind == tokUnknown)
			nextOperand := i+1 < len(toks) && (toks[i+1].kind == tokAtom || toks[i+1].kind == tokOpen || toks[i+1].kind == tokRef || toks[i+1].kind == tokUnknown)
			if !prevOperand || !nextOperand {
				continue
			}
			t.kind = tokAnd
		}
		out = append(out, t)
	}
	return out
}

// parser reads prepared tokens by recursive descent:
//
//	expr   = term { AND term }
//	term   = factor { OR factor }
//	factor = atom | "(" expr ")" | "ref" "(" expr ")"
//
// with recovery: a conjunct that does not read as FACS becomes a remark and
// parsing resumes at the next conjunction of the same level.
type parser struct {
	s       string
	toks    []token
	i       int
	remarks []Remark
	// lastBad is the end of remark lastBadIdx, which a bad conjunct right
	// after it extends ("soft focus" is one remark); lastBadIdx is -1 when
	// FACS came in between.
	lastBad    int
	lastBadIdx int
	failReason string // why the last factor or term failed
}

func (p *parser) peek() (token, bool) {
	if p.i < len(p.toks) {
		return p.toks[p.i], true
	}
	return token{}, false
}

func (p *parser) text(t token) string { return p.s[t.pos:t.end] }

// remark records s[pos:end] as not FACS; a remark right after the previous
// one, separated only by white space, extends it.
func (p *parser) remark(pos, end int, reason string) {
	if n := len(p.remarks); n > 0 && p.lastBadIdx == n-1 && p.lastBad <= pos && strings.TrimSpace(p.s[p.lastBad:pos]) == "" {
		r := &p.remarks[n-1]
		r.Text = p.s[r.Pos:end]
		p.lastBad = end
		return
	}
	p.remarks = append(p.remarks, Remark{Text: p.s[pos:end], Pos: pos, Reason: reason})
	p.lastBad, p.lastBadIdx = end, len(p.remarks)-1
}

// noRemarkChain stops the next remark from merging with the previous one.
func (p *parser) noRemarkChain() { p.lastBadIdx = -1 }

// expr parses conjuncts until the end, or until ")" when nested.
func (p *parser) expr(nested bool) Code {
	var code Code
	expectTerm := true
	var lastAnd token
	for {
		t, ok := p.peek()
		if !ok || nested && t.kind == tokClose {
			break
		}
		if t.kind == tokAnd {
			if expectTerm {
				p.remark(t.pos, t.end, "operator without an AU before it")
			}
			lastAnd = t
			expectTerm = true
			p.i++
			continue
		}
		if t.kind == tokClose { // a ")" without "(" at the top level
			p.remark(t.pos, t.end, "unbalanced parenthesis")
			p.i++
			expectTerm = false
			continue
		}
		start := p.i
		terms, uncoded, ok := p.term()
		if !ok {
			// Skip the rest of this conjunct and keep it as a remark.
			for p.i < len(p.toks) && p.toks[p.i].kind != tokAnd && !(nested && p.toks[p.i].kind == tokClose) {
				if p.toks[p.i].kind == tokOpen {
					p.skipGroup()
					continue
				}
				p.i++
			}
			first, last := p.toks[start], p.toks[max(p.i-1, start)]
			p.remark(first.pos, last.end, p.failReason)
		} else {
			p.noRemarkChain()
			code.Terms = append(code.Terms, terms...)
			code.Uncoded = code.Uncoded || uncoded
		}
		expectTerm = false
	}
	if expectTerm && lastAnd.end > 0 {
		p.remark(lastAnd.pos, lastAnd.end, "operator without an AU after it")
	}
	return code
}

// skipGroup skips a parenthesised group (unbalanced: to the end).
func (p *parser) skipGroup() {
	depth := 0
	for p.i < len(p.toks) {
		switch p.toks[p.i].kind {
		case tokOpen:
			depth++
		case tokClose:
			depth--
		}
		p.i++
		if depth == 0 {
			return
		}
	}
}

// term parses one conjunct: factors joined by OR. It returns the terms the
// conjunct contributes (a parenthesised conjunction contributes several),
// whether it held a lone "?", and ok=false (with p.failReason set) when
// it is not FACS. Stray operators ("12 / / 14", "4+7 or") are remarks; the
// conjunct still reads.
func (p *parser) term() (terms []Term, uncoded, ok bool) {
	var alts Term
	var group []Term // a parenthesised conjunction, when the term is only that
	for n := 0; ; n++ {
		f, fgroup, unc, ok := p.factor()
		if !ok {
			return nil, false, false
		}
		uncoded = uncoded || unc
		if fgroup != nil {
			if n > 0 || p.nextIs(tokOr) {
				return p.fail("a conjunction inside alternatives cannot be written as FACS alternatives")
			}
			group = fgroup
		}
		alts = append(alts, f...)
		for {
			if !p.nextIs(tokOr) {
				return p.finishTerm(alts, group, uncoded)
			}
			or := p.toks[p.i]
			p.i++
			for p.nextIs(tokOr) {
				extra := p.toks[p.i]
				p.remark(extra.pos, extra.end, "operator without an AU after it")
				p.i++
			}
			t, ok := p.peek()
			if !ok || t.kind == tokAnd || t.kind == tokClose {
				p.remark(or.pos, or.end, "operator without an AU after it")
				return p.finishTerm(alts, group, uncoded)
			}
			// "4A/B": a lone intensity letter after an AU with an
			// intensity extends that AU's intensity to a range.
			if k := len(alts) - 1; k >= 0 && alts[k].Intensity.Valid() && t.kind == tokAtom {
				if l, unc, isLetter := rangeLetter(p.atomText(t)); isLetter {
					hi := alts[k].IntensityMax
					if !hi.Valid() {
						hi = alts[k].Intensity
					}
					alts[k].Intensity, alts[k].IntensityMax = min(alts[k].Intensity, l), max(hi, l)
					if alts[k].IntensityMax == alts[k].Intensity { // "4A/A" is 4A
						alts[k].IntensityMax = NoLetter
					}
					alts[k].Uncertain = alts[k].Uncertain || unc
					p.i++
					continue
				}
			}
			break // another alternative follows
		}
	}
}

func (p *parser) finishTerm(alts Term, group []Term, uncoded bool) ([]Term, bool, bool) {
	if group != nil {
		return group, uncoded, true
	}
	if len(alts) == 0 {
		return nil, uncoded, true
	}
	return []Term{alts}, uncoded, true
}

func (p *parser) fail(reason string) ([]Term, bool, bool) {
	p.failReason = reason
	return nil, false, false
}

func (p *parser) nextIs(k tokenKind) bool {
	t, ok := p.peek()
	return ok && t.kind == k
}

func (p *parser) atomText(t token) string {
	if t.val != "" {
		return t.val
	}
	return p.text(t)
}

// rangeLetter reads a lone intensity letter, optionally with "?": "B", "C?".
func rangeLetter(s string) (Letter, bool, bool) {
	unc := false
	for len(s) > 1 && s[len(s)-1] == '?' {
		s, unc = s[:len(s)-1], true
	}
	if len(s) != 1 {
		return 0, false, false
	}
	c := s[0] &^ 0x20
	if c < 'A' || c > 'E' {
		return 0, false, false
	}
	return Letter(c), unc, true
}

// sideLetter reads a lone side letter: "L", "R", "A", "T", "B".
func sideLetter(s string) (Side, bool) {
	if len(s) != 1 {
		return Both, false
	}
	switch s[0] &^ 0x20 {
	case 'L':
		return Left, true
	case 'R':
		return Right, true
	case 'A':
		return Asymmetric, true
	case 'T':
		return Top, true
	case 'B':
		return Bottom, true
	}
	return Both, false
}

// factor parses an atom, a parenthesised group or a ref(...) group. A group
// holding a conjunction comes back as group (several terms); otherwise the
// factor's alternatives come back as alts.
func (p *parser) factor() (alts Term, group []Term, uncoded, ok bool) {
	t, ok := p.peek()
	if !ok {
		p.failReason = "missing AU"
		return nil, nil, false, false
	}
	switch t.kind {
	case tokRef:
		p.i++
		alts, group, uncoded, ok = p.factor() // the "(" group prepare found
		if !ok {
			return nil, nil, false, false
		}
		for i := range alts {
			alts[i].Uncertain = true
		}
		for _, term := range group {
			for i := range term {
				term[i].Uncertain = true
			}
		}
		return alts, group, uncoded, true
	case tokOpen:
		p.i++
		saved := len(p.remarks)
		inner := p.expr(true)
		if len(p.remarks) > saved {
			// Not FACS inside: the whole group is one remark (made by
			// the caller), not several.
			p.remarks = p.remarks[:saved]
			p.failReason = "not FACS inside the parentheses"
			return nil, nil, false, false
		}
		if !p.nextIs(tokClose) {
			p.failReason = "unbalanced parenthesis"
			return nil, nil, false, false
		}
		p.i++
		switch {
		case len(inner.Terms) == 0 && !inner.Uncoded:
			p.failReason = "empty parentheses"
			return nil, nil, false, false
		case len(inner.Terms) <= 1:
			var a Term
			if len(inner.Terms) == 1 {
				a = inner.Terms[0]
			}
			return a, nil, inner.Uncoded, true
		}
		return nil, inner.Terms, inner.Uncoded, true
	case tokAtom:
		text := p.atomText(t)
		if strings.Trim(text, "?") == "" {
			p.i++
			return nil, nil, true, true // a lone "?": uncoded
		}
		// "A/L12": side alternatives written before one AU.
		if side, isSide := sideLetter(text); isSide && p.i+2 < len(p.toks) && p.toks[p.i+1].kind == tokOr && p.toks[p.i+2].kind == tokAtom {
			sides := []Side{side}
			for j := p.i + 2; ; j += 2 {
				next := p.atomText(p.toks[j])
				if s, ok := sideLetter(next); ok && j+2 < len(p.toks) && p.toks[j+1].kind == tokOr && p.toks[j+2].kind == tokAtom {
					sides = append(sides, s)
					continue
				}
				a, reason := parseAtom(next)
				if reason != "" {
					break // not side alternatives: read "A" as an atom below
				}
				p.i = j + 1
				for _, s := range sides {
					b := a
					b.Side = s
					alts = append(alts, b)
				}
				return append(alts, a), nil, false, true
			}
		}
		a, reason := parseAtom(text)
		if reason != "" {
			p.failReason = reason
			return nil, nil, false, false
		}
		p.i++
		return Term{a}, nil, false, true
	case tokUnknown:
		p.failReason = "not part of FACS notation"
	case tokOr:
		p.failReason = "operator without an AU before it"
	case tokClose:
		p.failReason = "unbalanced parenthesis"
	default:
		p.failReason = "missing AU"
	}
	return nil, nil, false, false
}

// parseAtom reads [?][L|R|A|T|B][AU|AD|M]number[A-E][?]; it returns a
// reason when the atom is not an AU.
func parseAtom(s string) (AU, string) {
	const want = "not an AU (want e.g. 12, R12, L14, A2, T18, 12B, 12?, AD19, M59)"
	var a AU
	i := 0
	up := func(k int) byte { return s[k] &^ 0x20 }
	digitAt := func(k int) bool { return k < len(s) && s[k] >= '0' && s[k] <= '9' }
	if i < len(s) && s[i] == '?' { // "?12": uncertain written in front
		a.Uncertain = true
		i++
	}
	// kindPrefix reads "AU", "AD" or "M" right before the number.
	kindPrefix := func() bool {
		switch {
		case i+2 < len(s) && up(i) == 'A' && up(i+1) == 'U' && digitAt(i+2):
			i += 2
		case i+2 < len(s) && up(i) == 'A' && up(i+1) == 'D' && digitAt(i+2):
			a.Kind, i = KindAD, i+2
		case i+1 < len(s) && up(i) == 'M' && digitAt(i+1):
			a.Kind, i = KindM, i+1
		default:
			return false
		}
		return true
	}
	if !kindPrefix() && i < len(s) && !digitAt(i) {
		if side, ok := sideLetter(s[i : i+1]); ok {
			a.Side, i = side, i+1
			kindPrefix()
		}
	}
	// "AU" without a number after it.
	if i+1 < len(s) && up(i) == 'A' && up(i+1) == 'U' && !digitAt(i+2) {
		return AU{}, want
	}
	j := i
	for digitAt(j) {
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
