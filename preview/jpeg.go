package preview

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"math/bits"

	"github.com/tell-project/tell/raster"
)

// colourEncoder writes w×h colour images as JPEGs, the same bytes as
// image/jpeg.Encode writes for an *image.RGBA at the same quality (4:2:0
// baseline, its DCT, rounding and Huffman tables), in about half its time:
// the colour conversion inlined, the quantisation's divisions done as
// multiplications (exact for the DCT's range), zero coefficients skipped
// on one comparison, and the bits gathered 64 at a time into a byte slice.
// Everything before the scan — markers, quantisation and Huffman tables —
// is image/jpeg's own header for this size and quality, and the tables
// the scan uses are read back from it, so the two cannot disagree there.
// TestColourEncoderSameBytes holds the rest (the DCT, the rounding) to
// image/jpeg's output on random and real images of many sizes.
type colourEncoder struct {
	w, h int
	head []byte // image/jpeg's bytes up to the scan data
	// Per table (0 luma, 1 chroma) and zig-zag position: half the
	// divisor 8·q (a coefficient under it in magnitude quantises to
	// zero) and ⌈2³²/(8·q)⌉.
	half  [2][64]int32
	recip [2][64]uint64
	dc    [2]huffCodes
	ac    [2]huffCodes
	// The MCU's 16×16 planes and the block being coded.
	py, pcb, pcr [256]int32
	blk          [64]int32
	// Bits not yet written, the oldest highest, and their count.
	acc  uint64
	nacc uint
	out  []byte
}

// huffCodes is a Huffman table by symbol: its code in the low bits, the
// code's length above bit 24 (0: the symbol has no code).
type huffCodes [256]uint32

// zigzag maps a coefficient's zig-zag position to its index in the block
// (row-major): the order of the anti-diagonals, alternately walked up and
// down, as the JPEG standard orders them.
var zigzag = func() (z [64]int) {
	i := 0
	for d := 0; d < 15; d++ {
		for k := 0; k <= d; k++ {
			r := k
			if d%2 == 0 {
				r = d - k
			}
			c := d - r
			if r < 8 && c < 8 {
				z[i] = 8*r + c
				i++
			}
		}
	}
	return z
}()

// newColourEncoder returns an encoder of w×h images at quality q.
func newColourEncoder(w, h, q int) (*colourEncoder, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewRGBA(image.Rect(0, 0, w, h)), &jpeg.Options{Quality: q}); err != nil {
		return nil, err
	}
	e := &colourEncoder{w: w, h: h}
	if err := e.readHeader(buf.Bytes()); err != nil {
		return nil, fmt.Errorf("preview: image/jpeg's header: %w", err)
	}
	return e, nil
}

var errHeader = errors.New("unexpected header")

// readHeader keeps b's header (up to the scan data) and reads its
// quantisation and Huffman tables.
func (e *colourEncoder) readHeader(b []byte) error {
	if len(b) < 4 || b[0] != 0xff || b[1] != 0xd8 {
		return errHeader
	}
	var haveQ [2]bool
	var haveH [4]bool
	for p := 2; ; {
		if p+4 > len(b) || b[p] != 0xff {
			return errHeader
		}
		marker, n := b[p+1], int(binary.BigEndian.Uint16(b[p+2:]))
		seg := b[p+4 : min(len(b), p+2+n)]
		if len(seg) != n-2 {
			return errHeader
		}
		switch marker {
		case 0xdb: // quantisation tables, 8-bit, zig-zag order
			for len(seg) >= 65 {
				t := int(seg[0])
				if t > 1 {
					return errHeader
				}
				for z := range 64 {
					d := 8 * int64(seg[1+z])
					if d == 0 {
						return errHeader
					}
					e.half[t][z] = int32(d / 2)
					e.recip[t][z] = uint64((1<<32 + d - 1) / d)
				}
				haveQ[t] = true
				seg = seg[65:]
			}
		case 0xc4: // Huffman tables
			for len(seg) >= 17 {
				class, t := seg[0]>>4, int(seg[0]&15)
				if class > 1 || t > 1 {
					return errHeader
				}
				codes := &e.dc[t]
				if class == 1 {
					codes = &e.ac[t]
				}
				vals := seg[17:]
				code, k := uint32(0), 0
				for l := 1; l <= 16; l++ {
					for range int(seg[l]) {
						if k >= len(vals) {
							return errHeader
						}
						codes[vals[k]] = uint32(l)<<24 | code
						code++
						k++
					}
					code <<= 1
				}
				haveH[2*int(class)+t] = true
				seg = vals[k:]
			}
		case 0xda: // start of scan: the header ends here
			if haveQ != [2]bool{true, true} || haveH != [4]bool{true, true, true, true} {
				return errHeader
			}
			e.head = append([]byte(nil), b[:p+2+n]...)
			return nil
		}
		p += 2 + n
	}
}

