package face

import (
	"bytes"
	"errors"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/tell-project/tell/models"
	"github.com/tell-project/tell/raster"
)

// dlibWriter encodes dlib's serialisation format, for building small models
// in tests (the reverse of dlibReader, after dlib/serialize.h).
type dlibWriter struct{ bytes.Buffer }

func (w *dlibWriter) int(v int64) {
	var ctl byte
	u := uint64(v)
	if v < 0 {
		ctl, u = 0x80, uint64(-v)
	}
	var b [8]byte
	n := 0
	for {
		b[n] = byte(u)
		n++
		u >>= 8
		if u == 0 {
			break
		}
	}
	w.WriteByte(ctl | byte(n))
	w.Write(b[:n])
}

func (w *dlibWriter) float(f float32) {
	// dlib's float_details: mantissa·2^exponent with a 24-bit mantissa,
	// trailing zero bytes shifted off.
	if f == 0 {
		w.int(0)
		w.int(0)
		return
	}
	frac, exp := math.Frexp(float64(f))
	m := int64(frac * (1 << 24))
	e := int64(exp - 24)
	for i := 0; i < 8 && m&0xFF == 0; i++ {
		m >>= 8
		e += 8
	}
	w.int(m)
	w.int(e)
}

func (w *dlibWriter) column(v []float32) {
	w.int(-int64(len(v)))
	w.int(-1)
	for _, f := range v {
		w.float(f)
	}
}

// tinyModel is a one-level, two-tree model of depth 1 over two feature
// pixels: feature 0 sits on landmark 30 (the nose tip) and feature 1 a
// quarter box-width right of landmark 36. Tree 0 splits on f0 − f1 > 10
// (left leaf moves every point by +0.01 in x, right leaf by −0.01); tree 1
// splits on f1 − f0 > 0 (left: +0.02 in y, right: −0.02 in y).
func tinyModel() []byte {
	var w dlibWriter
	w.int(1) // version
	init := make([]float32, 2*NumLandmarks)
	for i, p := range meanShape {
		init[2*i], init[2*i+1] = float32(p.X), float32(p.Y)
	}
	w.column(init)
	leaf := func(dx, dy float32) []float32 {
		v := make([]float32, 2*NumLandmarks)
		for i := 0; i < NumLandmarks; i++ {
			v[2*i], v[2*i+1] = dx, dy
		}
		return v
	}
	w.int(1) // cascades
	w.int(2) // trees
	// tree 0
	w.int(1)
	w.int(0)
	w.int(1)
	w.float(10)
	w.int(2)
	w.column(leaf(0.01, 0))
	w.column(leaf(-0.01, 0))
	// tree 1
	w.int(1)
	w.int(1)
	w.int(0)
	w.float(0)
	w.int(2)
	w.column(leaf(0, 0.02))
	w.column(leaf(0, -0.02))
	// anchors
	w.int(1)
	w.int(2)
	w.int(30)
	w.int(36)
	// deltas
	w.int(1)
	w.int(2)
	w.float(0)
	w.float(0)
	w.float(0.25)
	w.float(0)
	return w.Bytes()
}

func TestDlibFloatRoundTrip(t *testing.T) {
	for _, f := range []float32{0, 1, -1, 0.5, 3.14159, -1234.5678, 1e-30, 6.5e30, float32(math.SmallestNonzeroFloat32)} {
		var w dlibWriter
		w.float(f)
		r := dlibReader{buf: w.Bytes()}
		if got := r.float32(); got != f || r.err != nil {
			t.Errorf("float %g: got %g, err %v", f, got, r.err)
		}
	}
	// In sequence, so that all but the last few take the reader's fast path.
	floats := []float32{0, 1, -1, 0.5, 3.14159, -1234.5678, 1e-30, 6.5e30, float32(math.SmallestNonzeroFloat32), float32(math.Inf(1)), 7, -2.5e-3, 1e-42, 123456.78}
	var w dlibWriter
	for _, f := range floats {
		if math.IsInf(float64(f), 1) {
			w.int(0)
			w.int(32000) // dlib's code for +Inf
			continue
		}
		w.float(f)
	}
	r := dlibReader{buf: w.Bytes()}
	for i, f := range floats {
		if got := r.float32(); got != f || r.err != nil {
			t.Errorf("float %d (%g): got %g, err %v", i, f, got, r.err)
		}
	}
	for _, v := range []int64{0, 1, -1, 255, 256, -70000, math.MaxInt64, -math.MaxInt64} {
		var w dlibWriter
		w.int(v)
		r := dlibReader{buf: w.Bytes()}
		if got := r.int(8); got != v || r.err != nil {
			t.Errorf("int %d: got %d, err %v", v, got, r.err)
		}
	}
}

