package frames

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// openFaceColumns is the column list of OpenFace 2.x FeatureExtraction as
// its documentation gives it (wiki "Output Format"; RecorderCSV.cpp writes
// the same names in the same order): all outputs switched on, 56 eye
// landmarks, 34 shape modes, 17 intensity and 18 presence AUs.
func openFaceColumns() []string {
	c := []string{"frame", "face_id", "timestamp", "confidence", "success",
		"gaze_0_x", "gaze_0_y", "gaze_0_z", "gaze_1_x", "gaze_1_y", "gaze_1_z", "gaze_angle_x", "gaze_angle_y"}
	for _, p := range []string{"eye_lmk_x_", "eye_lmk_y_", "eye_lmk_X_", "eye_lmk_Y_", "eye_lmk_Z_"} {
		for i := 0; i < 56; i++ {
			c = append(c, p+strconv.Itoa(i))
		}
	}
	c = append(c, "pose_Tx", "pose_Ty", "pose_Tz", "pose_Rx", "pose_Ry", "pose_Rz")
	for _, p := range []string{"x_", "y_", "X_", "Y_", "Z_"} {
		for i := 0; i < 68; i++ {
			c = append(c, p+strconv.Itoa(i))
		}
	}
	c = append(c, "p_scale", "p_rx", "p_ry", "p_rz", "p_tx", "p_ty")
	for i := 0; i < 34; i++ {
		c = append(c, "p_"+strconv.Itoa(i))
	}
	for _, a := range []string{"01", "02", "04", "05", "06", "07", "09", "10", "12", "14", "15", "17", "20", "23", "25", "26", "45"} {
		c = append(c, "AU"+a+"_r")
	}
	for _, a := range []string{"01", "02", "04", "05", "06", "07", "09", "10", "12", "14", "15", "17", "20", "23", "25", "26", "28", "45"} {
		c = append(c, "AU"+a+"_c")
	}
	return c
}

// openFaceTable is a reader written to OpenFace's documented column list
// and nothing else of this package: encoding/csv, header names trimmed (as
// pandas users do for OpenFace's ", " headers), columns looked up by their
// documented names.
type openFaceTable struct {
	col  map[string]int // documented name → column index in the file
	rows [][]string
}

func readOpenFace(t *testing.T, data []byte) openFaceTable {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("encoding/csv: %v", err)
	}
	tab := openFaceTable{col: map[string]int{}, rows: recs[1:]}
	doc := openFaceColumns()
	for i, name := range recs[0] {
		if slices.Contains(doc, strings.TrimSpace(name)) {
			tab.col[strings.TrimSpace(name)] = i
		}
	}
	return tab
}

func (tab openFaceTable) float(t *testing.T, row int, name string) float64 {
	t.Helper()
	i, ok := tab.col[name]
	if !ok {
		t.Fatalf("no column %q", name)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(tab.rows[row][i]), 64)
	if err != nil {
		t.Fatalf("row %d %s: %v", row, name, err)
	}
	return v
}

var testAUs = []int{1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 16, 17, 20, 23, 25, 26, 45}

func testRows(n int, layout Layout, seed uint64) []Row {
	rng := rand.New(rand.NewPCG(seed, 1))
	rows := make([]Row, n)
	for f := range rows {
		r := &rows[f]
		r.Frame, r.Timestamp = f+1, float64(f)/30
		r.Success = f%7 != 3
		r.Confidence = math.Round(rng.Float64()*100) / 100
		r.Extra = make([]float64, len(layout.Extra))
		for k := range r.Extra {
			r.Extra[k] = math.NaN()
			if rng.IntN(4) > 0 {
				r.Extra[k] = float64(float32(rng.Float64()))
			}
		}
		if !r.Success {
			continue
		}
		r.Pose = Pose{
			Tx: math.Round(rng.NormFloat64()*500) / 10, Ty: math.Round(rng.NormFloat64()*500) / 10, Tz: math.Round(5000+rng.Float64()*5000) / 10,
			Rx: math.Round(rng.NormFloat64()*200) / 1000, Ry: math.Round(rng.NormFloat64()*200) / 1000, Rz: math.Round(rng.NormFloat64()*200) / 1000,
		}
		for i := range r.Landmarks {
			r.Landmarks[i] = [2]float32{float32(math.Round(rng.Float64()*64000) / 100), float32(math.Round(rng.Float64()*48000) / 100)}
		}
		r.Intensity = make([]float32, len(layout.AUs))
		r.Present = make([]bool, len(layout.AUs))
		for k := range r.Intensity {
			r.Intensity[k] = float32(math.Round(rng.Float64()*500) / 100)
			r.Present[k] = r.Intensity[k] >= 1
		}
		if layout.Gaze {
			for k := range r.Gaze {
				r.Gaze[k] = float32(math.Round(rng.NormFloat64()*1e4) / 1e4)
			}
		}
	}
	return rows
}

