// Package frames reads and writes frames.csv, tell's per-frame table, in
// the layout of OpenFace 2.2 FeatureExtraction for the columns both
// measure, so that scripts written for OpenFace read it unchanged, by name
// or by position within each block:
//
//	frame, face_id, timestamp, confidence, success,
//	[gaze_0_x, gaze_0_y, gaze_0_z, gaze_1_x, gaze_1_y, gaze_1_z, gaze_angle_x, gaze_angle_y,]
//	pose_Tx, pose_Ty, pose_Tz, pose_Rx, pose_Ry, pose_Rz,
//	x_0..x_67, y_0..y_67,
//	AU01_r .. AU45_r (OpenFace's 17), AU01_c .. AU45_c (its 18, AU28_c included),
//
// then tell's extra columns: the AUs tell measures and OpenFace does not
// (AU16_r, AU16_c), and Layout.Extra (expression probabilities, dense flow
// and strain per AU region). Names, order and the ", " between cells are
// OpenFace's RecorderCSV's; the gaze block is there when Layout.Gaze says
// gaze was measured. OpenFace columns tell does not measure at all (eye
// landmarks, 3D landmarks, shape parameters) are left out rather than
// filled with made-up values; an OpenFace AU column tell does not measure
// (AU28_c) is kept, so that positions within the AU block are OpenFace's,
// and its cells are empty (not measured).
//
// Units are OpenFace's: frame numbers from 1, timestamps in seconds,
// confidence in [0,1], pose translation in millimetres and rotation in
// radians (see face.Pose), landmarks in pixels, AU intensity on the 0–5
// scale, presence 0/1. A frame without a face has success 0 and zeros, as
// OpenFace writes it; an extra value that was not measured is an empty cell.
//
// Limits: one face per row (face_id is always 0 in tell's output); the
// reader keeps at most MaxColumns columns and MaxLine bytes per line.
package frames

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// NumLandmarks is the number of 2D landmarks per row (dlib/iBUG 68).
const NumLandmarks = 68

// Reader limits.
const (
	MaxColumns = 4096
	MaxLine    = 1 << 20
)

// leading are the first five columns, as OpenFace writes them for a sequence.
var leading = []string{"frame", "face_id", "timestamp", "confidence", "success"}

// gazeColumns are OpenFace's gaze columns: each eye's gaze direction
// (unit vector, camera coordinates) and the mean gaze angles (radians).
var gazeColumns = []string{"gaze_0_x", "gaze_0_y", "gaze_0_z", "gaze_1_x", "gaze_1_y", "gaze_1_z", "gaze_angle_x", "gaze_angle_y"}

// poseColumns are the head-pose columns.
var poseColumns = []string{"pose_Tx", "pose_Ty", "pose_Tz", "pose_Rx", "pose_Ry", "pose_Rz"}

// openFaceIntensity and openFacePresence are the AUs of OpenFace 2.2's
// AUxx_r and AUxx_c columns, in its order.
var (
	openFaceIntensity = []int{1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17, 20, 23, 25, 26, 45}
	openFacePresence  = []int{1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17, 20, 23, 25, 26, 28, 45}
)

// Separator is what OpenFace writes between cells, header and rows.
const Separator = ", "

// Layout is what a frames.csv holds besides the fixed columns.
type Layout struct {
	AUs []int // AUs measured (Row.Intensity, Row.Present), ascending
	// Gaze says the rows carry gaze (Row.Gaze): the gaze columns go in
	// OpenFace's place, after success.
	Gaze  bool
	Extra []string // extra numeric columns after the AUs, in order
}

// Header returns the column names of l.
func (l Layout) Header() []string {
	h := append([]string{}, leading...)
	if l.Gaze {
		h = append(h, gazeColumns...)
	}
	h = append(h, poseColumns...)
	for _, c := range "xy" {
		for i := 0; i < NumLandmarks; i++ {
			h = append(h, fmt.Sprintf("%c_%d", c, i))
		}
	}
	for _, a := range openFaceIntensity {
		h = append(h, AUName(a)+"_r")
	}
	for _, a := range openFacePresence {
		h = append(h, AUName(a)+"_c")
	}
	for _, a := range l.ownAUs() {
		h = append(h, AUName(a)+"_r", AUName(a)+"_c")
	}
	return append(h, l.Extra...)
}

