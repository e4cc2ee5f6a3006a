package tfjs

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Tensor is a dense row-major tensor: DType "float32" with values in F32,
// or "int32" (also bool, as 0/1) with values in I32. A scalar has an empty
// Shape.
type Tensor struct {
	Name  string
	Shape []int
	DType string
	F32   []float32
	I32   []int32
}

// Len is the number of elements.
func (t *Tensor) Len() int {
	if t.DType == "int32" {
		return len(t.I32)
	}
	return len(t.F32)
}

// Quantization is how TensorFlow.js stored a weight in fewer bytes:
// uint8 or uint16 with Scale and Min (value = q·Scale + Min), or float16.
type Quantization struct {
	DType string   `json:"dtype"`
	Scale *float64 `json:"scale,omitempty"`
	Min   *float64 `json:"min,omitempty"`
}

// WeightSpec describes one weight of a manifest group.
type WeightSpec struct {
	Name         string        `json:"name"`
	Shape        []int         `json:"shape"`
	DType        string        `json:"dtype"`
	Quantization *Quantization `json:"quantization,omitempty"`
}

// WeightGroup is one entry of a weights manifest: the weights, stored one
// after the other in the concatenation of the shard files Paths.
type WeightGroup struct {
	Paths   []string     `json:"paths"`
	Weights []WeightSpec `json:"weights"`
}

// Limits on what a reader accepts before it allocates: a manifest or
// model.json larger than maxJSON or a shard larger than maxShard is refused.
const (
	maxJSON  = 64 << 20
	maxShard = 1 << 30
	maxRank  = 8
	maxElems = 1 << 30
)

// ReadWeightsManifest reads a weights manifest (face-api's
// *-weights_manifest.json) and the shards it names, which are looked up
// beside it, and decodes every weight. Errors name the file and the tensor.
func ReadWeightsManifest(file string) (map[string]*Tensor, error) {
	data, err := readLimited(file, maxJSON)
	if err != nil {
		return nil, fmt.Errorf("tfjs: %w", err)
	}
	var groups []WeightGroup
	if err := json.Unmarshal(data, &groups); err != nil {
		return nil, fmt.Errorf("tfjs: %s: not a weights manifest (a JSON list of {paths, weights}): %w", file, err)
	}
	return DecodeWeights(filepath.Base(file), groups, dirShards(filepath.Dir(file)))
}

// ShardReader returns the bytes of a shard named in a manifest.
type ShardReader func(name string) ([]byte, error)

// dirShards reads shards from dir. Names must stay inside dir.
func dirShards(dir string) ShardReader {
	return func(name string) ([]byte, error) {
		if !safeShardName(name) {
			return nil, fmt.Errorf("shard path %q leaves the model folder", name)
		}
		return readLimited(filepath.Join(dir, filepath.FromSlash(name)), maxShard)
	}
}

