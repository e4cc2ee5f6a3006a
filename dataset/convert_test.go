package dataset

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// brief is the part of a sample the converter tests compare by hand.
type brief struct {
	ID, Subject, Label, Frames, Onset, Apex, Offset, AUs, Emotion string
}

func briefs(root string, samples []Sample) []brief {
	var out []brief
	for _, s := range samples {
		rel, err := filepath.Rel(root, s.Frames)
		if err != nil {
			rel = s.Frames
		}
		out = append(out, brief{s.ID, s.Subject, s.Label, filepath.ToSlash(rel), s.Onset, s.Apex, s.Offset, s.AUs, s.Emotion})
	}
	return out
}

func checkBriefs(t *testing.T, root string, got []Sample, want []brief) {
	t.Helper()
	g := briefs(root, got)
	if !reflect.DeepEqual(g, want) {
		t.Errorf("samples:\n got %d:", len(g))
		for _, b := range g {
			t.Errorf("   %+v", b)
		}
		t.Errorf(" want %d:", len(want))
		for _, b := range want {
			t.Errorf("   %+v", b)
		}
	}
}

var casme2Want = []brief{
	{"sub01/EP02_01f", "sub01", "happiness", "CASME2-RAW/sub01/EP02_01f", "46", "59", "86", "12", "happiness"},
	// apex "/" → midpoint (101+120)/2 = 110 → nearest existing frame 111
	{"sub02/EP03_02", "sub02", "disgust", "CASME2-RAW/sub02/EP03_02", "101", "111", "120", "4+7", "disgust"},
	{"sub02/EP09_06f", "sub02", "others", "CASME2-RAW/sub02/EP09_06f", "10", "12", "14", "R12/14", "others"},
	{"sub03/EP01_01", "sub03", "surprise", "CASME2-RAW/sub03/EP01_01", "1", "3", "5", "1+2", "surprise"},
	{"sub03/EP02_03", "sub03", "sadness", "CASME2-RAW/sub03/EP02_03", "1", "2", "3", "15", "sadness"},
	{"sub04/EP05_02", "sub04", "repression", "CASME2-RAW/sub04/EP05_02", "7", "8", "9", "14+17", "repression"},
}

