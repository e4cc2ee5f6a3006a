// Package video turns images, folders of frames and video files into a
// stream of grey frames with timestamps. Every source streams: memory stays
// bounded by one frame (plus the ffmpeg pipe) whatever the length, and long
// reads stop when their context is cancelled.
//
// Limits: PNG, JPEG and BMP images (Go's and x/image's decoders), anything
// else through the ffmpeg and ffprobe programs (Debian ffmpeg), which must
// be on PATH; frames come out grey (and RGB on request), one stream per
// file, no audio; every image is checked against a pixel budget before it
// is decoded.
package video

import (
	"bufio"
	"context"
	"fmt"
	"image"
	_ "image/jpeg" // register JPEG for ReadImage
	_ "image/png"  // register PNG for ReadImage
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	// BMP (frame dumps): the x/image decoder, faster than the hand-written
	// one it replaced (1.2–2.0 against 1.8–2.5 ms for a 640×480 frame) and
	// decoding the layouts ffmpeg writes (bgr24, bgra, gray, pal8) the same.
	_ "golang.org/x/image/bmp"

	"github.com/tell-project/tell/jpegdec"
	"github.com/tell-project/tell/profile"
	"github.com/tell-project/tell/raster"
)

// DefaultFPS is the frame rate assumed for a folder of frames or an image
// when none is given.
const DefaultFPS = 30

// Frame is one decoded frame. Gray holds 0..255 intensities (colour input
// converted by raster.FromImage's rule, dlib's (R+G+B)/3). Each Frame owns its pixels: keeping one does not
// stop the source.
type Frame struct {
	Index int          // 0-based position in the source
	Time  float64      // seconds from the start of the source
	Name  string       // file name for image and folder sources, "" for video
	Gray  *raster.Gray // the pixels
	// RGB is the colour frame, set only when Options.Color asked for it
	// (the pretrained appearance nets read colour faces).
	RGB *raster.RGB
}

// Info describes a source.
type Info struct {
	Path   string
	Width  int     // frame size (0 for a single image before it is read)
	Height int     //
	FPS    float64 // frames per second (a GIF's: frames over its length)
	Frames int     // number of frames, -1 when unknown
	// Duration is the length in seconds the container announces (videos;
	// 0 when unknown).
	Duration float64
	// Numbers, when set, are the frames' own numbers, from the file names
	// of a numbered folder (FolderNumbers): frame i is known as
	// Numbers[i] everywhere (img46.jpg is frame 46). Nil: frames are
	// known by 1-based position, as OpenFace numbers a video's.
	Numbers []int
	// Times, when set, are the frames' timestamps in seconds from the
	// first (a GIF's frame delays); nil: Time's rule.
	Times []float64
	// Codec is a video's codec as ffprobe names it ("h264", "ffv1",
	// "gif"); "" for images and folders. BitRate is its video bits per
	// second (0 when unknown).
	Codec   string
	BitRate float64
}

// BitsPerPixel is the video's compressed bits per pixel per frame
// (BitRate over width × height × FPS): how much of each frame's detail
// the encoder could keep. 0 when unknown.
func (in *Info) BitsPerPixel() float64 {
	if in.BitRate <= 0 || in.Width <= 0 || in.Height <= 0 || in.FPS <= 0 {
		return 0
	}
	return in.BitRate / (float64(in.Width*in.Height) * in.FPS)
}

// Lossless reports a codec that keeps every pixel (ffv1, huffyuv, raw,
// PNG frames, ...), whose bit rate says nothing about lost detail. A
// lossless H.264 (quantiser 0) is not recognised by name: its bit rate is
// high anyway.
func (in *Info) Lossless() bool {
	switch in.Codec {
	case "ffv1", "huffyuv", "ffvhuff", "rawvideo", "png", "apng", "utvideo", "magicyuv", "qtrle", "v210", "r210", "bmp", "tiff", "gif":
		return true
	}
	return false
}

// Number is the number frame i (0-based position) is known by: its own
// number in a numbered folder, else i+1.
func (in *Info) Number(i int) int {
	if i >= 0 && i < len(in.Numbers) {
		return in.Numbers[i]
	}
	return i + 1
}

// Index is the 0-based position of the frame known by number n; false
// when the source has no such frame (or may not: a video of unknown
// length answers for every n ≥ 1).
func (in *Info) Index(n int) (int, bool) {
	if in.Numbers != nil {
		i, ok := slices.BinarySearch(in.Numbers, n)
		return i, ok
	}
	if n < 1 || (in.Frames >= 0 && n > in.Frames) {
		return 0, false
	}
	return n - 1, true
}

// Time is frame i's timestamp in seconds from the first frame: Times[i]
// when set; else, in a numbered folder, its number's distance from the
// first's over FPS (missing files leave gaps); else i/FPS.
func (in *Info) Time(i int) float64 {
	switch {
	case i >= 0 && i < len(in.Times):
		return in.Times[i]
	case in.FPS <= 0:
		return 0
	case i >= 0 && i < len(in.Numbers):
		return float64(in.Numbers[i]-in.Numbers[0]) / in.FPS
	}
	return float64(i) / in.FPS
}

// Range says which frame numbers a source has, for messages: "46–96"
// (or "1–51" by position); "" when unknown.
func (in *Info) Range() string {
	switch {
	case len(in.Numbers) > 0:
		return fmt.Sprintf("%d–%d", in.Numbers[0], in.Numbers[len(in.Numbers)-1])
	case in.Frames > 0:
		return fmt.Sprintf("1–%d", in.Frames)
	}
	return ""
}

