package spot

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tell-project/tell/video"
)

// Truth is one coded expression of a spotting benchmark: the clip it is in
// and its timing in frame numbers as tell analyze and frames.csv number
// the clip's frames (a numbered folder's file numbers, else from 1).
type Truth struct {
	Clip                string  // video file or folder of frames, as given
	Path                string  // Clip resolved against the truth file's folder
	Onset, Apex, Offset int     // Apex 0 when not coded
	FPS                 float64 // 0 when not given
	AUs                 string  // FACS code, "" when not given
}

// maxTruthRows bounds a truth file.
const maxTruthRows = 1 << 20

// ReadTruth reads a spotting truth file: CSV with a header naming at least
// a clip column (clip, video or frames: a video file or a folder of frames,
// relative to the truth file's folder), onset and offset, and optionally
// apex, fps and aus. One row per expression; a clip may have several rows,
// and a row with empty onset and offset lists a clip without expressions.
// Frame numbers follow tell's one rule: a folder whose file names are
// numbered (img46.jpg) is coded in those numbers, as the datasets' sheets
// and tell dataset's manifests give them; other clips (videos, GIFs,
// folders named otherwise) by position, and base is the number of their
// first frame in the file: 1 (frames.csv's and tell synth's numbering) or
// 0. Errors name the line and field.
func ReadTruth(path string, base int) ([]Truth, error) {
	if base != 0 && base != 1 {
		return nil, fmt.Errorf("truth %s: frame base %d, want 0 or 1", path, base)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("truth: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("truth %s: empty file", path)
		}
		return nil, fmt.Errorf("truth %s: header: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	var clipCols []string
	for _, name := range []string{"clip", "video", "frames"} {
		if _, ok := col[name]; ok {
			clipCols = append(clipCols, name)
		}
	}
	if len(clipCols) == 0 {
		return nil, fmt.Errorf("truth %s: header %q has no clip, video or frames column", path, strings.Join(head, ","))
	}
	for _, need := range []string{"onset", "offset"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("truth %s: header %q has no %s column", path, strings.Join(head, ","), need)
		}
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	dir := filepath.Dir(path)
	numbered := map[string]bool{}
	var out []Truth
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("truth %s: %w", path, err)
		}
		if len(out) >= maxTruthRows {
			return nil, fmt.Errorf("truth %s: more than %d rows", path, maxTruthRows)
		}
		var t Truth
		for _, name := range clipCols {
			if t.Clip = get(rec, name); t.Clip != "" {
				break
			}
		}
		if t.Clip == "" {
			return nil, fmt.Errorf("truth %s: line %d: no %s", path, line, strings.Join(clipCols, " or "))
		}
		t.Path = t.Clip
		if !filepath.IsAbs(t.Path) {
			t.Path = filepath.Join(dir, t.Path)
		}
		own, seen := numbered[t.Path]
		if !seen {
			own = video.NumberedFolder(t.Path)
			numbered[t.Path] = own
		}
		frame := func(name string, need bool) (int, error) {
			s := get(rec, name)
			if s == "" || s == "/" {
				if need {
					return 0, fmt.Errorf("truth %s: line %d: empty %s", path, line, name)
				}
				return 0, nil
			}
			n, err := strconv.Atoi(s)
			if own {
				if err != nil || n < 0 || n > 1<<30 {
					return 0, fmt.Errorf("truth %s: line %d: %s %q: want a frame number of %s (its file names' numbers)", path, line, name, s, t.Clip)
				}
				return n, nil
			}
			if err != nil || n < base || n > 1<<30 {
				return 0, fmt.Errorf("truth %s: line %d: %s %q: want a frame number from %d", path, line, name, s, base)
			}
			return n - base + 1, nil
		}
		none := get(rec, "onset") == "" && get(rec, "offset") == ""
		if !none {
			if t.Onset, err = frame("onset", true); err != nil {
				return nil, err
			}
			if t.Offset, err = frame("offset", true); err != nil {
				return nil, err
			}
			if t.Apex, err = frame("apex", false); err != nil {
				return nil, err
			}
			if t.Offset < t.Onset || (t.Apex != 0 && (t.Apex < t.Onset || t.Apex > t.Offset)) {
				return nil, fmt.Errorf("truth %s: line %d: onset %s, apex %s, offset %s out of order", path, line, get(rec, "onset"), get(rec, "apex"), get(rec, "offset"))
			}
		}
		if s := get(rec, "fps"); s != "" {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || video.CheckFPS(v) != nil {
				return nil, fmt.Errorf("truth %s: line %d: fps %q: want a frame rate from %d to %d", path, line, s, video.MinFPS, video.MaxFPS)
			}
			t.FPS = v
		}
		t.AUs = get(rec, "aus")
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("truth %s: no rows", path)
	}
	return out, nil
}
