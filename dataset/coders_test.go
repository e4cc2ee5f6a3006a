package dataset

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// coderCells are AU cells as the official CASME II and SAMM sheets write
// them (every unusual form found in CASME2-coding-20140508.xlsx and
// SAMM_Micro_FACS_Codes_v2.xlsx), with the
// canonical aus each must give. Only "soft focus" is not FACS.
var coderCells = []struct{ raw, aus string }{
	{"?", "?"},
	{"4+38", "4+38"},
	{"L2+26+38", "L2+26+38"},
	{"(R6 or R12) + R15", "R6/R12+R15"},
	{"(R6 or R12)+R15", "R6/R12+R15"},
	{"10A/B", "10A/B"},
	{"4A/B", "4A/B"},
	{"12+15 ", "12+15"},
	{"12A+ref(24)", "12A+24?"},
	{"13+T18+39", "13+T18+39"},
	{"4+13+T18+39", "4+13+T18+39"},
	{"B18+25", "B18+25"},
	{"T23", "T23"},
	{"7B+ ref(43)", "7B+43?"},
	{"ref(7B)+43", "7B?+43"},
	{"ref(L10)+A12B", "L10?+A12B"},
	{"A/L12", "A12/L12"},
	{"R14+17+soft focus", "R14+17"},
	{"L12 + 61", "L12+61"},
	{"L12 or L14", "L12/L14"},
	{"R14A or 17A or 24A", "R14A/17A/24A"},
	{"4D+ref(6)+7C+43E", "4D+6?+7C+43E"},
	{"7B+56", "7B+56"},
}

// coderSAMM writes a SAMM sheet (notes block, header on row 14) with one
// clip per coderCells entry, and their frame folders unless noFrames.
func coderSAMM(t *testing.T, noFrames bool) string {
	t.Helper()
	root := t.TempDir()
	rows := sammRows()[:14]
	emos := []string{"Anger", "Happiness", "Contempt", "Other", "Surprise"}
	for i, c := range coderCells {
		clip := "006_1_" + string(rune('a'+i))
		rows = append(rows, []any{6, clip, 1, 10, 12, 14, formula("F15-D15+1"), "Micro - 1/2", c.raw, emos[i%len(emos)], "7", nil})
		if !noFrames {
			makeFrames(t, filepath.Join(root, "006", clip), "006_%05d.jpg", 10, 11, 12, 13, 14)
		}
	}
	writeXLSX(t, filepath.Join(root, "SAMM_Micro_FACS_Codes_v2.xlsx"), []string{"MICRO_ONLY"}, map[string][][]any{"MICRO_ONLY": rows})
	return root
}