// ownAUs are the AUs of l that OpenFace does not measure, in l's order:
// their columns come after OpenFace's.
func (l Layout) ownAUs() []int {
	var own []int
	for _, a := range l.AUs {
		if !slices.Contains(openFaceIntensity, a) {
			own = append(own, a)
		}
	}
	return own
}

// AUName is OpenFace's spelling of an AU: "AU01", "AU45".
func AUName(n int) string { return fmt.Sprintf("AU%02d", n) }

// Pose is a head pose in OpenFace's units: mm and radians.
type Pose struct{ Tx, Ty, Tz, Rx, Ry, Rz float64 }

// Row is one line of frames.csv.
type Row struct {
	Frame      int     // from 1
	FaceID     int     //
	Timestamp  float64 // seconds
	Confidence float64 // [0,1]
	Success    bool
	Gaze       [8]float32 // gaze_0_x … gaze_angle_y, when Layout.Gaze
	Pose       Pose
	Landmarks  [NumLandmarks][2]float32 // pixels
	Intensity  []float32                // per Layout.AUs, 0–5
	Present    []bool                   // per Layout.AUs
	Extra      []float64                // per Layout.Extra; NaN is an empty cell
}

// Writer writes frames.csv rows. It buffers; call Flush at the end.
type Writer struct {
	w      *bufio.Writer
	layout Layout
	// Where each AU column takes its value: an index into Row.Intensity /
	// Row.Present, -1 for a column tell does not measure (empty cell).
	ofR, ofC, own []int
	line          []byte
	err           error
}

// NewWriter writes the header for l to w and returns a writer of rows.
func NewWriter(w io.Writer, l Layout) (*Writer, error) {
	if !slices.IsSorted(l.AUs) {
		return nil, fmt.Errorf("frames: AUs %v are not ascending (OpenFace sorts its AU columns)", l.AUs)
	}
	fw := &Writer{w: bufio.NewWriterSize(w, 1<<16), layout: l}
	for _, a := range openFaceIntensity {
		fw.ofR = append(fw.ofR, slices.Index(l.AUs, a))
	}
	for _, a := range openFacePresence {
		fw.ofC = append(fw.ofC, slices.Index(l.AUs, a))
	}
	for _, a := range l.ownAUs() {
		fw.own = append(fw.own, slices.Index(l.AUs, a))
	}
	fw.line = append(fw.line, strings.Join(l.Header(), Separator)...)
	fw.line = append(fw.line, '\n')
	_, fw.err = fw.w.Write(fw.line)
	return fw, fw.err
}