func write(t *testing.T, layout Layout, rows []Row) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := NewWriter(&b, layout)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		if err := w.Write(&rows[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestOpenFaceColumns reads a frames.csv the way a script written against
// OpenFace's documentation does: the first five columns are OpenFace's, the
// documented columns present keep OpenFace's relative order, AU columns
// follow OpenFace's naming and sorting, tell's extras come after all of
// them, and the values read by documented name are the values written.
func TestOpenFaceColumns(t *testing.T) {
	layout := Layout{AUs: testAUs, Extra: []string{"happiness", "AU12_flow", "AU12_strain"}}
	rows := testRows(20, layout, 1)
	data := write(t, layout, rows)
	tab := readOpenFace(t, data)
	header := strings.Split(strings.SplitN(string(data), "\n", 2)[0], Separator)
	if !slices.Equal(header[:5], openFaceColumns()[:5]) {
		t.Fatalf("leading columns %v, want OpenFace's %v", header[:5], openFaceColumns()[:5])
	}
	doc := openFaceColumns()
	last, lastDoc := -1, -1
	for i, name := range header {
		k := slices.Index(doc, name)
		_, _, isAU := auColumn(name)
		switch {
		case k >= 0:
			if k < lastDoc {
				t.Errorf("column %q (#%d) comes after %q, against OpenFace's order", name, i, doc[lastDoc])
			}
			lastDoc, last = k, i
		case isAU:
			// An AU OpenFace does not measure (AU16): named and sorted
			// as OpenFace would.
			last = i
		default:
			if i < last {
				t.Errorf("extra column %q sits before OpenFace's columns", name)
			}
		}
	}
	var aus []string
	for _, name := range header {
		if n, kind, ok := auColumn(name); ok && kind == 'r' && slices.Contains(openFaceIntensity, n) {
			aus = append(aus, name)
		}
	}
	if !slices.IsSorted(aus) {
		t.Errorf("OpenFace's AU intensity columns not sorted by name: %v", aus)
	}
	for _, want := range []string{"pose_Tx", "pose_Rz", "x_0", "y_67", "AU01_r", "AU45_r", "AU01_c", "AU45_c"} {
		if _, ok := tab.col[want]; !ok {
			t.Errorf("documented column %q missing", want)
		}
	}
	if len(tab.rows) != len(rows) {
		t.Fatalf("%d rows read, %d written", len(tab.rows), len(rows))
	}
	for i, r := range rows {
		if got := tab.float(t, i, "frame"); got != float64(r.Frame) {
			t.Errorf("row %d: frame %v, want %d", i, got, r.Frame)
		}
		if got := tab.float(t, i, "success"); (got == 1) != r.Success {
			t.Errorf("row %d: success %v, want %v", i, got, r.Success)
		}
		if got := tab.float(t, i, "confidence"); math.Abs(got-r.Confidence) > 0.005 {
			t.Errorf("row %d: confidence %v, want %v", i, got, r.Confidence)
		}
		if !r.Success {
			if tab.float(t, i, "AU12_r") != 0 || tab.float(t, i, "pose_Tz") != 0 {
				t.Errorf("row %d: a frame without a face has non-zero values", i)
			}
			continue
		}
		if got := tab.float(t, i, "pose_Tz"); math.Abs(got-r.Pose.Tz) > 0.05 {
			t.Errorf("row %d: pose_Tz %v, want %v", i, got, r.Pose.Tz)
		}
		if got := tab.float(t, i, "pose_Ry"); math.Abs(got-r.Pose.Ry) > 0.0005 {
			t.Errorf("row %d: pose_Ry %v, want %v", i, got, r.Pose.Ry)
		}
		if got := tab.float(t, i, "x_30"); math.Abs(got-float64(r.Landmarks[30][0])) > 0.005 {
			t.Errorf("row %d: x_30 %v, want %v", i, got, r.Landmarks[30][0])
		}
		k := slices.Index(testAUs, 12)
		if got := tab.float(t, i, "AU12_r"); math.Abs(got-float64(r.Intensity[k])) > 0.005 {
			t.Errorf("row %d: AU12_r %v, want %v", i, got, r.Intensity[k])
		}
		if got := tab.float(t, i, "AU12_c"); (got == 1) != r.Present[k] {
			t.Errorf("row %d: AU12_c %v, want %v", i, got, r.Present[k])
		}
	}
}

// tellBlocks is OpenFace 2.2's documented column list with the blocks
// tell does not measure left out (eye landmarks, 3D landmarks, shape
// parameters; gaze unless gaze is set): what the OpenFace part of
// frames.csv must equal, name for name.
func tellBlocks(gaze bool) []string {
	var out []string
	for _, c := range openFaceColumns() {
		switch {
		case strings.HasPrefix(c, "eye_lmk_"), strings.HasPrefix(c, "p_"),
			len(c) > 2 && (c[0] == 'X' || c[0] == 'Y' || c[0] == 'Z') && c[1] == '_',
			!gaze && strings.HasPrefix(c, "gaze_"):
			continue
		}
		out = append(out, c)
	}
	return out
}

// TestOpenFace22Header: frames.csv's header is OpenFace 2.2's documented
// list without the blocks tell does not measure, exactly (names, order,
// ", " between them, AU28_c in its place, the gaze block after success
// when gaze is measured), and every other column (AU16, tell's extras)
// comes after it.
func TestOpenFace22Header(t *testing.T) {
	for _, gaze := range []bool{false, true} {
		layout := Layout{AUs: testAUs, Gaze: gaze, Extra: []string{"happiness", "AU12_flow"}}
		line, _, _ := strings.Cut(string(write(t, layout, nil)), "\n")
		want := tellBlocks(gaze)
		want = append(want, "AU16_r", "AU16_c", "happiness", "AU12_flow")
		if line != strings.Join(want, ", ") {
			t.Errorf("gaze %v: header\n%s\nwant\n%s", gaze, line, strings.Join(want, ", "))
		}
	}
}

// TestOpenFace20Header compares the header with a real OpenFace output
// (OpenFace 2.0, py-feat's test file; testdata/README.md): every column
// the two share comes in the same order, with the same ", " between names,
// and every AU column of that file is in frames.csv.
func TestOpenFace20Header(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "openface-2.0-header.csv"))
	if err != nil {
		t.Fatal(err)
	}
	theirs := strings.Split(strings.TrimRight(string(b), "\r\n"), Separator)
	if len(theirs) != 431 || theirs[0] != "frame" {
		t.Fatalf("the OpenFace header has %d columns starting %q", len(theirs), theirs[0])
	}
	line, _, _ := strings.Cut(string(write(t, Layout{AUs: testAUs}, nil)), "\n")
	ours := strings.Split(line, Separator)
	last := -1
	shared := 0
	for _, c := range ours {
		k := slices.Index(theirs, c)
		if k < 0 {
			continue
		}
		if k < last {
			t.Errorf("column %q is out of OpenFace's order", c)
		}
		last = k
		shared++
	}
	for _, c := range theirs {
		if _, _, isAU := auColumn(c); isAU && !slices.Contains(ours, c) {
			t.Errorf("OpenFace's %s is missing", c)
		}
	}
	// frame, timestamp, confidence, success, pose 6, landmarks 136,
	// AUs 17 + 18.
	if shared != 4+6+136+35 {
		t.Errorf("%d shared columns, want %d", shared, 4+6+136+35)
	}
}