// encode appends the JPEG of m (w×h) to dst.
func (e *colourEncoder) encode(dst *bytes.Buffer, m *image.RGBA) error {
	if m.Rect.Dx() != e.w || m.Rect.Dy() != e.h || m.Rect.Min != (image.Point{}) {
		return fmt.Errorf("preview: a %v image for a %d×%d encoder", m.Rect, e.w, e.h)
	}
	return e.scan(dst, func(x0, y0 int) { e.planes(m, x0, y0) })
}

// encodeHalf appends the JPEG of c shrunk to half its width and height
// (w×h) by scaledRGBSmall's 2×2 average, without making the shrunk image.
func (e *colourEncoder) encodeHalf(dst *bytes.Buffer, c *raster.RGB) error {
	if c.W/2 != e.w || c.H/2 != e.h {
		return fmt.Errorf("preview: a %d×%d frame for a %d×%d encoder at half size", c.W, c.H, e.w, e.h)
	}
	return e.scan(dst, func(x0, y0 int) { e.planesHalf(c, x0, y0) })
}

// scan writes the JPEG with planes filling each MCU's planes.
func (e *colourEncoder) scan(dst *bytes.Buffer, planes func(x0, y0 int)) error {
	e.out = append(e.out[:0], e.head...)
	e.acc, e.nacc = 0, 0
	var dcY, dcCb, dcCr int32
	for y0 := 0; y0 < e.h; y0 += 16 {
		for x0 := 0; x0 < e.w; x0 += 16 {
			planes(x0, y0)
			for i := range 4 {
				off := (i&2)*64 + (i&1)*8
				for r := range 8 {
					copy(e.blk[8*r:8*r+8], e.py[off+16*r:off+16*r+8])
				}
				dcY = e.block(0, dcY)
			}
			e.subsample(&e.pcb)
			dcCb = e.block(1, dcCb)
			e.subsample(&e.pcr)
			dcCr = e.block(1, dcCr)
		}
	}
	// Pad the last byte with ones; a part byte left over is dropped, as
	// image/jpeg drops it.
	e.put(0x7f, 7)
	e.flush()
	e.out = append(e.out, 0xff, 0xd9)
	_, err := dst.Write(e.out)
	return err
}

// planes fills the MCU's 16×16 Y, Cb and Cr planes from m at (x0, y0),
// repeating the last row and column past the image's edge (JFIF's
// conversion in color.RGBToYCbCr's integers).
func (e *colourEncoder) planes(m *image.RGBA, x0, y0 int) {
	for j := range 16 {
		sy := min(y0+j, e.h-1)
		row := m.Pix[sy*m.Stride : sy*m.Stride+4*e.w]
		py := e.py[16*j : 16*j+16 : 16*j+16]
		pcb := e.pcb[16*j : 16*j+16 : 16*j+16]
		pcr := e.pcr[16*j : 16*j+16 : 16*j+16]
		for i := range 16 {
			sx := min(x0+i, e.w-1)
			p := row[4*sx : 4*sx+3 : 4*sx+3]
			r, g, b := int32(p[0]), int32(p[1]), int32(p[2])
			py[i] = (19595*r + 38470*g + 7471*b + 1<<15) >> 16
			// Both lie in [0, 256]: 256 (pure blue or red) clamps to 255.
			pcb[i] = min((-11056*r-21712*g+32768*b+257<<15)>>16, 255)
			pcr[i] = min((32768*r-27440*g-5328*b+257<<15)>>16, 255)
		}
	}
}

// planesHalf is planes for the image whose pixel (x, y) is the rounded
// mean of c's 2×2 pixels at (2x, 2y), as scaledRGBSmall makes it.
func (e *colourEncoder) planesHalf(c *raster.RGB, x0, y0 int) {
	for j := range 16 {
		sy := min(y0+j, e.h-1)
		r0 := c.Pix[2*sy*c.Stride : 2*sy*c.Stride+6*e.w]
		r1 := c.Pix[(2*sy+1)*c.Stride : (2*sy+1)*c.Stride+6*e.w]
		py := e.py[16*j : 16*j+16 : 16*j+16]
		pcb := e.pcb[16*j : 16*j+16 : 16*j+16]
		pcr := e.pcr[16*j : 16*j+16 : 16*j+16]
		for i := range 16 {
			sx := min(x0+i, e.w-1)
			a, b := r0[6*sx:6*sx+6:6*sx+6], r1[6*sx:6*sx+6:6*sx+6]
			r := (int32(a[0]) + int32(a[3]) + int32(b[0]) + int32(b[3]) + 2) >> 2
			g := (int32(a[1]) + int32(a[4]) + int32(b[1]) + int32(b[4]) + 2) >> 2
			bl := (int32(a[2]) + int32(a[5]) + int32(b[2]) + int32(b[5]) + 2) >> 2
			py[i] = (19595*r + 38470*g + 7471*bl + 1<<15) >> 16
			pcb[i] = min((-11056*r-21712*g+32768*bl+257<<15)>>16, 255)
			pcr[i] = min((32768*r-27440*g-5328*bl+257<<15)>>16, 255)
		}
	}
}

