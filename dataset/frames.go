package dataset

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tell-project/tell/video"
)

// Frame is one image file of a frame folder with the number its name ends in
// ("img46.jpg", "reg_img46.jpg", "006_05562.jpg", "image0000123.bmp", "123.jpg").
type Frame struct {
	Number int
	Name   string // file name within the folder
}

var imageExts = map[string]bool{".jpg": true, ".jpeg": true, ".png": true, ".bmp": true, ".tif": true, ".tiff": true}

// frameNumber returns the number at the end of a frame file's base name:
// tell's one frame-number rule (video.FrameNumber), so that a manifest's
// onset 396 names img396.jpg here as in tell analyze and frames.csv.
func frameNumber(name string) (int, bool) { return video.FrameNumber(name) }

// FrameFiles lists the numbered image files of a frame folder, sorted by number.
func FrameFiles(dir string) ([]Frame, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("frames: %w", err)
	}
	var out []Frame
	for _, e := range ents {
		if e.IsDir() || !imageExts[strings.ToLower(filepath.Ext(e.Name()))] {
			continue
		}
		if n, ok := frameNumber(e.Name()); ok {
			out = append(out, Frame{Number: n, Name: e.Name()})
		}
	}
	slices.SortFunc(out, func(a, b Frame) int {
		if a.Number != b.Number {
			return a.Number - b.Number
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

// ResolveFrame returns the path of the frame that ref names in dir: a file
// name in dir, or a frame number matched against the numbers the folder's
// image files end in.
func ResolveFrame(dir, ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return "", fmt.Errorf("frames %s: empty frame reference", dir)
	}
	if n, ok := parseFrame(ref); ok {
		frames, err := FrameFiles(dir)
		if err != nil {
			return "", err
		}
		if f, ok := findFrame(frames, n); ok {
			return filepath.Join(dir, f.Name), nil
		}
		return "", fmt.Errorf("frames %s: no image file numbered %d", dir, n)
	}
	p := filepath.Join(dir, ref)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("frames %s: %w", dir, err)
	}
	return p, nil
}

func findFrame(frames []Frame, n int) (Frame, bool) {
	i, ok := slices.BinarySearchFunc(frames, n, func(f Frame, n int) int { return f.Number - n })
	if !ok {
		return Frame{}, false
	}
	return frames[i], true
}

// dirIndex maps folder names under a dataset root to their paths, so that
// converters find clip folders wherever a release puts them
// (CASME2-RAW/sub01/EP02_01f, Cropped/sub01/EP02_01f, ...).
type dirIndex struct {
	root   string
	byName map[string][]string // lower-case folder name → paths, sorted
}

// maxIndexDepth bounds the walk: clip folders sit a few levels below the root.
const maxIndexDepth = 7

func indexDirs(root string) (*dirIndex, error) {
	idx := &dirIndex{root: root, byName: map[string][]string{}}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			return nil // unreadable sub-folders are skipped
		}
		if !d.IsDir() || p == root {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		rel, _ := filepath.Rel(root, p)
		if strings.Count(rel, string(filepath.Separator)) >= maxIndexDepth {
			return filepath.SkipDir
		}
		k := strings.ToLower(d.Name())
		idx.byName[k] = append(idx.byName[k], p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("index %s: %w", root, err)
	}
	for _, ps := range idx.byName {
		slices.Sort(ps)
	}
	return idx, nil
}

// clipDirs returns the folders named clip (case-insensitive) whose parent
// folder is the subject (compared by SubjectKey).
func (x *dirIndex) clipDirs(subject, clip string) []string {
	key := SubjectKey(subject)
	var out []string
	for _, p := range x.byName[strings.ToLower(clip)] {
		if SubjectKey(filepath.Base(filepath.Dir(p))) == key {
			out = append(out, p)
		}
	}
	return out
}

// findFiles returns files directly under root or one level below whose
// names match one of the glob patterns (case-insensitive).
func findFiles(root string, patterns ...string) []string {
	var out []string
	seen := map[string]bool{}
	check := func(dir string) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return
		}
		for _, e := range ents {
			if e.IsDir() {
				continue
			}
			name := strings.ToLower(e.Name())
			if strings.HasPrefix(name, "~$") || strings.HasPrefix(name, ".") {
				continue // office lock files
			}
			for _, pat := range patterns {
				if ok, _ := filepath.Match(strings.ToLower(pat), name); ok {
					p := filepath.Join(dir, e.Name())
					if !seen[p] {
						seen[p] = true
						out = append(out, p)
					}
				}
			}
		}
	}
	check(root)
	ents, _ := os.ReadDir(root)
	for _, e := range ents {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			check(filepath.Join(root, e.Name()))
		}
	}
	slices.Sort(out)
	return out
}