// TestPyFeatReads reads frames.csv as py-feat's read_openface does:
// pandas.read_csv with a comma separator, header names stripped of
// spaces, then the OpenFace columns it looks up by name (frame, timestamp,
// confidence, success, pose, x_/y_ landmarks, OpenFace's 17 intensity and
// 18 presence AU columns) each a number, or empty (NaN) where tell does
// not measure (AU28_c). A reimplementation of its expectations, so that
// the check needs no Python.
func TestPyFeatReads(t *testing.T) {
	layout := Layout{AUs: testAUs, Extra: []string{"happiness"}}
	rows := testRows(5, layout, 7)
	recs, err := csv.NewReader(bytes.NewReader(write(t, layout, rows))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[strings.Trim(h, " ")] = i
	}
	// The columns it reads, taken from the real OpenFace header rather
	// than from the tables the writer uses.
	b, err := os.ReadFile(filepath.Join("testdata", "openface-2.0-header.csv"))
	if err != nil {
		t.Fatal(err)
	}
	landmark := regexp.MustCompile(`^[xy]_[0-9]+$`)
	var need []string
	for _, c := range strings.Split(strings.TrimRight(string(b), "\r\n"), Separator) {
		_, _, isAU := auColumn(c)
		if isAU || landmark.MatchString(c) || strings.HasPrefix(c, "pose_") || slices.Contains([]string{"frame", "timestamp", "confidence", "success"}, c) {
			need = append(need, c)
		}
	}
	if len(need) != 4+6+136+35 {
		t.Fatalf("%d columns from the OpenFace header, want %d", len(need), 4+6+136+35)
	}
	for _, name := range need {
		i, ok := col[name]
		if !ok {
			t.Errorf("py-feat's column %s is missing", name)
			continue
		}
		for r, rec := range recs[1:] {
			cell := strings.TrimSpace(rec[i]) // pandas' number parser skips leading spaces
			if cell == "" {
				if name != "AU28_c" {
					t.Errorf("row %d: %s is empty", r+1, name)
				}
				continue
			}
			if _, err := strconv.ParseFloat(cell, 64); err != nil {
				t.Errorf("row %d: %s = %q is not a number", r+1, name, rec[i])
			}
		}
	}
}

