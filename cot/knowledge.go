package cot

import (
	"strconv"
	"strings"

	"github.com/tell-project/tell/facs"
)

// need is one AU a variant asks for; unilateral asks for a one-sided action
// (contempt's half smile and dimpler).
type need struct {
	au         int
	unilateral bool
}

// variant is one AU configuration that signals an emotion: the EMFACS
// prototype, its major variants, and the partial forms that micro-expression
// coders use (Davison's objective classes, CASME II's criteria). prior says
// how specific the configuration is: 1 for a full prototype, lower for
// fragments that other emotions share.
type variant struct {
	needs  []need
	prior  float64
	source string // where the configuration comes from, for the rationale
	// dataset, when set, limits the variant to rows of that dataset (as
	// facs.DatasetKey folds names): a coding team's own criterion that
	// other teams' criteria contradict.
	dataset string
}

// emotionModel is what the engine knows about one emotion.
type emotionModel struct {
	emotion  string
	variants []variant
	// conflicts are AUs that argue against the emotion when present and not
	// part of the matched variant, with the weight of the objection.
	conflicts map[int]float64
	// gist describes the matched configuration in a psychologist's words.
	gist string
}

// parseVariant reads "6+12" or "u12+u14" ('u' = unilateral).
func parseVariant(s string, prior float64, source string) variant {
	v := variant{prior: prior, source: source}
	for _, part := range strings.Split(s, "+") {
		n := need{}
		if strings.HasPrefix(part, "u") {
			n.unilateral = true
			part = part[1:]
		}
		k, err := strconv.Atoi(part)
		if err != nil {
			panic("cot: bad variant " + s) // programmer error in the table below
		}
		n.au = k
		v.needs = append(v.needs, n)
	}
	return v
}

func variants(source string, prior float64, specs ...string) []variant {
	out := make([]variant, len(specs))
	for i, s := range specs {
		out[i] = parseVariant(s, prior, source)
	}
	return out
}

// only limits variants to one dataset's rows.
func only(dataset string, vs []variant) []variant {
	for i := range vs {
		vs[i].dataset = dataset
	}
	return vs
}

func join(vs ...[]variant) []variant {
	var out []variant
	for _, v := range vs {
		out = append(out, v...)
	}
	return out
}

const (
	srcEMFACS   = "EMFACS prototype"
	srcVariant  = "EMFACS variant"
	srcPartial  = "partial form"
	srcCASME2   = "CASME II coding criterion"
	srcDavison  = "objective class"
	srcFragment = "single-action fragment"
)

// knowledge is built once; it is read-only after package initialisation.
var knowledge = buildModels()

// models returns the knowledge the engine reasons with. Callers must not
// modify it.
func models() []emotionModel { return knowledge }

// forDataset returns m without the variants that belong to another
// dataset's coders (variant.dataset); m itself is not modified.
func (m emotionModel) forDataset(dataset string) emotionModel {
	key := facs.DatasetKey(dataset)
	keep := true
	for _, v := range m.variants {
		keep = keep && (v.dataset == "" || v.dataset == key)
	}
	if keep {
		return m
	}
	out := m
	out.variants = nil
	for _, v := range m.variants {
		if v.dataset == "" || v.dataset == key {
			out.variants = append(out.variants, v)
		}
	}
	return out
}

