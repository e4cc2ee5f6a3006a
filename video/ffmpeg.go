package video

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tell-project/tell/profile"
	"github.com/tell-project/tell/raster"
)

// FFmpegInstallHint tells users how to get ffmpeg.
const FFmpegInstallHint = "install it with: sudo apt-get install ffmpeg"

// ErrNoFFmpeg is returned (wrapped) when ffmpeg or ffprobe is not on PATH.
var ErrNoFFmpeg = errors.New("ffmpeg not found")

// maxStderr bounds how much of ffmpeg's error output is kept for messages.
const maxStderr = 4096

// ErrIncomplete is returned (wrapped) instead of io.EOF when a video ends
// before the frames its container announces, or when ffmpeg reported
// errors while decoding it: a truncated or damaged file. The frames already
// returned are good; the rest is missing.
var ErrIncomplete = errors.New("incomplete video")

// videoSource streams grey frames from an ffmpeg subprocess.
type videoSource struct {
	info   Info
	cmd    *exec.Cmd
	out    io.ReadCloser
	stderr *tailBuffer
	cancel context.CancelFunc
	buf    []byte
	color  bool // rgb24 frames (Options.Color)
	next   int
	err    error // sticky: EOF or failure (the reader's, when reading ahead)
	// Reading ahead (more than one core): a goroutine reads and converts
	// the next frame while the caller works on the last one, so that the
	// frame loop does not wait for the pipe and the grey conversion. It
	// alone reads, waits for ffmpeg and sets err and next; Next takes its
	// frames from ahead in order (closed when the reader ends: err, once
	// done is closed, says why) and keeps its own sticky error.
	ahead   chan *Frame
	stop    chan struct{} // closed to stop the reader
	done    chan struct{} // closed when the reader has ended
	readCtx context.Context
	nextErr error
}

// OpenVideo starts decoding a video file with ffmpeg within the default
// pixel budget; see OpenVideoWith.
func OpenVideo(ctx context.Context, path string) (Source, error) {
	return OpenVideoWith(ctx, path, Options{})
}

// OpenVideoWith starts decoding a video file with ffmpeg. The frame size
// and rate come from ffprobe; a frame size beyond the pixel budget
// opt.MaxPixels (default DefaultMaxPixels) is refused before ffmpeg starts.
// Frames are resampled to that constant rate (ffmpeg -fps_mode cfr), so
// frame i is at time i/FPS exactly even for variable-rate files. Cancelling
// ctx stops ffmpeg.
func OpenVideoWith(ctx context.Context, path string, opt Options) (Source, error) {
	probe, err := lookFFmpeg("ffprobe")
	if err != nil {
		return nil, err
	}
	info, err := probeVideo(ctx, probe, path, opt.LimitChildren)
	if err != nil {
		return nil, err
	}
	if err := checkGivenRate(path, opt.FPS, info.FPS, "its container says"); err != nil {
		return nil, err
	}
	return startFFmpeg(ctx, path, info, opt, "cfr")
}

// singleThreadPixels is the largest frame ffmpeg decodes on one thread
// (1080p); larger frames get its default threads.
const singleThreadPixels = 1920 * 1080