// subsample sets the block to plane p averaged over 2×2 pixels (sum+2)/4.
func (e *colourEncoder) subsample(p *[256]int32) {
	for r := range 8 {
		a := p[32*r : 32*r+16 : 32*r+16]
		b := p[32*r+16 : 32*r+32 : 32*r+32]
		o := e.blk[8*r : 8*r+8 : 8*r+8]
		for c := range 8 {
			o[c] = (a[2*c] + a[2*c+1] + b[2*c] + b[2*c+1] + 2) >> 2
		}
	}
}

// block codes the block with table t after DC value prev, returning its
// DC value.
func (e *colourEncoder) block(t int, prev int32) int32 {
	fdct(&e.blk)
	half, recip := &e.half[t], &e.recip[t]
	dc := e.quantise(e.blk[0], half[0], recip[0])
	e.putValue(&e.dc[t], 0, dc-prev)
	ac := &e.ac[t]
	run := 0
	for z := 1; z < 64; z++ {
		a := e.blk[zigzag[z]]
		if h := half[z]; a < h && a > -h {
			run++
			continue
		}
		for run > 15 {
			e.putCode(ac[0xf0])
			run -= 16
		}
		e.putValue(ac, run, e.quantise(a, half[z], recip[z]))
		run = 0
	}
	if run > 0 {
		e.putCode(ac[0])
	}
	return dc
}

// quantise is a/(2·half) rounded half away from zero, as image/jpeg's div:
// the product by recip = ⌈2³²/d⌉ is exact for |a| + half below 2¹⁹ (the
// DCT's outputs stay under 2¹⁵).
func (e *colourEncoder) quantise(a, half int32, recip uint64) int32 {
	if a >= 0 {
		return int32(uint64(a+half) * recip >> 32)
	}
	return -int32(uint64(-a+half) * recip >> 32)
}

// putValue writes value v after run zeros: the code of (run, v's size in
// bits), then v's bits (v−1's for a negative v).
func (e *colourEncoder) putValue(codes *huffCodes, run int, v int32) {
	a, b := v, v
	if a < 0 {
		a, b = -v, v-1
	}
	n := uint(bits.Len32(uint32(a)))
	c := codes[run<<4|int(n)]
	cl := uint(c >> 24)
	e.put(uint64(c&(1<<24-1))<<n|uint64(uint32(b))&(1<<n-1), cl+n)
}

// putCode writes a Huffman code (huffCodes' form).
func (e *colourEncoder) putCode(c uint32) { e.put(uint64(c&(1<<24-1)), uint(c>>24)) }

// put writes the n low bits of v (n ≤ 32), flushing whole bytes when 32
// bits have gathered.
func (e *colourEncoder) put(v uint64, n uint) {
	e.acc = e.acc<<n | v
	e.nacc += n
	if e.nacc >= 32 {
		e.nacc -= 32
		w := uint32(e.acc >> e.nacc)
		// No byte 0xff in w: all four bytes at once, else each with the
		// 0x00 stuffed after a 0xff.
		if !hasFF(w) {
			e.out = binary.BigEndian.AppendUint32(e.out, w)
		} else {
			for s := 24; s >= 0; s -= 8 {
				b := byte(w >> s)
				e.out = append(e.out, b)
				if b == 0xff {
					e.out = append(e.out, 0)
				}
			}
		}
	}
}

// hasFF says whether one of w's bytes is 0xff.
func hasFF(w uint32) bool {
	x := ^w // a 0xff byte becomes 0x00
	return (x-0x01010101)&^x&0x80808080 != 0
}

// flush writes the whole bytes gathered, dropping a part byte.
func (e *colourEncoder) flush() {
	for e.nacc >= 8 {
		e.nacc -= 8
		b := byte(e.acc >> e.nacc)
		e.out = append(e.out, b)
		if b == 0xff {
			e.out = append(e.out, 0)
		}
	}
}