// TestCoderNotation: every AU cell of the real sheets converts; the FACS
// part goes to aus canonically, the cell verbatim to aus_raw; text that is
// not FACS is one warning naming file, sheet, row and column; --strict
// makes it an error.
func TestCoderNotation(t *testing.T) {
	root := coderSAMM(t, false)
	conv, err := ConvertSAMM(context.Background(), ConvertOptions{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if len(conv.Samples) != len(coderCells) {
		t.Fatalf("%d samples, want %d", len(conv.Samples), len(coderCells))
	}
	for i, s := range conv.Samples {
		c := coderCells[i]
		if s.AUs != c.aus || s.AUsRaw != strings.TrimSpace(c.raw) {
			t.Errorf("cell %q: aus %q, aus_raw %q; want %q, %q", c.raw, s.AUs, s.AUsRaw, c.aus, strings.TrimSpace(c.raw))
		}
	}
	want := `SAMM_Micro_FACS_Codes_v2.xlsx sheet "MICRO_ONLY" row 32 column I (Action Units): AUs "R14+17+soft focus": not FACS: "soft focus"`
	if len(conv.Warnings) != 1 || !strings.HasPrefix(conv.Warnings[0], want) {
		t.Errorf("warnings %q, want one starting %q", conv.Warnings, want)
	}
	if findNote(conv.Notes, `row 15 column I`, `AUs "?": not coded`) == "" {
		t.Errorf("no note for the uncoded cell:\n%s", strings.Join(conv.Notes, "\n"))
	}
	// The manifest keeps both columns through a write and a read.
	out := filepath.Join(root, "m.csv")
	if err := Write(out, conv.Samples); err != nil {
		t.Fatal(err)
	}
	m, err := Read(out)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range m.Samples {
		if s.AUs != conv.Samples[i].AUs || s.AUsRaw != conv.Samples[i].AUsRaw {
			t.Errorf("row %d: read back %q / %q", i, s.AUs, s.AUsRaw)
		}
	}
	_, err = ConvertSAMM(context.Background(), ConvertOptions{Root: root, Strict: true})
	var se *SheetError
	if !errors.As(err, &se) || len(se.Problems) != 1 || !strings.Contains(se.Problems[0], "row 32 column I") {
		t.Errorf("--strict: %v, want one problem at row 32 column I", err)
	}
}

// TestCASME2UncodedCells: CASME II writes a lone "?" for clips it did not
// code; they convert, with aus "?" and a note each.
func TestCASME2UncodedCells(t *testing.T) {
	root := t.TempDir()
	rows := casme2Rows()
	rows[2][7] = "?"
	rows[4][7] = "L2+26+38"
	writeXLSX(t, filepath.Join(root, "CASME2-coding-20140508.xlsx"), []string{"Sheet1"}, map[string][][]any{"Sheet1": rows})
	casme2Frames(t, root)
	conv, err := ConvertCASME2(context.Background(), ConvertOptions{Root: root, Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if s := conv.Samples[1]; s.AUs != "?" || s.AUsRaw != "?" {
		t.Errorf("uncoded clip: aus %q aus_raw %q", s.AUs, s.AUsRaw)
	}
	if s := conv.Samples[3]; s.AUs != "L2+26+38" {
		t.Errorf("action descriptor: aus %q", s.AUs)
	}
	if findNote(conv.Notes, `row 3 column H (Action Units): AUs "?": not coded`) == "" {
		t.Errorf("no note for the uncoded cell:\n%s", strings.Join(conv.Notes, "\n"))
	}
}

// TestSheetOnly: without frame folders the converter says so in one line
// and names --sheet-only; with it, the sheet converts and rows name where
// the frames belong.
func TestSheetOnly(t *testing.T) {
	root := coderSAMM(t, true)
	_, err := ConvertSAMM(context.Background(), ConvertOptions{Root: root})
	if err == nil || !strings.Contains(err.Error(), "none of the 23 clips") || !strings.Contains(err.Error(), "--sheet-only") || strings.Count(err.Error(), "\n") > 0 {
		t.Errorf("no frames at all: %v", err)
	}
	conv, err := ConvertSAMM(context.Background(), ConvertOptions{Root: root, SheetOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	s := conv.Samples[0]
	if s.Frames != filepath.Join(root, "006", "006_1_a") || s.Onset != "10" || s.Apex != "12" || s.Offset != "14" || s.AUsRaw != "?" {
		t.Errorf("sheet-only sample %+v", s)
	}
	if findNote(conv.Notes, "--sheet-only") == "" {
		t.Errorf("no note saying the folders were not looked for: %q", conv.Notes)
	}
	if err := Validate(conv.Samples, Options{SkipFileCheck: true}); err != nil {
		t.Error(err)
	}
	// Unknown apex and offset: the midpoint, and empty.
	writeXLSX(t, filepath.Join(root, "c2", "CASME2-coding-1.xlsx"), []string{"Sheet1"}, map[string][][]any{"Sheet1": casme2Rows()})
	c2, err := ConvertCASME2(context.Background(), ConvertOptions{Root: filepath.Join(root, "c2"), SheetOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if s := c2.Samples[1]; s.Apex != "110" || s.Frames != filepath.Join(root, "c2", "sub02", "EP03_02") {
		t.Errorf("apex / → midpoint: %+v", s)
	}
	writeXLSX(t, filepath.Join(root, "s2", "SAMM_Micro_FACS_Codes_v2.xlsx"), []string{"S"}, map[string][][]any{"S": sammRows()})
	s2, err := ConvertSAMM(context.Background(), ConvertOptions{Root: filepath.Join(root, "s2"), SheetOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if s := s2.Samples[1]; s.Offset != "" || s.Apex != "3020" {
		t.Errorf("offset -1 sheet-only: %+v", s)
	}
	if findNote(s2.Notes, "row 16 column F", "offset left empty") == "" {
		t.Errorf("no note for the empty offset: %q", s2.Notes)
	}
	if _, err := os.Stat(filepath.Join(root, "006")); err == nil {
		t.Error("sheet-only created folders")
	}
}
