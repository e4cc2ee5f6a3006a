package analyze

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/video"
)

// Source yields grey frames in order; Next returns io.EOF after the last.
// A frame Next returned must stay as it is (a source never writes into
// it again): the post stage (pipeline.go) may read it, and the colour a
// ColorSource gave with it, while the run reads the frames after it.
type Source interface {
	Next(ctx context.Context) (*raster.Gray, error)
	// FPS is the frame rate (0 for a single still image: no timeline).
	FPS() float64
	// Frames is the number of frames when known, else -1.
	Frames() int
	Close() error
}

// OpenSource opens path with package video: a single image, a folder of
// frames, a GIF or a video read through ffmpeg. opt.FPS is the frame rate
// of a folder (required unless it has a video.RateFile; for a video or GIF
// it must agree with the file's own); opt.MaxPixels the pixel budget of
// one frame (default video.DefaultMaxPixels).
func OpenSource(ctx context.Context, path string, opt video.Options) (Source, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", path, err)
	}
	if !st.IsDir() && st.Size() == 0 {
		return nil, fmt.Errorf("input %s: empty file (0 bytes)", path)
	}
	src, err := video.Open(ctx, path, opt)
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", path, err)
	}
	return &videoSource{src: src, still: src.Info().FPS == 0, color: opt.Color}, nil
}

// Numbered is a Source whose frames have numbers or times of their own
// (package video's Info: a numbered folder's file numbers, a GIF's
// delays). A Source without it numbers its frames by 1-based position,
// timed by its FPS.
type Numbered interface {
	Info() video.Info
}

// Info implements Numbered.
func (v *videoSource) Info() video.Info { return v.src.Info() }

// videoSource adapts a video.Source.
type videoSource struct {
	src   video.Source
	still bool
	color bool
	rgb   *raster.RGB // colour of the last frame (opened with Color)
}

func (v *videoSource) Next(ctx context.Context) (*raster.Gray, error) {
	f, err := v.src.Next(ctx)
	if err != nil {
		return nil, err
	}
	v.rgb = f.RGB
	return f.Gray, nil
}

// RGB implements ColorSource.
func (v *videoSource) RGB() *raster.RGB { return v.rgb }

// HasColor implements ColorSource.
func (v *videoSource) HasColor() bool { return v.color }

func (v *videoSource) FPS() float64 {
	if v.still {
		return 0
	}
	return v.src.Info().FPS
}

func (v *videoSource) Frames() int { return v.src.Info().Frames }

// DecoderCPU implements decoderCPU when the video is decoded by ffmpeg.
func (v *videoSource) DecoderCPU() time.Duration {
	if d, ok := v.src.(decoderCPU); ok {
		return d.DecoderCPU()
	}
	return 0
}
func (v *videoSource) Close() error { return v.src.Close() }
