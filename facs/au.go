// Package facs is the Facial Action Coding System knowledge that the rest of
// tell speaks in: the Action Unit (AU) catalogue, the A..E intensity scale,
// sides, a parser and canonical writer for the AU strings found in dataset
// sheets, emotion prototypes (EMFACS), Davison's objective classes, the
// CASME II coding criteria, the MEGC2019 three-class mapping, and plain-text
// movement descriptions in MER-CLIP's style.
//
// Limits: the tables (AU catalogue, EMFACS prototypes, objective classes,
// CASME II criteria, movement texts) are written from the published sources
// and rounded where they disagree; they are descriptions, not measurements,
// and an emotion prototype is a convention of the literature, not a law of
// faces.
//
// The package imports nothing else from tell.
package facs

import (
	"fmt"
	"sort"
)

// Region is the part of the face an Action Unit moves.
type Region string

// Facial regions, from top to bottom.
const (
	RegionBrows Region = "brows"
	RegionEyes  Region = "eyes"
	RegionNose  Region = "nose"
	RegionCheek Region = "cheeks"
	RegionMouth Region = "mouth"
	RegionChin  Region = "chin"
	RegionJaw   Region = "jaw"
	RegionHead  Region = "head"
	RegionGaze  Region = "gaze"
)

// Info describes one Action Unit.
type Info struct {
	Number int
	// Name is the FACS name, e.g. "Lip Corner Puller".
	Name string
	// Muscles is the muscular basis as FACS gives it.
	Muscles string
	Region  Region
	// Movement is a plain description of the movement on both sides, in the
	// gerund form MER-CLIP uses: "raising the inner part of the brows". Where
	// the MER-CLIP authors' data lists describe an AU (their
	// data/<dataset>/AUlabel_map.txt, Apache-2.0, Liusff/MER-CLIP), the
	// wording is theirs (docs/merclip.md lists each difference left).
	Movement string
	// Sided is Movement for one side: a format with one %s for "left" or
	// "right" ("pulling the %s corner of the lips"). Empty when the action
	// has no meaningful side (AU17 chin raiser, AU26 jaw drop).
	Sided string
	// Emotions lists the emotions this AU is usually tied to, most typical
	// first; empty when it carries no emotional meaning by itself.
	Emotions []string
	// Incidental marks actions (blinks, head and eye movements) that
	// accompany expressions without being part of them; emotion matching
	// ignores them.
	Incidental bool
	// NotAction marks FACS's visibility and scoring codes (70–74): they say
	// what could not be seen, not what moved, and give no evidence.
	NotAction bool
}

// Lateral reports whether the action can be coded on one side only.
func (i Info) Lateral() bool { return i.Sided != "" }

