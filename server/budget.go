package server

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"math"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/video"
)

// Budget bounds what one job may decode, checked from headers before any
// pixel is decoded: a hostile file declaring 50000×50000 pixels is refused
// from its first bytes instead of taking the machine's memory, and a long
// large video from its probe instead of taking a worker for days.
type Budget struct {
	// MaxPixels bounds one image or video frame (default DefaultMaxPixels).
	MaxPixels int64
	// MaxSeconds bounds a video's duration, and a folder's frames / fps
	// (default DefaultMaxSeconds).
	MaxSeconds float64
	// MaxFrames bounds the frames of a folder or video (default DefaultMaxFrames).
	MaxFrames int
	// JobWork bounds the pixel-frames one job decodes (frames × width ×
	// height; default DefaultJobWork); a worker stops a job that goes past
	// its budget.
	JobWork int64
}

// Budget defaults: 25 megapixels takes a 6000×4000 photo; three hours, one
// long interview.
const (
	DefaultMaxPixels  = 25_000_000
	DefaultMaxSeconds = 3 * 3600
	DefaultMaxFrames  = 3 * 3600 * 60
)

func (b Budget) withDefaults() Budget {
	if b.MaxPixels <= 0 {
		b.MaxPixels = DefaultMaxPixels
	}
	if b.MaxSeconds <= 0 {
		b.MaxSeconds = DefaultMaxSeconds
	}
	if b.MaxFrames <= 0 {
		b.MaxFrames = DefaultMaxFrames
	}
	if b.JobWork <= 0 {
		b.JobWork = DefaultJobWork
	}
	return b
}

// Estimate is what an input will cost, from its headers: the pixel-frames
// its analysis decodes and the bytes it holds at once.
type Estimate struct {
	Work  int64
	Bytes int64
}

// DecodeBytes estimates the bytes decoding and analysing one frame of w×h
// pixels of bpp bytes each holds: the decoded image and its conversions,
// then the analysis's buffers (measured: a 25 MP image took 650 MB at its
// peak with the collector kept tight, grey, 8-bit RGBA or 16-bit RGBA
// alike, 26 bytes a pixel; in a server, a 10 MP grey image's job held 33
// bytes a pixel after a collection; without a memory limit a 16-bit one
// left 1.25 GB of garbage behind, which GOMEMLIMIT collects).
func DecodeBytes(w, h int, bpp int) int64 {
	return 64<<20 + int64(w)*int64(h)*int64(2*bpp+32)
}

// bytesPerPixel is what a decoded image of the colour model holds a pixel in.
func bytesPerPixel(cm color.Model) int {
	switch cm {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		return 4
	}
	if _, ok := cm.(color.Palette); ok {
		return 1
	}
	return 8 // 16-bit RGBA, or anything unknown
}

// budgetError is a refused input with the HTTP status that says why: 413
// when it is over a budget, 422 when its header cannot be read.
type budgetError struct {
	status int
	msg    string
}

func (e *budgetError) Error() string { return e.msg }

func tooLarge(format string, args ...any) error {
	return &budgetError{http.StatusRequestEntityTooLarge, fmt.Sprintf(format, args...)}
}

func unreadable(format string, args ...any) error {
	return &budgetError{http.StatusUnprocessableEntity, fmt.Sprintf(format, args...)}
}

// budgetStatus is the status for an error from Check (500 for others).
func budgetStatus(err error) int {
	var be *budgetError
	if errors.As(err, &be) {
		return be.status
	}
	return http.StatusInternalServerError
}

// checkImage reads an image's header only. An image that cannot be
// opened is "not found or not allowed" (403), as a path outside the
// allowed folder: its error would name a path on the server.
func (b Budget) checkImage(path, name string) (Estimate, error) {
	f, err := os.Open(path)
	if err != nil {
		return Estimate{}, &budgetError{http.StatusForbidden, fmt.Sprintf("%s: not found or not allowed", name)}
	}
	defer f.Close()
	// video's budget check: the header alone, before any pixel.
	cfg, _, err := video.DecodeConfig(f, int(min(b.MaxPixels, math.MaxInt32)))
	switch {
	case errors.Is(err, video.ErrTooManyPixels):
		return Estimate{}, tooLarge("%s: %v", name, err)
	case err != nil:
		return Estimate{}, unreadable("%s: not a readable PNG, JPEG or BMP header", name)
	}
	px := int64(cfg.Width) * int64(cfg.Height)
	return Estimate{Work: px, Bytes: DecodeBytes(cfg.Width, cfg.Height, bytesPerPixel(cfg.ColorModel))}, nil
}

