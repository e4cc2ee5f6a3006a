package dataset

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tell-project/tell/facs"
)

// subjectCell reads a subject id cell. Sheets store CASME II's "1" or
// "01" and SAMM's "6" or "006" as numbers or text; format pads numbers the
// way the dataset's folders are named ("sub%02d", "%03d").
func (s *sheetReader) subjectCell(r, c int, format string) (string, bool) {
	v := s.t.cell(r, c)
	if v == "" {
		s.bad(r, c, "empty subject")
		return "", false
	}
	if n, ok := parseFrame(v); ok && n >= 0 {
		id := fmt.Sprintf(format, n)
		return id, true
	}
	return v, true
}

// emotionCell reads an emotion cell, normalised; a blank is noted (the
// row is then left out by every class scheme).
func (s *sheetReader) emotionCell(r, c int) string {
	v := s.t.cell(r, c)
	if v == "" {
		s.note(r, c, "blank emotion; row left out")
	}
	return facs.Emotion(v)
}

// textCell reads a required text cell.
func (s *sheetReader) textCell(r, c int, what string) (string, bool) {
	v := s.t.cell(r, c)
	if v == "" {
		s.bad(r, c, "empty %s", what)
		return "", false
	}
	return v, true
}

// frame reads a frame number cell. An unknown value is a problem when
// required; otherwise desc describes the cell for the note that says what
// replaced it.
func (s *sheetReader) frame(r, c int, what string, required bool) (n int, known bool, desc string) {
	n, known, ok := s.frameCell(r, c, what)
	if ok && !known {
		if required {
			s.bad(r, c, "%s %q: a frame number is required", what, s.t.cell(r, c))
		}
		desc = fmt.Sprintf("%s: %s %q unknown", s.t.where(r, c), what, s.t.cell(r, c))
	}
	return n, known, desc
}

// ConvertCASME2 reads CASME II: the coding sheet CASME2-coding-*.xlsx (or a
// CSV export) with columns Subject, Filename, OnsetFrame, ApexFrame,
// OffsetFrame, Action Units, Estimated Emotion (blank columns between them
// are ignored), and frame folders such as CASME2-RAW/sub01/EP02_01f/img46.jpg
// or the cropped release's .../sub01/EP02_01f/reg_img46.jpg. An ApexFrame
// of "/" is replaced by the midpoint frame and noted. Subjects are written
// "sub01", as the folders name them.
func ConvertCASME2(ctx context.Context, opt ConvertOptions) (*Conversion, error) {
	if err := checkScheme("casme2", opt.Classes); err != nil {
		return nil, err
	}
	path, err := findSheet("casme2", opt, "CASME2-coding*.xlsx", "CASME2-coding*.csv", "CASME2_coding*.xlsx", "CASME2_coding*.csv")
	if err != nil {
		return nil, err
	}
	t, err := readTable(path, "", "Subject", "Filename", "OnsetFrame", "ApexFrame", "OffsetFrame", "Action Units", "Estimated Emotion")
	if err != nil {
		return nil, fmt.Errorf("casme2: %w", err)
	}
	cSubj, cFile := t.col("Subject"), t.col("Filename")
	cOn, cApex, cOff := t.col("OnsetFrame"), t.col("ApexFrame"), t.col("OffsetFrame")
	cAU, cEmo := t.col("Action Units"), t.col("Estimated Emotion")
	rows, notes, warnings, err := sheetRows(t, opt, func(s *sheetReader, r int) (clipRow, bool) {
		var row clipRow
		var ok1, ok2 bool
		row.subject, ok1 = s.subjectCell(r, cSubj, "sub%02d")
		row.clip, ok2 = s.textCell(r, cFile, "Filename")
		row.onset, row.hasOnset, _ = s.frame(r, cOn, "OnsetFrame", true)
		row.apex, row.hasApex, row.apexDesc = s.frame(r, cApex, "ApexFrame", false)
		row.offset, row.hasOffset, _ = s.frame(r, cOff, "OffsetFrame", true)
		row.aus, row.ausRaw, row.code = s.auCell(r, cAU)
		row.emotion = s.emotionCell(r, cEmo)
		row.sampleID = row.subject + "/" + row.clip
		return row, ok1 && ok2
	})
	if err != nil {
		return nil, fmt.Errorf("casme2: %w", err)
	}
	conv, err := finish(ctx, "casme2", opt, rows, notes, warnings, func(idx *dirIndex, row *clipRow) []string {
		return preferDirs(idx.clipDirs(row.subject, row.clip), "casme2-raw", "casme2_raw", "raw")
	})
	if conv != nil {
		conv.Sheet = path
	}
	return conv, err
}

