package video

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"

	"github.com/tell-project/tell/jpegdec"
)

// DefaultMaxPixels is the pixel budget tell applies to every image and video
// frame it decodes unless told otherwise: 50 megapixels. Decoding costs about
// 4 bytes a pixel (RGBA) plus 4 for the grey float copy, so the budget bounds
// one decode to about 400 MB whatever the file size: a 62 KB PNG may declare
// 8000×8000 pixels.
const DefaultMaxPixels = 50_000_000

// ErrTooManyPixels is wrapped by the errors of CheckPixels, DecodeConfig,
// DecodeImage, ReadImage and the sources when an image or a video frame
// declares more pixels than the budget allows.
var ErrTooManyPixels = errors.New("more pixels than the pixel budget")

// CheckPixels returns nil when a w×h image fits in maxPixels (<= 0 means
// DefaultMaxPixels), else an error wrapping ErrTooManyPixels that names both
// figures. A non-positive width or height is an error too.
func CheckPixels(w, h, maxPixels int) error {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	if w <= 0 || h <= 0 {
		return fmt.Errorf("bad image size %dx%d", w, h)
	}
	if n := int64(w) * int64(h); n > int64(maxPixels) {
		return fmt.Errorf("%dx%d is %s, %w of %s (raise it with --max-pixels)", w, h, megapixels(n), ErrTooManyPixels, megapixels(int64(maxPixels)))
	}
	return nil
}

func megapixels(n int64) string {
	return fmt.Sprintf("%.1f megapixels", float64(n)/1e6)
}

// DecodeConfig reads the header of an encoded image (PNG, JPEG or BMP) from
// r and checks its declared size against the budget maxPixels (<= 0 means
// DefaultMaxPixels) before any pixel is decoded. It returns the format name
// ("png", "jpeg", "bmp"). Servers can call it on an upload's first bytes to
// refuse it early.
func DecodeConfig(r io.Reader, maxPixels int) (image.Config, string, error) {
	cfg, format, err := image.DecodeConfig(r)
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			err = errors.New("not a PNG, JPEG or BMP image")
		}
		return image.Config{}, "", err
	}
	if err := CheckPixels(cfg.Width, cfg.Height, maxPixels); err != nil {
		return image.Config{}, format, err
	}
	return cfg, format, nil
}

// DecodeImage decodes an encoded image (PNG, JPEG or BMP) from r after
// checking its declared size with DecodeConfig, so that an image beyond the
// budget maxPixels (<= 0 means DefaultMaxPixels) is refused before its
// pixels are allocated. Only the header bytes are held twice; r is read
// once, as a stream.
func DecodeImage(r io.Reader, maxPixels int) (image.Image, string, error) {
	var head bytes.Buffer
	cfg, format, err := DecodeConfig(io.TeeReader(r, &head), maxPixels)
	if err != nil {
		return nil, "", err
	}
	var img image.Image
	if format == "jpeg" {
		img, err = decodeJPEG(io.MultiReader(&head, r), cfg.ColorModel, maxPixels)
	} else {
		img, format, err = image.Decode(io.MultiReader(&head, r))
	}
	if err != nil {
		return nil, "", err
	}
	// A decoder must not return more than the header declared; check what
	// came back too, so a header/data disagreement cannot slip through.
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, "", fmt.Errorf("decoded %dx%d pixels, the header declared %dx%d", b.Dx(), b.Dy(), cfg.Width, cfg.Height)
	}
	return img, format, nil
}

// decodeJPEG decodes a JPEG as libjpeg does with its defaults (the samples
// dlib's load_image gets; jpegdec.DecodeLibjpeg), so that landmarks on JPEG
// input are dlib's own. The kinds it does not read, which the header's
// colour model already names (CMYK and YCCK: CMYKModel; Adobe RGB:
// RGBAModel), go to image/jpeg, so the stream is read once.
func decodeJPEG(r io.Reader, cm color.Model, maxPixels int) (image.Image, error) {
	if cm != color.YCbCrModel && cm != color.GrayModel {
		return jpeg.Decode(r)
	}
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	return jpegdec.DecodeLibjpeg(r, maxPixels)
}
