package facs

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

func au(n int, side Side, l Letter, unc bool) AU {
	return AU{Number: n, Side: side, Intensity: l, Uncertain: unc}
}

func TestParseForms(t *testing.T) {
	one := func(a ...AU) Term { return Term(a) }
	tests := []struct {
		in   string
		want Code
		out  string // canonical form
	}{
		{"4+7", Code{Terms: []Term{one(au(4, Both, 0, false)), one(au(7, Both, 0, false))}}, "4+7"},
		{"R12", Code{Terms: []Term{one(au(12, Right, 0, false))}}, "R12"},
		{"L14", Code{Terms: []Term{one(au(14, Left, 0, false))}}, "L14"},
		{"12B", Code{Terms: []Term{one(au(12, Both, B, false))}}, "12B"},
		{"4+L10", Code{Terms: []Term{one(au(4, Both, 0, false)), one(au(10, Left, 0, false))}}, "4+L10"},
		{"1+2+25", Code{Terms: []Term{one(au(1, Both, 0, false)), one(au(2, Both, 0, false)), one(au(25, Both, 0, false))}}, "1+2+25"},
		{"12 or 14", Code{Terms: []Term{one(au(12, Both, 0, false), au(14, Both, 0, false))}}, "12/14"},
		{"12 OR 14", Code{Terms: []Term{one(au(12, Both, 0, false), au(14, Both, 0, false))}}, "12/14"},
		{"1/2", Code{Terms: []Term{one(au(1, Both, 0, false), au(2, Both, 0, false))}}, "1/2"},
		{"A2", Code{Terms: []Term{one(au(2, Asymmetric, 0, false))}}, "A2"},
		{"12?", Code{Terms: []Term{one(au(12, Both, 0, true))}}, "12?"},
		{"?12", Code{Terms: []Term{one(au(12, Both, 0, true))}}, "12?"},
		{"R12A+R14A", Code{Terms: []Term{one(au(12, Right, A, false)), one(au(14, Right, A, false))}}, "R12A+R14A"},
		{"4, 7", Code{Terms: []Term{one(au(4, Both, 0, false)), one(au(7, Both, 0, false))}}, "4+7"},
		{"4,7,9", Code{Terms: []Term{one(au(4, Both, 0, false)), one(au(7, Both, 0, false)), one(au(9, Both, 0, false))}}, "4+7+9"},
		{"1 2 4", Code{Terms: []Term{one(au(1, Both, 0, false)), one(au(2, Both, 0, false)), one(au(4, Both, 0, false))}}, "1+2+4"},
		{" 4 + 7 ", Code{Terms: []Term{one(au(4, Both, 0, false)), one(au(7, Both, 0, false))}}, "4+7"},
		{"AU4+AU7", Code{Terms: []Term{one(au(4, Both, 0, false)), one(au(7, Both, 0, false))}}, "4+7"},
		{"AU 4, AU 12C", Code{Terms: []Term{one(au(4, Both, 0, false)), one(au(12, Both, C, false))}}, "4+12C"},
		{"r12b", Code{Terms: []Term{one(au(12, Right, B, false))}}, "R12B"},
		{"A12E?", Code{Terms: []Term{one(au(12, Asymmetric, E, true))}}, "A12E?"},
		{"4+7/43", Code{Terms: []Term{one(au(4, Both, 0, false)), one(au(7, Both, 0, false), au(43, Both, 0, false))}}, "4+7/43"},
		{"L12/R14B?", Code{Terms: []Term{one(au(12, Left, 0, false), au(14, Right, B, true))}}, "L12/R14B?"},
		{"0", Code{}, ""},
		{"", Code{}, ""},
		{"  ", Code{}, ""},
		{"none", Code{}, ""},
	}
	for _, tc := range tests {
		got, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Parse(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
		if s := got.String(); s != tc.out {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.in, s, tc.out)
		}
		again, err := Parse(got.String())
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("round trip of %q: %#v, %v", tc.in, again, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, token string }{
		{"4+x7", "x7"},
		{"4++7", "+"},
		{"+4", "+"},
		{"4+", "+"},
		{"12F", "12F"},
		{"100", "100"},
		{"0+12", "0"},
		{"4+7 or", "or"},
		{"12 / / 14", "/"},
		{"4+é", "é"},
		{"L", "L"},
		{"AU", "AU"},
		{"12Z", "12Z"},
		{"12B3", "12B3"},
		{"AU 0", "AU 0"},
		{"4+AU 7X", "AU 7X"},
	}
	for _, tc := range tests {
		_, err := Parse(tc.in)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q): error %v, want *ParseError", tc.in, err)
			continue
		}
		if pe.Token != tc.token {
			t.Errorf("Parse(%q): token %q, want %q (%v)", tc.in, pe.Token, tc.token, err)
		}
		if !strings.Contains(err.Error(), tc.token) {
			t.Errorf("Parse(%q): message %q does not name %q", tc.in, err, tc.token)
		}
		if pe.Pos < 0 || pe.Pos > len(tc.in) || !strings.HasPrefix(tc.in[pe.Pos:], pe.Token) {
			t.Errorf("Parse(%q): pos %d does not point at %q", tc.in, pe.Pos, pe.Token)
		}
	}
}

