package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/tell-project/tell/video"
)

// Budget bounds what one job may decode, checked from headers before any
// pixel is decoded: a hostile file declaring 50000×50000 pixels is refused
// from its first bytes instead of taking the machine's memory.
type Budget struct {
	// MaxPixels bounds one image or video frame (default DefaultMaxPixels).
	MaxPixels int64
	// MaxSeconds bounds a video's duration, and a folder's frames / fps
	// (default DefaultMaxSeconds).
	MaxSeconds float64
	// MaxFrames bounds the frames of a folder or video (default DefaultMaxFrames).
	MaxFrames int
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
	return b
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

// checkImage reads an image's header only.
func (b Budget) checkImage(path, name string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	// video's budget check: the header alone, before any pixel.
	_, _, err = video.DecodeConfig(f, int(min(b.MaxPixels, math.MaxInt32)))
	switch {
	case errors.Is(err, video.ErrTooManyPixels):
		return tooLarge("%s: %v", name, err)
	case err != nil:
		return unreadable("%s: not a readable PNG, JPEG or BMP header", name)
	}
	return nil
}

// checkVideo asks ffprobe for the frame size, duration and frame count.
func (b Budget) checkVideo(ctx context.Context, path, name string) error {
	probe, err := exec.LookPath("ffprobe")
	if err != nil {
		return &budgetError{http.StatusServiceUnavailable, "videos cannot be checked here: ffprobe is not installed (" + video.FFmpegInstallHint + ")"}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, probe, "-v", "error", "-select_streams", "v:0",
		"-show_entries", "stream=width,height,nb_frames,avg_frame_rate:format=duration", "-of", "json", path)
	out, err := cmd.Output()
	if err != nil {
		return unreadable("%s: not a readable video", name)
	}
	var r struct {
		Streams []struct {
			Width, Height int
			NbFrames      string `json:"nb_frames"`
			AvgFrameRate  string `json:"avg_frame_rate"`
		}
		Format struct {
			Duration string
		}
	}
	if json.Unmarshal(out, &r) != nil || len(r.Streams) == 0 {
		return unreadable("%s: no video stream", name)
	}
	st := r.Streams[0]
	if st.Width <= 0 || st.Height <= 0 {
		return unreadable("%s: video frames of %d×%d pixels", name, st.Width, st.Height)
	}
	if px := int64(st.Width) * int64(st.Height); px > b.MaxPixels {
		return tooLarge("%s: frames of %d×%d pixels are over the limit of %d pixels per frame", name, st.Width, st.Height, b.MaxPixels)
	}
	dur, err := strconv.ParseFloat(r.Format.Duration, 64)
	if err != nil || dur < 0 {
		return unreadable("%s: the video's duration is unknown", name)
	}
	if dur > b.MaxSeconds {
		return tooLarge("%s: %.0f s of video is over the limit of %.0f s", name, dur, b.MaxSeconds)
	}
	// The frame count ffmpeg will produce at the stream's average rate.
	if num, den, ok := strings.Cut(st.AvgFrameRate, "/"); ok {
		n, _ := strconv.ParseFloat(num, 64)
		d, _ := strconv.ParseFloat(den, 64)
		if d > 0 && n/d*dur > float64(b.MaxFrames) {
			return tooLarge("%s: %.0f frames is over the limit of %d frames", name, n/d*dur, b.MaxFrames)
		}
	}
	return nil
}

// checkFrames checks a folder's frame count and duration, and each
// frame's header.
func (b Budget) checkFrames(files []string, fps float64, name func(string) string) error {
	if len(files) == 0 {
		return unreadable("the folder holds no PNG, JPEG or BMP frames")
	}
	if fps <= 0 {
		fps = video.DefaultFPS
	}
	if len(files) > b.MaxFrames {
		return tooLarge("%d frames is over the limit of %d frames", len(files), b.MaxFrames)
	}
	if s := float64(len(files)) / fps; s > b.MaxSeconds {
		return tooLarge("%d frames at %g fps (%.0f s) is over the limit of %.0f s", len(files), fps, s, b.MaxSeconds)
	}
	for _, f := range files {
		if err := b.checkImage(f, name(f)); err != nil {
			return err
		}
	}
	return nil
}

// check checks an input of a kind: "image", "video" or "frames" (a folder).
func (b Budget) check(ctx context.Context, path, kind, name string, fps float64) error {
	b = b.withDefaults()
	switch kind {
	case "image":
		return b.checkImage(path, name)
	case "video":
		return b.checkVideo(ctx, path, name)
	case "frames":
		files, err := video.FrameFiles(path)
		if err != nil {
			return unreadable("%s: cannot list the frames", name)
		}
		return b.checkFrames(files, fps, func(p string) string { return name + "/" + baseName(p) })
	}
	return unreadable("%s: unknown kind of input %q", name, kind)
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}
