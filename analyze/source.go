package analyze

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // decoders for frame files
	_ "image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/tell-project/tell/raster"
)

// Source yields grey frames in order; Next returns io.EOF after the last.
type Source interface {
	Next(ctx context.Context) (*raster.Gray, error)
	// FPS is the frame rate (0 when unknown, e.g. a single image).
	FPS() float64
	// Frames is the number of frames when known, else -1.
	Frames() int
	Close() error
}

// OpenSource opens path as a single image, a folder of frames (sorted by
// name, natural order of numbers) or a video read through ffmpeg. fps
// overrides the frame rate of a folder (default 30).
func OpenSource(ctx context.Context, path string, fps float64) (Source, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", path, err)
	}
	if st.IsDir() {
		return openFolder(path, fps)
	}
	if st.Size() == 0 {
		return nil, fmt.Errorf("input %s: empty file (0 bytes)", path)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png", ".jpg", ".jpeg", ".bmp":
		return &folderSource{files: []string{path}, fps: 0}, nil
	}
	return openVideo(ctx, path)
}

// folderSource reads image files one by one.
type folderSource struct {
	files []string
	i     int
	fps   float64
}

var frameExt = map[string]bool{".png": true, ".jpg": true, ".jpeg": true}

func openFolder(dir string, fps float64) (*folderSource, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", dir, err)
	}
	var files []string
	for _, e := range ents {
		if !e.IsDir() && frameExt[strings.ToLower(filepath.Ext(e.Name()))] {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("input %s: no .png or .jpg frames in the folder", dir)
	}
	sort.Slice(files, func(i, j int) bool { return naturalLess(filepath.Base(files[i]), filepath.Base(files[j])) })
	if fps <= 0 {
		fps = 30
	}
	return &folderSource{files: files, fps: fps}, nil
}

// naturalLess orders "img9" before "img10".
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, _ := strconv.ParseUint(a[:da], 10, 64)
			nb, _ := strconv.ParseUint(b[:db], 10, 64)
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digits(s string) int {
	n := 0
	for n < len(s) && n < 18 && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

func (s *folderSource) Next(ctx context.Context) (*raster.Gray, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.i >= len(s.files) {
		return nil, io.EOF
	}
	name := s.files[s.i]
	s.i++
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("frame %s: %w", name, err)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("frame %s: empty file (0 bytes)", name)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("frame %s: not a readable image: %w", name, err)
	}
	return raster.FromImage(img), nil
}

func (s *folderSource) FPS() float64 { return s.fps }
func (s *folderSource) Frames() int  { return len(s.files) }
func (s *folderSource) Close() error { return nil }

// videoSource pipes raw 8-bit grey frames out of ffmpeg.
type videoSource struct {
	path   string
	w, h   int
	fps    float64
	n      int
	cmd    *exec.Cmd
	out    *bufio.Reader
	stderr *bytes.Buffer
	buf    []byte
	frame  *raster.Gray
}

func openVideo(ctx context.Context, path string) (*videoSource, error) {
	ffprobe, err := exec.LookPath("ffprobe")
	if err != nil {
		return nil, fmt.Errorf("input %s: reading video needs ffprobe and ffmpeg (Debian package ffmpeg): %w", path, err)
	}
	out, err := exec.CommandContext(ctx, ffprobe, "-v", "error", "-select_streams", "v:0",
		"-show_entries", "stream=width,height,avg_frame_rate,nb_frames", "-of", "default=nw=1", path).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("input %s: not a readable image or video (ffprobe: %s)", path, firstLine(out, err))
	}
	v := &videoSource{path: path, n: -1}
	for _, line := range strings.Split(string(out), "\n") {
		k, val, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		switch k {
		case "width":
			v.w, _ = strconv.Atoi(val)
		case "height":
			v.h, _ = strconv.Atoi(val)
		case "avg_frame_rate":
			if a, b, ok := strings.Cut(val, "/"); ok {
				x, _ := strconv.ParseFloat(a, 64)
				y, _ := strconv.ParseFloat(b, 64)
				if y > 0 {
					v.fps = x / y
				}
			}
		case "nb_frames":
			if n, err := strconv.Atoi(val); err == nil {
				v.n = n
			}
		}
	}
	if v.w <= 0 || v.h <= 0 {
		return nil, fmt.Errorf("input %s: no video stream found", path)
	}
	if v.fps <= 0 {
		v.fps = 30
	}
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		return nil, fmt.Errorf("input %s: reading video needs ffmpeg: %w", path, err)
	}
	v.cmd = exec.CommandContext(ctx, ffmpeg, "-v", "error", "-nostdin", "-i", path, "-map", "0:v:0",
		"-f", "rawvideo", "-pix_fmt", "gray", "-")
	v.stderr = &bytes.Buffer{}
	v.cmd.Stderr = v.stderr
	pipe, err := v.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", path, err)
	}
	if err := v.cmd.Start(); err != nil {
		return nil, fmt.Errorf("input %s: starting ffmpeg: %w", path, err)
	}
	v.out = bufio.NewReaderSize(pipe, 1<<20)
	v.buf = make([]byte, v.w*v.h)
	v.frame = raster.NewGray(v.w, v.h)
	return v, nil
}

func firstLine(out []byte, err error) string {
	s := strings.TrimSpace(string(out))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		return err.Error()
	}
	return s
}

// Next returns the next frame; the returned image is reused by the next call.
func (v *videoSource) Next(ctx context.Context) (*raster.Gray, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(v.out, v.buf); err != nil {
		if errors.Is(err, io.EOF) {
			if werr := v.cmd.Wait(); werr != nil && v.stderr.Len() > 0 {
				v.cmd = nil
				return nil, fmt.Errorf("input %s: video decoding failed: %s", v.path, firstLine(v.stderr.Bytes(), werr))
			}
			v.cmd = nil
			return nil, io.EOF
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("input %s: truncated frame at the end of the video: %s", v.path, firstLine(v.stderr.Bytes(), err))
		}
		return nil, fmt.Errorf("input %s: %w", v.path, err)
	}
	for i, b := range v.buf {
		v.frame.Pix[i] = float32(b)
	}
	return v.frame, nil
}

func (v *videoSource) FPS() float64 { return v.fps }
func (v *videoSource) Frames() int  { return v.n }
func (v *videoSource) Close() error {
	if v.cmd != nil && v.cmd.Process != nil {
		v.cmd.Process.Kill()
		v.cmd.Wait()
		v.cmd = nil
	}
	return nil
}
