package synth

import (
	"fmt"

	"github.com/tell-project/tell/facs"
)

// side of the face an anchor belongs to, from the subject's point of view
// (FACS convention): the subject's right is the image's left.
const (
	sideBoth  = 0
	sideRight = 1 // subject's right, image left (landmarks 17-21, 36-41, 48)
	sideLeft  = 2 // subject's left, image right (landmarks 22-26, 42-47, 54)
)

// anchor is one Gaussian bump of an AU's displacement field: centred on the
// mean of some landmarks plus an offset, moving skin in dir. Offsets, dirs and
// sigma are in face coordinates (x along the eye line towards the image's
// right, y down) in units of the inter-ocular distance (IOD).
type anchor struct {
	pts   []int
	off   [2]float64
	dir   [2]float64
	sigma float64
	side  int
}

// auFields describes each AU's movement as FACS states it (Ekman, Friesen &
// Hager 2002), as smooth fields on the landmarks of its region. Directions
// are relative to the face; a side-specific AU (R12) keeps only that side's
// anchors.
var auFields = map[int][]anchor{
	// AU1 inner brow raiser: inner brow ends up.
	1: {
		{pts: []int{21}, dir: [2]float64{0, -1}, sigma: .16, side: sideRight},
		{pts: []int{22}, dir: [2]float64{0, -1}, sigma: .16, side: sideLeft},
		{pts: []int{21}, off: [2]float64{0, -.25}, dir: [2]float64{0, -.6}, sigma: .18, side: sideRight},
		{pts: []int{22}, off: [2]float64{0, -.25}, dir: [2]float64{0, -.6}, sigma: .18, side: sideLeft},
	},
	// AU2 outer brow raiser: lateral brow up.
	2: {
		{pts: []int{18}, dir: [2]float64{0, -1}, sigma: .18, side: sideRight},
		{pts: []int{25}, dir: [2]float64{0, -1}, sigma: .18, side: sideLeft},
		{pts: []int{17}, dir: [2]float64{0, -.7}, sigma: .14, side: sideRight},
		{pts: []int{26}, dir: [2]float64{0, -.7}, sigma: .14, side: sideLeft},
	},
	// AU4 brow lowerer: brows down and drawn together.
	4: {
		{pts: []int{21}, dir: [2]float64{.6, .7}, sigma: .15, side: sideRight},
		{pts: []int{22}, dir: [2]float64{-.6, .7}, sigma: .15, side: sideLeft},
		{pts: []int{19}, dir: [2]float64{.3, .8}, sigma: .17, side: sideRight},
		{pts: []int{24}, dir: [2]float64{-.3, .8}, sigma: .17, side: sideLeft},
	},
	// AU5 upper lid raiser.
	5: {
		{pts: []int{37, 38}, dir: [2]float64{0, -1}, sigma: .08, side: sideRight},
		{pts: []int{43, 44}, dir: [2]float64{0, -1}, sigma: .08, side: sideLeft},
	},
	// AU6 cheek raiser: infraorbital skin and lower lid pushed up.
	6: {
		{pts: []int{40, 41}, off: [2]float64{0, .35}, dir: [2]float64{0, -1}, sigma: .2, side: sideRight},
		{pts: []int{46, 47}, off: [2]float64{0, .35}, dir: [2]float64{0, -1}, sigma: .2, side: sideLeft},
		{pts: []int{40, 41}, dir: [2]float64{0, -.5}, sigma: .09, side: sideRight},
		{pts: []int{46, 47}, dir: [2]float64{0, -.5}, sigma: .09, side: sideLeft},
	},
	// AU7 lid tightener: lower lid up, upper lid slightly down.
	7: {
		{pts: []int{40, 41}, dir: [2]float64{0, -1}, sigma: .08, side: sideRight},
		{pts: []int{46, 47}, dir: [2]float64{0, -1}, sigma: .08, side: sideLeft},
		{pts: []int{37, 38}, dir: [2]float64{0, .3}, sigma: .07, side: sideRight},
		{pts: []int{43, 44}, dir: [2]float64{0, .3}, sigma: .07, side: sideLeft},
	},
	// AU9 nose wrinkler: skin along the nose sides pulled up.
	9: {
		{pts: []int{31}, dir: [2]float64{0, -1}, sigma: .12},
		{pts: []int{35}, dir: [2]float64{0, -1}, sigma: .12},
		{pts: []int{28}, dir: [2]float64{0, -.5}, sigma: .12},
	},
	// AU10 upper lip raiser.
	10: {
		{pts: []int{50, 51, 52}, dir: [2]float64{0, -1}, sigma: .12},
		{pts: []int{49}, dir: [2]float64{0, -.6}, sigma: .1},
		{pts: []int{53}, dir: [2]float64{0, -.6}, sigma: .1},
	},
	// AU12 lip corner puller: corners up and out.
	12: {
		{pts: []int{48}, dir: [2]float64{-.6, -.8}, sigma: .14, side: sideRight},
		{pts: []int{54}, dir: [2]float64{.6, -.8}, sigma: .14, side: sideLeft},
	},
	// AU14 dimpler: corners tightened inwards, slightly up.
	14: {
		{pts: []int{48}, dir: [2]float64{.8, -.3}, sigma: .1, side: sideRight},
		{pts: []int{54}, dir: [2]float64{-.8, -.3}, sigma: .1, side: sideLeft},
	},
	// AU15 lip corner depressor.
	15: {
		{pts: []int{48}, dir: [2]float64{0, 1}, sigma: .13, side: sideRight},
		{pts: []int{54}, dir: [2]float64{0, 1}, sigma: .13, side: sideLeft},
	},
	// AU16 lower lip depressor: lower lip pulled down and a little
	// sideways (depressor labii inferioris runs down and out).
	16: {
		{pts: []int{56, 57, 58}, dir: [2]float64{0, 1}, sigma: .11},
		{pts: []int{59}, dir: [2]float64{-.35, .7}, sigma: .08},
		{pts: []int{55}, dir: [2]float64{.35, .7}, sigma: .08},
	},
	// AU17 chin raiser: chin boss and lower lip pushed up.
	17: {
		{pts: []int{8}, off: [2]float64{0, -.25}, dir: [2]float64{0, -1}, sigma: .2},
		{pts: []int{57}, dir: [2]float64{0, -.5}, sigma: .1},
	},
	// AU20 lip stretcher: corners pulled sideways.
	20: {
		{pts: []int{48}, dir: [2]float64{-1, .15}, sigma: .13, side: sideRight},
		{pts: []int{54}, dir: [2]float64{1, .15}, sigma: .13, side: sideLeft},
	},
	// AU23 lip tightener: lips narrowed and thinned.
	23: {
		{pts: []int{48}, dir: [2]float64{.6, 0}, sigma: .09},
		{pts: []int{54}, dir: [2]float64{-.6, 0}, sigma: .09},
		{pts: []int{51}, dir: [2]float64{0, .4}, sigma: .08},
		{pts: []int{57}, dir: [2]float64{0, -.4}, sigma: .08},
	},
	// AU25 lips part: the lips separate, the lower inner lip down and the
	// upper inner lip up.
	25: {
		{pts: []int{66}, dir: [2]float64{0, 1}, sigma: .08},
		{pts: []int{62}, dir: [2]float64{0, -.6}, sigma: .08},
	},
	// AU26 jaw drop: the whole chin and lower lip down.
	26: {
		{pts: []int{7, 8, 9}, dir: [2]float64{0, 1}, sigma: .3},
		{pts: []int{57}, dir: [2]float64{0, 1}, sigma: .15},
	},
}

