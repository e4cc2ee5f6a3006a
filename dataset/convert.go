package dataset

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/tell-project/tell/facs"
)

// ConvertOptions configures a dataset converter.
type ConvertOptions struct {
	// Root is the dataset's folder as its owners ship it (sheet and frames).
	Root string
	// Sheet is the annotation file (.xlsx or .csv); "" searches Root and its
	// immediate sub-folders for the dataset's usual file name.
	Sheet string
	// Classes is the class scheme: "" (the sheet's emotion), "3", "4", "5",
	// "7" or "objective"; which exist depends on the dataset.
	Classes string
	// SkipMissing leaves out rows whose clip folder or frames are missing
	// (each is listed in Notes) instead of failing.
	SkipMissing bool
	// SheetOnly converts the sheet without looking for frame folders: each
	// row's frames column names the folder where the dataset's layout puts
	// the clip (Root/SUBJECT/CLIP; SMIC: Root/CLIP), frame numbers come from
	// the sheet alone (an unknown apex is the midpoint, an unknown offset
	// stays empty). For labels, AUs and CoT export before the frames are at
	// hand; training needs the frames there.
	SheetOnly bool
	// Strict turns the warnings about AU cells that are not FACS into
	// errors (a *SheetError), for pipelines that must not train on a
	// sheet with cells nobody has read.
	Strict bool
}

// Conversion is a converter's result.
type Conversion struct {
	Dataset string   // "casme2", "samm", "smic", "casme3" or "composite"
	Sheet   string   // the annotation file read ("" when the dataset had none)
	Samples []Sample // the manifest rows
	// Notes lists odd cells and how they were handled (apex "/" replaced by
	// the midpoint, unknown offsets, subject spellings, ambiguous folders,
	// skipped rows), each naming its sheet, row and column.
	Notes []string
	// Warnings lists AU cells holding text that is not FACS (free text,
	// stray operators), once per cell with its file, sheet, row and column:
	// the FACS part went to the manifest's aus column, the whole cell
	// verbatim to aus_raw.
	Warnings []string
	// Dropped counts the rows the class scheme left out, by emotion.
	Dropped map[string]int
}

// Datasets lists the names Convert accepts.
func Datasets() []string { return []string{"casme2", "casme3", "samm", "smic"} }

// Convert reads the named dataset ("casme2", "samm", "smic", "casme3").
func Convert(ctx context.Context, name string, opt ConvertOptions) (*Conversion, error) {
	switch name {
	case "casme2":
		return ConvertCASME2(ctx, opt)
	case "samm":
		return ConvertSAMM(ctx, opt)
	case "smic":
		return ConvertSMIC(ctx, opt)
	case "casme3":
		return ConvertCASME3(ctx, opt)
	}
	return nil, fmt.Errorf("unknown dataset %q (have: %s)", name, strings.Join(Datasets(), ", "))
}

// clipRow is one annotated clip read from a sheet, before its folder is found.
type clipRow struct {
	t          *table
	subject    string
	clip       string
	onset      int
	apex       int
	offset     int
	hasOnset   bool   // false: take the folder's first frame
	hasApex    bool   // false: take the midpoint
	hasOffset  bool   // false: take the folder's last frame
	aus        string // canonical
	ausRaw     string // the cell as written
	code       facs.Code
	emotion    string // normalised
	objective  string // the sheet's objective class, if any
	apexDesc   string // the apex cell, when unknown
	offsetDesc string // the offset cell, when unknown
	sampleID   string
	where      string // the row, for messages
}

// sheetReader reads cells of one table, collecting problems, notes and
// warnings.
type sheetReader struct {
	t        *table
	strict   bool // AU cells that are not FACS are problems, not warnings
	problems []string
	notes    []string
	warnings []string
}

func (s *sheetReader) bad(r, c int, format string, args ...any) {
	s.problems = append(s.problems, s.t.where(r, c)+": "+fmt.Sprintf(format, args...))
}