// decodeArgs returns ffmpeg's arguments for decoding path to raw RGB
// frames (mode as startFFmpeg's) and its address-space limit (0: none).
func decodeArgs(path string, info Info, opt Options, mode string) ([]string, int64) {
	args := []string{"-nostdin", "-v", "error"}
	limit := int64(0)
	switch {
	case opt.LimitChildren:
		args = append(args, "-threads", "2")
		limit = DecodeAddressSpace(info.Width, info.Height)
	case info.Width*info.Height <= singleThreadPixels:
		// One decoding thread keeps up with the analysis at these sizes;
		// ffmpeg's default (a thread per core and one more) only adds
		// hand-offs on the cores the analysis uses (Pexels clip: the
		// whole run's CPU ×0.978).
		args = append(args, "-threads", "1")
	}
	args = append(args, "-i", path, "-map", "0:v:0", "-fps_mode", mode)
	if mode == "cfr" {
		args = append(args, "-r", strconv.FormatFloat(info.FPS, 'g', -1, 64))
	}
	args = append(args, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1")
	return args, limit
}

// startFFmpeg starts decoding path, described by info, to raw RGB frames:
// resampled to info.FPS (mode "cfr") or one per frame of the file
// ("passthrough", for a GIF's own timing).
func startFFmpeg(ctx context.Context, path string, info Info, opt Options, mode string) (Source, error) {
	ffmpeg, err := lookFFmpeg("ffmpeg")
	if err != nil {
		return nil, err
	}
	if err := CheckPixels(info.Width, info.Height, opt.MaxPixels); err != nil {
		return nil, fmt.Errorf("video: %s: frame size %w", path, err)
	}
	if opt.BeforeDecode != nil {
		if err := opt.BeforeDecode(info); err != nil {
			return nil, err
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	args, limit := decodeArgs(path, info, opt, mode)
	cmd := limitedCommand(cctx, limit, ffmpeg, args...)
	s := &videoSource{info: info, cmd: cmd, cancel: cancel, stderr: &tailBuffer{max: maxStderr}, color: opt.Color}
	cmd.Stderr = s.stderr
	if s.out, err = cmd.StdoutPipe(); err != nil {
		cancel()
		return nil, fmt.Errorf("video: %s: %w", path, err)
	}
	growPipe(s.out, 3*info.Width*info.Height)
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("video: start ffmpeg on %s: %w", path, err)
	}
	// RGB even for grey frames, so that a video frame gets the grey of the
	// same frame saved as an image: tell's one conversion, dlib's mean.
	s.buf = make([]byte, 3*info.Width*info.Height)
	if runtime.GOMAXPROCS(0) > 1 {
		s.ahead, s.stop, s.done, s.readCtx = make(chan *Frame, 1), make(chan struct{}), make(chan struct{}), ctx
		go s.readAhead(opt.Profile)
	}
	return s, nil
}

// readAhead reads frames into s.ahead until the video ends, fails, the
// reader is stopped or the context it was opened with is cancelled (so a
// caller that stops there without Close leaves no reader behind). A frame
// is a fresh allocation the caller keeps (the colour buffer too), so
// reading the next one never touches it.
func (s *videoSource) readAhead(prof *profile.Profile) {
	defer close(s.done)
	defer close(s.ahead)
	lane := prof.Lane()
	defer lane.Close()
	for {
		prev := lane.Enter(profile.Decode)
		f, err := s.read(s.readCtx)
		lane.Leave(prev)
		if err != nil {
			return
		}
		select {
		case s.ahead <- f:
			continue
		case <-s.stop:
		case <-s.readCtx.Done():
		}
		// Stopped with a frame in hand: ffmpeg is cancelled, so the pipe
		// ends after what it holds; the read that meets its end waits for
		// ffmpeg.
		for err == nil {
			_, err = s.read(s.readCtx)
		}
		return
	}
}

// stopReader stops ffmpeg and the reader and waits for the reader's end
// (which waited for ffmpeg's).
func (s *videoSource) stopReader() {
	s.cancel()
	close(s.stop)
	<-s.done
}

func lookFFmpeg(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("video: %w: %s is not on PATH; %s", ErrNoFFmpeg, name, FFmpegInstallHint)
	}
	return p, nil
}

// checkComplete is the verdict at ffmpeg's clean end of output: io.EOF when
// every announced frame came and ffmpeg said nothing, else ErrIncomplete
// with the counts and ffmpeg's words.
func (s *videoSource) checkComplete() error {
	var why []string
	if want := s.info.Frames; want > 0 && s.next < want-frameSlack(want) {
		why = append(why, fmt.Sprintf("decoded %d of the %d frames the container announces", s.next, want))
		if s.info.Duration > 0 {
			why[0] += fmt.Sprintf(" (%.2f of %.2f s)", float64(s.next)/s.info.FPS, s.info.Duration)
		}
	}
	if msg := strings.TrimSpace(s.stderr.String()); msg != "" {
		why = append(why, "ffmpeg reported: "+firstLine(msg, nil))
		if len(why) == 1 {
			n := fmt.Sprintf("%d frames", s.next)
			if s.next == 1 {
				n = "1 frame"
			}
			why[0] = "after " + n + ", " + why[0]
		}
	}
	if len(why) == 0 {
		return io.EOF
	}
	return fmt.Errorf("video: %s: %w (truncated or damaged file): %s", s.info.Path, ErrIncomplete, strings.Join(why, "; "))
}

// frameSlack is how many frames short of the container's count a decode
// may end and still be complete: ffmpeg's constant-rate resampling of a
// variable-rate file can drop a frame or two, never a hundredth.
func frameSlack(n int) int { return max(2, n/100) }

// Probe reads a video's first stream's size, rate, frame count and
// duration with ffprobe, before any frame is decoded (opt.LimitChildren
// runs it under ProbeAddressSpace).
func Probe(ctx context.Context, path string, opt Options) (Info, error) {
	probe, err := lookFFmpeg("ffprobe")
	if err != nil {
		return Info{}, err
	}
	return probeVideo(ctx, probe, path, opt.LimitChildren)
}

// Address-space limits of ffmpeg's children, and estimates of the memory
// they hold (resident), measured on Debian's ffmpeg 5 with H.264 at
// 320×240, 1920×1080 and 4096×4096: its libraries alone map about 300 MiB
// (not resident), ffprobe held 60–95 MiB, ffmpeg decoding with two threads
// 64 MiB plus 29 bytes a pixel.
const (
	// ProbeAddressSpace is ffprobe's limit (it decodes a frame or two).
	ProbeAddressSpace = 512 << 20
	// ProbeMemory is what ffprobe may hold.
	ProbeMemory = 128 << 20
)

// DecodeAddressSpace is ffmpeg's address-space limit for frames of w×h
// pixels (it decoded 4096×4096 with two threads in 1 GiB, not in 768 MiB).
func DecodeAddressSpace(w, h int) int64 { return 448<<20 + 48*int64(w)*int64(h) }

// DecodeMemory is what decoding frames of w×h pixels may hold: ffmpeg's
// buffers (32 bytes a pixel) and the frames a source reads ahead (one
// waiting, one being read: colour and grey, 14 bytes a pixel).
func DecodeMemory(w, h int) int64 { return 64<<20 + 46*int64(w)*int64(h) }

// limitedCommand runs name under an address-space limit of limit bytes
// (0: none), through the shell's ulimit: the limit is in place before
// the program starts. Children never start a BLAS thread pool nor many
// malloc arenas, which reserve address space they do not use.
func limitedCommand(ctx context.Context, limit int64, name string, args ...string) *exec.Cmd {
	var cmd *exec.Cmd
	if limit > 0 {
		script := fmt.Sprintf(`ulimit -v %d && exec "$0" "$@"`, (limit+1023)>>10)
		cmd = exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", script, name}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, name, args...)
	}
	cmd.Env = append(os.Environ(), "OPENBLAS_NUM_THREADS=1", "MALLOC_ARENA_MAX=2")
	return cmd
}

// probeVideo reads the first video stream's size, rate, frame count and
// duration with ffprobe. Frames is the container's count, or the duration
// times the rate when the container gives no count (Matroska, WebM).
func probeVideo(ctx context.Context, probe, path string, limited bool) (Info, error) {
	args := []string{"-v", "error"}
	limit := int64(0)
	if limited {
		args = append(args, "-threads", "1")
		limit = ProbeAddressSpace
	}
	args = append(args, "-select_streams", "v:0",
		"-show_entries", "stream=codec_name,bit_rate,width,height,avg_frame_rate,r_frame_rate,nb_frames,duration:format=duration,bit_rate,size",
		"-of", "json", path)
	cmd := limitedCommand(ctx, limit, probe, args...)
	var stderr tailBuffer
	stderr.max = maxStderr
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return Info{}, fmt.Errorf("video: ffprobe cannot read %s: %s", path, firstLine(stderr.String(), err))
	}
	var r struct {
		Streams []struct {
			Codec         string `json:"codec_name"`
			BitRate       string `json:"bit_rate"`
			Width, Height int
			AvgFrameRate  string `json:"avg_frame_rate"`
			RFrameRate    string `json:"r_frame_rate"`
			NbFrames      string `json:"nb_frames"`
			Duration      string `json:"duration"`
		}
		Format struct {
			Duration string `json:"duration"`
			BitRate  string `json:"bit_rate"`
			Size     string `json:"size"`
		}
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return Info{}, fmt.Errorf("video: ffprobe output for %s: %w", path, err)
	}
	if len(r.Streams) == 0 {
		return Info{}, fmt.Errorf("video: %s has no video stream", path)
	}
	st := r.Streams[0]
	if st.Width <= 0 || st.Height <= 0 || st.Width*st.Height > 1<<28 {
		return Info{}, fmt.Errorf("video: %s: bad frame size %dx%d", path, st.Width, st.Height)
	}
	fps := parseRate(st.AvgFrameRate)
	if fps <= 0 {
		fps = parseRate(st.RFrameRate)
	}
	if fps <= 0 {
		return Info{}, fmt.Errorf("video: %s: no usable frame rate (avg %q, r %q)", path, st.AvgFrameRate, st.RFrameRate)
	}
	if err := CheckFPS(fps); err != nil {
		return Info{}, fmt.Errorf("video: %s: its container's %w", path, err)
	}
	info := Info{Path: path, Width: st.Width, Height: st.Height, FPS: fps, Frames: -1}
	for _, d := range []string{st.Duration, r.Format.Duration} {
		if v, err := strconv.ParseFloat(d, 64); err == nil && v > 0 && !math.IsInf(v, 0) {
			info.Duration = v
			break
		}
	}
	if n, err := strconv.Atoi(st.NbFrames); err == nil && n > 0 {
		info.Frames = n
	} else if info.Duration > 0 && info.Duration*fps < 1e9 {
		info.Frames = int(math.Round(info.Duration * fps))
	}
	info.Codec = st.Codec
	// The video stream's bit rate; else the container's (audio included,
	// an upper bound); else the file's size over its duration.
	for _, s := range []string{st.BitRate, r.Format.BitRate} {
		if v, err := strconv.ParseFloat(s, 64); err == nil && v > 0 && !math.IsInf(v, 0) {
			info.BitRate = v
			break
		}
	}
	if size, err := strconv.ParseFloat(r.Format.Size, 64); info.BitRate == 0 && err == nil && size > 0 && info.Duration > 0 {
		info.BitRate = 8 * size / info.Duration
	}
	return info, nil
}