// AUs lists the Action Units synth can render, ascending.
func AUs() []int {
	return []int{1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 16, 17, 20, 23, 25, 26}
}

// ActiveAU is one AU of an expression: number, side ("" both, "L", "R" from
// the subject's view) and peak intensity in [0,1], 1 meaning the largest
// amplitude of the clip's configuration.
type ActiveAU struct {
	AU        int
	Side      string
	Intensity float64
}

// String renders the AU in FACS notation with an intensity letter.
func (a ActiveAU) String() string {
	return fmt.Sprintf("%s%d%s", a.Side, a.AU, facs.LetterFromValue(a.Intensity))
}

// prototype is an EMFACS emotion prototype from facs. A fixed level (0 =
// random) comes from an intensity letter in the prototype (5B, R12A).
type prototype struct {
	label string
	aus   []protoAU
}

type protoAU struct {
	au    int
	side  string
	level float64
}

// prototypes are facs's EMFACS prototypes; synth draws its expressions from them.
var prototypes = func() []prototype {
	var out []prototype
	for _, p := range facs.Prototypes() {
		pr := prototype{label: p.Emotion}
		for _, a := range p.Code.AUs() {
			side := ""
			switch a.Side {
			case facs.Left:
				side = "L"
			case facs.Right:
				side = "R"
			}
			pr.aus = append(pr.aus, protoAU{au: a.Number, side: side, level: a.Value(0)})
		}
		out = append(out, pr)
	}
	return out
}()

// codePrototype turns a FACS code into a prototype labelled with its
// objective class; every AU must be one synth can render.
func codePrototype(s string) (prototype, error) {
	c, err := facs.Parse(s)
	if err != nil {
		return prototype{}, fmt.Errorf("synth: code %q: %w", s, err)
	}
	if c.Empty() {
		return prototype{}, fmt.Errorf("synth: code %q has no AU", s)
	}
	p := prototype{label: "class " + facs.Objective(c).String()}
	for _, a := range c.AUs() {
		if _, ok := auFields[a.Number]; !ok {
			return prototype{}, fmt.Errorf("synth: code %q: AU%d cannot be rendered (synth renders %v)", s, a.Number, AUs())
		}
		side := ""
		switch a.Side {
		case facs.Left:
			side = "L"
		case facs.Right:
			side = "R"
		}
		p.aus = append(p.aus, protoAU{au: a.Number, side: side, level: a.Value(0)})
	}
	return p, nil
}

// Labels lists the emotion labels synth can render, in prototype order.
func Labels() []string {
	out := make([]string, len(prototypes))
	for i, p := range prototypes {
		out[i] = p.label
	}
	return out
}
