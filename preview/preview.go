// Package preview writes and reads a run's preview.jpgs: the clip's frames
// as small JPEGs, for the viewer that plays the clip beside its AU and
// probability curves (tell view, tell serve's job page). A browser cannot
// play a folder of frames, and not every video codec; a sequence of JPEGs
// it can always show, frame-exact, whatever the input was.
//
// Format: the 8 bytes "TELLPRV1", then one record per kept frame in frame
// order: the frame's 0-based position in the clip (uint32, little endian),
// the JPEG's length in bytes (uint32, little endian) and the JPEG. Frames
// are shrunk by the smallest whole factor that brings the longer side to
// at most MaxSide pixels (box average: 640×480 → 320×240), which keeps
// the preview's cost to about a tenth of an analysis's CPU on 640×360
// video (farm-bench, single_face.mp4: ×1.11; ×1.28 at full size). The file
// is bounded by Budget bytes: when a clip's frames would not fit, only
// every k-th frame is kept (k fixed from the first frame's size and the
// clip's frame count), and a clip longer than announced stops being
// previewed at the budget.
//
// Limits: grey frames stay grey (the analysis reads colour only when an
// appearance model asks for it); JPEG quality 85 loses fine texture, so
// the preview shows the clip, not the pixels the analysis measured.
package preview

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"math"

	"github.com/tell-project/tell/raster"
)

// Name is the preview's file name in a run's folder.
const Name = "preview.jpgs"

// Magic starts every preview file.
const Magic = "TELLPRV1"

// Defaults: the longer side of a previewed frame, the JPEG quality and the
// file's size bound.
const (
	MaxSide = 480
	Quality = 85
	Budget  = 64 << 20
)

// Writer writes a preview. It buffers; Close flushes. Add's frames must
// come in order.
type Writer struct {
	w      *bufio.Writer
	total  int // frames the clip announces (<= 0 unknown)
	every  int // keep positions that are multiples of every
	budget int64
	n      int64 // bytes written
	full   bool
	img    *image.Gray
	rgba   *image.RGBA
	buf    bytes.Buffer
	enc    *colourEncoder // for the size of the last colour frame
	err    error
}

// NewWriter starts a preview of a clip of total frames (<= 0: unknown)
// on w, bounded by budget bytes (<= 0: Budget).
func NewWriter(w io.Writer, total int, budget int64) (*Writer, error) {
	if budget <= 0 {
		budget = Budget
	}
	pw := &Writer{w: bufio.NewWriterSize(w, 1<<16), total: total, every: 1, budget: budget}
	if _, err := pw.w.WriteString(Magic); err != nil {
		return nil, fmt.Errorf("preview: %w", err)
	}
	pw.n = int64(len(Magic))
	return pw, nil
}

// Every is the sampling step: every Every-th frame is kept.
func (pw *Writer) Every() int { return pw.every }

// Add previews frame pos (0-based) from its grey pixels, or its colour
// ones when c is not nil. Frames not kept by the sampling step, and frames
// past the budget, are skipped.
func (pw *Writer) Add(pos int, g *raster.Gray, c *raster.RGB) error {
	if pw.err != nil || pw.full || pos%pw.every != 0 {
		return pw.err
	}
	pw.buf.Reset()
	var err error
	if w, h := g.W, g.H; c != nil && c.W == w && c.H == h && max(w, h) > MaxSide && max(w, h)/2 <= MaxSide && w >= 2 && h >= 2 {
		// The common case (scaled's k = 2 in colour) without the
		// shrunk copy.
		err = pw.encodeHalf(c)
	} else {
		err = pw.encode(pw.scaled(g, c))
	}
	if err != nil {
		pw.err = fmt.Errorf("preview: frame %d: %w", pos+1, err)
		return pw.err
	}
	size := int64(pw.buf.Len() + 8)
	if pos == 0 && pw.total > 0 {
		// A margin of a fifth over the first frame's size: frames with
		// more motion or texture come out larger.
		if need := float64(size) * 1.2 * float64(pw.total); need > float64(pw.budget) {
			pw.every = int(math.Ceil(need / float64(pw.budget)))
		}
	}
	if pw.n+size > pw.budget {
		pw.full = true
		return nil
	}
	var head [8]byte
	binary.LittleEndian.PutUint32(head[:4], uint32(pos))
	binary.LittleEndian.PutUint32(head[4:], uint32(pw.buf.Len()))
	if _, err := pw.w.Write(head[:]); err != nil {
		pw.err = fmt.Errorf("preview: %w", err)
		return pw.err
	}
	if _, err := pw.w.Write(pw.buf.Bytes()); err != nil {
		pw.err = fmt.Errorf("preview: %w", err)
		return pw.err
	}
	pw.n += size
	return nil
}

