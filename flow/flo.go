package flow

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/tell-project/tell/atomicfile"
)

// floMagic opens every Middlebury .flo file: the float32 202021.25, whose
// bytes read "PIEH" in little-endian order.
const floMagic float32 = 202021.25

// maxFloPixels bounds the size a .flo header may claim (a 16k×16k field),
// so a corrupt header cannot make ReadFlo allocate without limit.
const maxFloPixels = 1 << 28

// ReadFlo decodes a Middlebury .flo stream: magic, int32 width and height,
// then interleaved float32 (u, v) pairs row by row, all little-endian.
func ReadFlo(r io.Reader) (*Field, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("flo: header: %w", err)
	}
	if m := math.Float32frombits(binary.LittleEndian.Uint32(hdr[0:])); m != floMagic {
		return nil, fmt.Errorf("flo: bad magic %v, want %v", m, floMagic)
	}
	w := int32(binary.LittleEndian.Uint32(hdr[4:]))
	h := int32(binary.LittleEndian.Uint32(hdr[8:]))
	if w <= 0 || h <= 0 || int64(w)*int64(h) > maxFloPixels {
		return nil, fmt.Errorf("flo: bad size %dx%d", w, h)
	}
	// Grow with the data actually read, so a header claiming a huge field
	// over a short stream costs no more memory than the stream.
	n := int(w) * int(h)
	f := &Field{W: int(w), H: int(h), U: make([]float32, 0, min(n, 1<<16)), V: make([]float32, 0, min(n, 1<<16))}
	br := bufio.NewReader(r)
	var px [8]byte
	for i := 0; i < n; i++ {
		if _, err := io.ReadFull(br, px[:]); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("flo: pixel %d of %dx%d: %w", i, w, h, err)
		}
		f.U = append(f.U, math.Float32frombits(binary.LittleEndian.Uint32(px[0:])))
		f.V = append(f.V, math.Float32frombits(binary.LittleEndian.Uint32(px[4:])))
	}
	return f, nil
}

// WriteFlo encodes f in the Middlebury .flo format.
func WriteFlo(w io.Writer, f *Field) error {
	if err := f.check(); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	var b [12]byte
	binary.LittleEndian.PutUint32(b[0:], math.Float32bits(floMagic))
	binary.LittleEndian.PutUint32(b[4:], uint32(f.W))
	binary.LittleEndian.PutUint32(b[8:], uint32(f.H))
	if _, err := bw.Write(b[:]); err != nil {
		return fmt.Errorf("flo: %w", err)
	}
	for i := range f.U {
		binary.LittleEndian.PutUint32(b[0:], math.Float32bits(f.U[i]))
		binary.LittleEndian.PutUint32(b[4:], math.Float32bits(f.V[i]))
		if _, err := bw.Write(b[:8]); err != nil {
			return fmt.Errorf("flo: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("flo: %w", err)
	}
	return nil
}

// LoadFlo reads a .flo file.
func LoadFlo(path string) (*Field, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	f, err := ReadFlo(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// SaveFlo writes f to path atomically (temporary file, then rename).
func SaveFlo(path string, f *Field) error {
	return atomicfile.Write(path, func(w io.Writer) error { return WriteFlo(w, f) })
}
