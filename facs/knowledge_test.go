package facs

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestCatalogueCoversIssueList(t *testing.T) {
	need := []int{1, 2, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 20, 22, 23, 24, 25, 26, 27, 28, 38, 39, 43, 45, 46}
	for _, n := range need {
		i, ok := Lookup(n)
		if !ok {
			t.Errorf("AU%d missing", n)
			continue
		}
		if i.Number != n || i.Name == "" || i.Muscles == "" || i.Region == "" || i.Movement == "" {
			t.Errorf("AU%d incomplete: %+v", n, i)
		}
		if i.Sided != "" && strings.Count(i.Sided, "%s") != 1 {
			t.Errorf("AU%d sided form %q needs exactly one %%s", n, i.Sided)
		}
	}
	known := map[int]string{1: "Inner Brow Raiser", 4: "Brow Lowerer", 6: "Cheek Raiser", 9: "Nose Wrinkler",
		12: "Lip Corner Puller", 14: "Dimpler", 15: "Lip Corner Depressor", 26: "Jaw Drop", 45: "Blink"}
	for n, name := range known {
		if Describe(n).Name != name {
			t.Errorf("AU%d name %q, want %q", n, Describe(n).Name, name)
		}
	}
	if i, _ := Lookup(12); i.Muscles != "zygomaticus major" {
		t.Errorf("AU12 muscles %q", i.Muscles)
	}
	if _, ok := Lookup(3); ok {
		t.Error("AU3 does not exist in FACS")
	}
	// Action descriptors and other codes real sheets write next to AUs.
	for _, n := range []int{19, 29, 30, 31, 32, 33, 34, 35, 36, 37, 40, 50, 51, 58, 59, 60, 61, 64, 65, 66, 68, 69, 70, 74, 80, 85, 91, 97, 98} {
		if i, ok := Lookup(n); !ok || i.Name == "" || i.Movement == "" {
			t.Errorf("code %d missing or incomplete: %+v", n, i)
		}
	}
	for _, n := range []int{70, 71, 72, 73, 74} {
		if i, _ := Lookup(n); !i.NotAction || !i.Incidental {
			t.Errorf("visibility code %d not marked NotAction", n)
		}
	}
	if d := Describe(77); d.Name == "" || d.Movement == "" {
		t.Error("Describe of an unknown AU must still give text")
	}
	cat := Catalogue()
	for k := 1; k < len(cat); k++ {
		if cat[k-1].Number >= cat[k].Number {
			t.Fatal("Catalogue not ascending")
		}
	}
	// Lookup must hand out copies.
	i, _ := Lookup(12)
	i.Emotions[0] = "x"
	if j, _ := Lookup(12); j.Emotions[0] != Happiness {
		t.Error("Lookup leaks the catalogue")
	}
}

func TestPrototypes(t *testing.T) {
	want := map[string]string{Happiness: "6+12", Sadness: "1+4+15", Surprise: "1+2+5B+26",
		Fear: "1+2+4+5+7+20+26", Anger: "4+5+7+23", Disgust: "9+15+16", Contempt: "R12A+R14A"}
	ps := Prototypes()
	if len(ps) != 7 {
		t.Fatalf("%d prototypes", len(ps))
	}
	for _, p := range ps {
		if p.Code.String() != want[p.Emotion] {
			t.Errorf("%s prototype %q, want %q", p.Emotion, p.Code, want[p.Emotion])
		}
		c, ok := PrototypeOf(strings.ToUpper(p.Emotion))
		if !ok || c.String() != p.Code.String() {
			t.Errorf("PrototypeOf(%s)", p.Emotion)
		}
		// Every prototype AU lists the emotion among its associations,
		// except the shared ones the prototype borrows (AU5, AU7, AU26 list
		// the emotions where they are most typical).
		for _, a := range p.Code.AUs() {
			if len(EmotionsOf(a.Number)) == 0 {
				t.Errorf("%s: AU%d has no associated emotion", p.Emotion, a.Number)
			}
		}
	}
	if _, ok := PrototypeOf("boredom"); ok {
		t.Error("PrototypeOf(boredom)")
	}
}

