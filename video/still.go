package video

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// imageSource is a single image: one frame at time 0.
type imageSource struct {
	info      Info
	maxPixels int
	color     bool
	gif       bool // a GIF of one frame (OpenGIF)
	done      bool
}

// OpenImage opens one image file as a one-frame source without a rate
// (Info.FPS 0). The file is decoded
// on Next, within the pixel budget opt.MaxPixels; Open only checks that it
// exists.
func OpenImage(path string, opt Options) (Source, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("video: %w", err)
	}
	// A still has no rate (FPS 0): it has no timeline.
	return &imageSource{info: Info{Path: path, Frames: 1}, maxPixels: opt.MaxPixels, color: opt.Color}, nil
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
	read := readFrame
	if s.gif {
		read = readGIF
	}
	g, c, err := read(s.info.Path, s.maxPixels, s.color)
	if err != nil {
		return nil, err
	}
	return &Frame{Index: 0, Time: 0, Name: filepath.Base(s.info.Path), Gray: g, RGB: c}, nil
}

// folderSource yields the images of a folder in frame order.
type folderSource struct {
	info      Info
	files     []string
	maxPixels int
	color     bool
	next      int
}

// OpenFolder opens a folder of frames. Its image files (PNG, JPEG, BMP)
// are its frames: when every name ends in a number (img46.jpg, 006_5562.jpg)
// and no two numbers are equal, the frames are those numbers, in their
// order, and known by them (Info.Numbers; nil when they are 1..N, which is
// their position); otherwise they are taken in natural name order (img2
// before img10) and known by 1-based position.
// Other files are ignored. The rate is opt.FPS, else the folder's RateFile;
// without either the folder is refused (ErrNoRate). Frame i is at
// (number_i − number_0)/FPS seconds, so missing numbers leave gaps in time.
// Every frame's header is read first: a frame over the pixel budget
// opt.MaxPixels, or of another size than the first frame (a folder holds
// one clip), is refused before any frame is decoded.
func OpenFolder(dir string, opt Options) (Source, error) {
	files, err := FrameFiles(dir)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("video: folder %s holds no PNG, JPEG or BMP frames", dir)
	}
	fps, err := folderRate(dir, opt)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = filepath.Base(f)
	}
	info := Info{Path: dir, FPS: fps, Frames: len(files)}
	if nums, ok := FolderNumbers(names); ok {
		order := make([]int, len(files))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool { return nums[order[a]] < nums[order[b]] })
		sorted, sortedNums := make([]string, len(files)), make([]int, len(files))
		for i, k := range order {
			sorted[i], sortedNums[i] = files[k], nums[k]
		}
		files, info.Numbers = sorted, sortedNums
		// Files numbered 1..N are named by position: the two rules agree,
		// and the folder is numbered as a video of its frames would be.
		byPosition := true
		for i, n := range sortedNums {
			byPosition = byPosition && n == i+1
		}
		if byPosition {
			info.Numbers = nil
		}
	}
	w, h, err := folderSize(files, opt.MaxPixels)
	if err != nil {
		return nil, err
	}
	info.Width, info.Height = w, h
	return &folderSource{info: info, files: files, maxPixels: opt.MaxPixels, color: opt.Color}, nil
}

// folderSize reads every frame's header: all within the pixel budget and
// of the first frame's size, which it returns.
func folderSize(files []string, maxPixels int) (w, h int, err error) {
	for i, p := range files {
		cfg, err := decodeConfigFile(p, maxPixels)
		if err != nil {
			return 0, 0, err
		}
		if i == 0 {
			w, h = cfg.Width, cfg.Height
			continue
		}
		if cfg.Width != w || cfg.Height != h {
			return 0, 0, fmt.Errorf("video: folder %s mixes frame sizes: %s is %d×%d, %s is %d×%d; a folder of frames holds one clip, all frames of one size",
				filepath.Dir(p), filepath.Base(files[0]), w, h, filepath.Base(p), cfg.Width, cfg.Height)
		}
	}
	return w, h, nil
}

// decodeConfigFile reads an image file's header within the pixel budget.
func decodeConfigFile(path string, maxPixels int) (image.Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return image.Config{}, fmt.Errorf("video: %w", err)
	}
	defer f.Close()
	cfg, _, err := DecodeConfig(bufio.NewReader(f), maxPixels)
	if err != nil {
		return image.Config{}, fmt.Errorf("video: read image %s: %w", path, err)
	}
	return cfg, nil
}

// FrameNumber is the number a frame file's name ends in, before its
// extension ("img46.jpg" 46, "006_5562.jpg" 5562, "frame_0001.png" 1);
// false when the name does not end in digits (or in more than nine).
func FrameNumber(name string) (int, bool) {
	base := strings.TrimSuffix(name, filepath.Ext(name))
	i := len(base)
	for i > 0 && isDigit(base[i-1]) {
		i--
	}
	if i == len(base) || len(base)-i > 9 {
		return 0, false
	}
	n, err := strconv.Atoi(base[i:])
	return n, err == nil
}

// NumberedFolder reports whether path is a folder whose frames are known
// by the numbers in their file names (FolderNumbers, other than 1..N);
// false for videos, GIFs, images and folders numbered by position.
func NumberedFolder(path string) bool {
	files, err := FrameFiles(path)
	if err != nil || len(files) == 0 {
		return false
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = filepath.Base(f)
	}
	nums, ok := FolderNumbers(names)
	if !ok {
		return false
	}
	slices.Sort(nums)
	for i, n := range nums {
		if n != i+1 {
			return true
		}
	}
	return false // 1..N: position-named
}

// FolderNumbers are the frame numbers of a folder's frame files (tell's
// one frame-number rule): each name's FrameNumber when every name has one
// and no two are equal; false otherwise, and the frames are then known by
// 1-based position.
func FolderNumbers(names []string) ([]int, bool) {
	nums := make([]int, len(names))
	seen := make(map[int]bool, len(names))
	for i, n := range names {
		v, ok := FrameNumber(n)
		if !ok || seen[v] {
			return nil, false
		}
		seen[v] = true
		nums[i] = v
	}
	return nums, true
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
	if g.W != s.info.Width || g.H != s.info.Height { // changed since Open read its header
		return nil, fmt.Errorf("frame %d: %s is %d×%d, the folder's frames %d×%d", i+1, s.files[i], g.W, g.H, s.info.Width, s.info.Height)
	}
	return &Frame{Index: i, Time: s.info.Time(i), Name: filepath.Base(s.files[i]), Gray: g, RGB: c}, nil
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