// safeShardName accepts relative slash paths that stay inside the folder.
func safeShardName(name string) bool {
	if name == "" || strings.ContainsRune(name, 0) || strings.Contains(name, `\`) || path.IsAbs(name) {
		return false
	}
	c := path.Clean(name)
	return c != ".." && !strings.HasPrefix(c, "../")
}

// readLimited reads a file that must not be larger than limit bytes.
func readLimited(file string, limit int64) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s: is a folder", file)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d this reader accepts", file, st.Size(), limit)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: more than %d bytes", file, limit)
	}
	return data, nil
}

// DecodeWeights decodes the weights of groups from the shards that read
// returns, as tfjs-core's io.decodeWeights does. file names the manifest in
// errors. Each group's shards must hold exactly the bytes its weights need:
// fewer is a truncated file, more a manifest that does not describe it.
func DecodeWeights(file string, groups []WeightGroup, read ShardReader) (map[string]*Tensor, error) {
	out := map[string]*Tensor{}
	for gi, g := range groups {
		if len(g.Paths) == 0 && len(g.Weights) > 0 {
			return nil, fmt.Errorf("tfjs: %s: group %d has weights but no shard paths", file, gi)
		}
		var buf []byte
		ends := make([]int, len(g.Paths)) // end offset of each shard in buf
		for i, p := range g.Paths {
			b, err := read(p)
			if err != nil {
				return nil, fmt.Errorf("tfjs: %s: shard %s: %w", file, p, err)
			}
			if len(buf)+len(b) > maxShard {
				return nil, fmt.Errorf("tfjs: %s: shards of group %d exceed %d bytes", file, gi, maxShard)
			}
			buf = append(buf, b...)
			ends[i] = len(buf)
		}
		shardAt := func(off int) string {
			for i, e := range ends {
				if off < e {
					return g.Paths[i]
				}
			}
			if len(g.Paths) > 0 {
				return g.Paths[len(g.Paths)-1]
			}
			return ""
		}
		off := 0
		for _, w := range g.Weights {
			if _, dup := out[w.Name]; dup {
				return nil, fmt.Errorf("tfjs: %s: tensor %q is listed twice", file, w.Name)
			}
			size, err := elems(w.Shape)
			if err != nil {
				return nil, fmt.Errorf("tfjs: %s: tensor %q: %w", file, w.Name, err)
			}
			bpv, err := bytesPerValue(w)
			if err != nil {
				return nil, fmt.Errorf("tfjs: %s: tensor %q: %w", file, w.Name, err)
			}
			n := size * bpv
			if off+n > len(buf) {
				return nil, fmt.Errorf("tfjs: %s: tensor %q needs bytes %d..%d of shard data but %s ends at %d (truncated file?)",
					file, w.Name, off, off+n, strings.Join(g.Paths, "+"), len(buf))
			}
			t, err := decodeWeight(w, size, buf[off:off+n])
			if err != nil {
				return nil, fmt.Errorf("tfjs: %s: tensor %q in %s: %w", file, w.Name, shardAt(off), err)
			}
			out[w.Name] = t
			off += n
		}
		if off != len(buf) {
			return nil, fmt.Errorf("tfjs: %s: group %d: shards %s hold %d bytes but the weights use %d (file does not match its manifest)",
				file, gi, strings.Join(g.Paths, "+"), len(buf), off)
		}
	}
	return out, nil
}

// elems is the element count of shape, refusing negative dimensions and
// sizes beyond maxElems.
func elems(shape []int) (int, error) {
	if len(shape) > maxRank {
		return 0, fmt.Errorf("rank %d exceeds %d", len(shape), maxRank)
	}
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		if d > 0 && n > maxElems/d {
			return 0, fmt.Errorf("shape %v has more than %d elements", shape, maxElems)
		}
		n *= d
	}
	return n, nil
}

// bytesPerValue is the stored size of one value of w.
func bytesPerValue(w WeightSpec) (int, error) {
	if q := w.Quantization; q != nil {
		switch q.DType {
		case "uint8":
			return 1, nil
		case "uint16", "float16":
			return 2, nil
		}
		return 0, fmt.Errorf("unknown quantization dtype %q (want uint8, uint16 or float16)", q.DType)
	}
	switch w.DType {
	case "float32", "int32":
		return 4, nil
	case "bool":
		return 1, nil
	}
	return 0, fmt.Errorf("unsupported dtype %q (want float32, int32 or bool)", w.DType)
}

// decodeWeight decodes size values of w from b (exactly the bytes needed).
func decodeWeight(w WeightSpec, size int, b []byte) (*Tensor, error) {
	t := &Tensor{Name: w.Name, Shape: append([]int{}, w.Shape...)}
	if q := w.Quantization; q != nil {
		if q.DType != "float16" && (q.Scale == nil || q.Min == nil) {
			return nil, fmt.Errorf("%s quantization without scale and min", q.DType)
		}
		if q.DType != "float16" && (math.IsNaN(*q.Scale) || math.IsInf(*q.Scale, 0) || math.IsNaN(*q.Min) || math.IsInf(*q.Min, 0)) {
			return nil, fmt.Errorf("%s quantization with scale %v, min %v", q.DType, *q.Scale, *q.Min)
		}
		at := func(i int) uint16 {
			if q.DType == "uint8" {
				return uint16(b[i])
			}
			return binary.LittleEndian.Uint16(b[2*i:])
		}
		switch w.DType {
		case "float32":
			t.DType, t.F32 = "float32", make([]float32, size)
			if q.DType == "float16" {
				for i := range t.F32 {
					t.F32[i] = Float16(at(i))
				}
				return t, nil
			}
			for i := range t.F32 {
				// float64 arithmetic rounded once to float32, as JavaScript
				// does before storing into a Float32Array; the conversion of
				// the product keeps the compiler from fusing a multiply-add.
				p := float64(at(i)) * *q.Scale
				t.F32[i] = float32(float64(p) + *q.Min)
			}
		case "int32":
			if q.DType == "float16" {
				return nil, fmt.Errorf("float16 quantization of an int32 weight")
			}
			t.DType, t.I32 = "int32", make([]int32, size)
			for i := range t.I32 {
				p := float64(at(i)) * *q.Scale
				v := math.Floor(float64(p) + *q.Min + 0.5) // Math.round
				if v > math.MaxInt32 || v < math.MinInt32 {
					return nil, fmt.Errorf("dequantised value %v overflows int32", v)
				}
				t.I32[i] = int32(v)
			}
		default:
			return nil, fmt.Errorf("quantized weight of dtype %q (want float32 or int32)", w.DType)
		}
		return t, nil
	}
	switch w.DType {
	case "float32":
		t.DType, t.F32 = "float32", make([]float32, size)
		for i := range t.F32 {
			t.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case "int32":
		t.DType, t.I32 = "int32", make([]int32, size)
		for i := range t.I32 {
			t.I32[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case "bool":
		t.DType, t.I32 = "int32", make([]int32, size)
		for i := range t.I32 {
			if b[i] != 0 {
				t.I32[i] = 1
			}
		}
	}
	return t, nil
}

// Float16 converts an IEEE 754 half-precision value to float32 exactly
// (subnormals, infinities and NaN included).
func Float16(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	man := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+112)<<23 | man<<13)
	case man == 0: // ±0
		return math.Float32frombits(sign)
	}
	// Subnormal half: normalise into a float32 normal.
	e := uint32(113)
	for man&0x400 == 0 {
		man <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (man&0x3ff)<<13)
}