func TestObjective(t *testing.T) {
	tests := []struct {
		code string
		want ObjectiveClass
	}{
		{"6+12", ClassI}, {"R12", ClassI}, {"7+12", ClassI}, {"6+7+12", ClassI},
		{"1+2", ClassII}, {"25+26", ClassII}, {"5+24", ClassII},
		{"4+7", ClassIII}, {"4", ClassIII}, {"17+24", ClassIII}, {"4+38", ClassIII},
		{"4+9", ClassIV}, {"L10", ClassIV}, {"4+7+10", ClassIV}, {"4+5+7+9", ClassIV},
		{"1+4", ClassV}, {"15+17", ClassV}, {"6+15", ClassV},
		{"1+2+4", ClassVI}, {"20", ClassVI},
		{"14", ClassVII}, {"", ClassVII}, {"45", ClassVII},
		// Incidental blink ignored; superset falls to largest contained combo.
		{"4+7+45", ClassIII},
		{"4+7+9+43", ClassIV}, // 4+7+9 (IV) is larger than 4+7 (III)
		{"1+2+25+26", ClassII},
		{"6+12+25", ClassI}, // 6+12 (I, size 2) beats 25 (II, size 1)
	}
	for _, tc := range tests {
		if got := Objective(MustParse(tc.code)); got != tc.want {
			t.Errorf("Objective(%q) = %v, want %v", tc.code, got, tc.want)
		}
	}
	// Every listed combination maps to its own class.
	for cls := ClassI; cls <= ClassVI; cls++ {
		for _, c := range ObjectiveCombos(cls) {
			if got := Objective(c); got != cls {
				t.Errorf("combo %q of class %v maps to %v", c, cls, got)
			}
		}
	}
	if ClassIV.String() != "IV" || ObjectiveClass(9).String() != "?" {
		t.Error("roman numerals")
	}
}

func TestCASME2Criteria(t *testing.T) {
	tests := []struct {
		code string
		want []string
	}{
		{"6", []string{Happiness}}, {"R12", []string{Happiness}},
		{"9", []string{Disgust}}, {"L10", []string{Disgust}}, {"4+7", []string{Disgust}},
		{"4", nil}, {"1+2", []string{Surprise}}, {"25", []string{Surprise}}, {"2", []string{Surprise}},
		{"1", nil}, {"15", []string{Repression}}, {"17", []string{Repression}}, {"15+17", []string{Repression}},
		{"12+15", []string{Happiness, Repression}},
	}
	for _, tc := range tests {
		if got := CASME2Criteria(MustParse(tc.code)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("CASME2Criteria(%q) = %v, want %v", tc.code, got, tc.want)
		}
	}
}

func TestThreeClass(t *testing.T) {
	tests := []struct {
		emotion, dataset, want string
		ok                     bool
	}{
		{"happiness", "SAMM", Positive, true},
		{"Happiness", "CASME II", Positive, true},
		{"surprise", "smic", Surprise, true},
		{"anger", "SAMM", Negative, true},
		{"contempt", "SAMM", Negative, true},
		{"fear", "SAMM", Negative, true},
		{"sadness", "SAMM", Negative, true},
		{"disgust", "casme2", Negative, true},
		{"repression", "CASME_II", Negative, true},
		{"sadness", "CASME II", "", false}, // left out of the composite
		{"fear", "casme2", "", false},
		{"others", "SAMM", "", false},
		{"ne", "SMIC", Negative, true},
		{"po", "SMIC", Positive, true},
		{"sur", "SMIC", Surprise, true},
		{"negative", "", Negative, true},
		{"neutral", "", "", false},
		{"Disgusted", "SAMM", Negative, true}, // spellings read by Emotion
		{"angry", "SAMM", Negative, true},
		{"Surprised", "casme2", Surprise, true},
		{"Other", "SAMM", "", false},
	}
	for _, tc := range tests {
		got, ok := ThreeClass(tc.emotion, tc.dataset)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ThreeClass(%q,%q) = %q,%v want %q,%v", tc.emotion, tc.dataset, got, ok, tc.want, tc.ok)
		}
	}
}