// encode writes m's JPEG into buf: a colour frame by colourEncoder (the
// same bytes as image/jpeg, faster), a grey one by image/jpeg.
func (pw *Writer) encode(m image.Image) error {
	rgba, ok := m.(*image.RGBA)
	if !ok {
		return jpeg.Encode(&pw.buf, m, &jpeg.Options{Quality: Quality})
	}
	e, err := pw.encoder(rgba.Rect.Dx(), rgba.Rect.Dy())
	if err != nil {
		return err
	}
	return e.encode(&pw.buf, rgba)
}

// encodeHalf writes into buf the JPEG of colour frame c shrunk by 2 (as
// scaled shrinks it).
func (pw *Writer) encodeHalf(c *raster.RGB) error {
	e, err := pw.encoder(c.W/2, c.H/2)
	if err != nil {
		return err
	}
	return e.encodeHalf(&pw.buf, c)
}

// encoder returns the colour encoder of w×h images, the last one when it
// is that size.
func (pw *Writer) encoder(w, h int) (*colourEncoder, error) {
	if e := pw.enc; e != nil && e.w == w && e.h == h {
		return e, nil
	}
	e, err := newColourEncoder(w, h, Quality)
	if err != nil {
		return nil, err
	}
	pw.enc = e
	return e, nil
}

// Full reports that the budget stopped the preview before the clip ended.
func (pw *Writer) Full() bool { return pw.full }

// Close flushes the preview.
func (pw *Writer) Close() error {
	if pw.err != nil {
		return pw.err
	}
	if err := pw.w.Flush(); err != nil {
		return fmt.Errorf("preview: %w", err)
	}
	return nil
}

// scaled is the frame as an image at most MaxSide on its longer side (box
// averaged when shrinking), in colour when c is given; the buffers are
// reused.
func (pw *Writer) scaled(g *raster.Gray, c *raster.RGB) image.Image {
	w, h := g.W, g.H
	k := 1
	for max(w, h)/k > MaxSide {
		k++
	}
	ow, oh := max(1, w/k), max(1, h/k)
	inv := 1 / float32(k*k)
	if c != nil && c.W == w && c.H == h {
		if pw.rgba == nil || pw.rgba.Rect.Dx() != ow || pw.rgba.Rect.Dy() != oh {
			pw.rgba = image.NewRGBA(image.Rect(0, 0, ow, oh))
		}
		if k <= 2 {
			pw.scaledRGBSmall(c, k, ow, oh)
			return pw.rgba
		}
		for y := 0; y < oh; y++ {
			for x := 0; x < ow; x++ {
				var s [3]float32
				for dy := 0; dy < k; dy++ {
					row := c.Pix[(y*k+dy)*c.Stride+3*x*k:]
					for dx := 0; dx < k; dx++ {
						s[0] += float32(row[3*dx])
						s[1] += float32(row[3*dx+1])
						s[2] += float32(row[3*dx+2])
					}
				}
				o := y*pw.rgba.Stride + 4*x
				for ch := 0; ch < 3; ch++ {
					pw.rgba.Pix[o+ch] = uint8(s[ch]*inv + 0.5)
				}
				pw.rgba.Pix[o+3] = 255
			}
		}
		return pw.rgba
	}
	if pw.img == nil || pw.img.Rect.Dx() != ow || pw.img.Rect.Dy() != oh {
		pw.img = image.NewGray(image.Rect(0, 0, ow, oh))
	}
	if k == 2 {
		pw.scaledGray2(g, ow, oh)
		return pw.img
	}
	for y := 0; y < oh; y++ {
		for x := 0; x < ow; x++ {
			var s float32
			for dy := 0; dy < k; dy++ {
				row := g.Pix[(y*k+dy)*g.Stride+x*k:]
				for dx := 0; dx < k; dx++ {
					s += row[dx]
				}
			}
			pw.img.Pix[y*pw.img.Stride+x] = uint8(min(255, max(0, s*inv+0.5)))
		}
	}
	return pw.img
}

