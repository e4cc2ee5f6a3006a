package facs

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// templates are the seven sentence frames MER-CLIP's authors place an AU
// description in (their code's default prompt list, Liusff/MER-CLIP,
// Apache-2.0); %s receives Movements.
var templates = [...]string{
	"This micro-expression involves %s.",
	"Key features of this micro-expression are %s.",
	"This micro-expression is characterized by %s.",
	"One can identify this micro-expression by %s.",
	"This micro-expression typically manifests as %s.",
	"The hallmark of this micro-expression is %s.",
	"An identifiable trait of this micro-expression is %s.",
}

// Templates returns the seven sentence frames (each with one %s).
func Templates() []string { return append([]string(nil), templates[:]...) }

// MovementOf describes one AU's movement, side-aware: "pulling the left
// corner of the lips". Asymmetric actions add ", more strongly on one side"
// (sheets do not say which); uncertain ones end with "might be present",
// as MER-CLIP's data lists write them.
func MovementOf(a AU) string {
	i := Describe(a.Number)
	var s string
	switch {
	case (a.Side == Left || a.Side == Right) && i.Sided != "":
		s = fmt.Sprintf(i.Sided, a.Side.String())
	case a.Side == Left || a.Side == Right:
		s = i.Movement + " on the " + a.Side.String() + " side"
	case a.Side == Asymmetric:
		s = i.Movement + ", more strongly on one side"
	case a.Side == Top:
		s = i.Movement + " (upper lip)"
	case a.Side == Bottom:
		s = i.Movement + " (lower lip)"
	default:
		s = i.Movement
	}
	if a.Uncertain {
		s += " might be present"
	}
	return s
}

// Movements describes the whole code in MER-CLIP's style: one movement as
// is ("raising the inner part of the brows"), several as "a combination of
// lowering the brows, tightening the lids and wrinkling the nose";
// alternatives are joined with "or". The same AU coded on the left and on
// the right is described once for both sides. Visibility codes (70–74) are
// left out: they describe the recording, not the face. The empty code is
// "no visible facial movement".
func Movements(c Code) string {
	terms := mergeSides(c.Terms)
	var parts []string
	for _, t := range terms {
		var alts []string
		for _, a := range t {
			if Describe(a.Number).NotAction {
				continue
			}
			alts = append(alts, MovementOf(a))
		}
		if len(alts) > 0 {
			parts = append(parts, strings.Join(alts, " or "))
		}
	}
	switch len(parts) {
	case 0:
		return "no visible facial movement"
	case 1:
		return parts[0]
	}
	return "a combination of " + JoinAnd(parts)
}

// mergeSides folds single-AU terms that code the same AU on the left and on
// the right into one bilateral AU at the place of the first.
func mergeSides(terms []Term) []Term {
	out := make([]Term, 0, len(terms))
	used := make([]bool, len(terms))
	for i, t := range terms {
		if used[i] {
			continue
		}
		if len(t) == 1 && (t[0].Side == Left || t[0].Side == Right) {
			for j := i + 1; j < len(terms); j++ {
				u := terms[j]
				if !used[j] && len(u) == 1 && u[0].Number == t[0].Number &&
					u[0].Side != t[0].Side && (u[0].Side == Left || u[0].Side == Right) {
					used[j] = true
					a := t[0]
					a.Side = Both
					a.Uncertain = a.Uncertain && u[0].Uncertain
					t = Term{a}
					break
				}
			}
		}
		out = append(out, t)
	}
	return out
}

// JoinAnd joins phrases as English lists: "a", "a and b", "a, b and c".
func JoinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// Sentence places Movements(c) in one of the seven templates, chosen with r,
// so a given seed always yields the same sentence.
func Sentence(c Code, r *rand.Rand) string {
	return fmt.Sprintf(templates[r.IntN(len(templates))], Movements(c))
}

// NewRand returns the deterministic generator tell uses for seeded phrasing.
func NewRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}
