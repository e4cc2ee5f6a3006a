// Package dataset reads and writes the manifest CSV that describes a set of
// labelled samples (docs/manifest.md), converts the official annotation sheets of the
// public micro-expression datasets into manifests, and splits manifests into
// leak-free training and test folds (LOSO, subject-grouped k-fold, holdout).
//
// Limits: the converters know the official sheets of CASME II, SAMM, SMIC
// and CAS(ME)^3 as released (their layouts are checked against fixture
// sheets the tests write, never against the licensed data in CI); a sheet of
// another release is reported, cell by cell, not guessed at. Nothing here
// decodes images or video.
package dataset

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/tell-project/tell/atomicfile"
	"github.com/tell-project/tell/video"
)

// Column names of the manifest CSV, in the order Write emits them.
const (
	ColSample  = "sample"
	ColSubject = "subject"
	ColLabel   = "label"
	ColDataset = "dataset"
	ColFlow    = "flow"
	ColImage   = "image"
	ColFrames  = "frames"
	ColOnset   = "onset"
	ColApex    = "apex"
	ColOffset  = "offset"
	ColAUs     = "aus"
	ColAUsRaw  = "aus_raw"
	ColEmotion = "emotion"
	ColFPS     = "fps"
)

// columns lists every manifest column in the order Write emits them.
var columns = [...]string{
	ColSample, ColSubject, ColLabel, ColDataset, ColFlow, ColImage, ColFrames,
	ColOnset, ColApex, ColOffset, ColAUs, ColAUsRaw, ColEmotion, ColFPS,
}

// Columns returns the manifest columns in the order Write emits them.
func Columns() []string { return append([]string(nil), columns[:]...) }

// Sample is one row of a manifest. Path fields (Flow, Image, Frames) hold
// the paths as resolved by Read: relative paths in the file are joined to the
// manifest's folder, so a Sample read from disk always carries usable paths.
type Sample struct {
	ID      string // column "sample": unique id
	Subject string // column "subject": LOSO and k-fold group by it
	Label   string // column "label": class name
	Dataset string // column "dataset": source dataset
	Flow    string // column "flow": precomputed flow image (u, v, strain as RGB)
	Image   string // column "image": one face image
	Frames  string // column "frames": folder of frames
	Onset   string // column "onset": frame number or file name in Frames
	Apex    string // column "apex": frame number or file name in Frames
	Offset  string // column "offset": frame number or file name in Frames
	AUs     string // column "aus": FACS string, canonical ("4+7", "R12", "T18")
	// AUsRaw is column "aus_raw": the coder's original AU text, verbatim
	// ("ref(7B)+43", "R14+17+soft focus"); converters fill it, AUs holds
	// what of it is FACS, written canonically.
	AUsRaw  string
	Emotion string // column "emotion": fine emotion label
	// FPS is column "fps": the frame rate of Frames (a folder of frames
	// has none of its own; converters write the dataset's camera rate).
	FPS string

	// Line is the 1-based line of the row in the file it was read from
	// (the header is line 1); 0 for samples built in memory.
	Line int
}

// Rate is the fps column as a number: 0 when empty, an error when it is
// not a rate tell accepts (video.CheckFPS).
func (s *Sample) Rate() (float64, error) {
	if strings.TrimSpace(s.FPS) == "" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s.FPS), 64)
	if err != nil {
		return 0, fmt.Errorf("fps %q is not a number", s.FPS)
	}
	if err := video.CheckFPS(v); err != nil {
		return 0, err
	}
	return v, nil
}

// HasInput reports whether the sample names at least one input
// (flow, image or frames).
func (s *Sample) HasInput() bool { return s.Flow != "" || s.Image != "" || s.Frames != "" }

// get returns the value of the named column.
func (s *Sample) get(col string) string {
	switch col {
	case ColSample:
		return s.ID
	case ColSubject:
		return s.Subject
	case ColLabel:
		return s.Label
	case ColDataset:
		return s.Dataset
	case ColFlow:
		return s.Flow
	case ColImage:
		return s.Image
	case ColFrames:
		return s.Frames
	case ColOnset:
		return s.Onset
	case ColApex:
		return s.Apex
	case ColOffset:
		return s.Offset
	case ColAUs:
		return s.AUs
	case ColAUsRaw:
		return s.AUsRaw
	case ColEmotion:
		return s.Emotion
	case ColFPS:
		return s.FPS
	}
	return ""
}