func TestCASME2Workbook(t *testing.T) {
	root := t.TempDir()
	writeXLSX(t, filepath.Join(root, "CASME2-coding-20140508.xlsx"), []string{"Sheet1"}, map[string][][]any{"Sheet1": casme2Rows()})
	casme2Frames(t, root)
	conv, err := ConvertCASME2(context.Background(), ConvertOptions{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	checkBriefs(t, root, conv.Samples, casme2Want)
	if n := findNote(conv.Notes, `CASME2-coding-20140508.xlsx sheet "Sheet1" row 3 column E (ApexFrame)`, `"/" unknown`, "midpoint frame 111"); n == "" {
		t.Errorf("no note for the apex \"/\":\n%s", strings.Join(conv.Notes, "\n"))
	}
	if n := findNote(conv.Notes, `row 4 column H (Action Units): AUs "R12 or 14" hold alternatives; kept as "R12/14"`); n == "" {
		t.Errorf("no note for the \"or\" in the AUs:\n%s", strings.Join(conv.Notes, "\n"))
	}
	if n := findNote(conv.Notes, "2 folders match", "CASME2-RAW"); n == "" {
		t.Errorf("no note for the RAW/Cropped ambiguity:\n%s", strings.Join(conv.Notes, "\n"))
	}
	for _, s := range conv.Samples {
		if s.Dataset != "casme2" {
			t.Errorf("dataset = %q", s.Dataset)
		}
	}

	five, err := ConvertCASME2(context.Background(), ConvertOptions{Root: root, Classes: Classes5})
	if err != nil {
		t.Fatal(err)
	}
	if len(five.Samples) != 5 || five.Dropped["sadness"] != 1 {
		t.Errorf("5-class: %d samples, dropped %v", len(five.Samples), five.Dropped)
	}
	three, err := ConvertCASME2(context.Background(), ConvertOptions{Root: root, Classes: Classes3})
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, s := range three.Samples {
		labels = append(labels, s.ID+"="+s.Label)
	}
	// MEGC2019: CASME II negative is disgust and repression only; others and sadness left out.
	want := []string{"sub01/EP02_01f=positive", "sub02/EP03_02=negative", "sub03/EP01_01=surprise", "sub04/EP05_02=negative"}
	if !reflect.DeepEqual(labels, want) {
		t.Errorf("3-class labels = %v, want %v", labels, want)
	}
	obj, err := ConvertCASME2(context.Background(), ConvertOptions{Root: root, Classes: ClassesObjective})
	if err != nil {
		t.Fatal(err)
	}
	var objs []string
	for _, s := range obj.Samples {
		objs = append(objs, s.Label)
	}
	// 12 → I; 4+7 → III; R12/14 contains 12 → I; 1+2 → II; 15 → V; 14+17 → VII
	if want := []string{"I", "III", "I", "II", "V", "VII"}; !reflect.DeepEqual(objs, want) {
		t.Errorf("objective labels = %v, want %v", objs, want)
	}
	if _, err := ConvertCASME2(context.Background(), ConvertOptions{Root: root, Classes: Classes7}); err == nil || !strings.Contains(err.Error(), "no \"7\" class scheme") {
		t.Errorf("7-class for CASME II: err = %v", err)
	}
}

func TestCASME2CSVExport(t *testing.T) {
	root := t.TempDir()
	writeCSVRows(t, filepath.Join(root, "annotations", "CASME2-coding-20140508.csv"), casme2Rows())
	casme2Frames(t, root)
	conv, err := ConvertCASME2(context.Background(), ConvertOptions{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	checkBriefs(t, root, conv.Samples, casme2Want)
	if n := findNote(conv.Notes, "CASME2-coding-20140508.csv row 3 column E (ApexFrame)"); n == "" {
		t.Errorf("CSV note lacks row/column:\n%s", strings.Join(conv.Notes, "\n"))
	}
}

func TestCASME2MalformedSheet(t *testing.T) {
	root := t.TempDir()
	rows := casme2Rows()
	rows[2][3] = "onset?x"  // row 3, column D
	rows[4][7] = "4+banana" // row 5, column H
	rows[5][0] = nil        // row 6, column A: no subject
	rows[6][5] = ""         // row 7, column F: no offset
	writeXLSX(t, filepath.Join(root, "CASME2-coding-2019.xlsx"), []string{"Sheet1"}, map[string][][]any{"Sheet1": rows})
	casme2Frames(t, root)
	// Without --strict the AU cell is a warning, not a problem.
	_, err := ConvertCASME2(context.Background(), ConvertOptions{Root: root})
	var lenient *SheetError
	if !errors.As(err, &lenient) || len(lenient.Problems) != 3 || strings.Contains(err.Error(), "banana") {
		t.Errorf("lenient: %v, want the 3 frame and subject problems", err)
	}
	_, err = ConvertCASME2(context.Background(), ConvertOptions{Root: root, Strict: true})
	var se *SheetError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want *SheetError", err)
	}
	for _, frag := range []string{
		`sheet "Sheet1" row 3 column D (OnsetFrame): OnsetFrame "onset?x" is not a frame number`,
		`sheet "Sheet1" row 5 column H (Action Units)`, `banana`,
		`sheet "Sheet1" row 6 column A (Subject): empty subject`,
		`sheet "Sheet1" row 7 column F (OffsetFrame)`,
	} {
		if !strings.Contains(err.Error(), frag) {
			t.Errorf("error lacks %q:\n%v", frag, err)
		}
	}
	if len(se.Problems) != 4 {
		t.Errorf("%d problems, want 4:\n%v", len(se.Problems), err)
	}
}

func TestConvertNamesWhatItLookedFor(t *testing.T) {
	empty := t.TempDir()
	cases := []struct {
		name string
		want []string
	}{
		{"casme2", []string{"no annotation sheet in " + empty, "CASME2-coding*.xlsx", "CASME2-coding*.csv"}},
		{"samm", []string{"SAMM_Micro_FACS_Codes*.xlsx"}},
		{"casme3", []string{"cas(me)3*part*A*.xlsx"}},
		{"smic", []string{"no clip folders under " + empty, "sN_po_NN", "SMIC*.xlsx"}},
	}
	for _, c := range cases {
		_, err := Convert(context.Background(), c.name, ConvertOptions{Root: empty})
		if err == nil {
			t.Errorf("%s: no error on an empty folder", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", c.name, err, w)
			}
		}
	}
	if _, err := Convert(context.Background(), "casme2", ConvertOptions{Root: filepath.Join(empty, "nope")}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing root: err = %v", err)
	}
}

func TestMissingClipFolders(t *testing.T) {
	root := t.TempDir()
	writeXLSX(t, filepath.Join(root, "CASME2-coding-1.xlsx"), []string{"Sheet1"}, map[string][][]any{"Sheet1": casme2Rows()})
	casme2Frames(t, root)
	// Remove one clip and one frame.
	rmAll(t, filepath.Join(root, "CASME2-RAW", "sub03", "EP01_01"))
	rmAll(t, filepath.Join(root, "CASME2-RAW", "sub02", "EP09_06f", "img14.jpg"))
	_, err := ConvertCASME2(context.Background(), ConvertOptions{Root: root})
	if err == nil {
		t.Fatal("missing frames accepted")
	}
	for _, frag := range []string{`row 5: no folder "EP01_01" inside a folder of subject "sub03"`, "offset frame 14", "--skip-missing"} {
		if !strings.Contains(err.Error(), frag) {
			t.Errorf("error lacks %q:\n%v", frag, err)
		}
	}
	conv, err := ConvertCASME2(context.Background(), ConvertOptions{Root: root, SkipMissing: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(conv.Samples) != 4 || findNote(conv.Notes, "skipped:", "EP01_01") == "" {
		t.Errorf("skip-missing: %d samples, notes %v", len(conv.Samples), conv.Notes)
	}
}

func TestSAMM(t *testing.T) {
	root := t.TempDir()
	writeXLSX(t, filepath.Join(root, "SAMM_Micro_FACS_Codes_v2.xlsx"), []string{"FACS codes"}, map[string][][]any{"FACS codes": sammRows()})
	sammFrames(t, root)
	conv, err := ConvertSAMM(context.Background(), ConvertOptions{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	checkBriefs(t, root, conv.Samples, []brief{
		{"006_1_2", "006", "anger", "006/006_1_2", "5562", "5588", "5627", "4+7", "anger"},
		// offset -1 → the clip's last frame
		{"007_3_1", "007", "contempt", "007/007_3_1", "3007", "3020", "3030", "R12A+R14A", "contempt"},
		{"011_2_3", "011", "disgust", "011/011_2_3", "200", "204", "210", "A2+4+7?", "disgust"},
		// apex 300 outside 100..120 → midpoint 110 → nearest frame 109 (first of the tie)
		{"006_1_5", "006", "happiness", "006/006_1_5", "100", "109", "120", "6+12", "happiness"},
	})
	for _, frags := range [][]string{
		{`sheet "FACS codes" row 16 column F (Offset Frame)`, `"-1" unknown`, "last frame 3030"},
		{`row 18`, "apex 300 outside onset..offset 100..120"},
		{`row 17 column I (Action Units): AUs "A2+4+7?" hold uncertain codes`},
	} {
		if findNote(conv.Notes, frags...) == "" {
			t.Errorf("no note with %q:\n%s", frags, strings.Join(conv.Notes, "\n"))
		}
	}
	five, err := ConvertSAMM(context.Background(), ConvertOptions{Root: root, Classes: Classes5})
	if err != nil {
		t.Fatal(err)
	}
	if len(five.Samples) != 3 || five.Dropped["disgust"] != 1 {
		t.Errorf("5-class: %d samples, dropped %v", len(five.Samples), five.Dropped)
	}
	obj, err := ConvertSAMM(context.Background(), ConvertOptions{Root: root, Classes: ClassesObjective})
	if err != nil {
		t.Fatal(err)
	}
	var objs []string
	for _, s := range obj.Samples {
		objs = append(objs, s.Label)
	}
	// The sheet's own Objective Classes column wins over the AUs.
	if want := []string{"III", "V", "IV", "I"}; !reflect.DeepEqual(objs, want) {
		t.Errorf("objective = %v, want %v", objs, want)
	}
}

func TestSAMMMalformed(t *testing.T) {
	root := t.TempDir()
	rows := sammRows()
	rows[15][3] = "early" // row 16 column D
	rows[16][8] = "12++"  // row 17 column I
	writeXLSX(t, filepath.Join(root, "SAMM_Micro_FACS_Codes_v2.xlsx"), []string{"FACS codes"}, map[string][][]any{"FACS codes": rows})
	sammFrames(t, root)
	_, err := ConvertSAMM(context.Background(), ConvertOptions{Root: root, Strict: true})
	if err == nil {
		t.Fatal("malformed sheet accepted")
	}
	for _, frag := range []string{`sheet "FACS codes" row 16 column D (Onset Frame)`, `sheet "FACS codes" row 17 column I (Action Units)`} {
		if !strings.Contains(err.Error(), frag) {
			t.Errorf("error lacks %q:\n%v", frag, err)
		}
	}
}

func TestSMICFoldersOnly(t *testing.T) {
	root := t.TempDir()
	smicFrames(t, root)
	conv, err := ConvertSMIC(context.Background(), ConvertOptions{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	hs := "SMIC_all_cropped/HS/"
	checkBriefs(t, root, conv.Samples, []brief{
		{"s1_ne_02", "s1", "negative", hs + "s1/micro/negative/s1_ne_02", "200", "201", "203", "", "negative"},
		{"s1_po_01", "s1", "positive", hs + "s1/micro/positive/s1_po_01", "101", "103", "105", "", "positive"},
		{"s2_sur_01", "s2", "surprise", hs + "s02/micro/surprise/s2_sur_01", "7", "8", "9", "", "surprise"},
	})
	if findNote(conv.Notes, "2 folders match", "HS") == "" {
		t.Errorf("no note on the HS/VIS copies:\n%s", strings.Join(conv.Notes, "\n"))
	}
}

func TestSMICSheet(t *testing.T) {
	root := t.TempDir()
	smicFrames(t, root)
	writeCSVRows(t, filepath.Join(root, "SMIC-HS.csv"), [][]any{
		{"Subject", "Filename", "Emotion", "OnsetF", "OffsetF"},
		{1, "s1_po_01", "positive", 102, 104},
		{2, "s2_sur_01", "surprise", 7, 9},
	})
	conv, err := ConvertSMIC(context.Background(), ConvertOptions{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	hs := "SMIC_all_cropped/HS/"
	checkBriefs(t, root, conv.Samples, []brief{
		{"s1_po_01", "s1", "positive", hs + "s1/micro/positive/s1_po_01", "102", "103", "104", "", "positive"},
		{"s2_sur_01", "s2", "surprise", hs + "s02/micro/surprise/s2_sur_01", "7", "8", "9", "", "surprise"},
	})
	writeCSVRows(t, filepath.Join(root, "SMIC-HS.csv"), [][]any{
		{"Subject", "Filename", "Emotion", "OnsetF", "OffsetF"},
		{3, "s1_po_01", "negative", 102, 104},
	})
	// The clip name wins (SMIC-HS-E's own sheet says "negative" for one
	// surprise clip): a warning, an error with --strict.
	conv, err = ConvertSMIC(context.Background(), ConvertOptions{Root: root})
	if err != nil || len(conv.Samples) != 1 || conv.Samples[0].Label != "positive" || conv.Samples[0].Subject != "s1" {
		t.Fatalf("disagreeing sheet: %v, %+v", err, conv)
	}
	frags := []string{`SMIC-HS.csv row 2 column A (Subject): subject "3" disagrees with clip name "s1_po_01"; using "s1"`, `SMIC-HS.csv row 2 column C (Emotion): emotion "negative" disagrees`}
	if len(conv.Warnings) != 2 || !strings.HasPrefix(conv.Warnings[0], frags[0]) || !strings.HasPrefix(conv.Warnings[1], frags[1]) {
		t.Errorf("warnings %q", conv.Warnings)
	}
	_, err = ConvertSMIC(context.Background(), ConvertOptions{Root: root, Strict: true})
	for _, frag := range frags {
		if err == nil || !strings.Contains(err.Error(), frag) {
			t.Errorf("--strict: err %v lacks %q", err, frag)
		}
	}
}

func TestCASME3(t *testing.T) {
	root := t.TempDir()
	writeXLSX(t, filepath.Join(root, "annotation", "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx"), []string{"readme", "label"}, map[string][][]any{
		"readme": {{"CAS(ME)^3 part A"}, {"see sheet label"}},
		"label":  casme3Rows(),
	})
	casme3Frames(t, root)
	conv, err := ConvertCASME3(context.Background(), ConvertOptions{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	d := "part_A/data/"
	checkBriefs(t, root, conv.Samples, []brief{
		{"spNO.1_a_10", "spNO.1", "disgust", d + "spNo.1/a/color", "10", "12", "15", "4+L10", "disgust"},
		{"spNO.1_a_30", "spNO.1", "happiness", d + "spNo.1/a/color", "30", "33", "36", "12", "happiness"},
		{"spNO.2_b_5", "spNO.2", "surprise", d + "spNO.2/b/color", "5", "6", "7", "1+2", "surprise"},
		{"spNO.2_c_1", "spNO.2", "others", d + "spNO.2/c/color", "1", "2", "3", "1", "others"},
		{"spNO.3_a_1", "spNO.3", "anger", d + "spNO.3/a/color", "1", "2", "3", "4+5+7", "anger"},
	})
	if findNote(conv.Notes, `subject "spNO.1" is spelled "spNo.1"`) == "" {
		t.Errorf("no note on the subject spelling:\n%s", strings.Join(conv.Notes, "\n"))
	}
	for _, c := range []struct {
		scheme string
		want   []string
	}{
		{Classes7, []string{"disgust", "happiness", "surprise", "others", "anger"}},
		{Classes4, []string{"negative", "positive", "surprise", "others", "negative"}},
		{Classes3, []string{"negative", "positive", "surprise", "negative"}},
		{ClassesObjective, []string{"IV", "I", "II", "V", "III"}},
	} {
		conv, err := ConvertCASME3(context.Background(), ConvertOptions{Root: root, Classes: c.scheme})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range conv.Samples {
			got = append(got, s.Label)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("--classes %s: %v, want %v", c.scheme, got, c.want)
		}
	}
}

func TestComposite(t *testing.T) {
	base := t.TempDir()
	c2, sm, sc := filepath.Join(base, "CASME2"), filepath.Join(base, "SAMM"), filepath.Join(base, "SMIC")
	writeXLSX(t, filepath.Join(c2, "CASME2-coding-20140508.xlsx"), []string{"Sheet1"}, map[string][][]any{"Sheet1": casme2Rows()})
	casme2Frames(t, c2)
	writeXLSX(t, filepath.Join(sm, "SAMM_Micro_FACS_Codes_v2.xlsx"), []string{"FACS codes"}, map[string][][]any{"FACS codes": sammRows()})
	sammFrames(t, sm)
	smicFrames(t, sc)
	conv, err := ConvertComposite(context.Background(), map[string]string{"casme2": c2, "samm": sm, "smic": sc}, ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range conv.Samples {
		got = append(got, fmt.Sprintf("%s|%s|%s|%s", s.Dataset, s.Subject, s.ID, s.Label))
	}
	want := []string{
		"casme2|casme2_sub01|casme2_sub01/EP02_01f|positive",
		"casme2|casme2_sub02|casme2_sub02/EP03_02|negative",
		"casme2|casme2_sub03|casme2_sub03/EP01_01|surprise",
		"casme2|casme2_sub04|casme2_sub04/EP05_02|negative",
		"samm|samm_006|samm_006_1_2|negative",
		"samm|samm_007|samm_007_3_1|negative",
		"samm|samm_011|samm_011_2_3|negative",
		"samm|samm_006|samm_006_1_5|positive",
		"smic|smic_s1|smic_s1_ne_02|negative",
		"smic|smic_s1|smic_s1_po_01|positive",
		"smic|smic_s2|smic_s2_sur_01|surprise",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("composite:\n got %q\nwant %q", got, want)
	}
	if conv.Dropped["casme2 others"] != 1 || conv.Dropped["casme2 sadness"] != 1 {
		t.Errorf("dropped = %v", conv.Dropped)
	}
	// The composite is a valid manifest and splits without leaks.
	if err := Validate(conv.Samples, Options{}); err != nil {
		t.Fatal(err)
	}
	folds, err := LOSO(conv.Samples)
	if err != nil {
		t.Fatal(err)
	}
	if len(folds) != 9 { // 4 CASME II + 3 SAMM + 2 SMIC subjects
		t.Errorf("%d LOSO folds, want 9", len(folds))
	}
	if _, err := ConvertComposite(context.Background(), map[string]string{"casme2": c2}, ConvertOptions{}); err == nil {
		t.Error("composite without samm/smic accepted")
	}
}

func TestConvertedManifestRoundTrip(t *testing.T) {
	root := t.TempDir()
	writeXLSX(t, filepath.Join(root, "CASME2-coding-20140508.xlsx"), []string{"Sheet1"}, map[string][][]any{"Sheet1": casme2Rows()})
	casme2Frames(t, root)
	conv, err := ConvertCASME2(context.Background(), ConvertOptions{Root: root, Classes: Classes5})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "manifest with space.csv")
	if err := Write(path, conv.Samples); err != nil {
		t.Fatal(err)
	}
	m, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.Samples {
		m.Samples[i].Line = 0
	}
	if !reflect.DeepEqual(m.Samples, conv.Samples) {
		t.Fatalf("round trip differs")
	}
	for _, s := range m.Samples {
		if _, err := ResolveFrame(s.Frames, s.Apex); err != nil {
			t.Errorf("apex of %s: %v", s.ID, err)
		}
	}
}

func TestFrameFilesAndResolve(t *testing.T) {
	dir := t.TempDir()
	makeFrames(t, dir, "reg_img%d.jpg", 3, 10, 2)
	touch(t, dir, "notes.txt", "thumbs.db", "sub/")
	frames, err := FrameFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Frame{{2, "reg_img2.jpg"}, {3, "reg_img3.jpg"}, {10, "reg_img10.jpg"}}; !reflect.DeepEqual(frames, want) {
		t.Errorf("frames = %v", frames)
	}
	for ref, want := range map[string]string{"10": "reg_img10.jpg", "3.0": "reg_img3.jpg", "reg_img2.jpg": "reg_img2.jpg"} {
		p, err := ResolveFrame(dir, ref)
		if err != nil || filepath.Base(p) != want {
			t.Errorf("ResolveFrame(%q) = %q, %v; want %s", ref, p, err, want)
		}
	}
	if _, err := ResolveFrame(dir, "11"); err == nil || !strings.Contains(err.Error(), "numbered 11") {
		t.Errorf("missing frame: %v", err)
	}
}

// FuzzAUColumn feeds arbitrary AU and frame cells through the sheet reader:
// it must never panic; an AU cell never stops the conversion (a warning,
// not a problem, that names its row and column), and when strict it is a
// problem exactly when it warned leniently; the canonical AU string reads
// back to itself without warnings, and aus_raw is the cell.
func FuzzAUColumn(f *testing.F) {
	for _, s := range []string{"4+7", "R12", "L14", "A2", "12A", "12B+R14E", "12 or 14", "1/2", "4?", "AU4, AU7", "", "0", "/", "R12A+R14A", "4+L10", "1+2+5B+26", "12++", "X9", "-1", "5562.0", "3?",
		"?", "(R6 or R12)+R15", "4+13+T18+39", "ref(7B)+43", "R14+17+soft focus", "4A/B", "A/L12", "L12 + 61", "7B+ ref(43)"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, au, frame string) {
		tb := &table{file: "f.xlsx", sheet: "S", rows: [][]string{{"Onset", "Action Units"}, {frame, au}}, header: []string{"Onset", "Action Units"}}
		s := &sheetReader{t: tb}
		canon, raw, _ := s.auCell(1, 1)
		if raw != strings.TrimSpace(au) {
			t.Fatalf("aus_raw %q of cell %q", raw, au)
		}
		if len(s.problems) > 0 {
			t.Fatalf("an AU cell stopped the conversion: %q", s.problems)
		}
		for _, w := range s.warnings {
			if !strings.HasPrefix(w, `f.xlsx sheet "S" row 2 column B (Action Units): `) {
				t.Fatalf("warning without its place: %q", w)
			}
		}
		if len(s.warnings) > 1 {
			t.Fatalf("%d warnings for one cell: %q", len(s.warnings), s.warnings)
		}
		strict := &sheetReader{t: tb, strict: true}
		strict.auCell(1, 1)
		if len(strict.problems) != len(s.warnings) || len(strict.warnings) > 0 {
			t.Fatalf("strict: %d problems, lenient %d warnings", len(strict.problems), len(s.warnings))
		}
		s.frameCell(1, 0, "Onset")
		for _, p := range s.problems {
			if !strings.HasPrefix(p, `f.xlsx sheet "S" row 2 column `) {
				t.Fatalf("problem without its place: %q", p)
			}
		}
		s2 := &sheetReader{t: &table{file: "f.xlsx", rows: [][]string{{"AU"}, {canon}}, header: []string{"AU"}}}
		again, _, _ := s2.auCell(1, 0)
		if len(s2.problems) > 0 || len(s2.warnings) > 0 || again != canon {
			t.Fatalf("canonical %q of %q reads back as %q (%v %v)", canon, au, again, s2.problems, s2.warnings)
		}
	})
}

func rmAll(t *testing.T, p string) {
	t.Helper()
	if err := os.RemoveAll(p); err != nil {
		t.Fatal(err)
	}
}

func TestBlankEmotionIsNotedAndLeftOut(t *testing.T) {
	root := t.TempDir()
	rows := casme2Rows()
	rows[4][8] = nil // row 5: sub03/EP01_01 without an emotion
	writeXLSX(t, filepath.Join(root, "CASME2-coding-1.xlsx"), []string{"Sheet1"}, map[string][][]any{"Sheet1": rows})
	casme2Frames(t, root)
	conv, err := ConvertCASME2(context.Background(), ConvertOptions{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if len(conv.Samples) != 5 || conv.Dropped["(blank)"] != 1 {
		t.Errorf("%d samples, dropped %v", len(conv.Samples), conv.Dropped)
	}
	if findNote(conv.Notes, "row 5 column I (Estimated Emotion): blank emotion") == "" {
		t.Errorf("no note:\n%s", strings.Join(conv.Notes, "\n"))
	}
}

// BenchmarkConvertCASME2 converts a CASME II-sized workbook (255 clips of
// 10 frames each) with its frame folders.
func BenchmarkConvertCASME2(b *testing.B) {
	root := b.TempDir()
	rows := [][]any{{"Subject", "Filename", nil, "OnsetFrame", "ApexFrame", "OffsetFrame", nil, "Action Units", "Estimated Emotion"}}
	emos := []string{"happiness", "disgust", "repression", "surprise", "others"}
	for i := 0; i < 255; i++ {
		subj, clip := i%26+1, fmt.Sprintf("EP%02d_%02d", i/26, i%26)
		rows = append(rows, []any{subj, clip, nil, 1, 5, 10, nil, "4+7", emos[i%5]})
		makeFrames(b, filepath.Join(root, "CASME2-RAW", fmt.Sprintf("sub%02d", subj), clip), "img%d.jpg", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
	}
	writeXLSX(b, filepath.Join(root, "CASME2-coding-20140508.xlsx"), []string{"Sheet1"}, map[string][][]any{"Sheet1": rows})
	for b.Loop() {
		conv, err := ConvertCASME2(context.Background(), ConvertOptions{Root: root, Classes: Classes5})
		if err != nil || len(conv.Samples) != 255 {
			b.Fatal(err)
		}
	}
}

func TestCASME3Malformed(t *testing.T) {
	root := t.TempDir()
	rows := casme3Rows()
	rows[2][2] = "3O"   // row 3 column C: letter O for zero
	rows[3][5] = "1++2" // row 4 column F
	writeCSVRows(t, filepath.Join(root, "cas(me)3_part_A_ME_label.csv"), rows)
	casme3Frames(t, root)
	_, err := ConvertCASME3(context.Background(), ConvertOptions{Root: root, Strict: true})
	for _, frag := range []string{`cas(me)3_part_A_ME_label.csv row 3 column C (Onset): Onset "3O" is not a frame number`, "row 4 column F (AU)"} {
		if err == nil || !strings.Contains(err.Error(), frag) {
			t.Errorf("err %v lacks %q", err, frag)
		}
	}
}