func (s *sheetReader) warn(r, c int, format string, args ...any) {
	s.warnings = append(s.warnings, s.t.where(r, c)+": "+fmt.Sprintf(format, args...))
}

// warnOrBad is a warning, or a problem when strict.
func (s *sheetReader) warnOrBad(r, c int, format string, args ...any) {
	if s.strict {
		s.bad(r, c, format, args...)
	} else {
		s.warn(r, c, format, args...)
	}
}

func (s *sheetReader) note(r, c int, format string, args ...any) {
	s.notes = append(s.notes, s.t.where(r, c)+": "+fmt.Sprintf(format, args...))
}

// frameCell reads a frame number cell. "", "/", "-", "?" and negative
// numbers mean unknown (known=false, noted); a trailing "?" marks an
// uncertain number, which is used and noted; anything else unreadable is a
// problem (ok=false).
func (s *sheetReader) frameCell(r, c int, what string) (n int, known, ok bool) {
	v := s.t.cell(r, c)
	clean := strings.TrimSpace(strings.TrimSuffix(v, "?"))
	switch clean {
	case "", "/", "-", "?", "n/a", "N/A", "NA":
		return 0, false, true
	}
	n, ok = parseFrame(clean)
	if !ok {
		s.bad(r, c, "%s %q is not a frame number", what, v)
		return 0, false, false
	}
	if n < 0 {
		return 0, false, true
	}
	if clean != v {
		s.note(r, c, "%s %q marked uncertain; using %d", what, v, n)
	}
	return n, true, true
}

// auCell reads an AU cell with facs.ParseLenient: the FACS part becomes
// the canonical string, the cell itself is kept verbatim; text that is not
// FACS is one warning per cell (a problem when strict). Alternatives,
// uncertain and uncoded ("?") codes are noted.
func (s *sheetReader) auCell(r, c int) (canonical, raw string, code facs.Code) {
	v := s.t.cell(r, c)
	code, remarks := facs.ParseLenient(v)
	if len(remarks) > 0 {
		parts := make([]string, len(remarks))
		for i, rm := range remarks {
			parts[i] = fmt.Sprintf("%q (%s)", rm.Text, rm.Reason)
		}
		if s.strict {
			s.bad(r, c, "AUs %q: not FACS: %s", v, strings.Join(parts, ", "))
		} else {
			s.warn(r, c, "AUs %q: not FACS: %s; the FACS part %q goes to aus, the cell verbatim to aus_raw", v, strings.Join(parts, ", "), code.String())
		}
	}
	alt, unsure := false, false
	for _, t := range code.Terms {
		alt = alt || len(t) > 1
		for _, a := range t {
			unsure = unsure || a.Uncertain
		}
	}
	switch {
	case v == "":
		s.note(r, c, "blank: no AUs coded")
	case code.Uncoded && code.Empty():
		s.note(r, c, "AUs %q: not coded", v)
	case code.Uncoded:
		s.note(r, c, "AUs %q: partly not coded; kept as %q", v, code.String())
	case alt && unsure:
		s.note(r, c, "AUs %q hold alternatives and uncertain codes; kept as %q", v, code.String())
	case alt:
		s.note(r, c, "AUs %q hold alternatives; kept as %q", v, code.String())
	case unsure:
		s.note(r, c, "AUs %q hold uncertain codes; kept as %q", v, code.String())
	}
	return code.String(), v, code
}

// finish turns parsed rows into samples: finds each clip's folder, checks
// its frames, fills unknown apex/offset, maps classes.
func finish(ctx context.Context, dataset string, opt ConvertOptions, rows []clipRow, notes, warnings []string, locate func(idx *dirIndex, row *clipRow) []string) (*Conversion, error) {
	if opt.SheetOnly {
		return sheetOnly(ctx, dataset, opt, rows, notes, warnings)
	}
	idx, err := indexDirs(opt.Root)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dataset, err)
	}
	return finishWithIndex(ctx, dataset, opt, idx, rows, notes, warnings, locate)
}