// parseRate parses ffprobe's "num/den" rates; "0/0" gives 0.
func parseRate(s string) float64 {
	num, den, ok := strings.Cut(s, "/")
	if !ok {
		v, _ := strconv.ParseFloat(s, 64)
		return v
	}
	n, err1 := strconv.ParseFloat(num, 64)
	d, err2 := strconv.ParseFloat(den, 64)
	if err1 != nil || err2 != nil || d == 0 {
		return 0
	}
	return n / d
}

func (s *videoSource) Info() Info { return s.info }

// DecoderCPU is the CPU time (user and system) ffmpeg used, once it has
// exited (after the last frame, an error or Close); 0 before.
func (s *videoSource) DecoderCPU() time.Duration {
	if s.ahead != nil && s.nextErr == nil {
		return 0 // the reader may be waiting for ffmpeg now
	}
	if s.cmd.ProcessState == nil {
		return 0
	}
	return s.cmd.ProcessState.UserTime() + s.cmd.ProcessState.SystemTime()
}

// Next reads the next frame. Times are relative to the first frame.
func (s *videoSource) Next(ctx context.Context) (*Frame, error) {
	if s.ahead == nil {
		return s.read(ctx)
	}
	if s.nextErr != nil {
		return nil, s.nextErr
	}
	if err := ctx.Err(); err != nil {
		s.stopReader()
		s.nextErr = err
		return nil, err
	}
	select {
	case f, ok := <-s.ahead:
		if ok {
			return f, nil
		}
		<-s.done // the reader has waited for ffmpeg and set s.err
		s.nextErr = s.err
		if err := ctx.Err(); err != nil {
			s.nextErr = err
		}
		return nil, s.nextErr
	case <-ctx.Done():
		s.stopReader()
		s.nextErr = ctx.Err()
		return nil, s.nextErr
	}
}

