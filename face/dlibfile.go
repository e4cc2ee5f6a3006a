package face

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// errTruncated reports input that ended inside a value.
var errTruncated = errors.New("unexpected end of data (truncated file)")

// dlibReader decodes dlib's serialisation format (dlib/serialize.h) from a
// byte slice. Integers are "packed": a control byte whose low nibble is the
// byte count and whose 0x80 bit is the sign, then the magnitude in
// little-endian order. Floats are a packed int64 mantissa and a packed int16
// exponent (dlib/float_details.h). The first error sticks; later reads return
// zero values so that callers can check once per structure.
//
// The reader works on a byte slice, or streams from src through a fixed
// window (so that loading a 100 MB model does not hold the file in memory);
// total is then the stream's length, known from the file size.
type dlibReader struct {
	buf []byte
	pos int
	err error

	src   io.Reader // nil: buf is the whole input
	win   []byte    // streaming window backing buf
	base  int       // input offset of buf[0]
	total int       // input length when streaming
}

// newStreamReader reads size bytes from src through a 1 MiB window.
func newStreamReader(src io.Reader, size int) *dlibReader {
	return &dlibReader{src: src, win: make([]byte, 1<<20), total: size}
}

// fill makes at least n bytes available in buf[pos:] when the input has them.
func (r *dlibReader) fill(n int) {
	if r.src == nil || len(r.buf)-r.pos >= n {
		return
	}
	k := copy(r.win, r.buf[r.pos:])
	r.base += r.pos
	m, err := io.ReadFull(r.src, r.win[k:])
	r.buf, r.pos = r.win[:k+m], 0
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF && r.err == nil {
		r.err = fmt.Errorf("at byte %d: %w", r.base+len(r.buf), err)
	}
	if err != nil {
		r.src = nil // nothing more to read
	}
}

func (r *dlibReader) offset() int { return r.base + r.pos }

func (r *dlibReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("at byte %d: %s", r.offset(), fmt.Sprintf(format, args...))
	}
}

// remaining is the number of unread bytes; vector lengths are checked
// against it so that a corrupted length cannot trigger a huge allocation.
func (r *dlibReader) remaining() int {
	if r.win != nil {
		return r.total - r.offset()
	}
	return len(r.buf) - r.pos
}

// int reads a packed signed integer of at most maxBytes magnitude bytes.
func (r *dlibReader) int(maxBytes int) int64 {
	if r.err != nil {
		return 0
	}
	r.fill(9)
	if r.pos >= len(r.buf) {
		r.fail("%v", errTruncated)
		return 0
	}
	ctl := r.buf[r.pos]
	n := int(ctl & 0x0F)
	if n == 0 || n > maxBytes {
		r.fail("bad integer control byte 0x%02x", ctl)
		return 0
	}
	if r.pos+1+n > len(r.buf) {
		r.pos = len(r.buf)
		r.fail("%v", errTruncated)
		return 0
	}
	var v uint64
	b := r.buf[r.pos+1 : r.pos+1+n]
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	r.pos += 1 + n
	if ctl&0x80 != 0 {
		return -int64(v)
	}
	return int64(v)
}

// uint reads a packed unsigned integer (dlib's unsigned long: 8 bytes).
// dlib masks the reserved bits 0x70 and rejects the sign bit.
func (r *dlibReader) uint() uint64 {
	if r.err != nil {
		return 0
	}
	r.fill(9)
	if r.pos >= len(r.buf) {
		r.fail("%v", errTruncated)
		return 0
	}
	ctl := r.buf[r.pos] & 0x8F
	if ctl == 0 || ctl > 8 {
		r.fail("bad unsigned integer control byte 0x%02x", r.buf[r.pos])
		return 0
	}
	n := int(ctl)
	if r.pos+1+n > len(r.buf) {
		r.pos = len(r.buf)
		r.fail("%v", errTruncated)
		return 0
	}
	var v uint64
	b := r.buf[r.pos+1 : r.pos+1+n]
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	r.pos += 1 + n
	return v
}