// finishWithIndex is finish with the folder index already built.
func finishWithIndex(ctx context.Context, dataset string, opt ConvertOptions, idx *dirIndex, rows []clipRow, notes, warnings []string, locate func(idx *dirIndex, row *clipRow) []string) (*Conversion, error) {
	spelled := map[[2]string]bool{}
	conv := &Conversion{Dataset: dataset, Notes: notes, Warnings: warnings, Dropped: map[string]int{}}
	var missing []string
	noFolder := 0
	ids := map[string]int{}
	for i := range rows {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		row := &rows[i]
		cands := locate(idx, row)
		if len(cands) == 0 {
			noFolder++
			missing = append(missing, fmt.Sprintf("%s: no folder %q inside a folder of subject %q under %s", row.where, row.clip, row.subject, opt.Root))
			continue
		}
		dir := cands[0]
		if len(cands) > 1 {
			conv.Notes = append(conv.Notes, fmt.Sprintf("%s: %d folders match; using %s (others: %s)", row.where, len(cands), dir, strings.Join(cands[1:], ", ")))
		}
		if dataset != "smic" { // SMIC clip folders sit in emotion folders, not subject folders
			sd := filepath.Dir(dir)
			if filepath.Base(dir) == "color" {
				sd = filepath.Dir(sd)
			}
			if name := filepath.Base(sd); name != row.subject && !spelled[[2]string{row.subject, name}] {
				spelled[[2]string{row.subject, name}] = true
				conv.Notes = append(conv.Notes, fmt.Sprintf("subject %q is spelled %q in the folders (%s)", row.subject, name, sd))
			}
		}
		frames, err := FrameFiles(dir)
		if err != nil {
			return nil, err
		}
		if len(frames) == 0 {
			missing = append(missing, fmt.Sprintf("%s: folder %s has no numbered image files (looked for *.jpg, *.png, *.bmp, *.tif ending in a frame number)", row.where, dir))
			continue
		}
		if !row.hasOnset {
			row.onset = frames[0].Number
		}
		if !row.hasOffset {
			row.offset = frames[len(frames)-1].Number
			if row.offsetDesc != "" {
				conv.Notes = append(conv.Notes, fmt.Sprintf("%s; using the clip's last frame %d", row.offsetDesc, row.offset))
			}
		}
		if row.hasApex && (row.apex < row.onset || row.apex > row.offset) {
			conv.Notes = append(conv.Notes, fmt.Sprintf("%s: apex %d outside onset..offset %d..%d; using the midpoint", row.where, row.apex, row.onset, row.offset))
			row.hasApex = false
		}
		if !row.hasApex {
			row.apex = nearestFrame(frames, (row.onset+row.offset)/2, row.onset, row.offset)
			if row.apexDesc != "" {
				conv.Notes = append(conv.Notes, fmt.Sprintf("%s; using the midpoint frame %d", row.apexDesc, row.apex))
			}
		}
		var lost []string
		for _, f := range []struct {
			what string
			n    int
		}{{"onset", row.onset}, {"apex", row.apex}, {"offset", row.offset}} {
			if _, ok := findFrame(frames, f.n); !ok {
				lost = append(lost, fmt.Sprintf("%s frame %d", f.what, f.n))
			}
		}
		if len(lost) > 0 {
			missing = append(missing, fmt.Sprintf("%s: %s has no image for %s (frames there: %d..%d)", row.where, dir, strings.Join(lost, ", "), frames[0].Number, frames[len(frames)-1].Number))
			continue
		}
		conv.add(dataset, opt, row, ids, dir, strconv.Itoa(row.onset), strconv.Itoa(row.apex), strconv.Itoa(row.offset))
	}
	if len(missing) > 0 {
		switch {
		case noFolder == len(rows) && len(rows) > 1:
			return nil, fmt.Errorf("%s: none of the %d clips of %s has a frame folder under %s (first: %s); put the frames there, or pass --sheet-only to convert the sheet alone", dataset, len(rows), conv.sheetName(rows), opt.Root, missing[0])
		case !opt.SkipMissing:
			return nil, fmt.Errorf("%s: %d clip(s) without their frames (use --skip-missing to leave them out, or --sheet-only to convert the sheet without frames):\n  %s", dataset, len(missing), strings.Join(missing, "\n  "))
		}
		for _, m := range missing {
			conv.Notes = append(conv.Notes, "skipped: "+m)
		}
	}
	if len(conv.Samples) == 0 {
		return nil, fmt.Errorf("%s: no samples left (%d rows read, %d left out by the class scheme, %d without frames)", dataset, len(rows), sumCounts(conv.Dropped), len(missing))
	}
	return conv, nil
}