// Write appends one row. Rows without success get zero landmarks, pose and
// AUs whatever r holds, as OpenFace writes them.
func (fw *Writer) Write(r *Row) error {
	if fw.err != nil {
		return fw.err
	}
	n := len(fw.layout.AUs)
	if r.Success && (len(r.Intensity) != n || len(r.Present) != n) {
		return fmt.Errorf("frames: row %d has %d intensities and %d presences for %d AUs", r.Frame, len(r.Intensity), len(r.Present), n)
	}
	if len(r.Extra) != len(fw.layout.Extra) {
		return fmt.Errorf("frames: row %d has %d extra values for %d extra columns", r.Frame, len(r.Extra), len(fw.layout.Extra))
	}
	const sep = Separator
	b := fw.line[:0]
	b = strconv.AppendInt(b, int64(r.Frame), 10)
	b = append(b, sep...)
	b = strconv.AppendInt(b, int64(r.FaceID), 10)
	b = append(b, sep...)
	b = strconv.AppendFloat(b, r.Timestamp, 'f', 4, 64)
	b = append(b, sep...)
	b = strconv.AppendFloat(b, r.Confidence, 'f', 2, 64)
	// A row without a face: zeros, as OpenFace writes it (an AU column
	// tell does not measure stays empty).
	zero := func(n int) {
		for i := 0; i < n; i++ {
			b = append(b, sep+"0"...)
		}
	}
	intensity := func(k int) {
		b = append(b, sep...)
		switch {
		case k < 0:
		case r.Success:
			b = strconv.AppendFloat(b, float64(r.Intensity[k]), 'f', 2, 32)
		default:
			b = append(b, '0')
		}
	}
	presence := func(k int) {
		b = append(b, sep...)
		switch {
		case k < 0:
		case r.Success && r.Present[k]:
			b = append(b, '1')
		default:
			b = append(b, '0')
		}
	}
	if !r.Success {
		b = append(b, sep+"0"...)
		if fw.layout.Gaze {
			zero(len(gazeColumns))
		}
		zero(6 + 2*NumLandmarks)
	} else {
		b = append(b, sep+"1"...)
		if fw.layout.Gaze {
			for _, v := range r.Gaze {
				b = append(b, sep...)
				b = strconv.AppendFloat(b, float64(v), 'f', 4, 32)
			}
		}
		p := r.Pose
		for _, v := range []float64{p.Tx, p.Ty, p.Tz} {
			b = append(b, sep...)
			b = strconv.AppendFloat(b, v, 'f', 1, 64)
		}
		for _, v := range []float64{p.Rx, p.Ry, p.Rz} {
			b = append(b, sep...)
			b = strconv.AppendFloat(b, v, 'f', 3, 64)
		}
		for c := 0; c < 2; c++ {
			for i := range r.Landmarks {
				b = append(b, sep...)
				b = strconv.AppendFloat(b, float64(r.Landmarks[i][c]), 'f', 2, 32)
			}
		}
	}
	for _, k := range fw.ofR {
		intensity(k)
	}
	for _, k := range fw.ofC {
		presence(k)
	}
	for _, k := range fw.own {
		intensity(k)
		presence(k)
	}
	for _, v := range r.Extra {
		b = append(b, sep...)
		if !math.IsNaN(v) {
			b = strconv.AppendFloat(b, v, 'f', -1, 32)
		}
	}
	b = append(b, '\n')
	fw.line = b
	_, fw.err = fw.w.Write(b)
	return fw.err
}

// Flush writes buffered rows to the underlying writer.
func (fw *Writer) Flush() error {
	if fw.err != nil {
		return fw.err
	}
	fw.err = fw.w.Flush()
	return fw.err
}

// Reader reads frames.csv files: tell's, and OpenFace's own (columns are
// found by name; OpenFace columns tell does not use, such as eye
// landmarks, are kept as extras). Layout.AUs lists every AU with a column;
// an empty cell (an AU not measured, such as AU28 in tell's files) reads
// as intensity NaN and presence false.
type Reader struct {
	sc     *bufio.Scanner
	layout Layout
	line   int
	// Column index of each field, -1 when absent.
	lead  [5]int
	gaze  [8]int // -1 each unless all eight gaze columns are there
	pose  [6]int
	lm    [2][NumLandmarks]int
	aur   []int
	auc   []int
	extra []int
	cells []string
}

// ErrFormat is wrapped by every error about the content of a file.
var ErrFormat = errors.New("frames: bad frames.csv")

