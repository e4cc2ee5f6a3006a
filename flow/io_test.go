package flow

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tell-project/tell/raster"
)

func TestStrain(t *testing.T) {
	tests := []struct {
		name       string
		a, b, c, d float64 // u = a x + b y + 3, v = c x + d y - 2
		want       float64
	}{
		{"translation", 0, 0, 0, 0, 0},
		{"rotation", 0, -0.1, 0.1, 0, 0},
		{"stretch x", 0.1, 0, 0, 0, 0.1},
		{"shear", 0, 0.2, 0, 0, math.Sqrt(0.02)},
		{"general", 0.05, 0.1, -0.03, -0.02, math.Sqrt(0.05*0.05 + 0.02*0.02 + 0.5*0.07*0.07)},
	}
	for _, tc := range tests {
		f := NewField(9, 7)
		for y := 0; y < f.H; y++ {
			for x := 0; x < f.W; x++ {
				f.U[y*f.W+x] = float32(tc.a*float64(x) + tc.b*float64(y) + 3)
				f.V[y*f.W+x] = float32(tc.c*float64(x) + tc.d*float64(y) - 2)
			}
		}
		for i, s := range Strain(f) {
			if math.Abs(float64(s)-tc.want) > 1e-5 {
				t.Fatalf("%s: strain %v at %d, want %v", tc.name, s, i, tc.want)
			}
		}
	}
}

