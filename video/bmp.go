package video

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
)

func init() {
	image.RegisterFormat("bmp", "BM", decodeBMP, decodeBMPConfig)
}

// maxBMPPixels bounds the image a BMP header may ask for (a corrupted size
// must not trigger a huge allocation).
const maxBMPPixels = 1 << 28

type bmpHeader struct {
	w, h, bpp, offset int
	topDown           bool
	palette           color.Palette
}

// readBMPHeader reads the file and info headers of an uncompressed BMP
// (BI_RGB, 8-bit paletted, 24- or 32-bit), the layouts frame dumps use.
func readBMPHeader(r io.Reader) (bmpHeader, int, error) {
	var h bmpHeader
	var hdr [54]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return h, 0, fmt.Errorf("bmp: header: %w", err)
	}
	if string(hdr[:2]) != "BM" {
		return h, 0, errors.New("bmp: not a BMP file")
	}
	le := binary.LittleEndian
	h.offset = int(le.Uint32(hdr[10:]))
	infoSize := int(le.Uint32(hdr[14:]))
	w, ht := int(int32(le.Uint32(hdr[18:]))), int(int32(le.Uint32(hdr[22:])))
	h.bpp = int(le.Uint16(hdr[28:]))
	comp := le.Uint32(hdr[30:])
	if infoSize < 40 || infoSize > 1024 {
		return h, 0, fmt.Errorf("bmp: unsupported info header size %d", infoSize)
	}
	if comp != 0 && !(comp == 3 && h.bpp == 32) {
		return h, 0, fmt.Errorf("bmp: compression %d is not supported", comp)
	}
	if ht < 0 {
		ht, h.topDown = -ht, true
	}
	if w <= 0 || ht <= 0 || w*ht > maxBMPPixels {
		return h, 0, fmt.Errorf("bmp: bad size %dx%d", w, ht)
	}
	h.w, h.h = w, ht
	read := 54
	// Skip the rest of a larger info header.
	if n := 14 + infoSize - read; n > 0 {
		if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
			return h, 0, fmt.Errorf("bmp: header: %w", err)
		}
		read += n
	}
	switch h.bpp {
	case 8:
		ncol := int(le.Uint32(hdr[46:]))
		if ncol == 0 || ncol > 256 {
			ncol = 256
		}
		pal := make([]byte, 4*ncol)
		if _, err := io.ReadFull(r, pal); err != nil {
			return h, 0, fmt.Errorf("bmp: palette: %w", err)
		}
		read += len(pal)
		h.palette = make(color.Palette, ncol)
		for i := range h.palette {
			h.palette[i] = color.RGBA{pal[4*i+2], pal[4*i+1], pal[4*i], 255}
		}
	case 24, 32:
	default:
		return h, 0, fmt.Errorf("bmp: %d bits per pixel is not supported", h.bpp)
	}
	if h.offset < read {
		return h, 0, fmt.Errorf("bmp: pixel data offset %d inside the header", h.offset)
	}
	return h, read, nil
}

func decodeBMPConfig(r io.Reader) (image.Config, error) {
	h, _, err := readBMPHeader(r)
	if err != nil {
		return image.Config{}, err
	}
	m := color.Model(color.RGBAModel)
	if h.palette != nil {
		m = h.palette
	}
	return image.Config{ColorModel: m, Width: h.w, Height: h.h}, nil
}

func decodeBMP(r io.Reader) (image.Image, error) {
	h, read, err := readBMPHeader(r)
	if err != nil {
		return nil, err
	}
	if _, err := io.CopyN(io.Discard, r, int64(h.offset-read)); err != nil {
		return nil, fmt.Errorf("bmp: %w", err)
	}
	bpp := h.bpp / 8
	rowLen := (h.w*bpp + 3) &^ 3
	row := make([]byte, rowLen)
	var pal *image.Paletted
	var rgba *image.RGBA
	if h.palette != nil {
		pal = image.NewPaletted(image.Rect(0, 0, h.w, h.h), h.palette)
	} else {
		rgba = image.NewRGBA(image.Rect(0, 0, h.w, h.h))
	}
	for i := 0; i < h.h; i++ {
		if _, err := io.ReadFull(r, row); err != nil {
			return nil, fmt.Errorf("bmp: pixel row %d: %w", i, err)
		}
		y := h.h - 1 - i
		if h.topDown {
			y = i
		}
		if pal != nil {
			out := pal.Pix[y*pal.Stride : y*pal.Stride+h.w]
			for x := range out {
				if int(row[x]) >= len(h.palette) {
					return nil, fmt.Errorf("bmp: palette index %d out of range", row[x])
				}
				out[x] = row[x]
			}
			continue
		}
		out := rgba.Pix[y*rgba.Stride : y*rgba.Stride+4*h.w]
		for x := 0; x < h.w; x++ {
			p := row[x*bpp:]
			out[4*x], out[4*x+1], out[4*x+2], out[4*x+3] = p[2], p[1], p[0], 255
		}
	}
	if pal != nil {
		return pal, nil
	}
	return rgba, nil
}