// NewReader reads the header from r. Header names may carry spaces after
// the commas (OpenFace 2.0's early releases wrote ", "). The frame and
// success columns are required; others may be absent.
func NewReader(r io.Reader) (*Reader, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), MaxLine)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%w: header: %w", ErrFormat, err)
		}
		return nil, fmt.Errorf("%w: empty file, no header", ErrFormat)
	}
	names := strings.Split(strings.TrimSuffix(sc.Text(), "\r"), ",")
	if len(names) > MaxColumns {
		return nil, fmt.Errorf("%w: %d columns, more than %d", ErrFormat, len(names), MaxColumns)
	}
	rd := &Reader{sc: sc, line: 1}
	for i := range rd.lead {
		rd.lead[i] = -1
	}
	for i := range rd.pose {
		rd.pose[i] = -1
	}
	for i := range rd.gaze {
		rd.gaze[i] = -1
	}
	gazeAt := map[string]int{}
	for c := range rd.lm {
		for i := range rd.lm[c] {
			rd.lm[c][i] = -1
		}
	}
	seen := map[string]bool{}
	type auCol struct{ n, r, c int }
	var aus []auCol
	auAt := map[int]int{}
	for i, raw := range names {
		name := strings.TrimSpace(raw)
		if name == "" {
			return nil, fmt.Errorf("%w: header column %d has no name", ErrFormat, i+1)
		}
		if seen[name] {
			return nil, fmt.Errorf("%w: header column %q appears twice", ErrFormat, name)
		}
		seen[name] = true
		if k := slices.Index(leading, name); k >= 0 {
			rd.lead[k] = i
			continue
		}
		if k := slices.Index(poseColumns, name); k >= 0 {
			rd.pose[k] = i
			continue
		}
		if slices.Contains(gazeColumns, name) {
			gazeAt[name] = i
			continue
		}
		if c, k, ok := landmarkColumn(name); ok {
			rd.lm[c][k] = i
			continue
		}
		if n, kind, ok := auColumn(name); ok {
			j, ok := auAt[n]
			if !ok {
				j = len(aus)
				auAt[n] = j
				aus = append(aus, auCol{n, -1, -1})
			}
			if kind == 'r' {
				aus[j].r = i
			} else {
				aus[j].c = i
			}
			continue
		}
		rd.layout.Extra = append(rd.layout.Extra, name)
		rd.extra = append(rd.extra, i)
	}
	// Gaze is read when all of OpenFace 2.2's gaze columns are there;
	// otherwise (OpenFace 2.0 had no gaze angles) they are extras.
	if len(gazeAt) == len(gazeColumns) {
		rd.layout.Gaze = true
		for k, c := range gazeColumns {
			rd.gaze[k] = gazeAt[c]
		}
	} else {
		for _, c := range gazeColumns {
			if i, ok := gazeAt[c]; ok {
				rd.layout.Extra = append(rd.layout.Extra, c)
				rd.extra = append(rd.extra, i)
			}
		}
		// Extras stay in file order.
		order := make([]int, len(rd.extra))
		for k := range order {
			order[k] = k
		}
		slices.SortFunc(order, func(a, b int) int { return rd.extra[a] - rd.extra[b] })
		names, cols := make([]string, len(order)), make([]int, len(order))
		for k, o := range order {
			names[k], cols[k] = rd.layout.Extra[o], rd.extra[o]
		}
		rd.layout.Extra, rd.extra = names, cols
	}
	if rd.lead[0] < 0 || rd.lead[4] < 0 {
		return nil, fmt.Errorf("%w: header has no %q or %q column", ErrFormat, "frame", "success")
	}
	slices.SortFunc(aus, func(a, b auCol) int { return a.n - b.n })
	for _, a := range aus {
		rd.layout.AUs = append(rd.layout.AUs, a.n)
		rd.aur = append(rd.aur, a.r)
		rd.auc = append(rd.auc, a.c)
	}
	rd.cells = make([]string, 0, len(names))
	return rd, nil
}

// Layout is the file's AUs and extra columns.
func (rd *Reader) Layout() Layout { return rd.layout }

