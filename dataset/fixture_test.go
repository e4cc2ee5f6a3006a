package dataset

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// formula marks a fixture cell that holds a spreadsheet formula.
type formula string

// writeXLSX writes a workbook with the given sheets (in order) and rows; a
// nil cell stays blank, a formula cell holds a formula, ints are numbers and
// strings are text.
func writeXLSX(t testing.TB, path string, sheets []string, rows map[string][][]any) {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, name := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(name); err != nil {
			t.Fatal(err)
		}
		for r, row := range rows[name] {
			for c, v := range row {
				if v == nil {
					continue
				}
				cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
				var err error
				if fv, ok := v.(formula); ok {
					err = f.SetCellFormula(name, cell, string(fv))
				} else {
					err = f.SetCellValue(name, cell, v)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
}

// writeCSVRows writes rows as a CSV export; nil cells are empty and
// formulas are exported as their text (spreadsheets export values, but a
// blank is as good as any for columns the converters ignore).
func writeCSVRows(t testing.TB, path string, rows [][]any) {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	for _, row := range rows {
		rec := make([]string, len(row))
		for i, v := range row {
			switch x := v.(type) {
			case nil, formula:
			default:
				rec[i] = fmt.Sprint(x)
			}
		}
		w.Write(rec)
	}
	w.Flush()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, buf.String())
}

// tinyImage encodes a 3x2 image in the format the extension names.
func tinyImage(t testing.TB, ext string) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 17)
	}
	img.Set(0, 0, color.RGBA{200, 100, 50, 255})
	var buf bytes.Buffer
	switch ext {
	case ".png":
		png.Encode(&buf, img)
	case ".jpg":
		jpeg.Encode(&buf, img, nil)
	case ".bmp":
		// 24-bit uncompressed BMP, rows bottom-up padded to 4 bytes.
		w, h := 3, 2
		stride := (w*3 + 3) &^ 3
		size := 54 + stride*h
		le := binary.LittleEndian
		hdr := make([]byte, 54)
		copy(hdr, "BM")
		le.PutUint32(hdr[2:], uint32(size))
		le.PutUint32(hdr[10:], 54)
		le.PutUint32(hdr[14:], 40)
		le.PutUint32(hdr[18:], uint32(w))
		le.PutUint32(hdr[22:], uint32(h))
		le.PutUint16(hdr[26:], 1)
		le.PutUint16(hdr[28:], 24)
		le.PutUint32(hdr[34:], uint32(stride*h))
		buf.Write(hdr)
		buf.Write(make([]byte, stride*h))
	default:
		t.Fatalf("no encoder for %s", ext)
	}
	return buf.Bytes()
}

