package facs

import (
	"fmt"
	"math"
)

// Letter is a FACS intensity letter. The zero value means "not coded".
type Letter byte

// The FACS intensity scale: A trace, B slight, C marked or pronounced,
// D severe or extreme, E maximum.
const (
	NoLetter Letter = 0
	A        Letter = 'A'
	B        Letter = 'B'
	C        Letter = 'C'
	D        Letter = 'D'
	E        Letter = 'E'
)

// Valid reports whether l is A..E.
func (l Letter) Valid() bool { return l >= A && l <= E }

// String returns "A".."E", or "" when not coded.
func (l Letter) String() string {
	if !l.Valid() {
		return ""
	}
	return string(rune(l))
}

// Word is the FACS word for the level: trace, slight, marked, severe, maximum.
func (l Letter) Word() string {
	switch l {
	case A:
		return "trace"
	case B:
		return "slight"
	case C:
		return "marked"
	case D:
		return "severe"
	case E:
		return "maximum"
	}
	return ""
}

// Value maps the letter to [0,1] on OpenFace's 0..5 scale divided by 5
// (A 0.2 .. E 1.0), the midpoints of the bins that FromValue uses. Not coded
// returns 0.
func (l Letter) Value() float64 {
	if !l.Valid() {
		return 0
	}
	return float64(l-A+1) / 5
}

// LetterFromValue maps an intensity in [0,1] to a letter: below 0.1 is no
// action (NoLetter); then A [0.1,0.3), B [0.3,0.5), C [0.5,0.7), D [0.7,0.9),
// E from 0.9. Letter.Value of every letter maps back to that letter.
func LetterFromValue(v float64) Letter {
	switch {
	case !(v >= 0.1): // also NaN
		return NoLetter
	case v < 0.3:
		return A
	case v < 0.5:
		return B
	case v < 0.7:
		return C
	case v < 0.9:
		return D
	}
	return E
}

// LetterOfIntensity is the letter of an intensity on the 0–5 scale that
// tell prints (OpenFace's; A = 1 … E = 5, each ±0.5): below 0.5 no letter,
// A from 0.5, B from 1.5, C from 2.5, D from 3.5, E from 4.5. The value
// is first rounded to two decimals as every output stores and prints it
// (math.Round(v*100)/100), so the letter is always the letter of the
// printed number: 1.497 is stored as 1.50 and is B, never "1.50, A".
func LetterOfIntensity(v float64) Letter {
	if !(v >= 0) { // also NaN
		return NoLetter
	}
	// Compare in hundredths, as integers: no binary fraction decides a
	// boundary.
	h := int64(math.Round(v * 100))
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

// ParseLetter reads "A".."E" (either case).
func ParseLetter(s string) (Letter, error) {
	if len(s) == 1 {
		c := s[0] &^ 0x20 // upper case
		if c >= 'A' && c <= 'E' {
			return Letter(c), nil
		}
	}
	return NoLetter, fmt.Errorf("facs: intensity %q is not one of A..E", s)
}

// Side is the side of the face an action is coded on.
type Side uint8

// Sides. Both is the default: bilateral or not specified.
const (
	Both Side = iota
	Left
	Right
	// Asymmetric: both sides act, one more strongly (SAMM's "A" prefix).
	Asymmetric
	// Top and Bottom are FACS 2002's lip prefixes T and B: the action
	// shows on the upper or on the lower lip only (T18, B23).
	Top
	Bottom
)

// String returns "", "left", "right", "asymmetric", "top" or "bottom"
// (the empty string for Both, matching the cot.Evidence convention).
func (s Side) String() string {
	switch s {
	case Left:
		return "left"
	case Right:
		return "right"
	case Asymmetric:
		return "asymmetric"
	case Top:
		return "top"
	case Bottom:
		return "bottom"
	}
	return ""
}

// Prefix returns the FACS prefix letter: "L", "R", "A", "T", "B" or "".
func (s Side) Prefix() string {
	switch s {
	case Left:
		return "L"
	case Right:
		return "R"
	case Asymmetric:
		return "A"
	case Top:
		return "T"
	case Bottom:
		return "B"
	}
	return ""
}

// ParseSide reads a side's name or prefix letter, any case: "", "both" or
// "bilateral"; "left" or "l"; "right" or "r"; "asymmetric" or "a"; "top",
// "upper" or "t"; "bottom", "lower" or "b".
func ParseSide(s string) (Side, error) {
	switch lower(s) {
	case "", "both", "bilateral":
		return Both, nil
	case "left", "l":
		return Left, nil
	case "right", "r":
		return Right, nil
	case "asymmetric", "a":
		return Asymmetric, nil
	case "top", "upper", "t":
		return Top, nil
	case "bottom", "lower", "b":
		return Bottom, nil
	}
	return Both, fmt.Errorf("facs: side %q is not left, right, both, asymmetric, top or bottom", s)
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}