// scaledRGBSmall is scaled's colour path for k = 1 (a copy) and k = 2
// (the common case: frames up to 960 pixels wide) in integers: a sum of
// four bytes times 0.25 plus 0.5 is exact in float32, so uint8 of it is
// (sum+2)>>2, the value the general path gives.
func (pw *Writer) scaledRGBSmall(c *raster.RGB, k, ow, oh int) {
	dst := pw.rgba
	for y := 0; y < oh; y++ {
		out := dst.Pix[y*dst.Stride : y*dst.Stride+4*ow]
		if k == 1 {
			in := c.Pix[y*c.Stride : y*c.Stride+3*ow]
			for x := 0; x < ow; x++ {
				o, i := out[4*x:4*x+4:4*x+4], in[3*x:3*x+3:3*x+3]
				o[0], o[1], o[2], o[3] = i[0], i[1], i[2], 255
			}
			continue
		}
		r0 := c.Pix[2*y*c.Stride : 2*y*c.Stride+6*ow]
		r1 := c.Pix[(2*y+1)*c.Stride : (2*y+1)*c.Stride+6*ow]
		for x := 0; x < ow; x++ {
			a, b, o := r0[6*x:6*x+6:6*x+6], r1[6*x:6*x+6:6*x+6], out[4*x:4*x+4:4*x+4]
			o[0] = uint8((uint(a[0]) + uint(a[3]) + uint(b[0]) + uint(b[3]) + 2) >> 2)
			o[1] = uint8((uint(a[1]) + uint(a[4]) + uint(b[1]) + uint(b[4]) + 2) >> 2)
			o[2] = uint8((uint(a[2]) + uint(a[5]) + uint(b[2]) + uint(b[5]) + 2) >> 2)
			o[3] = 255
		}
	}
}

// scaledGray2 is scaled's grey path for k = 2, adding the four pixels in
// the general path's order (so the same float32 sums).
func (pw *Writer) scaledGray2(g *raster.Gray, ow, oh int) {
	dst := pw.img
	for y := 0; y < oh; y++ {
		out := dst.Pix[y*dst.Stride : y*dst.Stride+ow]
		r0 := g.Pix[2*y*g.Stride : 2*y*g.Stride+2*ow]
		r1 := g.Pix[(2*y+1)*g.Stride : (2*y+1)*g.Stride+2*ow]
		for x := range out {
			a, b := r0[2*x:2*x+2:2*x+2], r1[2*x:2*x+2:2*x+2]
			s := a[0] + a[1] + b[0] + b[1]
			out[x] = uint8(min(255, max(0, s*0.25+0.5)))
		}
	}
}

// Frame is one previewed frame.
type Frame struct {
	Pos  int    // 0-based position in the clip
	JPEG []byte // the encoded frame
}

// ErrFormat is wrapped by errors about a file that is not a preview.
var ErrFormat = errors.New("preview: bad preview file")

// maxFrameBytes bounds one record when reading.
const maxFrameBytes = 64 << 20

// Read reads a whole preview.
func Read(r io.Reader) ([]Frame, error) {
	br := bufio.NewReader(r)
	magic := make([]byte, len(Magic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != Magic {
		return nil, fmt.Errorf("%w: no %s header", ErrFormat, Magic)
	}
	var out []Frame
	last := -1
	for {
		var head [8]byte
		if _, err := io.ReadFull(br, head[:]); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("%w: record %d: %w", ErrFormat, len(out)+1, err)
		}
		pos, n := int(binary.LittleEndian.Uint32(head[:4])), int(binary.LittleEndian.Uint32(head[4:]))
		if pos <= last || n <= 0 || n > maxFrameBytes {
			return nil, fmt.Errorf("%w: record %d: position %d after %d, %d bytes", ErrFormat, len(out)+1, pos, last, n)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			return nil, fmt.Errorf("%w: record %d: %w", ErrFormat, len(out)+1, err)
		}
		out = append(out, Frame{Pos: pos, JPEG: b})
		last = pos
	}
}