// set stores v in the named column; it reports false for unknown columns.
func (s *Sample) set(col, v string) bool {
	switch col {
	case ColSample:
		s.ID = v
	case ColSubject:
		s.Subject = v
	case ColLabel:
		s.Label = v
	case ColDataset:
		s.Dataset = v
	case ColFlow:
		s.Flow = v
	case ColImage:
		s.Image = v
	case ColFrames:
		s.Frames = v
	case ColOnset:
		s.Onset = v
	case ColApex:
		s.Apex = v
	case ColOffset:
		s.Offset = v
	case ColAUs:
		s.AUs = v
	case ColAUsRaw:
		s.AUsRaw = v
	case ColEmotion:
		s.Emotion = v
	case ColFPS:
		s.FPS = v
	default:
		return false
	}
	return true
}

func isPathColumn(col string) bool { return col == ColFlow || col == ColImage || col == ColFrames }

// Manifest is a parsed manifest file.
type Manifest struct {
	// Path is the file the manifest was read from ("" when built in memory).
	Path string
	// Dir is the folder that relative paths in the file were resolved against.
	Dir string
	// Samples are the rows in file order.
	Samples []Sample
}

// Labels returns the distinct non-empty labels in sorted order.
func (m *Manifest) Labels() []string {
	return distinct(m.Samples, func(s *Sample) string { return s.Label })
}

// Subjects returns the distinct subjects in sorted order.
func (m *Manifest) Subjects() []string {
	return distinct(m.Samples, func(s *Sample) string { return s.Subject })
}