func buildModels() []emotionModel {
	return []emotionModel{
		{
			emotion: facs.Happiness,
			variants: join(
				variants(srcEMFACS, 1, "6+12", "6+12+25", "6+12+25+26", "6+7+12"),
				variants(srcDavison, 0.9, "7+12"),
				// AU12 alone, either side: CASME II's happiness criterion
				// ("AU6 or AU12", Yan et al. 2014, PLoS ONE 9(1):e86041,
				// Table 3) and Davison's class I (AU12) name no side; a
				// one-sided AU12 counts through lateralFactor.
				variants(srcPartial, 0.85, "12", "12+25"),
				variants(srcFragment, 0.6, "6", "13"),
			),
			conflicts: map[int]float64{15: 0.5, 4: 0.25, 1: 0.1, 20: 0.2},
			gist:      "cheek raising with the lip-corner pull",
		},
		{
			emotion: facs.Sadness,
			variants: join(
				variants(srcEMFACS, 1, "1+4+15", "1+4+15+17", "1+4+11+15", "1+4+15+41"),
				variants(srcVariant, 0.85, "6+15", "6+15+17", "11+15", "1+15", "4+15"),
				variants(srcPartial, 0.75, "1+4", "15+17"),
				variants(srcFragment, 0.55, "1", "15", "11", "41"),
			),
			conflicts: map[int]float64{12: 0.5, 2: 0.3, 5: 0.3, 9: 0.2, 23: 0.2},
			gist:      "inner-brow raising and brow lowering (AU1+AU4, the oblique \"grief\" brow) with depressed lip corners",
		},
		{
			emotion: facs.Surprise,
			variants: join(
				variants(srcEMFACS, 1, "1+2+5+26", "1+2+5+27", "1+2+5+25+26"),
				variants(srcVariant, 0.9, "1+2+26", "1+2+27", "1+2+5", "1+2+25+26"),
				variants(srcPartial, 0.8, "1+2", "1+2+25", "5+26", "5+27"),
				variants(srcFragment, 0.5, "2", "5", "25+26"),
				// AU25 alone: Davison's class II (Davison, Merghani & Yap
				// 2018, J. Imaging 4(10):119, Table 2) and CASME II's
				// surprise criterion ("AU1+2, AU25 or AU2").
				variants(srcDavison, 0.5, "25"),
			),
			conflicts: map[int]float64{4: 0.5, 7: 0.3, 9: 0.4, 15: 0.3, 23: 0.4, 24: 0.4, 20: 0.3, 12: 0.2},
			gist:      "raised brows, widened eyes and a dropped jaw",
		},
		{
			emotion: facs.Fear,
			variants: join(
				variants(srcEMFACS, 1, "1+2+4+5+7+20+26", "1+2+4+5+20+26", "1+2+4+5+20+25", "1+2+4+5+20+27"),
				variants(srcVariant, 0.9, "1+2+4+5", "1+2+5+20", "1+2+4+20", "5+20", "4+5+20"),
				variants(srcDavison, 0.8, "1+2+4"),
				variants(srcFragment, 0.6, "20"),
			),
			conflicts: map[int]float64{12: 0.4, 9: 0.3, 23: 0.2, 15: 0.2},
			gist:      "raised and drawn-together brows (AU1+AU2+AU4), raised upper lids and horizontally stretched lips",
		},
		{
			emotion: facs.Anger,
			variants: join(
				variants(srcEMFACS, 1, "4+5+7+23", "4+5+7+24", "4+5+7+17+23", "4+5+7+17+24", "4+5+7+10+23+25", "4+5+7+10+22+23+25"),
				variants(srcVariant, 0.9, "4+5+23", "4+7+23", "4+5+24", "4+7+24", "4+7+17+23", "4+7+17+24"),
				variants(srcPartial, 0.8, "4+23", "4+24", "4+5+7", "4+38"),
				variants(srcDavison, 0.7, "17+24", "4+5"),
				// 4+7 is Davison's class III (anger; Davison, Merghani &
				// Yap 2018, Table 2) and the brow and lids of every EMFACS
				// anger prototype; CASME II's coders call it disgust (see
				// disgust), which wins on CASME II rows.
				variants(srcDavison, 0.8, "4+7"),
				variants(srcFragment, 0.5, "23", "24"),
				// AU4 alone is Davison's class III; AU7 alone is in every
				// EMFACS anger prototype (4+5+7+23), like AU4 a fragment.
				variants(srcFragment, 0.4, "4", "7"),
			),
			conflicts: map[int]float64{1: 0.3, 2: 0.3, 12: 0.4, 15: 0.2, 20: 0.2},
			gist:      "lowered brows, a hard stare from raised upper lids and tightened or pressed lips",
		},
		{
			emotion: facs.Disgust,
			variants: join(
				variants(srcEMFACS, 1, "9+15+16", "9+16+25", "10+16+25", "9+15+16+25"),
				variants(srcVariant, 0.95, "9+10", "4+9+10", "9+10+16", "9+10+17"),
				variants(srcVariant, 0.9, "9+16", "10+16", "9+17", "10+17", "4+7+9", "4+7+10", "4+9", "4+10", "4+5+7+9", "4+9+17"),
				variants(srcVariant, 0.85, "9", "10", "7+10"),
				// CASME II's disgust criterion ("AU9, AU10 or AU4+AU7",
				// Yan et al. 2014, Table 3): on CASME II rows only, where it
				// outweighs Davison's anger reading of 4+7.
				only("casme2", variants(srcCASME2, 0.85, "4+7")),
				variants(srcPartial, 0.7, "15+16"),
			),
			conflicts: map[int]float64{12: 0.3, 1: 0.2, 2: 0.3, 5: 0.3, 20: 0.2},
			gist:      "a wrinkled nose with the lip corners and lower lip pulled down",
		},
		{
			emotion: facs.Contempt,
			variants: join(
				variants(srcEMFACS, 1, "u12+u14"),
				variants(srcVariant, 0.9, "u14"),
				// A one-sided AU12 alone is not an EMFACS contempt
				// configuration (R12A+R14A needs the dimpler): a reading
				// weaker than happiness's AU12, kept as the rival.
				variants(srcPartial, 0.5, "u12"),
				variants(srcFragment, 0.45, "14"),
			),
			conflicts: map[int]float64{6: 0.4, 15: 0.3, 1: 0.2, 2: 0.2},
			gist:      "a one-sided tightening and dimpling of the lip corner",
		},
		{
			emotion: facs.Repression,
			variants: join(
				variants(srcCASME2, 0.9, "15+17", "15", "17"),
				variants(srcPartial, 0.6, "14", "24", "14+17"),
			),
			conflicts: map[int]float64{6: 0.3, 9: 0.3, 1: 0.2, 2: 0.2, 5: 0.2},
			gist:      "lip-corner depression and chin raising, the movements of holding a feeling back",
		},
	}
}

// family reports whether emotion e satisfies label l: the same word, or the
// MEGC2019 class of e ("disgust" satisfies "negative").
func family(e, l, dataset string) bool {
	e, l = strings.ToLower(e), strings.ToLower(strings.TrimSpace(l))
	if e == l {
		return true
	}
	if c, ok := readingClass(e, dataset); ok && c == l && e != l {
		switch l {
		case facs.Negative, facs.Positive, facs.Surprise:
			return true
		}
	}
	return false
}