// TestRoundTrip writes rows and reads them back with Reader.
func TestRoundTrip(t *testing.T) {
	for _, layout := range []Layout{
		{AUs: testAUs, Extra: []string{"anger", "happiness", "AU12_flow", "AU12_strain"}},
		{AUs: testAUs, Gaze: true, Extra: []string{"happiness"}},
		{AUs: []int{12}},
		{},
	} {
		rows := testRows(50, layout, 2)
		data := write(t, layout, rows)
		rd, err := NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		// Every AU with a column reads back: OpenFace's (AU28_c too,
		// empty: not measured) and tell's own.
		got := rd.Layout()
		wantAUs := slices.Clone(openFacePresence)
		for _, a := range layout.AUs {
			if !slices.Contains(wantAUs, a) {
				wantAUs = append(wantAUs, a)
			}
		}
		slices.Sort(wantAUs)
		if !slices.Equal(got.AUs, wantAUs) || !slices.Equal(got.Extra, layout.Extra) || got.Gaze != layout.Gaze {
			t.Fatalf("layout %+v, want AUs %v and extras %v", got, wantAUs, layout.Extra)
		}
		var r Row
		for i, want := range rows {
			if err := rd.Read(&r); err != nil {
				t.Fatalf("row %d: %v", i, err)
			}
			if err := sameRow(&r, got.AUs, &want, layout.AUs); err != nil {
				t.Fatalf("layout %v row %d: %v", layout, i, err)
			}
		}
		if err := rd.Read(&r); err != io.EOF {
			t.Fatalf("after the last row: %v", err)
		}
	}
}

