package facs

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func au(n int, side Side, l Letter, unc bool) AU { return AU{n, side, l, unc} }

func TestParseForms(t *testing.T) {
	one := func(a ...AU) Term { return Term(a) }
	tests := []struct {
		in   string
		want Code
		out  string // canonical form
	}{
		{"4+7", Code{[]Term{one(au(4, Both, 0, false)), one(au(7, Both, 0, false))}}, "4+7"},
		{"R12", Code{[]Term{one(au(12, Right, 0, false))}}, "R12"},
		{"L14", Code{[]Term{one(au(14, Left, 0, false))}}, "L14"},
		{"12B", Code{[]Term{one(au(12, Both, B, false))}}, "12B"},
		{"4+L10", Code{[]Term{one(au(4, Both, 0, false)), one(au(10, Left, 0, false))}}, "4+L10"},
		{"1+2+25", Code{[]Term{one(au(1, Both, 0, false)), one(au(2, Both, 0, false)), one(au(25, Both, 0, false))}}, "1+2+25"},
		{"12 or 14", Code{[]Term{one(au(12, Both, 0, false), au(14, Both, 0, false))}}, "12/14"},
		{"12 OR 14", Code{[]Term{one(au(12, Both, 0, false), au(14, Both, 0, false))}}, "12/14"},
		{"1/2", Code{[]Term{one(au(1, Both, 0, false), au(2, Both, 0, false))}}, "1/2"},
		{"A2", Code{[]Term{one(au(2, Asymmetric, 0, false))}}, "A2"},
		{"12?", Code{[]Term{one(au(12, Both, 0, true))}}, "12?"},
		{"?12", Code{[]Term{one(au(12, Both, 0, true))}}, "12?"},
		{"R12A+R14A", Code{[]Term{one(au(12, Right, A, false)), one(au(14, Right, A, false))}}, "R12A+R14A"},
		{"4, 7", Code{[]Term{one(au(4, Both, 0, false)), one(au(7, Both, 0, false))}}, "4+7"},
		{"4,7,9", Code{[]Term{one(au(4, Both, 0, false)), one(au(7, Both, 0, false)), one(au(9, Both, 0, false))}}, "4+7+9"},
		{"1 2 4", Code{[]Term{one(au(1, Both, 0, false)), one(au(2, Both, 0, false)), one(au(4, Both, 0, false))}}, "1+2+4"},
		{" 4 + 7 ", Code{[]Term{one(au(4, Both, 0, false)), one(au(7, Both, 0, false))}}, "4+7"},
		{"AU4+AU7", Code{[]Term{one(au(4, Both, 0, false)), one(au(7, Both, 0, false))}}, "4+7"},
		{"AU 4, AU 12C", Code{[]Term{one(au(4, Both, 0, false)), one(au(12, Both, C, false))}}, "4+12C"},
		{"r12b", Code{[]Term{one(au(12, Right, B, false))}}, "R12B"},
		{"A12E?", Code{[]Term{one(au(12, Asymmetric, E, true))}}, "A12E?"},
		{"4+7/43", Code{[]Term{one(au(4, Both, 0, false)), one(au(7, Both, 0, false), au(43, Both, 0, false))}}, "4+7/43"},
		{"L12/R14B?", Code{[]Term{one(au(12, Left, 0, false), au(14, Right, B, true))}}, "L12/R14B?"},
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

func FuzzParse(f *testing.F) {
	for _, s := range []string{"4+7", "R12", "L14", "12B", "4+L10", "1+2+25", "12 or 14", "1/2",
		"A2", "12?", "R12A+R14A", "4, 7", "1 2 4", "0", "", "AU 4+AU12C", "4+7/43", "?12", "++", "a u"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q): error %T is not *ParseError", s, err)
			}
			if pe.Pos < 0 || pe.Pos > len(s) || !strings.HasPrefix(s[pe.Pos:], pe.Token) {
				t.Fatalf("Parse(%q): pos %d token %q do not match the input", s, pe.Pos, pe.Token)
			}
			return
		}
		out := c.String()
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q) ok but its canonical form %q fails: %v", s, out, err)
		}
		if !reflect.DeepEqual(again, c) {
			t.Fatalf("round trip %q -> %q: %#v != %#v", s, out, again, c)
		}
		if again.String() != out {
			t.Fatalf("canonical form not stable: %q -> %q", out, again.String())
		}
		for _, a := range c.AUs() {
			if a.Number < 1 || a.Number > 99 {
				t.Fatalf("Parse(%q): AU number %d out of range", s, a.Number)
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
	for _, s := range []Side{Both, Left, Right, Asymmetric} {
		got, err := ParseSide(s.String())
		if err != nil || got != s {
			t.Errorf("ParseSide(%q) = %v, %v", s.String(), got, err)
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