// float32 reads a dlib float: mantissa·2^exponent, with the special
// exponents dlib uses for infinities and NaN.
func (r *dlibReader) float32() float32 {
	if r.err != nil {
		return 0
	}
	r.fill(20)
	// Fast path (model loading is mostly floats): floatRun decodes the
	// usual ones; anything unusual goes the checked way below.
	var f [1]float32
	if r.floatRun(f[:]) == 1 {
		return f[0]
	}
	if r.pos < len(r.buf) && r.buf[r.pos]&0x70 != 0 {
		// dlib's pre-2012 ASCII float format; no shipped model uses it.
		r.fail("old ASCII float encoding is not supported")
		return 0
	}
	m := r.int(8)
	e := r.int(2)
	if r.err != nil {
		return 0
	}
	switch {
	case e < 32000:
		f := float32(m) // dlib: ldexp((float)mantissa, exponent)
		if e >= -126 && e <= 127 {
			return float32(float64(f) * math.Float64frombits(uint64(e+1023)<<52))
		}
		return float32(math.Ldexp(float64(f), int(e)))
	case e == 32000:
		return float32(math.Inf(1))
	case e == 32001:
		return float32(math.Inf(-1))
	default:
		return float32(math.NaN())
	}
}

// length reads a vector length and checks that the remaining input can hold
// that many elements of at least minBytes each.
func (r *dlibReader) length(what string, minBytes int) int {
	n := r.uint()
	if r.err != nil {
		return 0
	}
	if n > uint64(r.remaining()/minBytes) {
		r.fail("%s length %d exceeds the remaining %d bytes", what, n, r.remaining())
		return 0
	}
	return int(n)
}

// floatColumn reads a matrix<float,0,1> into dst (which must have the
// expected length) and returns false on a size mismatch or error.
func (r *dlibReader) floatColumn(what string, want int, dst []float32) bool {
	nr := r.int(8)
	nc := r.int(8)
	if r.err != nil {
		return false
	}
	if nr < 0 || nc < 0 {
		nr, nc = -nr, -nc
	}
	if nc != 1 || nr != int64(want) {
		r.fail("%s is %dx%d, want %dx1", what, nr, nc, want)
		return false
	}
	dst = dst[:want]
	for i := 0; i < len(dst) && r.err == nil; {
		r.fill(20)
		k := r.floatRun(dst[i:])
		if k == 0 {
			dst[i], k = r.float32(), 1
		}
		i += k
	}
	return r.err == nil
}

// floatRun decodes floats into dst while the window holds 20 bytes and
// both packed integers of each lie in it with a float32 exponent (float32's
// fast path); it returns how many it decoded, and 0 where float32 must read
// the next one the checked way.
func (r *dlibReader) floatRun(dst []float32) int {
	b := r.buf[r.pos:]
	i := 0
	for ; i < len(dst) && len(b) >= 20; i++ {
		c := b[0]
		n := int(c & 0x0F)
		if c&0x70 != 0 || n < 1 || n > 8 {
			break
		}
		c2 := b[n+1]
		n2 := int(c2 & 0x0F)
		if n2 < 1 || n2 > 2 {
			break
		}
		// The n mantissa bytes, little-endian, from one 8-byte load.
		m := binary.LittleEndian.Uint64(b[1:9]) & (math.MaxUint64 >> (64 - 8*n))
		e := int64(b[n+2])
		if n2 == 2 {
			e |= int64(b[n+3]) << 8
		}
		if c2&0x80 != 0 {
			e = -e
		}
		if e < -126 || e > 127 {
			break
		}
		mi := int64(m)
		if c&0x80 != 0 {
			mi = -mi
		}
		f := float32(mi)
		dst[i] = float32(float64(f) * math.Float64frombits(uint64(e+1023)<<52))
		b = b[n+n2+2:]
	}
	r.pos = len(r.buf) - len(b)
	return i
}
