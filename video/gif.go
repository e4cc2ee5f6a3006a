package video

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"image/gif"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tell-project/tell/raster"
)

// IsGIF reports whether path has a GIF extension.
func IsGIF(path string) bool { return strings.EqualFold(filepath.Ext(path), ".gif") }

// maxGIFFrames bounds the frame times read from a GIF's packets.
const maxGIFFrames = 1 << 22

// OpenGIF opens a GIF. An animated GIF is a video: its frames stream from
// ffmpeg one per frame of the file (no resampling), each at the time its
// delays add up to (Info.Times), and Info.FPS is its frames over its
// length. A GIF of one frame is a still image (decoded by Go's image/gif,
// no ffmpeg needed). A rate opt.FPS that disagrees with the delays is
// refused (ErrRateConflict).
func OpenGIF(ctx context.Context, path string, opt Options) (Source, error) {
	cfg, err := gifConfig(path, opt.MaxPixels)
	if err != nil {
		return nil, err
	}
	// ffprobe counts the frames and reads their delays, so that an
	// animation is never taken for a still of its first frame.
	probe, err := lookFFmpeg("ffprobe")
	if err != nil {
		return nil, err
	}
	times, dur, err := gifTimes(ctx, probe, path, opt.LimitChildren)
	if err != nil {
		return nil, err
	}
	if len(times) == 1 {
		return &imageSource{info: Info{Path: path, Width: cfg.Width, Height: cfg.Height, Frames: 1}, maxPixels: opt.MaxPixels, color: opt.Color, gif: true}, nil
	}
	fps := float64(len(times)) / dur
	if err := CheckFPS(fps); err != nil {
		return nil, fmt.Errorf("video: %s: its frame delays give %w", path, err)
	}
	if err := checkGivenRate(path, opt.FPS, fps, "its frame delays give"); err != nil {
		return nil, err
	}
	info := Info{Path: path, Width: cfg.Width, Height: cfg.Height, FPS: fps, Frames: len(times), Duration: dur, Times: times, Codec: "gif"}
	return startFFmpeg(ctx, path, info, opt, "passthrough")
}

// gifConfig reads a GIF's logical screen size within the pixel budget.
func gifConfig(path string, maxPixels int) (image.Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return image.Config{}, fmt.Errorf("video: %w", err)
	}
	defer f.Close()
	cfg, err := gif.DecodeConfig(bufio.NewReader(f))
	if err != nil {
		return image.Config{}, fmt.Errorf("video: read GIF %s: %w", path, err)
	}
	if err := CheckPixels(cfg.Width, cfg.Height, maxPixels); err != nil {
		return image.Config{}, fmt.Errorf("video: %s: frame size %w", path, err)
	}
	return cfg, nil
}

// gifTimes reads the presentation time of every frame of a GIF from its
// packets (no decoding), relative to the first, and the GIF's length: the
// last frame's time plus its delay.
func gifTimes(ctx context.Context, probe, path string, limited bool) ([]float64, float64, error) {
	limit := int64(0)
	if limited {
		limit = ProbeAddressSpace
	}
	cmd := limitedCommand(ctx, limit, probe, "-v", "error", "-select_streams", "v:0",
		"-show_entries", "packet=pts_time,duration_time", "-of", "csv=p=0", path)
	var stderr tailBuffer
	stderr.max = maxStderr
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, 0, fmt.Errorf("video: ffprobe cannot read %s: %s", path, firstLine(stderr.String(), err))
	}
	var times []float64
	var t0, lastDelay float64
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pts, delay, _ := strings.Cut(strings.TrimSpace(line), ",")
		t, err := strconv.ParseFloat(pts, 64)
		if err != nil || math.IsInf(t, 0) || math.IsNaN(t) {
			continue
		}
		if len(times) == 0 {
			t0 = t
		}
		if len(times) == maxGIFFrames {
			return nil, 0, fmt.Errorf("video: %s: more than %d frames", path, maxGIFFrames)
		}
		times = append(times, t-t0)
		lastDelay, _ = strconv.ParseFloat(delay, 64)
	}
	n := len(times)
	if n == 0 {
		return nil, 0, fmt.Errorf("video: %s: no frames", path)
	}
	for i := 1; i < n; i++ {
		if times[i] < times[i-1] {
			return nil, 0, fmt.Errorf("video: %s: frame %d's time %.3f s is before frame %d's", path, i+1, times[i], i)
		}
	}
	if !(lastDelay > 0) && n > 1 { // no delay for the last frame: the mean spacing
		lastDelay = times[n-1] / float64(n-1)
	}
	return times, times[n-1] + lastDelay, nil
}

// readGIF decodes a GIF's first frame (a still GIF) within the budget.
func readGIF(path string, maxPixels int, color bool) (*raster.Gray, *raster.RGB, error) {
	if _, err := gifConfig(path, maxPixels); err != nil {
		return nil, nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("video: %w", err)
	}
	defer f.Close()
	img, err := gif.Decode(bufio.NewReader(f))
	if err != nil {
		return nil, nil, fmt.Errorf("video: read GIF %s: %w", path, err)
	}
	var c *raster.RGB
	if color {
		c = raster.RGBFromImage(img)
	}
	return raster.FromImage(img), c, nil
}