// Source yields frames in order. Next returns io.EOF after the last frame.
type Source interface {
	Next(ctx context.Context) (*Frame, error)
	Info() Info
	Close() error
}

// Options tune Open. Zero fields take the defaults.
type Options struct {
	// FPS is the frame rate of a folder of frames (required there, unless
	// the folder has a RateFile; MinFPS to MaxFPS). For a video or GIF it
	// may be left 0; when given, it must agree with the file's own timing
	// (ErrRateConflict).
	FPS float64
	// MaxPixels is the pixel budget of one image or video frame (default
	// DefaultMaxPixels): larger ones are refused before decoding, with an
	// error wrapping ErrTooManyPixels.
	MaxPixels int
	// Color also delivers each frame in colour (Frame.RGB); Gray is the
	// same pixels' grey (raster.RGB.Gray, raster.FromImage's mean).
	Color bool
	// LimitChildren runs ffprobe and ffmpeg under an address-space limit
	// (RLIMIT_AS: ProbeAddressSpace, DecodeAddressSpace of the frame size)
	// with two decoding threads, so that a hostile file cannot take a
	// server's memory outside its own accounting.
	LimitChildren bool
	// BeforeDecode, when set, is called with a video's probed size, rate
	// and length before ffmpeg starts; an error stops the opening (a
	// caller reserves memory or checks a budget here).
	BeforeDecode func(Info) error
	// Profile, when set, is charged for the reading and converting of
	// frames that a video source does ahead of Next on its own goroutine
	// (profile.Decode).
	Profile *profile.Profile
}

// imageExts are the file types read as still images, lower case.
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".bmp": true}

// IsImageFile reports whether path has an image extension (PNG, JPEG, BMP).
func IsImageFile(path string) bool { return imageExts[strings.ToLower(filepath.Ext(path))] }

// Open opens path as a frame source: a folder of frames, a single image, or
// otherwise a video file decoded by ffmpeg.
func Open(ctx context.Context, path string, opt Options) (Source, error) {
	if opt.FPS != 0 {
		if err := CheckFPS(opt.FPS); err != nil {
			return nil, fmt.Errorf("video: %s: %w", path, err)
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("video: %w", err)
	}
	switch {
	case st.IsDir():
		return OpenFolder(path, opt)
	case IsGIF(path):
		return OpenGIF(ctx, path, opt)
	case IsImageFile(path):
		return OpenImage(path, opt)
	default:
		return OpenVideoWith(ctx, path, opt)
	}
}

// ReadImage decodes a PNG, JPEG or BMP file within the default pixel budget
// (DefaultMaxPixels).
func ReadImage(path string) (image.Image, error) { return ReadImageMax(path, 0) }

// ReadImageMax decodes a PNG, JPEG or BMP file, refusing one that declares
// more than maxPixels pixels (<= 0 means DefaultMaxPixels) before decoding
// it (DecodeImage). Errors name the file.
func ReadImageMax(path string, maxPixels int) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("video: read image: %w", err)
	}
	defer f.Close()
	img, _, err := DecodeImage(bufio.NewReader(f), maxPixels)
	if err != nil {
		return nil, fmt.Errorf("video: read image %s: %w", path, err)
	}
	return img, nil
}

// ReadGray decodes an image file to grey (raster.FromImage) within the
// pixel budget maxPixels (<= 0 means DefaultMaxPixels).
func ReadGray(path string, maxPixels int) (*raster.Gray, error) {
	g, _, err := readFrame(path, maxPixels, false)
	return g, err
}

// readFrame decodes an image file to grey and, when color is set, to RGB
// (ReadRGB's pixels).
func readFrame(path string, maxPixels int, color bool) (*raster.Gray, *raster.RGB, error) {
	img, err := ReadImageMax(path, maxPixels)
	if err != nil {
		return nil, nil, err
	}
	var c *raster.RGB
	if color {
		if c, err = rgbOf(path, img); err != nil {
			return nil, nil, err
		}
	}
	return raster.FromImage(img), c, nil
}

// ReadRGB decodes an image file to 8-bit RGB within the pixel budget
// maxPixels (<= 0 means DefaultMaxPixels). JPEG files are decoded as
// jpeg-js decodes them (jpegdec.DecodeJS), the decoder of the TensorFlow.js
// peer whose expression nets tell runs, so that those nets see the same
// pixels; other formats as image.Decode gives them.
func ReadRGB(path string, maxPixels int) (*raster.RGB, error) {
	img, err := ReadImageMax(path, maxPixels)
	if err != nil {
		return nil, err
	}
	return rgbOf(path, img)
}

// rgbOf is the colour of the already decoded (and budget-checked) image
// file path: jpeg-js's pixels for a JPEG, img's otherwise.
func rgbOf(path string, img image.Image) (*raster.RGB, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("video: read image: %w", err)
	}
	defer f.Close()
	var magic [2]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil || magic != [2]byte{0xff, 0xd8} {
		return raster.RGBFromImage(img), nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("video: read image %s: %w", path, err)
	}
	b := img.Bounds() // already within the budget
	c, err := jpegdec.DecodeJS(bufio.NewReader(f), b.Dx()*b.Dy())
	if err != nil {
		return nil, fmt.Errorf("video: read image %s: %w", path, err)
	}
	if c.W != b.Dx() || c.H != b.Dy() {
		return nil, fmt.Errorf("video: read image %s: decoders disagree on the size", path)
	}
	return c, nil
}