func distinct(samples []Sample, key func(*Sample) string) []string {
	seen := map[string]bool{}
	var out []string
	for i := range samples {
		k := key(&samples[i])
		if k != "" && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Options relaxes the checks Read applies. The zero value is the strictest:
// the form training and evaluation need.
type Options struct {
	// AllowUnlabelled accepts a missing label column and empty labels
	// (manifests for analysis or export rather than training).
	AllowUnlabelled bool
	// SkipFileCheck skips the check that every referenced file or folder exists.
	SkipFileCheck bool
}

// Problem is one thing wrong with a manifest.
type Problem struct {
	Line   int    // 1-based line in the file; 0 for problems of the file as a whole
	Column string // column concerned, if any
	Msg    string
	// Stopped is set when the reader could not go on past this problem (a
	// broken quote): the rows after it were not read, so a caller that
	// skips bad rows must not skip this one.
	Stopped bool
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Column != "" {
		fmt.Fprintf(&b, "column %q: ", p.Column)
	}
	b.WriteString(p.Msg)
	return b.String()
}

// ValidationError lists every problem found in a manifest, so that a user
// can fix a file in one pass instead of one error per run.
type ValidationError struct {
	Path     string
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	name := e.Path
	if name == "" {
		name = "manifest"
	}
	fmt.Fprintf(&b, "%s: %d problem(s)", name, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Read reads and validates the manifest at path with the strictest options:
// required columns sample, subject and label; every row with a unique id, a
// subject, a label and at least one existing input file.
func Read(path string) (*Manifest, error) { return ReadWith(path, Options{}) }

// ReadWith reads and validates the manifest at path with the given options.
// Relative paths are resolved against the manifest's folder.
func ReadWith(path string, opt Options) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	m, err := Parse(bytes.NewReader(data), filepath.Dir(abs), opt)
	if m != nil {
		m.Path = path
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		ve.Path = path
	} else if err != nil {
		err = fmt.Errorf("%s: %w", path, err)
	}
	return m, err
}

// Parse reads a manifest from r, resolving relative paths against dir and
// validating it as opt says. On validation failure it returns the parsed
// manifest together with a *ValidationError listing every bad row.
func Parse(r io.Reader, dir string, opt Options) (*Manifest, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // field counts are checked here, to report every bad row
	header, err := cr.Read()
	if err == io.EOF {
		return nil, &ValidationError{Problems: []Problem{{Line: 1, Msg: "empty file: a header row is required"}}}
	}
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	m := &Manifest{Dir: dir}
	var probs []Problem
	index := map[string]int{} // column name → field index
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff") // spreadsheet exports start with a byte-order mark
		}
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" {
			continue
		}
		if _, dup := index[h]; dup {
			probs = append(probs, Problem{Line: 1, Column: h, Msg: "duplicate column"})
			continue
		}
		index[h] = i
	}
	required := []string{ColSample, ColSubject}
	if !opt.AllowUnlabelled {
		required = append(required, ColLabel)
	}
	for _, c := range required {
		if _, ok := index[c]; !ok {
			probs = append(probs, Problem{Line: 1, Column: c, Msg: "required column missing"})
		}
	}
	_, hasInputCol := index[ColFlow]
	for _, c := range []string{ColImage, ColFrames} {
		if _, ok := index[c]; ok {
			hasInputCol = true
		}
	}
	if !hasInputCol {
		probs = append(probs, Problem{Line: 1, Msg: "no input column: need one of flow, image, frames"})
	}
	if len(probs) > 0 {
		// Without the header's columns no row can be checked meaningfully.
		return nil, &ValidationError{Problems: probs}
	}

	// The known columns in header order; unknown columns are ignored.
	type colIndex struct {
		col string
		i   int
	}
	var known []colIndex
	for _, c := range columns {
		if i, ok := index[c]; ok {
			known = append(known, colIndex{c, i})
		}
	}
	cr.ReuseRecord = true
	firstLine := map[string]int{} // sample id → line it first appeared on
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			// A broken quote desynchronises the rest of the file; stop here.
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				// Name the line where the broken record starts (an
				// unclosed quote is only noticed at the end of the file)
				// and say that nothing after it was read.
				msg := pe.Err.Error()
				if pe.Line != pe.StartLine {
					msg += fmt.Sprintf(" (noticed on line %d)", pe.Line)
				}
				probs = append(probs, Problem{Line: pe.StartLine, Msg: msg + "; rows from here on were not read", Stopped: true})
			} else {
				probs = append(probs, Problem{Msg: err.Error(), Stopped: true})
			}
			break
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		if len(rec) != len(header) {
			probs = append(probs, Problem{Line: line, Msg: fmt.Sprintf("%d fields, header has %d", len(rec), len(header))})
			if len(rec) < len(header) {
				continue
			}
		}
		s := Sample{Line: line}
		for _, ci := range known {
			col, i := ci.col, ci.i
			if i >= len(rec) {
				continue
			}
			v := strings.TrimSpace(rec[i])
			if v != "" && isPathColumn(col) && !filepath.IsAbs(v) {
				v = filepath.Join(dir, filepath.FromSlash(v))
			}
			s.set(col, v)
		}
		probs = append(probs, checkSample(&s, opt, firstLine)...)
		m.Samples = append(m.Samples, s)
	}
	if len(m.Samples) == 0 && len(probs) == 0 {
		probs = append(probs, Problem{Msg: "no samples"})
	}
	if len(probs) > 0 {
		return m, &ValidationError{Problems: probs}
	}
	return m, nil
}

