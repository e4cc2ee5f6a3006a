package video

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
)

// imageSource is a single image: one frame at time 0.
type imageSource struct {
	info      Info
	maxPixels int
	color     bool
	done      bool
}

// OpenImage opens one image file as a one-frame source. The file is decoded
// on Next, within the pixel budget opt.MaxPixels; Open only checks that it
// exists.
func OpenImage(path string, opt Options) (Source, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("video: %w", err)
	}
	if opt.FPS <= 0 {
		opt.FPS = DefaultFPS
	}
	return &imageSource{info: Info{Path: path, FPS: opt.FPS, Frames: 1}, maxPixels: opt.MaxPixels, color: opt.Color}, nil
}

func (s *imageSource) Info() Info   { return s.info }
func (s *imageSource) Close() error { return nil }

func (s *imageSource) Next(ctx context.Context) (*Frame, error) {
	if s.done {
		return nil, io.EOF
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.done = true
	g, c, err := readFrame(s.info.Path, s.maxPixels, s.color)
	if err != nil {
		return nil, err
	}
	return &Frame{Index: 0, Time: 0, Name: filepath.Base(s.info.Path), Gray: g, RGB: c}, nil
}

// folderSource yields the images of a folder in natural order.
type folderSource struct {
	info      Info
	files     []string
	maxPixels int
	color     bool
	next      int
}

// OpenFolder opens a folder of frames. Image files (PNG, JPEG, BMP) are
// taken in natural order (img2 before img10); other files are ignored.
// Frame i has time i/FPS. Each frame is checked against the pixel budget
// opt.MaxPixels before it is decoded.
func OpenFolder(dir string, opt Options) (Source, error) {
	files, err := FrameFiles(dir)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("video: folder %s holds no PNG, JPEG or BMP frames", dir)
	}
	if opt.FPS <= 0 {
		opt.FPS = DefaultFPS
	}
	return &folderSource{info: Info{Path: dir, FPS: opt.FPS, Frames: len(files)}, files: files, maxPixels: opt.MaxPixels, color: opt.Color}, nil
}

// FrameFiles lists the image files of dir in natural order, as paths.
func FrameFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("video: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && IsImageFile(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Slice(names, func(i, j int) bool { return NaturalLess(names[i], names[j]) })
	for i, n := range names {
		names[i] = filepath.Join(dir, n)
	}
	return names, nil
}

func (s *folderSource) Info() Info   { return s.info }
func (s *folderSource) Close() error { return nil }

func (s *folderSource) Next(ctx context.Context) (*Frame, error) {
	if s.next >= len(s.files) {
		return nil, io.EOF
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	i := s.next
	s.next++
	g, c, err := readFrame(s.files[i], s.maxPixels, s.color)
	if err != nil {
		return nil, fmt.Errorf("frame %d: %w", i, err)
	}
	return &Frame{Index: i, Time: float64(i) / s.info.FPS, Name: filepath.Base(s.files[i]), Gray: g, RGB: c}, nil
}

// NaturalLess orders strings with digit runs compared as numbers, so that
// "img2.png" < "img10.png"; ties on value fall back to fewer leading zeros
// first, then byte order.
func NaturalLess(a, b string) bool {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ca, cb := a[i], b[j]
		if isDigit(ca) && isDigit(cb) {
			si, sj := i, j
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
			// Compare numerically without overflow: strip zeros, then length, then digits.
			na, nb := trimZeros(a[si:i]), trimZeros(b[sj:j])
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			if i-si != j-sj {
				return i-si < j-sj
			}
			continue
		}
		if ca != cb {
			return ca < cb
		}
		i++
		j++
	}
	return len(a)-i < len(b)-j
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func trimZeros(s string) string {
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	return s
}