// ConvertSAMM reads SAMM: SAMM_Micro_FACS_Codes_v2.xlsx, whose header row
// (Subject, Filename, Inducement Code, Onset Frame, Apex Frame, Offset
// Frame, Duration, Micro/Macro type, Action Units, Estimated Emotion,
// Objective Classes, Notes) sits below a notes block, and frame folders
// such as 006/006_1_2/006_05562.jpg. Offsets of -1 or marked "?" are
// unknown: the clip's last frame is used and the row noted. With
// --classes objective the sheet's own Objective Classes column is used.
func ConvertSAMM(ctx context.Context, opt ConvertOptions) (*Conversion, error) {
	if err := checkScheme("samm", opt.Classes); err != nil {
		return nil, err
	}
	path, err := findSheet("samm", opt, "SAMM_Micro_FACS_Codes*.xlsx", "SAMM_Micro_FACS_Codes*.csv", "SAMM*FACS*.xlsx", "SAMM*FACS*.csv")
	if err != nil {
		return nil, err
	}
	t, err := readTable(path, "", "Subject", "Filename", "Onset Frame", "Apex Frame", "Offset Frame", "Action Units", "Estimated Emotion")
	if err != nil {
		return nil, fmt.Errorf("samm: %w", err)
	}
	cSubj, cFile := t.col("Subject"), t.col("Filename")
	cOn, cApex, cOff := t.col("Onset Frame"), t.col("Apex Frame"), t.col("Offset Frame")
	cAU, cEmo, cObj := t.col("Action Units"), t.col("Estimated Emotion"), t.col("Objective Classes", "Objective Class")
	rows, notes, warnings, err := sheetRows(t, opt, func(s *sheetReader, r int) (clipRow, bool) {
		var row clipRow
		var ok1, ok2 bool
		row.subject, ok1 = s.subjectCell(r, cSubj, "%03d")
		row.clip, ok2 = s.textCell(r, cFile, "Filename")
		row.onset, row.hasOnset, _ = s.frame(r, cOn, "Onset Frame", true)
		row.apex, row.hasApex, row.apexDesc = s.frame(r, cApex, "Apex Frame", false)
		row.offset, row.hasOffset, row.offsetDesc = s.frame(r, cOff, "Offset Frame", false)
		row.aus, row.ausRaw, row.code = s.auCell(r, cAU)
		row.emotion = s.emotionCell(r, cEmo)
		if v := s.t.cell(r, cObj); v != "" {
			if obj, ok := normObjective(v); ok {
				row.objective = obj
			} else {
				s.note(r, cObj, "objective class %q not I..VII; derived from the AUs instead", v)
			}
		}
		row.sampleID = row.clip
		return row, ok1 && ok2
	})
	if err != nil {
		return nil, fmt.Errorf("samm: %w", err)
	}
	conv, err := finish(ctx, "samm", opt, rows, notes, warnings, func(idx *dirIndex, row *clipRow) []string {
		return idx.clipDirs(row.subject, row.clip)
	})
	if conv != nil {
		conv.Sheet = path
	}
	return conv, err
}

// smicClip matches SMIC clip folder names: s1_po_01, s03_ne_12, s18_sur_03.
var smicClip = regexp.MustCompile(`(?i)^s(\d+)_(po|ne|sur)_(\d+)$`)