// checkSample returns the problems of one row; firstLine records ids seen.
func checkSample(s *Sample, opt Options, firstLine map[string]int) []Problem {
	var probs []Problem
	add := func(col, msg string) { probs = append(probs, Problem{Line: s.Line, Column: col, Msg: msg}) }
	if s.ID == "" {
		add(ColSample, "empty sample id")
	} else if l, dup := firstLine[s.ID]; dup {
		add(ColSample, fmt.Sprintf("duplicate sample id %q (first on line %d)", s.ID, l))
	} else {
		firstLine[s.ID] = s.Line
	}
	if s.Subject == "" {
		add(ColSubject, "empty subject")
	}
	if s.Label == "" && !opt.AllowUnlabelled {
		add(ColLabel, "empty label")
	}
	if !s.HasInput() {
		add("", "no input: flow, image and frames are all empty")
	}
	if s.FPS != "" {
		if _, err := s.Rate(); err != nil {
			add(ColFPS, err.Error())
		}
	}
	if !opt.SkipFileCheck {
		for _, c := range []string{ColFlow, ColImage, ColFrames} {
			p := s.get(c)
			if p == "" {
				continue
			}
			st, err := os.Stat(p)
			switch {
			case err != nil:
				add(c, fmt.Sprintf("missing file %q", p))
			case c == ColFrames && !st.IsDir():
				add(c, fmt.Sprintf("%q is not a folder", p))
			case c != ColFrames && st.IsDir():
				add(c, fmt.Sprintf("%q is a folder, want a file", p))
			}
		}
	}
	return probs
}

// Validate checks samples built in memory (before Write) with the rules
// Read applies, except the file check, which opt controls.
func Validate(samples []Sample, opt Options) error {
	var probs []Problem
	firstLine := map[string]int{}
	for i := range samples {
		s := samples[i]
		if s.Line == 0 {
			s.Line = i + 2 // the line it will have once written
		}
		probs = append(probs, checkSample(&s, opt, firstLine)...)
	}
	if len(probs) > 0 {
		return &ValidationError{Problems: probs}
	}
	return nil
}

// Write writes samples as a manifest CSV to path, atomically (a temporary
// file in the same folder, renamed into place). Paths inside the manifest's
// folder are written relative to it, other paths as absolute paths, so the
// manifest keeps working when its folder is moved together with the data.
func Write(path string, samples []Sample) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	dir := filepath.Dir(abs)
	var buf bytes.Buffer
	if err := Encode(&buf, dir, samples); err != nil {
		return fmt.Errorf("write manifest %s: %w", path, err)
	}
	if err := atomicfile.WriteFile(abs, buf.Bytes()); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}

// Encode writes samples as manifest CSV to w with paths relative to dir
// where they lie inside it.
func Encode(w io.Writer, dir string, samples []Sample) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(columns[:]); err != nil {
		return err
	}
	rec := make([]string, len(columns))
	for i := range samples {
		s := &samples[i]
		for j, c := range columns {
			v := s.get(c)
			if v != "" && isPathColumn(c) {
				v = relativePath(dir, v)
			}
			rec[j] = v
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// relativePath returns p relative to dir (with forward slashes) when p lies
// inside dir, otherwise p made absolute.
func relativePath(dir, p string) string {
	if !filepath.IsAbs(p) {
		if a, err := filepath.Abs(p); err == nil {
			p = a
		}
	}
	rel, err := filepath.Rel(dir, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return p
	}
	return filepath.ToSlash(rel)
}

// Usable is what a caller that skips bad rows keeps of ReadWith's answer
// (m, err): the samples without problems and, for each row left out, its
// problems in one line (rows too short to read first, in the file's order,
// then samples with problems). An error that is not a ValidationError of
// rows (a problem of the file itself, a broken quote that stopped the
// reader) is returned as fatal: skipping it would drop rows silently.
func Usable(m *Manifest, err error) (good []Sample, skipped []string, fatal error) {
	bad := map[int]string{}
	var ve *ValidationError
	switch {
	case errors.As(err, &ve) && m != nil:
		rows := map[int]bool{}
		for _, s := range m.Samples {
			rows[s.Line] = true
		}
		for _, p := range ve.Problems {
			if p.Line < 2 || p.Stopped {
				return nil, nil, err
			}
			if !rows[p.Line] {
				skipped = append(skipped, p.String())
				continue
			}
			if bad[p.Line] != "" {
				bad[p.Line] += "; "
			}
			bad[p.Line] += p.String()
		}
	case err != nil:
		return nil, nil, err
	}
	for _, s := range m.Samples {
		if msg, ok := bad[s.Line]; ok {
			skipped = append(skipped, msg)
			continue
		}
		good = append(good, s)
	}
	return good, skipped, nil
}