func TestMovements(t *testing.T) {
	tests := []struct{ code, want string }{
		{"1", "raising the inner part of the brows"},
		{"4+7+9", "a combination of lowering the brows, tightening the lids and wrinkling the nose"},
		{"L12", "pulling the left corner of the lips"},
		{"R14", "creating the right dimple"},
		{"L12+R12", "pulling the corners of the lips"},
		{"L12+R12+4", "a combination of pulling the corners of the lips and lowering the brows"},
		{"A2", "raising the outer part of the brows, more strongly on one side"},
		{"12?", "pulling the corners of the lips might be present"},
		{"12/14", "pulling the corners of the lips or creating the dimples"},
		{"L17", "raising the chin on the left side"},
		{"", "no visible facial movement"},
		{"T18", "puckering the lips (upper lip)"},
		{"4+B23", "a combination of lowering the brows and tightening the lips (lower lip)"},
		{"ref(7B)+43", "a combination of tightening the lids might be present and closing the eyes"},
		{"4A/B+M59", "a combination of lowering the brows and nodding the head"},
		{"A/L12", "pulling the corners of the lips, more strongly on one side or pulling the left corner of the lips"},
		{"12+72", "pulling the corners of the lips"},
		{"71", "no visible facial movement"},
	}
	for _, tc := range tests {
		if got := Movements(MustParse(tc.code)); got != tc.want {
			t.Errorf("Movements(%q) = %q, want %q", tc.code, got, tc.want)
		}
	}
}

func TestSentenceDeterministicAndVaried(t *testing.T) {
	c := MustParse("4+7+9")
	seen := map[string]bool{}
	for seed := uint64(0); seed < 200; seed++ {
		a := Sentence(c, NewRand(seed))
		b := Sentence(c, NewRand(seed))
		if a != b {
			t.Fatalf("seed %d: %q != %q", seed, a, b)
		}
		if !strings.Contains(a, Movements(c)) || !strings.HasSuffix(a, ".") {
			t.Fatalf("sentence %q lacks the description", a)
		}
		seen[a] = true
	}
	if len(seen) != len(Templates()) || len(Templates()) != 7 {
		t.Errorf("%d distinct sentences over 200 seeds, want all %d templates", len(seen), len(Templates()))
	}
}

func ExampleParse() {
	c, err := Parse("R12A+R14A, 4/7?")
	if err != nil {
		panic(err)
	}
	for _, a := range c.AUs() {
		fmt.Printf("AU%d side=%q intensity=%q uncertain=%v\n", a.Number, a.Side, a.Intensity.Word(), a.Uncertain)
	}
	fmt.Println(c)
	// Output:
	// AU12 side="right" intensity="trace" uncertain=false
	// AU14 side="right" intensity="trace" uncertain=false
	// AU4 side="" intensity="" uncertain=false
	// AU7 side="" intensity="" uncertain=true
	// R12A+R14A+4/7?
}

func ExampleMovements() {
	fmt.Println(Movements(MustParse("4+7+9")))
	fmt.Println(Movements(MustParse("L12")))
	// Output:
	// a combination of lowering the brows, tightening the lids and wrinkling the nose
	// pulling the left corner of the lips
}

func ExampleThreeClass() {
	fmt.Println(ThreeClass("repression", "CASME II"))
	fmt.Println(ThreeClass("sadness", "CASME II"))
	fmt.Println(ThreeClass("sadness", "SAMM"))
	// Output:
	// negative true
	//  false
	// negative true
}

// TestObjectiveEmotion: each class's emotion and its name round trip.
func TestObjectiveEmotion(t *testing.T) {
	want := []string{"", Happiness, Surprise, Anger, Disgust, Sadness, Fear, Others}
	for c := ClassI; c <= ClassVII; c++ {
		if got := c.Emotion(); got != want[c] {
			t.Errorf("class %v: %s, want %s", c, got, want[c])
		}
		for _, s := range []string{c.String(), "class " + c.String(), " Class " + c.String()} {
			if got, ok := ParseObjective(s); !ok || got != c {
				t.Errorf("ParseObjective(%q) = %v, %v", s, got, ok)
			}
		}
	}
	for _, s := range []string{"", "VIII", "class", "happiness", "iii x"} {
		if _, ok := ParseObjective(s); ok {
			t.Errorf("ParseObjective(%q) accepted", s)
		}
	}
}