// ConvertSMIC reads SMIC (the HS set for MEGC2019). Clips are folders named
// sN_po|ne|sur_NN (s1/micro/positive/s1_po_01/image0000123.bmp in the
// usual layout); the emotion comes from the name (or the sheet's Emotion
// column). When a sheet with Filename, OnsetF and OffsetF columns is found
// (smic*.xlsx, smic*.csv), onsets and offsets come from it; otherwise a
// clip runs from its first to its last frame. SMIC has no apex: the
// midpoint frame is used. Where HS, VIS and NIR copies of a clip exist,
// the HS one is taken.
func ConvertSMIC(ctx context.Context, opt ConvertOptions) (*Conversion, error) {
	if err := checkScheme("smic", opt.Classes); err != nil {
		return nil, err
	}
	if st, err := os.Stat(opt.Root); err != nil {
		return nil, fmt.Errorf("smic: dataset folder: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("smic: dataset folder %s is not a folder", opt.Root)
	}
	sheetPatterns := []string{"SMIC*.xlsx", "SMIC*.csv"}
	var path string
	if opt.Sheet != "" {
		path = opt.Sheet
	} else if found := findFiles(opt.Root, sheetPatterns...); len(found) > 0 {
		path = found[0]
	}
	var rows []clipRow
	var notes, warnings []string
	if path != "" {
		t, err := readTable(path, "", "Filename", "OnsetF", "OffsetF")
		if err != nil {
			return nil, fmt.Errorf("smic: %w", err)
		}
		cFile, cOn, cOff := t.col("Filename"), t.col("OnsetF"), t.col("OffsetF")
		cEmo, cSubj := t.col("Emotion"), t.col("Subject")
		rows, notes, warnings, err = sheetRows(t, opt, func(s *sheetReader, r int) (clipRow, bool) {
			var row clipRow
			clip, ok := s.textCell(r, cFile, "Filename")
			if !ok {
				return row, false
			}
			m := smicClip.FindStringSubmatch(clip)
			if m == nil {
				s.bad(r, cFile, "clip name %q is not sN_po|ne|sur_NN", clip)
				return row, false
			}
			row.clip = clip
			row.subject = "s" + strings.TrimLeft(m[1], "0")
			// The clip name is what SMIC's folders and MEGC2019 go by; a
			// sheet cell that disagrees (HS row 38 says "negative" for
			// s18_sur_03) is a warning, an error with --strict.
			if v := s.t.cell(r, cSubj); v != "" {
				if n, ok := parseFrame(v); ok && "s"+strconv.Itoa(n) != row.subject {
					s.warnOrBad(r, cSubj, "subject %q disagrees with clip name %q; using %q", v, clip, row.subject)
				}
			}
			row.emotion = facs.Emotion(m[2])
			if v := s.t.cell(r, cEmo); v != "" && facs.Emotion(v) != row.emotion {
				s.warnOrBad(r, cEmo, "emotion %q disagrees with clip name %q; using %q", v, clip, row.emotion)
			}
			row.onset, row.hasOnset, _ = s.frame(r, cOn, "OnsetF", true)
			row.offset, row.hasOffset, _ = s.frame(r, cOff, "OffsetF", true)
			row.sampleID = clip
			return row, true
		})
		if err != nil {
			return nil, fmt.Errorf("smic: %w", err)
		}
	}
	if opt.SheetOnly {
		if path == "" {
			return nil, fmt.Errorf("smic: --sheet-only needs a sheet (%s) under %s or --sheet FILE", strings.Join(sheetPatterns, ", "), opt.Root)
		}
		conv, err := sheetOnly(ctx, "smic", opt, rows, notes, warnings)
		if conv != nil {
			conv.Sheet = path
		}
		return conv, err
	}
	idx, err := indexDirs(opt.Root)
	if err != nil {
		return nil, fmt.Errorf("smic: %w", err)
	}
	if path == "" {
		var names []string
		for name := range idx.byName {
			if smicClip.MatchString(name) {
				names = append(names, name)
			}
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("smic: no clip folders under %s: looked for folders named sN_po_NN, sN_ne_NN or sN_sur_NN (e.g. s1/micro/positive/s1_po_01) and for a sheet %s", opt.Root, strings.Join(sheetPatterns, ", "))
		}
		slices.Sort(names)
		for _, name := range names {
			m := smicClip.FindStringSubmatch(name)
			clip := filepath.Base(idx.byName[name][0])
			rows = append(rows, clipRow{
				clip: clip, subject: "s" + strings.TrimLeft(m[1], "0"), emotion: facs.Emotion(m[2]),
				sampleID: clip, where: clip,
			})
		}
		notes = append(notes, fmt.Sprintf("no SMIC sheet (%s) under %s: clips run from their first to their last frame", strings.Join(sheetPatterns, ", "), opt.Root))
	}
	conv, err := finishWithIndex(ctx, "smic", opt, idx, rows, notes, warnings, func(idx *dirIndex, row *clipRow) []string {
		return preferDirs(append([]string(nil), idx.byName[strings.ToLower(row.clip)]...), "hs", "smic-hs", "smic_hs")
	})
	if conv != nil {
		conv.Sheet = path
	}
	return conv, err
}

// ConvertCASME3 reads CAS(ME)^3 part A: the workbook's sheet "label" (or a
// CSV export) with columns Subject (spNO.1), Filename, Onset, Apex,
// Offset, AU and emotion (Objective class optional), and frame folders
// SUBJECT/CLIP[/color]/N.jpg, where folders may spell the subject "spNo.1".
// A clip holds several micro-expressions, so sample ids carry the onset.
func ConvertCASME3(ctx context.Context, opt ConvertOptions) (*Conversion, error) {
	if err := checkScheme("casme3", opt.Classes); err != nil {
		return nil, err
	}
	path, err := findSheet("casme3", opt, "cas(me)3*part*A*.xlsx", "cas(me)3*part*A*.csv", "casme3*part*A*.xlsx", "casme3*part*A*.csv", "cas(me)^3*.xlsx", "cas(me)^3*.csv")
	if err != nil {
		return nil, err
	}
	required := []string{"Subject", "Filename", "Onset", "Apex", "Offset", "AU", "emotion"}
	t, err := readTable(path, "label", required...)
	if err != nil && !strings.HasSuffix(strings.ToLower(path), ".csv") {
		t, err = readTable(path, "", required...)
	}
	if err != nil {
		return nil, fmt.Errorf("casme3: %w", err)
	}
	cSubj, cFile := t.col("Subject"), t.col("Filename")
	cOn, cApex, cOff := t.col("Onset"), t.col("Apex"), t.col("Offset")
	cAU, cEmo, cObj := t.col("AU"), t.col("emotion"), t.col("Objective class", "Objective classes")
	rows, notes, warnings, err := sheetRows(t, opt, func(s *sheetReader, r int) (clipRow, bool) {
		var row clipRow
		var ok1, ok2 bool
		row.subject, ok1 = s.textCell(r, cSubj, "Subject")
		row.clip, ok2 = s.textCell(r, cFile, "Filename")
		row.onset, row.hasOnset, _ = s.frame(r, cOn, "Onset", true)
		row.apex, row.hasApex, row.apexDesc = s.frame(r, cApex, "Apex", false)
		row.offset, row.hasOffset, _ = s.frame(r, cOff, "Offset", true)
		row.aus, row.ausRaw, row.code = s.auCell(r, cAU)
		row.emotion = s.emotionCell(r, cEmo)
		if v := s.t.cell(r, cObj); v != "" {
			if obj, ok := normObjective(v); ok {
				row.objective = obj
			}
		}
		row.sampleID = fmt.Sprintf("%s_%s_%d", row.subject, strings.ToLower(row.clip), row.onset)
		return row, ok1 && ok2
	})
	if err != nil {
		return nil, fmt.Errorf("casme3: %w", err)
	}
	conv, err := finish(ctx, "casme3", opt, rows, notes, warnings, func(idx *dirIndex, row *clipRow) []string {
		var out []string
		for _, d := range idx.clipDirs(row.subject, row.clip) {
			if st, err := os.Stat(filepath.Join(d, "color")); err == nil && st.IsDir() {
				d = filepath.Join(d, "color")
			}
			out = append(out, d)
		}
		return out
	})
	if conv != nil {
		conv.Sheet = path
	}
	return conv, err
}

// ConvertComposite builds the MEGC2019 composite set: CASME II, SAMM and
// SMIC(-HS) mapped to negative/positive/surprise, with subject and sample
// ids prefixed by the dataset ("casme2_sub01", "samm_006", "smic_s1") so
// that the three datasets' subjects never collide. roots maps "casme2",
// "samm" and "smic" to their folders; all three are required.
func ConvertComposite(ctx context.Context, roots map[string]string, opt ConvertOptions) (*Conversion, error) {
	if opt.Classes != ClassesEmotion && opt.Classes != Classes3 {
		return nil, fmt.Errorf("composite: only the 3-class scheme exists, not %q", opt.Classes)
	}
	out := &Conversion{Dataset: "composite", Dropped: map[string]int{}}
	var sheets []string
	for _, name := range []string{"casme2", "samm", "smic"} {
		root, ok := roots[name]
		if !ok || root == "" {
			return nil, fmt.Errorf("composite: no folder for %s", name)
		}
		o := opt
		o.Root, o.Sheet, o.Classes = root, "", Classes3
		c, err := Convert(ctx, name, o)
		if err != nil {
			return nil, fmt.Errorf("composite: %w", err)
		}
		for _, s := range c.Samples {
			s.Subject = name + "_" + s.Subject
			s.ID = name + "_" + s.ID
			out.Samples = append(out.Samples, s)
		}
		for _, n := range c.Notes {
			out.Notes = append(out.Notes, name+": "+n)
		}
		for _, w := range c.Warnings {
			out.Warnings = append(out.Warnings, name+": "+w)
		}
		for e, n := range c.Dropped {
			out.Dropped[name+" "+e] += n
		}
		if c.Sheet != "" {
			sheets = append(sheets, c.Sheet)
		}
	}
	out.Sheet = strings.Join(sheets, ", ")
	return out, nil
}