func TestFloRoundTrip(t *testing.T) {
	f := NewField(3, 2)
	for i := range f.U {
		f.U[i], f.V[i] = float32(i)-2.5, float32(i*i)*0.125
	}
	var buf bytes.Buffer
	if err := WriteFlo(&buf, f); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	if string(raw[:4]) != "PIEH" || len(raw) != 12+3*2*8 {
		t.Fatalf("header %q, length %d", raw[:4], len(raw))
	}
	// Known layout: u and v interleaved, little-endian.
	if u1 := math.Float32frombits(binary.LittleEndian.Uint32(raw[12+8:])); u1 != f.U[1] {
		t.Errorf("u of pixel 1 = %v, want %v", u1, f.U[1])
	}
	g, err := ReadFlo(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	for i := range f.U {
		if g.U[i] != f.U[i] || g.V[i] != f.V[i] {
			t.Fatalf("pixel %d: (%v,%v), want (%v,%v)", i, g.U[i], g.V[i], f.U[i], f.V[i])
		}
	}
	path := filepath.Join(t.TempDir(), "x.flo")
	if err := SaveFlo(path, f); err != nil {
		t.Fatal(err)
	}
	if g, err := LoadFlo(path); err != nil || g.W != 3 || g.H != 2 {
		t.Fatalf("LoadFlo: %v", err)
	}
}

func TestFloBad(t *testing.T) {
	hdr := func(magic float32, w, h int32) []byte {
		b := make([]byte, 12)
		binary.LittleEndian.PutUint32(b, math.Float32bits(magic))
		binary.LittleEndian.PutUint32(b[4:], uint32(w))
		binary.LittleEndian.PutUint32(b[8:], uint32(h))
		return b
	}
	tests := map[string][]byte{
		"empty":     nil,
		"magic":     hdr(1, 1, 1),
		"zero size": hdr(floMagic, 0, 5),
		"negative":  hdr(floMagic, -1, 5),
		"huge":      hdr(floMagic, 1<<20, 1<<20),
		"truncated": append(hdr(floMagic, 2, 2), make([]byte, 20)...),
	}
	for name, data := range tests {
		if _, err := ReadFlo(bytes.NewReader(data)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := LoadFlo(filepath.Join(t.TempDir(), "missing.flo")); err == nil {
		t.Error("missing file: no error")
	}
}

func FuzzReadFlo(f *testing.F) {
	var buf bytes.Buffer
	g := NewField(2, 3)
	g.U[1] = 1.5
	WriteFlo(&buf, g)
	f.Add(buf.Bytes())
	f.Add([]byte("PIEH"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fl, err := ReadFlo(bytes.NewReader(data))
		if err != nil {
			return
		}
		// Whatever parses must write back to the same bytes.
		var out bytes.Buffer
		if err := WriteFlo(&out, fl); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), data[:out.Len()]) {
			t.Fatal("round trip changed the bytes")
		}
	})
}

func TestFlowImageFixedScale(t *testing.T) {
	f := NewField(4, 3)
	for i := range f.U {
		f.U[i] = float32(i%4) - 1.5 // -1.5 .. 1.5
		f.V[i] = float32(i/4) - 1   // -1 .. 1
	}
	strain := make([]float32, 12)
	for i := range strain {
		strain[i] = float32(i) / 8
	}
	img, err := EncodeImage(f, strain, 2)
	if err != nil {
		t.Fatal(err)
	}
	// u = -1.5 at x=0 with scale 2: 127.5 - 127.5*0.75 = 31.875 → 32.
	if r := img.Pix[0]; r != 32 {
		t.Errorf("R at (0,0) = %d, want 32", r)
	}
	g, s, err := DecodeImage(img, 2)
	if err != nil {
		t.Fatal(err)
	}
	const q = 2.0 / 127.5 // one grey level in pixels
	for i := range f.U {
		if math.Abs(float64(g.U[i]-f.U[i])) > q || math.Abs(float64(g.V[i]-f.V[i])) > q || math.Abs(float64(s[i]-strain[i])) > q {
			t.Fatalf("pixel %d: decoded (%v,%v,%v), want (%v,%v,%v)", i, g.U[i], g.V[i], s[i], f.U[i], f.V[i], strain[i])
		}
	}
}

func TestFlowImageMinMax(t *testing.T) {
	f := NewField(3, 1)
	copy(f.U, []float32{-4, 0, 4})
	copy(f.V, []float32{1, 2, 3})
	img, err := EncodeImage(f, []float32{0, 0, 0}, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := [][3]uint8{{0, 0, 0}, {128, 128, 0}, {255, 255, 0}}
	for x, w := range want {
		got := [3]uint8{img.Pix[4*x], img.Pix[4*x+1], img.Pix[4*x+2]}
		if got != w {
			t.Errorf("pixel %d = %v, want %v", x, got, w)
		}
	}
	g, _, _ := DecodeImage(img, 0)
	if g.U[0] != -1 || g.U[2] != 1 {
		t.Errorf("normalised u = %v, want -1..1", g.U)
	}
	if _, err := EncodeImage(f, nil, -1); err == nil {
		t.Error("negative scale accepted")
	}
	if _, err := EncodeImage(f, []float32{1}, 0); err == nil {
		t.Error("short strain accepted")
	}
}

func TestColorWheel(t *testing.T) {
	f := NewField(4, 1)
	copy(f.U, []float32{0, 1, 0, -1})
	copy(f.V, []float32{0, 0, 1, 0})
	img, err := ColorWheel(f, 1)
	if err != nil {
		t.Fatal(err)
	}
	px := func(x int) [3]uint8 { return [3]uint8{img.Pix[4*x], img.Pix[4*x+1], img.Pix[4*x+2]} }
	if px(0) != [3]uint8{255, 255, 255} {
		t.Errorf("zero motion = %v, want white", px(0))
	}
	// Middlebury convention: rightward motion is red-ish, leftward cyan-ish.
	if r := px(1); !(r[0] > 200 && r[2] < 60) {
		t.Errorf("rightward = %v, want red", r)
	}
	if l := px(3); !(l[0] < 60 && l[1] > 150 && l[2] > 150) {
		t.Errorf("leftward = %v, want cyan", l)
	}
}

func TestEPEErrors(t *testing.T) {
	if _, err := EPE(NewField(4, 4), NewField(4, 5), 0); err == nil {
		t.Error("size mismatch accepted")
	}
	if _, err := EPE(NewField(4, 4), NewField(4, 4), 2); err == nil {
		t.Error("border leaving nothing accepted")
	}
	f := NewField(4, 4)
	f.U[5] = 3
	f.V[5] = 4
	if e, _ := EPE(f, NewField(4, 4), 1); e != 5.0/4 {
		t.Errorf("EPE = %v, want 1.25", e)
	}
}

// Example computes the flow between two frames of a face and its strain.
func Example() {
	a := raster.NewGray(64, 64)
	b := raster.NewGray(64, 64)
	for y := 0; y < 64; y++ {
		for x := 0; x < 64; x++ {
			// A smooth blob that moves one pixel to the right.
			blob := func(cx float64) float32 {
				d := (float64(x)-cx)*(float64(x)-cx) + (float64(y)-32)*(float64(y)-32)
				return float32(200 * math.Exp(-d/60))
			}
			a.Pix[y*64+x], b.Pix[y*64+x] = blob(31), blob(32)
		}
	}
	est, err := NewTVL1(Default())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer est.Close()
	f, err := est.Compute(context.Background(), a, b)
	if err != nil {
		fmt.Println(err)
		return
	}
	i := 32*64 + 28 // on the blob's flank
	fmt.Printf("u=%.1f v=%.1f strain=%.1f\n", f.U[i], f.V[i], Strain(f)[i])
	// Output: u=1.0 v=0.0 strain=0.0
}

func TestPreset(t *testing.T) {
	if p, err := Preset("fast"); err != nil || p != Fast() {
		t.Errorf("fast: %+v, %v", p, err)
	}
	if p, err := Preset("default"); err != nil || p != Default() {
		t.Errorf("default: %+v, %v", p, err)
	}
	if _, err := Preset("slow"); err == nil || !strings.Contains(err.Error(), `--preset "slow"`) {
		t.Errorf("slow: %v", err)
	}
}