func TestTinyModel(t *testing.T) {
	p, err := ParsePredictor(tinyModel())
	if err != nil {
		t.Fatal(err)
	}
	if l, n := p.Levels(); l != 1 || n != 2 {
		t.Fatalf("levels %d trees %d", l, n)
	}
	box := Rect{X: 10, Y: 20, W: 101, H: 101} // box units ×100 px
	// Landmark 30 of the mean shape is at (0.5, 0.547) → pixel (60, 74.7) → (60, 75).
	// Feature 1: landmark 36 (0.2139, 0.3156) + (0.25, 0) → (56.39, 51.56) → (56, 52).
	tests := []struct {
		name   string
		f0, f1 float32
		dx, dy float64 // expected shift in box units
	}{
		{"f0>f1+10", 100, 50, 0.01, -0.02},
		{"f0=f1+10", 60, 50, -0.01, -0.02},
		{"f1>f0", 10, 50, -0.01, 0.02},
	}
	for _, tc := range tests {
		img := raster.NewGray(200, 200)
		img.Pix[75*200+60] = tc.f0
		img.Pix[52*200+56] = tc.f1
		got := p.Predict(img, box)
		mean := p.MeanShape(box)
		for i := range got {
			wx, wy := mean[i].X+tc.dx*100, mean[i].Y+tc.dy*100
			if math.Abs(got[i].X-wx) > 1e-3 || math.Abs(got[i].Y-wy) > 1e-3 {
				t.Fatalf("%s: point %d = %v, want (%.3f, %.3f)", tc.name, i, got[i], wx, wy)
			}
		}
	}
	// Feature pixels outside the image read 0: with the box far off the
	// image both features are 0, so tree 0 goes right and tree 1 right.
	got := p.Predict(raster.NewGray(200, 200), Rect{X: 1000, Y: 1000, W: 101, H: 101})
	mean := p.MeanShape(Rect{X: 1000, Y: 1000, W: 101, H: 101})
	if math.Abs(got[0].X-(mean[0].X-1)) > 1e-3 || math.Abs(got[0].Y-(mean[0].Y-2)) > 1e-3 {
		t.Errorf("outside: %v, mean %v", got[0], mean[0])
	}
}

func TestParsePredictorErrors(t *testing.T) {
	good := tinyModel()
	// Every truncation fails cleanly.
	for n := 0; n < len(good); n++ {
		if _, err := ParsePredictor(good[:n]); err == nil {
			t.Fatalf("truncated to %d of %d bytes: no error", n, len(good))
		}
	}
	corrupt := func(f func(b []byte)) []byte {
		b := bytes.Clone(good)
		f(b)
		return b
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"garbage", []byte("this is not a dlib model file at all"), ""},
		{"version", corrupt(func(b []byte) { b[1] = 2 }), "version 2"},
		{"parts", corrupt(func(b []byte) { b[3] = 10 }), "68-point"},
	}
	for _, tc := range tests {
		_, err := ParsePredictor(tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want mention of %q", tc.name, err, tc.want)
		}
	}
	// A vector length of 2^56 must be refused before allocating.
	var w dlibWriter
	w.int(1)
	init := make([]float32, 2*NumLandmarks)
	w.column(init)
	w.WriteByte(8)
	w.Write([]byte{0, 0, 0, 0, 0, 0, 0, 1})
	if _, err := ParsePredictor(w.Bytes()); err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Errorf("huge cascade count: %v", err)
	}
}

func TestLoadPredictorErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadPredictor(dir + "/missing.dat"); err == nil || !strings.Contains(err.Error(), "apt-get install libdlib-data") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := ResolveModelPath(dir + "/missing.dat"); !errors.Is(err, ErrNoModel) {
		t.Errorf("ResolveModelPath: %v", err)
	}
	bad := dir + "/bad.dat"
	if err := os.WriteFile(bad, tinyModel()[:100], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPredictor(bad); err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated file: %v", err)
	}
	// $TELL_MODELS as a directory holding the model file.
	if err := os.WriteFile(dir+"/"+ModelFile, tinyModel(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TELL_MODELS", dir)
	if p, err := ResolveModelPath(""); err != nil || p != dir+"/"+ModelFile {
		t.Errorf("TELL_MODELS: %q, %v", p, err)
	}
}

// TestTruncatedRealModel cuts the Debian model inside its trees.
func TestTruncatedRealModel(t *testing.T) {
	path, err := ResolveModelPath("")
	if err != nil {
		if models.Required() {
			t.Fatal(err)
		}
		t.Skipf("skipping: %v", err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 3<<20)
	n, _ := f.Read(buf)
	if _, err := ParsePredictor(buf[:n]); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("first %d bytes: err = %v", n, err)
	}
}

func FuzzParsePredictor(f *testing.F) {
	f.Add(tinyModel())
	f.Add([]byte{1, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePredictor(data)
		if err != nil {
			return
		}
		// A model that parses must run without panicking.
		img := raster.NewGray(32, 32)
		p.Predict(img, Rect{X: 2, Y: 2, W: 20, H: 20})
	})
}

// TestStreamReader parses the tiny model through a small streaming window
// (as LoadPredictor does with 1 MiB) and gets the same model.
func TestStreamReader(t *testing.T) {
	data := tinyModel()
	want, err := ParsePredictor(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, win := range []int{24, 25, 31, 64, 1000} {
		r := newStreamReader(bytes.NewReader(data), len(data))
		r.win = make([]byte, win)
		got, err := parsePredictor(r)
		if err != nil {
			t.Fatalf("window %d: %v", win, err)
		}
		if !slicesEqual(got.initial, want.initial) || !slicesEqual(got.levels[0].leaves, want.levels[0].leaves) ||
			!slicesEqual(got.levels[0].deltas, want.levels[0].deltas) {
			t.Errorf("window %d: model differs", win)
		}
		// Truncated stream: a clean error.
		r = newStreamReader(bytes.NewReader(data[:len(data)-3]), len(data))
		r.win = make([]byte, win)
		if _, err := parsePredictor(r); err == nil {
			t.Errorf("window %d: truncated stream parsed", win)
		}
	}
}

func slicesEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestFloatColumnRuns: floatColumn (runs of floats decoded from 8-byte
// loads) gives float32's value for every float of a column — mantissas of
// 1 to 8 bytes, both signs, exponents of 1 and 2 bytes, infinities, NaN
// and exponents beyond the fast path between them — from a byte slice and
// streamed through windows that cut the floats anywhere.
func TestFloatColumnRuns(t *testing.T) {
	var w dlibWriter
	const n = 300
	w.int(-n)
	w.int(-1)
	var one dlibWriter // the same floats alone, for float32
	for i := range n {
		for _, x := range []*dlibWriter{&w, &one} {
			switch {
			case i%37 == 5:
				x.int(0)
				x.int(32000 + int64(i%3)) // +Inf, −Inf, NaN
			case i%41 == 7:
				x.int(int64(i) * 12345)
				x.int(-140) // a subnormal: Ldexp's path
			case i%5 == 0:
				x.int(int64(i-150) << uint(8*(i%8))) // 1 to 8 mantissa bytes
				x.int(int64(i%60 - 30))
			default:
				x.float(float32(math.Sin(float64(i))) * float32(i*i))
			}
		}
	}
	want := make([]float32, n)
	ref := dlibReader{buf: one.Bytes()}
	for i := range want {
		want[i] = ref.float32()
	}
	if ref.err != nil {
		t.Fatal(ref.err)
	}
	same := func(got []float32) bool {
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Logf("float %d: %v, want %v", i, got[i], want[i])
				return false
			}
		}
		return true
	}
	got := make([]float32, n)
	r := dlibReader{buf: w.Bytes()}
	if !r.floatColumn("test", n, got) || !same(got) {
		t.Fatalf("byte slice: err %v", r.err)
	}
	for _, win := range []int{20, 21, 23, 29, 64, 1000} {
		r := newStreamReader(bytes.NewReader(w.Bytes()), w.Len())
		r.win = make([]byte, win)
		clear(got)
		if !r.floatColumn("test", n, got) || !same(got) {
			t.Fatalf("window %d: err %v", win, r.err)
		}
	}
}
