// Package jpegdec decodes JPEG files to the exact pixels of the decoders
// tell's peers use, so that tell sees on JPEG input what they see:
//
//   - DecodeJS gives the pixels jpeg-js 0.4 gives, the decoder of the
//     TensorFlow.js peer (../shared/bench/tfjs/fer.js reads JPEG crops with
//     it): jpeg-js's integer IDCT (poppler's Loeffler IDCT with its
//     rounding, pdfIDCT), nearest-sample chroma upsampling and
//     floating-point YCbCr→RGB conversion truncated to 8 bits. The
//     appearance nets read these.
//   - DecodeLibjpeg gives libjpeg's samples (its accurate integer IDCT,
//     jidctint.c), from which raster.FromImage makes the grey image dlib's
//     load_image makes. The landmarks read these.
//
// Both share Go's image/jpeg entropy decoding (copied from Go 1.26,
// BSD-3-Clause, LICENSE-GO). Go's own decoder differs from either by up to
// a few levels per pixel (a different IDCT, chroma, rounding).
//
// Limits: greyscale and three-component (YCbCr) images, baseline and
// progressive; four-component (CMYK, YCCK) JPEGs are refused. As jpeg-js
// does, DecodeJS always converts three components from YCbCr, even when an
// Adobe marker says RGB; DecodeLibjpeg refuses such an image.
package jpegdec

import (
	"fmt"
	"image"
	"io"

	"github.com/tell-project/tell/raster"
)

// DecodeJS reads a JPEG image and returns its pixels as jpeg-js 0.4 decodes
// them. A frame of more than maxPixels pixels is refused before anything is
// allocated for it (maxPixels <= 0: no limit).
func DecodeJS(r io.Reader, maxPixels int) (*raster.RGB, error) {
	d := decoder{maxPixels: maxPixels}
	img, err := d.decode(r, false)
	if err != nil {
		return nil, err
	}
	switch m := img.(type) {
	case *image.Gray:
		b := m.Bounds()
		out := raster.NewRGB(b.Dx(), b.Dy())
		for y := 0; y < out.H; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+out.W]
			o := out.Pix[y*out.Stride:]
			for x, v := range row {
				o[3*x], o[3*x+1], o[3*x+2] = v, v, v
			}
		}
		return out, nil
	case *image.YCbCr:
		if d.blackPix != nil {
			return nil, UnsupportedError("four-component (CMYK/YCCK) JPEG")
		}
		b := m.Bounds()
		out := raster.NewRGB(b.Dx(), b.Dy())
		for y := 0; y < out.H; y++ {
			o := out.Pix[y*out.Stride:]
			for x := 0; x < out.W; x++ {
				Y := float64(m.Y[m.YOffset(x, y)])
				ci := m.COffset(x, y)
				cb, cr := float64(m.Cb[ci])-128, float64(m.Cr[ci])-128
				// Explicit conversions round each product, as JavaScript
				// does, and keep the compiler from fusing multiply-adds.
				o[3*x] = trunc8(Y + float64(1.402*cr))
				o[3*x+1] = trunc8(float64(Y-float64(0.3441363*cb)) - float64(0.71413636*cr))
				o[3*x+2] = trunc8(Y + float64(1.772*cb))
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("jpegdec: unexpected image type %T", img)
}

// trunc8 clamps to 0..255 and truncates, as storing a number into a
// JavaScript Uint8Array does.
func trunc8(v float64) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}