// TestParseCoderForms covers what real coding sheets write beyond the
// simple forms (CASME II, SAMM, CAS(ME)^3, SMIC-E).
func TestParseCoderForms(t *testing.T) {
	one := func(a ...AU) Term { return Term(a) }
	b := func(n int) AU { return au(n, Both, 0, false) }
	with := func(a AU, f func(*AU)) AU { f(&a); return a }
	tests := []struct {
		in   string
		want Code
		out  string
	}{
		{"?", Code{Uncoded: true}, "?"},
		{" ? ", Code{Uncoded: true}, "?"},
		{"4+?", Code{Terms: []Term{one(b(4))}, Uncoded: true}, "4+?"},
		{"?+4", Code{Terms: []Term{one(b(4))}, Uncoded: true}, "4+?"},
		{"(R6 or R12)+R15", Code{Terms: []Term{one(au(6, Right, 0, false), au(12, Right, 0, false)), one(au(15, Right, 0, false))}}, "R6/R12+R15"},
		{"(R6 or R12) + R15", Code{Terms: []Term{one(au(6, Right, 0, false), au(12, Right, 0, false)), one(au(15, Right, 0, false))}}, "R6/R12+R15"},
		{"R15+(R6/R12)", Code{Terms: []Term{one(au(15, Right, 0, false)), one(au(6, Right, 0, false), au(12, Right, 0, false))}}, "R15+R6/R12"},
		{"(4+7)+12", Code{Terms: []Term{one(b(4)), one(b(7)), one(b(12))}}, "4+7+12"},
		{"((12))", Code{Terms: []Term{one(b(12))}}, "12"},
		{"T18", Code{Terms: []Term{one(au(18, Top, 0, false))}}, "T18"},
		{"B18+25", Code{Terms: []Term{one(au(18, Bottom, 0, false)), one(b(25))}}, "B18+25"},
		{"4+13+T18+39", Code{Terms: []Term{one(b(4)), one(b(13)), one(au(18, Top, 0, false)), one(b(39))}}, "4+13+T18+39"},
		{"T23", Code{Terms: []Term{one(au(23, Top, 0, false))}}, "T23"},
		{"ref(7B)+43", Code{Terms: []Term{one(au(7, Both, B, true)), one(b(43))}}, "7B?+43"},
		{"ref(7B)+43C", Code{Terms: []Term{one(au(7, Both, B, true)), one(au(43, Both, C, false))}}, "7B?+43C"},
		{"ref(L10)+A12B", Code{Terms: []Term{one(au(10, Left, 0, true)), one(au(12, Asymmetric, B, false))}}, "L10?+A12B"},
		{"7B+ ref(43)", Code{Terms: []Term{one(au(7, Both, B, false)), one(au(43, Both, 0, true))}}, "7B+43?"},
		{"4D+ref(6)+7C+43E", Code{Terms: []Term{one(au(4, Both, D, false)), one(au(6, Both, 0, true)), one(au(7, Both, C, false)), one(au(43, Both, E, false))}}, "4D+6?+7C+43E"},
		{"REF (5)+20C", Code{Terms: []Term{one(au(5, Both, 0, true)), one(au(20, Both, C, false))}}, "5?+20C"},
		{"4A/B", Code{Terms: []Term{one(with(au(4, Both, A, false), func(a *AU) { a.IntensityMax = B }))}}, "4A/B"},
		{"10A/B", Code{Terms: []Term{one(with(au(10, Both, A, false), func(a *AU) { a.IntensityMax = B }))}}, "10A/B"},
		{"4C/B", Code{Terms: []Term{one(with(au(4, Both, B, false), func(a *AU) { a.IntensityMax = C }))}}, "4B/C"},
		{"4A/B/D?", Code{Terms: []Term{one(with(au(4, Both, A, true), func(a *AU) { a.IntensityMax = D }))}}, "4A/D?"},
		{"4B/B", Code{Terms: []Term{one(au(4, Both, B, false))}}, "4B"},
		{"4A/B/14", Code{Terms: []Term{one(with(au(4, Both, A, false), func(a *AU) { a.IntensityMax = B }), b(14))}}, "4A/B/14"},
		{"A/L12", Code{Terms: []Term{one(au(12, Asymmetric, 0, false), au(12, Left, 0, false))}}, "A12/L12"},
		{"L/R/A14C", Code{Terms: []Term{one(au(14, Left, C, false), au(14, Right, C, false), au(14, Asymmetric, C, false))}}, "L14C/R14C/A14C"},
		{"4+38", Code{Terms: []Term{one(b(4)), one(b(38))}}, "4+38"},
		{"L12 + 61", Code{Terms: []Term{one(au(12, Left, 0, false)), one(b(61))}}, "L12+61"},
		{"AD19", Code{Terms: []Term{one(with(b(19), func(a *AU) { a.Kind = KindAD }))}}, "AD19"},
		{"AD 30", Code{Terms: []Term{one(with(b(30), func(a *AU) { a.Kind = KindAD }))}}, "AD30"},
		{"4+M59", Code{Terms: []Term{one(b(4)), one(with(b(59), func(a *AU) { a.Kind = KindM }))}}, "4+M59"},
		{"m 60", Code{Terms: []Term{one(with(b(60), func(a *AU) { a.Kind = KindM }))}}, "M60"},
		{"R14A or 17A or 24A", Code{Terms: []Term{one(au(14, Right, A, false), au(17, Both, A, false), au(24, Both, A, false))}}, "R14A/17A/24A"},
		{"L12 or L14", Code{Terms: []Term{one(au(12, Left, 0, false), au(14, Left, 0, false))}}, "L12/L14"},
		{"12+15 ", Code{Terms: []Term{one(b(12)), one(b(15))}}, "12+15"},
		{"12\u00a0+\u00a015", Code{Terms: []Term{one(b(12)), one(b(15))}}, "12+15"},
	}
	for _, tc := range tests {
		got, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Parse(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		if s := got.String(); s != tc.out {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.in, s, tc.out)
		}
		again, err := Parse(got.String())
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("round trip of %q: %+v, %v", tc.in, again, err)
		}
	}
}