// sameRow compares a row read (its AUs gotAUs) with the row written (its
// AUs wantAUs); an AU read that was not written must read as absent.
func sameRow(got *Row, gotAUs []int, want *Row, wantAUs []int) error {
	if got.Frame != want.Frame || got.FaceID != want.FaceID || got.Success != want.Success ||
		math.Abs(got.Timestamp-want.Timestamp) > 5e-5 || math.Abs(got.Confidence-want.Confidence) > 0.005 {
		return fmt.Errorf("leading columns %+v, want %+v", []any{got.Frame, got.FaceID, got.Timestamp, got.Confidence, got.Success},
			[]any{want.Frame, want.FaceID, want.Timestamp, want.Confidence, want.Success})
	}
	for k := range want.Extra {
		g, w := got.Extra[k], want.Extra[k]
		if math.IsNaN(g) != math.IsNaN(w) || !math.IsNaN(w) && math.Abs(g-w) > 1e-7 {
			return fmt.Errorf("extra %d = %v, want %v", k, g, w)
		}
	}
	if !want.Success {
		return nil
	}
	if got.Pose != want.Pose || got.Gaze != want.Gaze {
		return fmt.Errorf("pose %+v, want %+v", got.Pose, want.Pose)
	}
	if got.Landmarks != want.Landmarks {
		return fmt.Errorf("landmarks differ")
	}
	for k, a := range gotAUs {
		j := slices.Index(wantAUs, a)
		if j < 0 { // a column tell keeps but did not measure: absent
			if !math.IsNaN(float64(got.Intensity[k])) && got.Intensity[k] != 0 || got.Present[k] {
				return fmt.Errorf("AU%d (not measured): %v %v", a, got.Intensity[k], got.Present[k])
			}
			continue
		}
		wi, wp := want.Intensity[j], want.Present[j]
		if got.Intensity[k] != wi || got.Present[k] != wp {
			return fmt.Errorf("AU%d: %v %v, want %v %v", a, got.Intensity[k], got.Present[k], wi, wp)
		}
	}
	return nil
}

// TestReadOpenFaceFile reads a file laid out as OpenFace 2.0 writes it
// (every documented column, ", " between header names): the shared
// columns are found by name, the others kept as extras.
func TestReadOpenFaceFile(t *testing.T) {
	cols := openFaceColumns()
	var b bytes.Buffer
	b.WriteString(strings.Join(cols, ", ") + "\n")
	for f := 1; f <= 3; f++ {
		cells := make([]string, len(cols))
		for i, c := range cols {
			switch {
			case c == "frame":
				cells[i] = strconv.Itoa(f)
			case c == "success":
				cells[i] = "1"
			case c == "confidence":
				cells[i] = "0.98"
			case c == "pose_Tz":
				cells[i] = "512.3"
			case c == "AU12_r":
				cells[i] = "1.25"
			case c == "AU28_c":
				cells[i] = "1"
			case c == "x_30":
				cells[i] = "320.5"
			default:
				cells[i] = "0.5"
			}
		}
		b.WriteString(strings.Join(cells, ", ") + "\n")
	}
	rd, err := NewReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	l := rd.Layout()
	if len(l.AUs) != 18 || !slices.Contains(l.AUs, 28) || slices.Contains(l.AUs, 16) {
		t.Errorf("AUs %v, want OpenFace's 18", l.AUs)
	}
	if !l.Gaze || slices.Contains(l.Extra, "gaze_angle_x") || !slices.Contains(l.Extra, "p_33") || slices.Contains(l.Extra, "pose_Tx") {
		t.Errorf("gaze %v, extras %v", l.Gaze, l.Extra)
	}
	var r Row
	for f := 1; f <= 3; f++ {
		if err := rd.Read(&r); err != nil {
			t.Fatal(err)
		}
		k := slices.Index(l.AUs, 12)
		if r.Frame != f || !r.Success || r.Confidence != 0.98 || r.Pose.Tz != 512.3 || r.Landmarks[30][0] != 320.5 || r.Intensity[k] != 1.25 {
			t.Errorf("row %d: %+v", f, r)
		}
		if r.Present[slices.Index(l.AUs, 28)] != true {
			t.Errorf("row %d: AU28_c not read", f)
		}
		// AU28 has presence only: its intensity is absent, read as 0.
		if r.Intensity[slices.Index(l.AUs, 28)] != 0 {
			t.Errorf("row %d: AU28_r = %v", f, r.Intensity[slices.Index(l.AUs, 28)])
		}
	}
}