// cameraFPS are the frame rates the datasets were recorded at, written
// into the manifest's fps column (a folder of frames has no rate of its
// own): CASME II and SAMM 200 fps, SMIC's HS set 100 fps, CAS(ME)^3 30 fps.
var cameraFPS = map[string]string{"casme2": "200", "samm": "200", "smic": "100", "casme3": "30"}

// add appends the row's sample unless the class scheme leaves it out.
func (conv *Conversion) add(dataset string, opt ConvertOptions, row *clipRow, ids map[string]int, dir, onset, apex, offset string) {
	label, ok := mapClass(dataset, opt.Classes, row.emotion, row.code, row.objective)
	if !ok {
		e := row.emotion
		if e == "" {
			e = "(blank)"
		}
		conv.Dropped[e]++
		return
	}
	id := row.sampleID
	if n := ids[id]; n > 0 {
		id = fmt.Sprintf("%s#%d", id, n+1)
	}
	ids[row.sampleID]++
	conv.Samples = append(conv.Samples, Sample{
		ID: id, Subject: row.subject, Label: label, Dataset: dataset,
		Frames: dir, Onset: onset, Apex: apex, Offset: offset,
		AUs: row.aus, AUsRaw: row.ausRaw, Emotion: row.emotion, FPS: cameraFPS[dataset],
	})
}

// sheetName names the file the rows came from, for messages.
func (conv *Conversion) sheetName(rows []clipRow) string {
	if len(rows) > 0 && rows[0].t != nil {
		return filepath.Base(rows[0].t.file)
	}
	return "the sheet"
}