// TestParseLenient: what is not FACS is kept verbatim as remarks and the
// rest still reads; a conjunct only partly FACS is a remark as a whole.
func TestParseLenient(t *testing.T) {
	tests := []struct {
		in      string
		out     string
		remarks []string
	}{
		{"R14+17+soft focus", "R14+17", []string{"soft focus"}},
		{"soft focus+R14", "R14", []string{"soft focus"}},
		{"soft+focus", "", []string{"soft", "focus"}},
		{"4++7", "4+7", []string{"+"}},
		{"12 or blah+4", "4", []string{"12 or blah"}},
		{"(4+7)/43+12", "12", []string{"(4+7)/43"}},
		{"4+é+7", "4+7", []string{"é"}},
		{"12 (unclear", "12", []string{"(unclear"}},
		{"4)", "4", []string{")"}},
		{"Double AU4", "4", []string{"Double"}},
		{"ref(x)+12", "12", []string{"ref(x)"}},
		{"(12 + hm)", "", []string{"(12 + hm)"}},
		{"12 / / 14", "12/14", []string{"/"}},
		{"4+7 or", "4+7", []string{"or"}},
		{"4+0", "4", []string{"0"}},
		{"?12 ??", "12?+?", nil},
		{strings.Repeat("(1", 600), "", []string{strings.Repeat("(1", 600)}},
	}
	for _, tc := range tests {
		c, rs := ParseLenient(tc.in)
		var texts []string
		for _, r := range rs {
			texts = append(texts, r.Text)
			if r.Pos < 0 || r.Pos+len(r.Text) > len(tc.in) || tc.in[r.Pos:r.Pos+len(r.Text)] != r.Text || r.Reason == "" {
				t.Errorf("ParseLenient(%q): remark %+v does not point into the input", tc.in, r)
			}
		}
		if c.String() != tc.out || !reflect.DeepEqual(texts, tc.remarks) {
			t.Errorf("ParseLenient(%q) = %q, %q; want %q, %q", tc.in, c.String(), texts, tc.out, tc.remarks)
		}
		if _, err := Parse(tc.in); (err != nil) != (len(tc.remarks) > 0) {
			t.Errorf("Parse(%q): %v, but ParseLenient has %d remarks", tc.in, err, len(rs))
		}
	}
}

