// Package frames reads and writes frames.csv, tell's per-frame table, in
// the layout of OpenFace 2.x FeatureExtraction for the columns both
// measure, so that scripts written for OpenFace read it unchanged:
//
//	frame, face_id, timestamp, confidence, success,
//	pose_Tx, pose_Ty, pose_Tz, pose_Rx, pose_Ry, pose_Rz,
//	x_0..x_67, y_0..y_67, AU01_r.., AU01_c..,
//
// then tell's extra columns (Layout.Extra): expression probabilities, dense
// flow and strain per AU region. Names and order follow OpenFace's
// RecorderCSV (header without spaces, AU columns sorted by name); OpenFace
// columns tell does not measure (gaze, eye landmarks, 3D landmarks, shape
// parameters) are left out rather than filled with made-up values.
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

// Leading are the first five columns, as OpenFace writes them for a sequence.
var Leading = []string{"frame", "face_id", "timestamp", "confidence", "success"}

// PoseColumns are the head-pose columns.
var PoseColumns = []string{"pose_Tx", "pose_Ty", "pose_Tz", "pose_Rx", "pose_Ry", "pose_Rz"}

// Layout is what a frames.csv holds besides the fixed columns.
type Layout struct {
	AUs   []int    // AU numbers of the AUxx_r and AUxx_c columns, ascending
	Extra []string // extra numeric columns after the AUs, in order
}

// Header returns the column names of l.
func (l Layout) Header() []string {
	h := append([]string{}, Leading...)
	h = append(h, PoseColumns...)
	for _, c := range "xy" {
		for i := 0; i < NumLandmarks; i++ {
			h = append(h, fmt.Sprintf("%c_%d", c, i))
		}
	}
	for _, a := range l.AUs {
		h = append(h, AUName(a)+"_r")
	}
	for _, a := range l.AUs {
		h = append(h, AUName(a)+"_c")
	}
	return append(h, l.Extra...)
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
	line   []byte
	err    error
}

// NewWriter writes the header for l to w and returns a writer of rows.
func NewWriter(w io.Writer, l Layout) (*Writer, error) {
	if !slices.IsSorted(l.AUs) {
		return nil, fmt.Errorf("frames: AUs %v are not ascending (OpenFace sorts its AU columns)", l.AUs)
	}
	fw := &Writer{w: bufio.NewWriterSize(w, 1<<16), layout: l}
	fw.line = append(fw.line, strings.Join(l.Header(), ",")...)
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
	b := fw.line[:0]
	b = strconv.AppendInt(b, int64(r.Frame), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(r.FaceID), 10)
	b = append(b, ',')
	b = strconv.AppendFloat(b, r.Timestamp, 'f', 4, 64)
	b = append(b, ',')
	if r.Success {
		b = strconv.AppendFloat(b, r.Confidence, 'f', 2, 64)
		b = append(b, ",1"...)
		p := r.Pose
		for _, v := range []float64{p.Tx, p.Ty, p.Tz} {
			b = append(b, ',')
			b = strconv.AppendFloat(b, v, 'f', 1, 64)
		}
		for _, v := range []float64{p.Rx, p.Ry, p.Rz} {
			b = append(b, ',')
			b = strconv.AppendFloat(b, v, 'f', 3, 64)
		}
		for c := 0; c < 2; c++ {
			for i := range r.Landmarks {
				b = append(b, ',')
				b = strconv.AppendFloat(b, float64(r.Landmarks[i][c]), 'f', 2, 32)
			}
		}
		for _, v := range r.Intensity {
			b = append(b, ',')
			b = strconv.AppendFloat(b, float64(v), 'f', 2, 32)
		}
		for _, p := range r.Present {
			if p {
				b = append(b, ",1"...)
			} else {
				b = append(b, ",0"...)
			}
		}
	} else {
		b = strconv.AppendFloat(b, r.Confidence, 'f', 2, 64)
		b = append(b, ",0"...)
		for i := 0; i < 6+2*NumLandmarks+2*n; i++ {
			b = append(b, ",0"...)
		}
	}
	for _, v := range r.Extra {
		b = append(b, ',')
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
// found by name; OpenFace columns tell does not use, such as gaze, are
// kept as extras).
type Reader struct {
	sc     *bufio.Scanner
	layout Layout
	line   int
	// Column index of each field, -1 when absent.
	lead  [5]int
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
		if k := slices.Index(Leading, name); k >= 0 {
			rd.lead[k] = i
			continue
		}
		if k := slices.Index(PoseColumns, name); k >= 0 {
			rd.pose[k] = i
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
		v, err := num(col, Leading[k])
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
		v, err := num(col, PoseColumns[k])
		if err != nil {
			return err
		}
		pose[k] = v
	}
	r.Pose = Pose{pose[0], pose[1], pose[2], pose[3], pose[4], pose[5]}
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
