package tfjs

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDecodeWeightsAgainstTFJS decodes bytes under every stored dtype
// (float32, int32, bool, uint8/uint16 quantised, float16 incl. subnormals,
// infinities and NaN) and compares bit for bit with tfjs-core's
// io.decodeWeights (testdata/golden.js).
func TestDecodeWeightsAgainstTFJS(t *testing.T) {
	b, err := os.ReadFile("testdata/weights_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Specs  []WeightSpec       `json:"specs"`
		Bytes  string             `json:"bytes"`
		Values map[string][]int64 `json:"values"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	data, err := base64.StdEncoding.DecodeString(g.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := DecodeWeights("golden.json", []WeightGroup{{Paths: []string{"golden.bin"}, Weights: g.Specs}},
		func(string) ([]byte, error) { return data, nil })
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range g.Specs {
		w := ws[s.Name]
		want := g.Values[s.Name]
		if w == nil || w.Len() != len(want) {
			t.Fatalf("%s: decoded %v, want %d values", s.Name, w, len(want))
		}
		for i, v := range want {
			var got int64
			if w.DType == "float32" {
				got = int64(math.Float32bits(w.F32[i]))
			} else {
				got = int64(w.I32[i])
			}
			if s.DType == "bool" && v != 0 {
				v = 1 // TF.js keeps the stored byte; any non-zero byte is true
			}
			if got != v {
				t.Errorf("%s[%d]: %#x, TF.js %#x", s.Name, i, got, v)
			}
		}
	}
}

// TestFloat16Exhaustive checks every half-precision bit pattern against the
// definition (sign, 5-bit exponent biased by 15, 10-bit fraction).
func TestFloat16Exhaustive(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		s, e, m := h>>15, (h>>10)&31, h&1023
		var want float64
		switch {
		case e == 31 && m == 0:
			want = math.Inf(1)
		case e == 31:
			want = math.NaN()
		case e == 0:
			want = math.Ldexp(float64(m), -24)
		default:
			want = math.Ldexp(1+float64(m)/1024, e-15)
		}
		if s == 1 {
			want = -want
		}
		got := float64(Float16(uint16(h)))
		if math.IsNaN(want) != math.IsNaN(got) || !math.IsNaN(want) && (got != want || math.Signbit(got) != math.Signbit(want)) {
			t.Fatalf("Float16(%#04x) = %v, want %v", h, got, want)
		}
	}
}

func writeManifest(t *testing.T, dir string, groups []WeightGroup, shards map[string][]byte) string {
	t.Helper()
	b, err := json.Marshal(groups)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "m-weights_manifest.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	for n, d := range shards {
		if err := os.WriteFile(filepath.Join(dir, n), d, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func f64(v float64) *float64 { return &v }

// TestWeightErrors: every corrupt or inconsistent file is an error that
// names the file and, where there is one, the tensor.
func TestWeightErrors(t *testing.T) {
	q := &Quantization{DType: "uint8", Scale: f64(0.5), Min: f64(-1)}
	two := []WeightSpec{{Name: "a/w", Shape: []int{2, 3}, DType: "float32", Quantization: q}, {Name: "a/b", Shape: []int{3}, DType: "float32"}}
	full := make([]byte, 6+12)
	cases := []struct {
		name   string
		groups []WeightGroup
		shards map[string][]byte
		want   []string
	}{
		{"truncated", []WeightGroup{{Paths: []string{"s.bin"}, Weights: two}}, map[string][]byte{"s.bin": full[:10]}, []string{"m-weights_manifest.json", `"a/b"`, "truncated"}},
		{"extra bytes", []WeightGroup{{Paths: []string{"s.bin"}, Weights: two}}, map[string][]byte{"s.bin": append(full, 0)}, []string{"m-weights_manifest.json", "s.bin", "19 bytes"}},
		{"missing shard", []WeightGroup{{Paths: []string{"nope.bin"}, Weights: two}}, nil, []string{"m-weights_manifest.json", "nope.bin"}},
		{"escaping shard", []WeightGroup{{Paths: []string{"../x.bin"}, Weights: two}}, nil, []string{"../x.bin", "leaves"}},
		{"unknown dtype", []WeightGroup{{Paths: []string{"s.bin"}, Weights: []WeightSpec{{Name: "s", Shape: []int{1}, DType: "string"}}}}, map[string][]byte{"s.bin": {0, 0, 0, 0}}, []string{`"s"`, "string"}},
		{"unknown quantization", []WeightGroup{{Paths: []string{"s.bin"}, Weights: []WeightSpec{{Name: "q", Shape: []int{1}, DType: "float32", Quantization: &Quantization{DType: "int4"}}}}}, map[string][]byte{"s.bin": {0}}, []string{`"q"`, "int4"}},
		{"no scale", []WeightGroup{{Paths: []string{"s.bin"}, Weights: []WeightSpec{{Name: "q", Shape: []int{1}, DType: "float32", Quantization: &Quantization{DType: "uint8"}}}}}, map[string][]byte{"s.bin": {0}}, []string{`"q"`, "scale"}},
		{"negative dim", []WeightGroup{{Paths: []string{"s.bin"}, Weights: []WeightSpec{{Name: "n", Shape: []int{-1, 2}, DType: "float32"}}}}, map[string][]byte{"s.bin": {}}, []string{`"n"`, "negative"}},
		{"huge", []WeightGroup{{Paths: []string{"s.bin"}, Weights: []WeightSpec{{Name: "h", Shape: []int{1 << 20, 1 << 20}, DType: "float32"}}}}, map[string][]byte{"s.bin": {}}, []string{`"h"`, "elements"}},
		{"duplicate", []WeightGroup{{Paths: []string{"s.bin"}, Weights: []WeightSpec{two[1], two[1]}}}, map[string][]byte{"s.bin": make([]byte, 24)}, []string{`"a/b"`, "twice"}},
		{"float16 int32", []WeightGroup{{Paths: []string{"s.bin"}, Weights: []WeightSpec{{Name: "i", Shape: []int{1}, DType: "int32", Quantization: &Quantization{DType: "float16"}}}}}, map[string][]byte{"s.bin": {0, 0}}, []string{`"i"`, "float16"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeManifest(t, t.TempDir(), c.groups, c.shards)
			_, err := ReadWeightsManifest(p)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
		})
	}
	// Not JSON at all.
	p := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(p, []byte("{"), 0o644)
	if _, err := ReadWeightsManifest(p); err == nil || !strings.Contains(err.Error(), "bad.json") {
		t.Errorf("bad JSON: %v", err)
	}
	if _, err := ReadWeightsManifest(filepath.Join(t.TempDir(), "absent.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent manifest: %v", err)
	}
}

// TestWeightsSpanShards: a group's weights run across shard boundaries.
func TestWeightsSpanShards(t *testing.T) {
	dir := t.TempDir()
	vals := []float32{1.5, -2, 3.25, 1e-3, 7}
	var all []byte
	for _, v := range vals {
		u := math.Float32bits(v)
		all = append(all, byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
	}
	p := writeManifest(t, dir, []WeightGroup{{Paths: []string{"a.bin", "b.bin"}, Weights: []WeightSpec{
		{Name: "x", Shape: []int{2}, DType: "float32"}, {Name: "y", Shape: []int{3}, DType: "float32"}}}},
		map[string][]byte{"a.bin": all[:7], "b.bin": all[7:]})
	w, err := ReadWeightsManifest(p)
	if err != nil {
		t.Fatal(err)
	}
	got := append(append([]float32{}, w["x"].F32...), w["y"].F32...)
	for i := range vals {
		if got[i] != vals[i] {
			t.Fatalf("values %v, want %v", got, vals)
		}
	}
}

// FuzzDecodeWeights: arbitrary manifests and shard bytes give an error or
// tensors of the declared sizes, never a panic.
func FuzzDecodeWeights(f *testing.F) {
	seed, _ := json.Marshal([]WeightGroup{{Paths: []string{"s.bin"}, Weights: []WeightSpec{
		{Name: "u8", Shape: []int{2, 2}, DType: "float32", Quantization: &Quantization{DType: "uint8", Scale: f64(0.1), Min: f64(-1)}},
		{Name: "f16", Shape: []int{3}, DType: "float32", Quantization: &Quantization{DType: "float16"}},
		{Name: "u16", Shape: []int{1}, DType: "int32", Quantization: &Quantization{DType: "uint16", Scale: f64(2), Min: f64(0)}},
		{Name: "f", Shape: []int{2}, DType: "float32"}, {Name: "b", Shape: []int{1}, DType: "bool"}}}})
	f.Add(seed, make([]byte, 4+6+2+8+1))
	f.Add([]byte(`[{"paths":["s.bin"],"weights":[{"name":"x","shape":[1e9,1e9],"dtype":"float32"}]}]`), []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, manifest, shard []byte) {
		var groups []WeightGroup
		if json.Unmarshal(manifest, &groups) != nil {
			return
		}
		ws, err := DecodeWeights("fuzz.json", groups, func(string) ([]byte, error) { return shard, nil })
		if err != nil {
			return
		}
		for name, w := range ws {
			n, err := elems(w.Shape)
			if err != nil || n != w.Len() {
				t.Fatalf("%s: shape %v but %d values", name, w.Shape, w.Len())
			}
		}
	})
}