// fuzzSeeds are the forms coders write (real-sheet oddities included).
var fuzzSeeds = []string{"4+7", "R12", "L14", "12B", "4+L10", "1+2+25", "12 or 14", "1/2",
	"A2", "12?", "R12A+R14A", "4, 7", "1 2 4", "0", "", "AU 4+AU12C", "4+7/43", "?12", "++", "a u",
	"?", "4+?", "(R6 or R12)+R15", "(R6 or R12) + R15", "T18", "B18+25", "4+13+T18+39", "T23",
	"ref(7B)+43", "ref(L10)+A12B", "7B+ ref(43)", "ref(43)", "R14+17+soft focus", "4A/B", "10A/B",
	"A/L12", "4+38", "L2+26+38", "L12 + 61", "AD19", "M59+4", "R14A or 17A or 24A", "(4+7)/43",
	"((12)", "12+15 ", "4D+ref(6)+7C+43E", "L/R12B?", "4A/B/C", "ref((4+7))", "(?)"}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, rs := ParseLenient(s)
		for _, r := range rs {
			if r.Pos < 0 || r.Pos+len(r.Text) > len(s) || s[r.Pos:r.Pos+len(r.Text)] != r.Text {
				t.Fatalf("ParseLenient(%q): remark %+v does not match the input", s, r)
			}
		}
		strict, err := Parse(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q): error %T is not *ParseError", s, err)
			}
			if pe.Pos < 0 || pe.Pos > len(s) || !strings.HasPrefix(s[pe.Pos:], pe.Token) {
				t.Fatalf("Parse(%q): pos %d token %q do not match the input", s, pe.Pos, pe.Token)
			}
			if len(rs) == 0 {
				t.Fatalf("Parse(%q) fails but ParseLenient has no remark", s)
			}
		} else if len(rs) > 0 || !reflect.DeepEqual(strict, c) {
			t.Fatalf("Parse(%q) = %+v but ParseLenient = %+v, %v", s, strict, c, rs)
		}
		// Parse → canonical write → parse is stable, remarks or not.
		out := c.String()
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("ParseLenient(%q) ok but its canonical form %q fails: %v", s, out, err)
		}
		if !reflect.DeepEqual(again, c) {
			t.Fatalf("round trip %q -> %q: %+v != %+v", s, out, again, c)
		}
		if again.String() != out {
			t.Fatalf("canonical form not stable: %q -> %q", out, again.String())
		}
		for _, a := range c.AUs() {
			if a.Number < 1 || a.Number > 99 {
				t.Fatalf("ParseLenient(%q): AU number %d out of range", s, a.Number)
			}
			if a.IntensityMax.Valid() && (!a.Intensity.Valid() || a.IntensityMax <= a.Intensity) {
				t.Fatalf("ParseLenient(%q): bad intensity range %+v", s, a)
			}
		}
	})
}