func TestReaderErrors(t *testing.T) {
	for _, c := range []struct{ name, data, want string }{
		{"empty", "", "no header"},
		{"no frame", "timestamp,success\n0,1\n", `no "frame"`},
		{"duplicate", "frame,success,frame\n", "twice"},
		{"blank name", "frame,,success\n", "no name"},
		{"bad number", "frame,success,AU12_r\n1,1,abc\n", `line 2, column AU12_r: "abc"`},
		{"fractional frame", "frame,success\n1.5,1\n", "not a whole number"},
		{"short row", "frame,success,AU12_r\n1,1\n", "line 2 has 2 cells"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rd, err := NewReader(strings.NewReader(c.data))
			if err == nil {
				var r Row
				err = rd.Read(&r)
			}
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want ErrFormat mentioning %q", err, c.want)
			}
		})
	}
}

func TestWriterErrors(t *testing.T) {
	if _, err := NewWriter(io.Discard, Layout{AUs: []int{12, 4}}); err == nil {
		t.Error("unsorted AUs accepted")
	}
	w, err := NewWriter(io.Discard, Layout{AUs: []int{4, 12}, Extra: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&Row{Frame: 1, Success: true, Intensity: []float32{1}, Present: []bool{true}, Extra: []float64{0}}); err == nil {
		t.Error("row with too few AUs accepted")
	}
	if err := w.Write(&Row{Frame: 1}); err == nil {
		t.Error("row without its extra value accepted")
	}
}

func FuzzReader(f *testing.F) {
	layout := Layout{AUs: []int{4, 12}, Extra: []string{"happiness"}}
	var b bytes.Buffer
	w, _ := NewWriter(&b, layout)
	rows := testRows(3, layout, 3)
	for i := range rows {
		w.Write(&rows[i])
	}
	w.Flush()
	f.Add(b.Bytes())
	f.Add([]byte("frame, face_id, timestamp, confidence, success, AU12_r\n1, 0, 0.0, 0.9, 1, 2.5\n"))
	f.Add([]byte("frame,success,x_67,y_0,AU99_c\n1,1,,,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rd, err := NewReader(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("header error not ErrFormat: %v", err)
			}
			return
		}
		var r Row
		for i := 0; i < 100; i++ {
			if err := rd.Read(&r); err != nil {
				if err != io.EOF && !errors.Is(err, ErrFormat) {
					t.Fatalf("error not ErrFormat: %v", err)
				}
				return
			}
		}
	})
}

func ExampleWriter() {
	var b bytes.Buffer
	w, _ := NewWriter(&b, Layout{AUs: []int{12}})
	w.Write(&Row{Frame: 1, Timestamp: 0, Confidence: 0.97, Success: true,
		Pose: Pose{Tz: 600, Ry: 0.1}, Intensity: []float32{1.5}, Present: []bool{true}})
	w.Flush()
	header, row, _ := strings.Cut(b.String(), "\n")
	fmt.Println(strings.Join(strings.Split(header, Separator)[:11], Separator))
	fmt.Println(strings.Join(strings.Split(row, Separator)[:11], Separator))
	// Output:
	// frame, face_id, timestamp, confidence, success, pose_Tx, pose_Ty, pose_Tz, pose_Rx, pose_Ry, pose_Rz
	// 1, 0, 0.0000, 0.97, 1, 0.0, 0.0, 600.0, 0.000, 0.100, 0.000
}

func BenchmarkWrite(b *testing.B) {
	layout := Layout{AUs: testAUs, Extra: []string{"anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral"}}
	rows := testRows(64, layout, 4)
	w, _ := NewWriter(io.Discard, layout)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		w.Write(&rows[i%len(rows)])
		i++
	}
}