// checkVideo asks ffprobe (under its address-space limit, its memory
// reserved from mem) for the frame size, frame count and duration.
func (b Budget) checkVideo(ctx context.Context, path, name string, mem *Memory) (Estimate, error) {
	if _, err := exec.LookPath("ffprobe"); err != nil {
		return Estimate{}, &budgetError{http.StatusServiceUnavailable, "videos cannot be checked here: ffprobe is not installed (" + video.FFmpegInstallHint + ")"}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	release, err := mem.Reserve(ctx, video.ProbeMemory)
	if err != nil {
		return Estimate{}, &budgetError{http.StatusServiceUnavailable, "the server's memory is taken by running analyses; retry later"}
	}
	info, err := video.Probe(ctx, path, video.Options{LimitChildren: true})
	release()
	if err != nil {
		return Estimate{}, unreadable("%s: not a readable video", name)
	}
	if px := int64(info.Width) * int64(info.Height); px > b.MaxPixels {
		return Estimate{}, tooLarge("%s: frames of %d×%d pixels are over the limit of %d pixels per frame", name, info.Width, info.Height, b.MaxPixels)
	}
	if info.Duration <= 0 && info.Frames <= 0 {
		return Estimate{}, unreadable("%s: the video's duration is unknown", name)
	}
	if info.Duration > b.MaxSeconds {
		return Estimate{}, tooLarge("%s: %.0f s of video is over the limit of %.0f s", name, info.Duration, b.MaxSeconds)
	}
	// The frame count ffmpeg will produce at the stream's average rate.
	frames := int64(info.Frames)
	if d := int64(math.Ceil(info.Duration * info.FPS)); d > frames {
		frames = d
	}
	if frames > int64(b.MaxFrames) {
		return Estimate{}, tooLarge("%s: %d frames is over the limit of %d frames", name, frames, b.MaxFrames)
	}
	frames += max(2, frames/100) // constant-rate resampling may add a frame or two
	e := VideoEstimate(info.Width, info.Height, frames)
	if e.Work > b.JobWork {
		return Estimate{}, tooLarge("%s: %d frames of %d×%d is %s, over the budget of one job, %s (--job-budget)",
			name, frames, info.Width, info.Height, WorkText(e.Work), WorkText(b.JobWork))
	}
	return e, nil
}

// VideoEstimate is the cost of frames frames of w×h: decoded as RGB by an
// ffmpeg child, analysed one at a time, with the frames the analysis's
// post stage holds (analyze.PostStageBytes).
func VideoEstimate(w, h int, frames int64) Estimate {
	return Estimate{Work: frames * int64(w) * int64(h), Bytes: DecodeBytes(w, h, 3) + video.DecodeMemory(w, h) + analyze.PostStageBytes(w, h)}
}

// checkFrames checks a folder's frame count and duration, and each
// frame's header.
func (b Budget) checkFrames(files []string, fps float64, name func(string) string) (Estimate, error) {
	if len(files) == 0 {
		return Estimate{}, unreadable("the folder holds no PNG, JPEG or BMP frames")
	}
	if fps <= 0 {
		fps = video.DefaultFPS
	}
	if len(files) > b.MaxFrames {
		return Estimate{}, tooLarge("%d frames is over the limit of %d frames", len(files), b.MaxFrames)
	}
	if s := float64(len(files)) / fps; s > b.MaxSeconds {
		return Estimate{}, tooLarge("%d frames at %g fps (%.0f s) is over the limit of %.0f s", len(files), fps, s, b.MaxSeconds)
	}
	var e Estimate
	for _, f := range files {
		fe, err := b.checkImage(f, name(f))
		if err != nil {
			return Estimate{}, err
		}
		e.Work += fe.Work
		e.Bytes = max(e.Bytes, fe.Bytes)
		if e.Work > b.JobWork {
			return Estimate{}, tooLarge("%d frames: more than the budget of one job, %s (--job-budget)", len(files), WorkText(b.JobWork))
		}
	}
	return e, nil
}

// check checks an input of a kind: "image", "video" or "frames" (a folder)
// and estimates its cost; an estimate over mem's whole budget is refused.
func (b Budget) check(ctx context.Context, path, kind, name string, fps float64, mem *Memory) (Estimate, error) {
	b = b.withDefaults()
	var e Estimate
	var err error
	switch kind {
	case "image":
		e, err = b.checkImage(path, name)
		if err == nil && e.Work > b.JobWork {
			err = tooLarge("%s: %s is over the budget of one job, %s (--job-budget)", name, WorkText(e.Work), WorkText(b.JobWork))
		}
	case "video":
		e, err = b.checkVideo(ctx, path, name, mem)
	case "frames":
		files, lerr := video.FrameFiles(path)
		if lerr != nil {
			return Estimate{}, unreadable("%s: cannot list the frames", name)
		}
		e, err = b.checkFrames(files, fps, func(p string) string { return name + "/" + baseName(p) })
	default:
		return Estimate{}, unreadable("%s: unknown kind of input %q", name, kind)
	}
	if err == nil && !mem.Fits(e.Bytes) {
		err = tooLarge("%s: analysing it needs about %d MiB at once, more than this server's memory budget of %d MiB (--memory-limit)", name, mib(e.Bytes), mib(mem.Total()))
	}
	return e, err
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}