// sheetOnly is finish without frame folders (ConvertOptions.SheetOnly).
func sheetOnly(ctx context.Context, dataset string, opt ConvertOptions, rows []clipRow, notes, warnings []string) (*Conversion, error) {
	conv := &Conversion{Dataset: dataset, Notes: notes, Warnings: warnings, Dropped: map[string]int{}}
	ids := map[string]int{}
	for i := range rows {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		row := &rows[i]
		dir := filepath.Join(opt.Root, row.subject, row.clip)
		if dataset == "smic" {
			dir = filepath.Join(opt.Root, row.clip)
		}
		var onset, apex, offset string
		if row.hasOnset {
			onset = strconv.Itoa(row.onset)
		}
		if row.hasOffset {
			offset = strconv.Itoa(row.offset)
		} else if row.offsetDesc != "" {
			conv.Notes = append(conv.Notes, row.offsetDesc+"; offset left empty (--sheet-only: no frames to take the last of)")
		}
		if row.hasApex && row.hasOnset && row.hasOffset && (row.apex < row.onset || row.apex > row.offset) {
			conv.Notes = append(conv.Notes, fmt.Sprintf("%s: apex %d outside onset..offset %d..%d; using the midpoint", row.where, row.apex, row.onset, row.offset))
			row.hasApex = false
		}
		switch {
		case row.hasApex:
			apex = strconv.Itoa(row.apex)
		case row.hasOnset && row.hasOffset:
			apex = strconv.Itoa((row.onset + row.offset) / 2)
			if row.apexDesc != "" {
				conv.Notes = append(conv.Notes, fmt.Sprintf("%s; using the midpoint frame %s", row.apexDesc, apex))
			}
		}
		conv.add(dataset, opt, row, ids, dir, onset, apex, offset)
	}
	conv.Notes = append(conv.Notes, fmt.Sprintf("--sheet-only: frame folders not looked for; %d row(s) name where the dataset's layout puts them under %s", len(conv.Samples), opt.Root))
	if len(conv.Samples) == 0 {
		return nil, fmt.Errorf("%s: no samples left (%d rows read, %d left out by the class scheme)", dataset, len(rows), sumCounts(conv.Dropped))
	}
	return conv, nil
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// nearestFrame returns the number of the existing frame closest to n
// within [lo, hi], or n when none lies there.
func nearestFrame(frames []Frame, n, lo, hi int) int {
	best, bestD := n, -1
	for _, f := range frames {
		if f.Number < lo || f.Number > hi {
			continue
		}
		d := max(f.Number-n, n-f.Number)
		if bestD < 0 || d < bestD {
			best, bestD = f.Number, d
		}
	}
	return best
}

// findSheet returns opt.Sheet, or the single annotation file under root
// matching one of the patterns; the error names the patterns looked for.
func findSheet(dataset string, opt ConvertOptions, patterns ...string) (string, error) {
	if opt.Sheet != "" {
		if _, err := os.Stat(opt.Sheet); err != nil {
			return "", fmt.Errorf("%s: annotation sheet: %w", dataset, err)
		}
		return opt.Sheet, nil
	}
	if st, err := os.Stat(opt.Root); err != nil {
		return "", fmt.Errorf("%s: dataset folder: %w", dataset, err)
	} else if !st.IsDir() {
		return "", fmt.Errorf("%s: dataset folder %s is not a folder", dataset, opt.Root)
	}
	found := findFiles(opt.Root, patterns...)
	if len(found) == 0 {
		return "", fmt.Errorf("%s: no annotation sheet in %s or its sub-folders: looked for %s (or pass --sheet FILE)", dataset, opt.Root, strings.Join(patterns, ", "))
	}
	// Prefer a workbook over a CSV export of it, then the latest-named file
	// (the sheets carry dates or versions in their names).
	sort.SliceStable(found, func(i, j int) bool {
		xi, xj := strings.HasSuffix(strings.ToLower(found[i]), ".xlsx"), strings.HasSuffix(strings.ToLower(found[j]), ".xlsx")
		if xi != xj {
			return xi
		}
		return filepath.Base(found[i]) > filepath.Base(found[j])
	})
	return found[0], nil
}

// sheetRows reads the table's data rows with read, collecting problems;
// it returns the rows, notes and warnings.
func sheetRows(t *table, opt ConvertOptions, read func(s *sheetReader, r int) (clipRow, bool)) ([]clipRow, []string, []string, error) {
	s := &sheetReader{t: t, strict: opt.Strict}
	var rows []clipRow
	for r := t.headerRow + 1; r < len(t.rows); r++ {
		if t.blankRow(r) {
			continue
		}
		row, ok := read(s, r)
		if !ok {
			continue
		}
		row.t, row.where = t, t.where(r, -1)
		rows = append(rows, row)
	}
	if len(s.problems) > 0 {
		return nil, nil, nil, &SheetError{Problems: s.problems}
	}
	if len(rows) == 0 {
		return nil, nil, nil, fmt.Errorf("%s: no data rows below the header", t.where(t.headerRow, -1))
	}
	return rows, s.notes, s.warnings, nil
}

// preferDirs orders candidate folders so that those whose path contains one
// of the preferred components (case-insensitive) come first.
func preferDirs(cands []string, prefer ...string) []string {
	score := func(p string) int {
		parts := strings.Split(strings.ToLower(filepath.ToSlash(p)), "/")
		for i, want := range prefer {
			if slices.Contains(parts, want) {
				return i
			}
		}
		return len(prefer)
	}
	slices.SortStableFunc(cands, func(a, b string) int { return score(a) - score(b) })
	return cands
}