// makeFrames writes tiny frame images dir/fmt(n) for each n.
func makeFrames(t testing.TB, dir, nameFmt string, numbers ...int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data := tinyImage(t, filepath.Ext(nameFmt))
	for _, n := range numbers {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf(nameFmt, n)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// casme2Rows is a CASME II coding sheet in the official layout: blank
// columns C and G, subjects stored as numbers or text, one apex "/", an
// "or" in the AUs, a sadness row the 5-class scheme leaves out.
func casme2Rows() [][]any {
	return [][]any{
		{"Subject", "Filename", nil, "OnsetFrame", "ApexFrame", "OffsetFrame", nil, "Action Units", "Estimated Emotion"},
		{1, "EP02_01f", nil, 46, 59, 86, nil, "12", "happiness"},
		{"02", "EP03_02", nil, 101, "/", 120, nil, "4+7", "disgust"},
		{2, "EP09_06f", nil, 10, 12, 14, nil, "R12 or 14", "others"},
		{3, "EP01_01", nil, 1, 3, 5, nil, "1+2", "surprise"},
		{3, "EP02_03", nil, 1, 2, 3, nil, "15", "sadness"},
		{4, "EP05_02", nil, 7, 8, 9, nil, "14+17", "repression"},
	}
}

// casme2Frames writes the frame folders for casme2Rows under root, the
// first clip also as a cropped copy (two releases side by side).
func casme2Frames(t testing.TB, root string) {
	raw := filepath.Join(root, "CASME2-RAW")
	makeFrames(t, filepath.Join(raw, "sub01", "EP02_01f"), "img%d.jpg", 46, 50, 59, 86)
	makeFrames(t, filepath.Join(root, "Cropped", "sub01", "EP02_01f"), "reg_img%d.jpg", 46, 59, 86)
	makeFrames(t, filepath.Join(raw, "sub02", "EP03_02"), "img%d.jpg", 101, 105, 111, 120)
	makeFrames(t, filepath.Join(raw, "sub02", "EP09_06f"), "img%d.jpg", 10, 11, 12, 13, 14)
	makeFrames(t, filepath.Join(raw, "sub03", "EP01_01"), "img%d.jpg", 1, 2, 3, 4, 5)
	makeFrames(t, filepath.Join(raw, "sub03", "EP02_03"), "img%d.jpg", 1, 2, 3)
	makeFrames(t, filepath.Join(raw, "sub04", "EP05_02"), "img%d.jpg", 7, 8, 9)
}

// sammRows is a SAMM sheet in the official layout: a notes block of 13
// rows, the header on row 14, numbers stored as numbers or text, a Duration
// formula, an offset of -1, an uncertain AU, an apex outside its interval.
func sammRows() [][]any {
	rows := [][]any{
		{"SAMM Micro-Movement Coding"},
		{"Key:"},
		{nil, "/ = or"},
		{nil, "? = unclear offset"},
		{nil, "L/R = left/right, A = asymmetric"},
	}
	for len(rows) < 13 {
		rows = append(rows, []any{})
	}
	rows = append(rows,
		[]any{"Subject", "Filename", "Inducement Code", "Onset Frame", "Apex Frame", "Offset Frame", "Duration", "Micro", "Action Units", "Estimated Emotion", "Objective Classes", "Notes"},
		[]any{6, "006_1_2", 1, 5562, 5588, 5627, formula("F15-D15+1"), "Micro - 1/2", "4+7", "Anger", "III", nil},
		[]any{"007", "007_3_1", 3, "3007", "3020", -1, nil, "Micro - 1/2", "R12A+R14A", "Contempt", "V", "offset unclear"},
		[]any{11, "011_2_3", 2, 200, 204, 210, formula("F17-D17+1"), "Macro", "A2+4+7?", "Disgust", "IV", nil},
		[]any{6, "006_1_5", 1, 100, 300, 120, formula("F18-D18+1"), "Micro - 1/2", "6+12", "Happiness", "I", nil},
	)
	return rows
}

func sammFrames(t testing.TB, root string) {
	makeFrames(t, filepath.Join(root, "006", "006_1_2"), "006_%05d.jpg", 5562, 5588, 5600, 5627)
	makeFrames(t, filepath.Join(root, "007", "007_3_1"), "007_%05d.jpg", 3007, 3020, 3030)
	makeFrames(t, filepath.Join(root, "011", "011_2_3"), "011_%05d.jpg", 200, 204, 210)
	makeFrames(t, filepath.Join(root, "006", "006_1_5"), "006_%05d.jpg", 100, 109, 111, 120)
}

// smicFrames writes SMIC-HS clip folders, plus a VIS copy of one clip.
func smicFrames(t testing.TB, root string) {
	hs := filepath.Join(root, "SMIC_all_cropped", "HS")
	makeFrames(t, filepath.Join(hs, "s1", "micro", "positive", "s1_po_01"), "image%07d.bmp", 101, 102, 103, 104, 105)
	makeFrames(t, filepath.Join(hs, "s1", "micro", "negative", "s1_ne_02"), "image%07d.bmp", 200, 201, 202, 203)
	makeFrames(t, filepath.Join(hs, "s02", "micro", "surprise", "s2_sur_01"), "image%07d.bmp", 7, 8, 9)
	makeFrames(t, filepath.Join(root, "SMIC_all_cropped", "VIS", "s1", "micro", "positive", "s1_po_01"), "image%07d.bmp", 1, 2)
}

// casme3Rows is CAS(ME)^3 part A's sheet "label": subject "spNO.1" where
// the folders say "spNo.1", a clip with two micro-expressions, a clip name
// in upper case whose folder is lower case.
func casme3Rows() [][]any {
	return [][]any{
		{"Subject", "Filename", "Onset", "Apex", "Offset", "AU", "Objective class", "emotion"},
		{"spNO.1", "a", 10, 12, 15, "4+L10", "IV", "disgust"},
		{"spNO.1", "a", 30, 33, 36, "12", "I", "happy"},
		{"spNO.2", "B", 5, 6, 7, "1+2", "II", "surprise"},
		{"spNO.2", "c", 1, 2, 3, "1", "V", "others"},
		{"spNO.3", "a", 1, 2, 3, "4+5+7", "III", "anger"},
	}
}

func casme3Frames(t testing.TB, root string) {
	data := filepath.Join(root, "part_A", "data")
	makeFrames(t, filepath.Join(data, "spNo.1", "a", "color"), "%d.jpg", 10, 12, 15, 30, 33, 36)
	makeFrames(t, filepath.Join(data, "spNo.1", "a", "depth"), "%d.png", 10, 12)
	makeFrames(t, filepath.Join(data, "spNO.2", "b", "color"), "%d.jpg", 5, 6, 7)
	makeFrames(t, filepath.Join(data, "spNO.2", "c", "color"), "%d.jpg", 1, 2, 3)
	makeFrames(t, filepath.Join(data, "spNO.3", "a", "color"), "%d.jpg", 1, 2, 3)
}

// findNote returns the first note containing every fragment, or "".
func findNote(notes []string, frags ...string) string {
outer:
	for _, n := range notes {
		for _, f := range frags {
			if !strings.Contains(n, f) {
				continue outer
			}
		}
		return n
	}
	return ""
}