// read reads and converts the next frame from ffmpeg's pipe.
func (s *videoSource) read(ctx context.Context) (*Frame, error) {
	if s.err != nil {
		return nil, s.err
	}
	if err := ctx.Err(); err != nil {
		s.fail(err)
		return nil, err
	}
	buf := s.buf
	if s.color {
		// The frame keeps its colour buffer: read into a fresh one
		// rather than copy it afterwards.
		buf = make([]byte, len(s.buf))
	}
	_, err := io.ReadFull(s.out, buf)
	if err != nil {
		werr := s.cmd.Wait()
		s.cancel()
		switch {
		case ctx.Err() != nil:
			s.err = ctx.Err()
		case err == io.EOF && werr == nil && s.next > 0:
			s.err = s.checkComplete()
		case werr != nil || s.next == 0:
			s.err = fmt.Errorf("video: ffmpeg cannot decode %s: %s", s.info.Path, firstLine(s.stderr.String(), werr))
		default: // a partial last frame: ffmpeg ended early
			s.err = fmt.Errorf("video: %s: truncated frame %d: %w", s.info.Path, s.next, err)
		}
		return nil, s.err
	}
	view := &raster.RGB{W: s.info.Width, H: s.info.Height, Stride: 3 * s.info.Width, Pix: buf}
	g := view.Gray()
	var c *raster.RGB
	if s.color {
		c = view
	}
	f := &Frame{Index: s.next, Time: s.info.Time(s.next), Gray: g, RGB: c}
	s.next++
	return f, nil
}

func (s *videoSource) fail(err error) {
	s.cancel()
	_ = s.cmd.Wait()
	s.err = err
}

// Close stops ffmpeg if it is still running.
func (s *videoSource) Close() error {
	closed := errors.New("video: source closed")
	if s.ahead != nil {
		if s.nextErr == nil {
			s.stopReader()
			s.nextErr = closed
		}
		return nil
	}
	if s.err == nil {
		s.fail(closed)
	}
	return nil
}

// firstLine summarises ffmpeg's stderr for an error message.
func firstLine(stderr string, err error) string {
	stderr = strings.TrimSpace(stderr)
	if stderr == "" {
		if err == nil {
			return "no frames"
		}
		return err.Error()
	}
	lines := strings.Split(stderr, "\n")
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	return strings.Join(lines, "; ")
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b.Write(p)
	if over := t.b.Len() - t.max; over > 0 {
		t.b.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.String()
}