func TestLetters(t *testing.T) {
	for _, l := range []Letter{A, B, C, D, E} {
		if got := LetterFromValue(l.Value()); got != l {
			t.Errorf("LetterFromValue(%v.Value()=%v) = %v", l, l.Value(), got)
		}
		p, err := ParseLetter(strings.ToLower(l.String()))
		if err != nil || p != l {
			t.Errorf("ParseLetter(%q) = %v, %v", l.String(), p, err)
		}
	}
	if A.Word() != "trace" || B.Word() != "slight" || C.Word() != "marked" || D.Word() != "severe" || E.Word() != "maximum" {
		t.Error("intensity words do not follow FACS")
	}
	cases := []struct {
		v    float64
		want Letter
	}{{0, NoLetter}, {0.05, NoLetter}, {0.1, A}, {0.29, A}, {0.3, B}, {0.55, C}, {0.7, D}, {0.95, E}, {1, E}, {7, E}, {-1, NoLetter}}
	for _, c := range cases {
		if got := LetterFromValue(c.v); got != c.want {
			t.Errorf("LetterFromValue(%v) = %q, want %q", c.v, got, c.want)
		}
	}
	if _, err := ParseLetter("F"); err == nil {
		t.Error("ParseLetter(F) accepted")
	}
	// Monotone: a stronger value never yields a weaker letter.
	prev := NoLetter
	for v := 0.0; v <= 1.0; v += 0.01 {
		l := LetterFromValue(v)
		if l != NoLetter && prev != NoLetter && l < prev {
			t.Fatalf("not monotone at %v", v)
		}
		if l != NoLetter {
			prev = l
		}
	}
}

func TestSides(t *testing.T) {
	for _, s := range []Side{Both, Left, Right, Asymmetric, Top, Bottom} {
		for _, name := range []string{s.String(), s.Prefix()} {
			got, err := ParseSide(name)
			if err != nil || got != s {
				t.Errorf("ParseSide(%q) = %v, %v", name, got, err)
			}
		}
	}
	if _, err := ParseSide("up"); err == nil {
		t.Error("ParseSide(up) accepted")
	}
}

func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		if _, err := Parse("R12A+R14A+4+7/43+AU 25B?"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLetterOfIntensityBoundaries: the letter is the letter of the number
// as printed (two decimals), at every boundary of the documented scale
// (A from 0.50, B from 1.50, C from 2.50, D from 3.50, E from 4.50).
func TestLetterOfIntensityBoundaries(t *testing.T) {
	// documented reads the scale off the printed number.
	documented := func(printed string) Letter {
		var v float64
		if _, err := fmt.Sscanf(printed, "%f", &v); err != nil {
			t.Fatal(err)
		}
		h := int(math.Round(v * 100)) // the printed hundredths, exactly
		switch {
		case h < 50:
			return NoLetter
		case h < 150:
			return A
		case h < 250:
			return B
		case h < 350:
			return C
		case h < 450:
			return D
		}
		return E
	}
	for _, c := range []struct {
		v    float64
		want Letter
	}{
		{0.494, NoLetter}, {0.497, A}, {0.5, A}, {1.49, A}, {1.494, A}, {1.497, B}, {1.5, B},
		{2.4949, B}, {2.496, C}, {3.4951, D}, {3.5, D}, {4.49, D}, {4.495, E}, {5, E}, {9, E},
		{0, NoLetter}, {-0.2, NoLetter}, {math.NaN(), NoLetter},
	} {
		if got := LetterOfIntensity(c.v); got != c.want {
			t.Errorf("LetterOfIntensity(%v) = %q, want %q", c.v, got, c.want)
		}
	}
	// Around every boundary, in steps finer than the printing: the letter
	// always matches the printed stored value's.
	for _, b := range []float64{0.5, 1.5, 2.5, 3.5, 4.5} {
		for k := -200; k <= 200; k++ {
			v := b + float64(k)*0.0001
			// The stored value (events.json's round2), printed.
			printed := fmt.Sprintf("%.2f", math.Round(v*100)/100)
			if got, want := LetterOfIntensity(v), documented(printed); got != want {
				t.Errorf("%v prints as %s: letter %q, the scale says %q", v, printed, got, want)
			}
		}
	}
}