// DCT constants: cos and sin of kπ/16 (times √2 or 1/√2 where named) as
// fixed-point integers of the given number of fractional bits.
func fix(x float64, bits int) int32 { return int32(math.Round(x * float64(int64(1)<<bits))) }

var (
	cos1x18, sin1x18 = fix(math.Cos(math.Pi/16), 18), fix(math.Sin(math.Pi/16), 18)
	cos3x18, sin3x18 = fix(math.Cos(3*math.Pi/16), 18), fix(math.Sin(3*math.Pi/16), 18)
	cos6x18, sin6x18 = fix(math.Sqrt2*math.Cos(6*math.Pi/16), 18), fix(math.Sqrt2*math.Sin(6*math.Pi/16), 18)
	sqrt2x12         = fix(math.Sqrt2, 12)
	cos1x14, sin1x14 = fix(math.Cos(math.Pi/16), 14), fix(math.Sin(math.Pi/16), 14)
	cos3x14, sin3x14 = fix(math.Cos(3*math.Pi/16), 14), fix(math.Sin(3*math.Pi/16), 14)
	cos6x14, sin6x14 = fix(math.Sqrt2*math.Cos(6*math.Pi/16), 14), fix(math.Sqrt2*math.Sin(6*math.Pi/16), 14)
	sqrt2x14         = fix(math.Sqrt2, 14)
)

// rot is the plane rotation (x0·c + x1·s, −x0·s + x1·c) in three
// multiplications.
func rot(x0, x1, c, s int32) (int32, int32) {
	k := c * (x0 + x1)
	return k + (s-c)*x1, k - (c+s)*x0
}

// fdct is image/jpeg's forward DCT (Go 1.22 on): columns in Q.18 fixed
// point, then rows, rounded to integers; bytes in, the same integers out.
// It follows image/jpeg's dct.go step for step (Copyright The Go Authors,
// BSD-3-Clause: jpegdec/LICENSE-GO, THIRD_PARTY.md).
func fdct(b *[64]int32) {
	for i := range 8 {
		x0, x1, x2, x3 := b[i], b[8+i], b[16+i], b[24+i]
		x4, x5, x6, x7 := b[32+i], b[40+i], b[48+i], b[56+i]
		x0, x7 = x0+x7, x0-x7
		x1, x6 = x1+x6, x1-x6
		x2, x5 = x2+x5, x2-x5
		x3, x4 = x3+x4, x3-x4
		x4, x7 = rot(x4, x7, cos3x18, sin3x18)
		x5, x6 = rot(x5, x6, cos1x18, sin1x18)
		x0, x3 = x0+x3, x0-x3
		x1, x2 = x1+x2, x1-x2
		x2, x3 = rot(x2, x3, cos6x18, sin6x18)
		x0, x1 = x0+x1, x0-x1
		b[i] = (x0 - 128*8) << 18
		b[32+i] = x1 << 18
		b[16+i] = x2
		b[48+i] = x3
		x4, x6 = x4+x6, x4-x6
		x7, x5 = x7+x5, x7-x5
		x5 = (x5 >> 12) * sqrt2x12
		x6 = (x6 >> 12) * sqrt2x12
		x7, x4 = x7+x4, x7-x4
		b[8+i] = x7
		b[24+i] = x5
		b[40+i] = x6
		b[56+i] = x4
	}
	for i := range 8 {
		x := b[8*i : 8*i+8 : 8*i+8]
		x0, x1, x2, x3, x4, x5, x6, x7 := x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]
		x0, x7 = x0+x7, x0-x7
		x1, x6 = x1+x6, x1-x6
		x2, x5 = x2+x5, x2-x5
		x3, x4 = x3+x4, x3-x4
		x4, x7 = rot(x4>>14, x7>>14, cos3x14, sin3x14)
		x5, x6 = rot(x5>>14, x6>>14, cos1x14, sin1x14)
		x0, x3 = x0+x3, x0-x3
		x1, x2 = x1+x2, x1-x2
		x2, x3 = rot(x2>>14, x3>>14, cos6x14, sin6x14)
		x0, x1 = x0+x1, x0-x1
		x4, x6 = x4+x6, x4-x6
		x7, x5 = x7+x5, x7-x5
		x5 = (x5 >> 14) * sqrt2x14
		x6 = (x6 >> 14) * sqrt2x14
		x7, x4 = x7+x4, x7-x4
		const r = 1 << 17
		x[0] = (x0 + r) >> 18
		x[1] = (x7 + r) >> 18
		x[2] = (x2 + r) >> 18
		x[3] = (x5 + r) >> 18
		x[4] = (x1 + r) >> 18
		x[5] = (x6 + r) >> 18
		x[6] = (x3 + r) >> 18
		x[7] = (x4 + r) >> 18
	}
}