// Read fills r with the next row and returns io.EOF after the last.
// r's slices are reused when they have the right length.
func (rd *Reader) Read(r *Row) error {
	for {
		if !rd.sc.Scan() {
			if err := rd.sc.Err(); err != nil {
				return fmt.Errorf("%w: line %d: %w", ErrFormat, rd.line+1, err)
			}
			return io.EOF
		}
		rd.line++
		if strings.TrimSpace(rd.sc.Text()) != "" {
			break
		}
	}
	text := strings.TrimSuffix(rd.sc.Text(), "\r")
	rd.cells = rd.cells[:0]
	for {
		i := strings.IndexByte(text, ',')
		if i < 0 {
			rd.cells = append(rd.cells, strings.TrimSpace(text))
			break
		}
		rd.cells = append(rd.cells, strings.TrimSpace(text[:i]))
		text = text[i+1:]
	}
	num := func(col int, what string) (float64, error) {
		if col < 0 {
			return 0, nil
		}
		if col >= len(rd.cells) {
			return 0, fmt.Errorf("%w: line %d has %d cells, no column %d (%s)", ErrFormat, rd.line, len(rd.cells), col+1, what)
		}
		s := rd.cells[col]
		if s == "" {
			return math.NaN(), nil
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: line %d, column %s: %q is not a number", ErrFormat, rd.line, what, s)
		}
		return v, nil
	}
	var lead [5]float64
	for k, col := range rd.lead {
		v, err := num(col, leading[k])
		if err != nil {
			return err
		}
		lead[k] = v
	}
	if math.IsNaN(lead[0]) || lead[0] != math.Trunc(lead[0]) || math.Abs(lead[0]) > 1<<31 {
		return fmt.Errorf("%w: line %d: frame %q is not a whole number", ErrFormat, rd.line, rd.cells[rd.lead[0]])
	}
	r.Frame, r.FaceID, r.Timestamp, r.Confidence = int(lead[0]), int(nanTo0(lead[1])), lead[2], lead[3]
	r.Success = lead[4] >= 0.5
	var pose [6]float64
	for k, col := range rd.pose {
		v, err := num(col, poseColumns[k])
		if err != nil {
			return err
		}
		pose[k] = v
	}
	r.Pose = Pose{pose[0], pose[1], pose[2], pose[3], pose[4], pose[5]}
	for k, col := range rd.gaze {
		if col < 0 {
			r.Gaze[k] = 0
			continue
		}
		v, err := num(col, gazeColumns[k])
		if err != nil {
			return err
		}
		r.Gaze[k] = float32(v)
	}
	for c := range rd.lm {
		for i, col := range rd.lm[c] {
			v, err := num(col, fmt.Sprintf("%c_%d", "xy"[c], i))
			if err != nil {
				return err
			}
			r.Landmarks[i][c] = float32(v)
		}
	}
	n := len(rd.layout.AUs)
	if len(r.Intensity) != n {
		r.Intensity = make([]float32, n)
	}
	if len(r.Present) != n {
		r.Present = make([]bool, n)
	}
	for k := range rd.layout.AUs {
		name := AUName(rd.layout.AUs[k])
		v, err := num(rd.aur[k], name+"_r")
		if err != nil {
			return err
		}
		r.Intensity[k] = float32(v)
		v, err = num(rd.auc[k], name+"_c")
		if err != nil {
			return err
		}
		r.Present[k] = v >= 0.5
	}
	if len(r.Extra) != len(rd.extra) {
		r.Extra = make([]float64, len(rd.extra))
	}
	for k, col := range rd.extra {
		v, err := num(col, rd.layout.Extra[k])
		if err != nil {
			return err
		}
		r.Extra[k] = v
	}
	return nil
}

func nanTo0(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}

// landmarkColumn parses "x_12" / "y_12".
func landmarkColumn(name string) (c, k int, ok bool) {
	if len(name) < 3 || name[1] != '_' || (name[0] != 'x' && name[0] != 'y') {
		return 0, 0, false
	}
	k, err := strconv.Atoi(name[2:])
	if err != nil || k < 0 || k >= NumLandmarks || strconv.Itoa(k) != name[2:] {
		return 0, 0, false
	}
	if name[0] == 'y' {
		c = 1
	}
	return c, k, true
}

// auColumn parses "AU12_r" / "AU12_c".
func auColumn(name string) (n int, kind byte, ok bool) {
	if len(name) < 6 || !strings.HasPrefix(name, "AU") || name[len(name)-2] != '_' {
		return 0, 0, false
	}
	kind = name[len(name)-1]
	if kind != 'r' && kind != 'c' {
		return 0, 0, false
	}
	n, err := strconv.Atoi(name[2 : len(name)-2])
	if err != nil || n < 0 || n > 99 {
		return 0, 0, false
	}
	return n, kind, true
}