// catalogue is indexed by AU number; zero entries are unknown.
var catalogue = func() [100]Info {
	var c [100]Info
	for _, i := range []Info{
		{1, "Inner Brow Raiser", "frontalis, pars medialis", RegionBrows,
			"raising the inner part of the brows", "raising the inner part of the %s brow",
			[]string{Sadness, Fear, Surprise}, false, false},
		{2, "Outer Brow Raiser", "frontalis, pars lateralis", RegionBrows,
			"raising the outer part of the brows", "raising the outer part of the %s brow",
			[]string{Surprise, Fear}, false, false},
		{4, "Brow Lowerer", "depressor glabellae, depressor supercilii, corrugator supercilii", RegionBrows,
			"lowering the brows", "lowering the %s brow",
			[]string{Anger, Sadness, Fear, Disgust}, false, false},
		{5, "Upper Lid Raiser", "levator palpebrae superioris", RegionEyes,
			"raising the upper lids", "raising the %s upper lid",
			[]string{Surprise, Fear, Anger}, false, false},
		{6, "Cheek Raiser", "orbicularis oculi, pars orbitalis", RegionCheek,
			"raising the cheeks", "raising the %s cheek",
			[]string{Happiness}, false, false},
		{7, "Lid Tightener", "orbicularis oculi, pars palpebralis", RegionEyes,
			"tightening the lids", "tightening the %s lid",
			[]string{Anger, Disgust, Fear}, false, false},
		{8, "Lips Toward Each Other", "orbicularis oris", RegionMouth,
			"drawing the lips towards each other", "",
			nil, false, false},
		{9, "Nose Wrinkler", "levator labii superioris alaeque nasi", RegionNose,
			"wrinkling the nose", "wrinkling the %s side of the nose",
			[]string{Disgust}, false, false},
		{10, "Upper Lip Raiser", "levator labii superioris, caput infraorbitalis", RegionMouth,
			"raising the upper lip", "raising the %s upper lip",
			[]string{Disgust, Anger}, false, false},
		{11, "Nasolabial Deepener", "zygomaticus minor", RegionCheek,
			"deepening the nasolabial furrows", "deepening the %s nasolabial furrow",
			[]string{Sadness}, false, false},
		{12, "Lip Corner Puller", "zygomaticus major", RegionMouth,
			"pulling the corners of the lips", "pulling the %s corner of the lips",
			[]string{Happiness, Contempt}, false, false},
		{13, "Sharp Lip Puller", "levator anguli oris (caninus)", RegionMouth,
			"sharply pulling up the corners of the lips", "sharply pulling up the %s corner of the lips",
			[]string{Happiness}, false, false},
		{14, "Dimpler", "buccinator", RegionMouth,
			"creating the dimples", "creating the %s dimple",
			[]string{Contempt}, false, false},
		{15, "Lip Corner Depressor", "depressor anguli oris (triangularis)", RegionMouth,
			"depressing the corners of the lips", "depressing the %s corner of the lips",
			[]string{Sadness, Disgust}, false, false},
		{16, "Lower Lip Depressor", "depressor labii inferioris", RegionMouth,
			"depressing the lower lip", "depressing the %s side of the lower lip",
			[]string{Disgust}, false, false},
		{17, "Chin Raiser", "mentalis", RegionChin,
			"raising the chin", "",
			[]string{Sadness, Anger, Disgust}, false, false},
		{18, "Lip Pucker", "incisivii labii superioris and incisivii labii inferioris", RegionMouth,
			"puckering the lips", "",
			nil, false, false},
		{19, "Tongue Show", "", RegionMouth,
			"showing the tongue", "",
			nil, true, false},
		{20, "Lip Stretcher", "risorius with platysma", RegionMouth,
			"stretching the lips", "stretching the %s corner of the lips",
			[]string{Fear}, false, false},
		{21, "Neck Tightener", "platysma", RegionChin,
			"tightening the neck", "",
			[]string{Fear}, false, false},
		{22, "Lip Funneler", "orbicularis oris", RegionMouth,
			"pursing the lips into a funnel shape", "",
			nil, false, false},
		{23, "Lip Tightener", "orbicularis oris", RegionMouth,
			"tightening the lips", "tightening the %s side of the lips",
			[]string{Anger}, false, false},
		{24, "Lip Pressor", "orbicularis oris", RegionMouth,
			"pressing the lips", "",
			[]string{Anger}, false, false},
		{25, "Lips Part", "depressor labii inferioris, or relaxation of mentalis or orbicularis oris", RegionMouth,
			"parting the lips", "",
			[]string{Surprise, Fear}, false, false},
		{26, "Jaw Drop", "masseter; relaxed temporalis and internal pterygoid", RegionJaw,
			"dropping the jaw", "",
			[]string{Surprise, Fear}, false, false},
		{27, "Mouth Stretch", "pterygoids, digastric", RegionJaw,
			"stretching the mouth wide open", "",
			[]string{Surprise, Fear}, false, false},
		{28, "Lip Suck", "orbicularis oris", RegionMouth,
			"sucking the lips", "",
			nil, false, false},
		{29, "Jaw Thrust", "", RegionJaw,
			"thrusting the jaw forward", "",
			nil, false, false},
		{30, "Jaw Sideways", "", RegionJaw,
			"moving the jaw sideways", "moving the jaw to the %s",
			nil, false, false},
		{31, "Jaw Clencher", "masseter", RegionJaw,
			"clenching the jaw", "",
			[]string{Anger}, false, false},
		{32, "Lip Bite", "", RegionMouth,
			"biting the lip", "",
			nil, true, false},
		{33, "Cheek Blow", "", RegionCheek,
			"blowing out the cheeks", "",
			nil, true, false},
		{34, "Cheek Puff", "", RegionCheek,
			"inflating the cheeks by exerting pressure from within the mouth", "inflating the %s cheek by exerting pressure from within the mouth",
			nil, false, false},
		{35, "Cheek Suck", "", RegionCheek,
			"sucking in the cheeks", "",
			nil, true, false},
		{36, "Tongue Bulge", "", RegionMouth,
			"bulging the tongue against the cheek or lip", "",
			nil, true, false},
		{37, "Lip Wipe", "", RegionMouth,
			"wiping the lips with the tongue", "",
			nil, true, false},
		{38, "Nostril Dilator", "nasalis, pars alaris", RegionNose,
			"dilating the nostrils", "",
			[]string{Anger}, false, false},
		{39, "Nostril Compressor", "nasalis, pars transversa, and depressor septi nasi", RegionNose,
			"compressing the nostrils", "",
			nil, false, false},
		{41, "Lid Droop", "relaxation of levator palpebrae superioris", RegionEyes,
			"drooping the upper lids", "drooping the %s upper lid",
			[]string{Sadness}, false, false},
		{42, "Slit", "orbicularis oculi", RegionEyes,
			"narrowing the eyes to a slit", "narrowing the %s eye to a slit",
			nil, false, false},
		{43, "Eyes Closed", "relaxation of levator palpebrae superioris; orbicularis oculi, pars palpebralis", RegionEyes,
			"closing the eyes", "closing the %s eye",
			nil, true, false},
		{44, "Squint", "orbicularis oculi, pars palpebralis", RegionEyes,
			"squinting", "squinting the %s eye",
			nil, false, false},
		{45, "Blink", "relaxation of levator palpebrae superioris; orbicularis oculi, pars palpebralis", RegionEyes,
			"blinking", "",
			nil, true, false},
		{46, "Wink", "relaxation of levator palpebrae superioris; orbicularis oculi, pars palpebralis", RegionEyes,
			"winking", "winking the %s eye",
			nil, true, false},
		{51, "Head Turn Left", "", RegionHead, "turning the head to the left", "", nil, true, false},
		{52, "Head Turn Right", "", RegionHead, "turning the head to the right", "", nil, true, false},
		{53, "Head Up", "", RegionHead, "tilting the head up", "", nil, true, false},
		{54, "Head Down", "", RegionHead, "tilting the head down", "", nil, true, false},
		{55, "Head Tilt Left", "", RegionHead, "tilting the head to the left", "", nil, true, false},
		{56, "Head Tilt Right", "", RegionHead, "tilting the head to the right", "", nil, true, false},
		{57, "Head Forward", "", RegionHead, "moving the head forward", "", nil, true, false},
		{58, "Head Back", "", RegionHead, "moving the head back", "", nil, true, false},
		{59, "Head Nod Up and Down", "", RegionHead, "nodding the head", "", nil, true, false},
		{60, "Head Shake Side to Side", "", RegionHead, "shaking the head", "", nil, true, false},
		{61, "Eyes Turn Left", "", RegionGaze, "turning the eyes to the left", "", nil, true, false},
		{62, "Eyes Turn Right", "", RegionGaze, "turning the eyes to the right", "", nil, true, false},
		{63, "Eyes Up", "", RegionGaze, "turning the eyes up", "", nil, true, false},
		{64, "Eyes Down", "", RegionGaze, "turning the eyes down", "", nil, true, false},
		{65, "Walleye", "", RegionGaze, "turning the eyes outwards", "", nil, true, false},
		{66, "Cross-eye", "", RegionGaze, "crossing the eyes", "", nil, true, false},
		{68, "Upward Rolling of Eyes", "", RegionGaze, "rolling the eyes upwards", "", nil, true, false},
		{69, "Eyes Positioned to Look at Other Person", "", RegionGaze, "looking at the other person", "", nil, true, false},
		{70, "Brows and Forehead Not Visible", "", RegionBrows, "brows and forehead not visible", "", nil, true, true},
		{71, "Eyes Not Visible", "", RegionEyes, "eyes not visible", "", nil, true, true},
		{72, "Lower Face Not Visible", "", RegionMouth, "lower face not visible", "", nil, true, true},
		{73, "Entire Face Not Visible", "", RegionHead, "face not visible", "", nil, true, true},
		{74, "Unscorable", "", RegionHead, "unscorable", "", nil, true, true},
		{40, "Sniff", "", RegionNose, "sniffing", "", nil, false, false},
		{50, "Speech", "", RegionMouth, "speaking", "", nil, true, false},
		{80, "Swallow", "", RegionChin, "swallowing", "", nil, true, false},
		{81, "Chewing", "", RegionJaw, "chewing", "", nil, true, false},
		{82, "Shoulder Shrug", "", RegionHead, "shrugging the shoulders", "", nil, true, false},
		{83, "Head Upward and to the Side", "", RegionHead, "moving the head upwards and to the side", "", nil, true, false},
		{84, "Head Shake Back and Forth", "", RegionHead, "shaking the head back and forth", "", nil, true, false},
		{85, "Head Nod Up and Down", "", RegionHead, "nodding the head up and down", "", nil, true, false},
		{91, "Flash", "", RegionHead, "a flash of movement", "", nil, true, false},
		{92, "Partial Flash", "", RegionHead, "a partial flash of movement", "", nil, true, false},
		{97, "Shiver/Tremble", "", RegionHead, "shivering", "", nil, true, false},
		{98, "Fast Up-Down Look", "", RegionGaze, "looking up and down quickly", "", nil, true, false},
	} {
		c[i.Number] = i
	}
	return c
}()

// Lookup returns the catalogue entry of AU n.
func Lookup(n int) (Info, bool) {
	if n <= 0 || n >= len(catalogue) || catalogue[n].Number == 0 {
		return Info{}, false
	}
	i := catalogue[n]
	i.Emotions = append([]string(nil), i.Emotions...) // callers may not alter the catalogue
	return i, true
}

// Describe returns the catalogue entry of AU n, or a generic entry for an AU
// the catalogue does not know, so that text generation never fails.
func Describe(n int) Info {
	if i, ok := Lookup(n); ok {
		return i
	}
	return Info{Number: n, Name: fmt.Sprintf("Action Unit %d", n),
		Movement: fmt.Sprintf("action unit %d", n)}
}

// Catalogue returns every known AU in ascending order.
func Catalogue() []Info {
	var out []Info
	for _, i := range catalogue {
		if i.Number != 0 {
			i.Emotions = append([]string(nil), i.Emotions...)
			out = append(out, i)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Number < out[b].Number })
	return out
}
