package nn

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/tell-project/tell/atomicfile"
)

// Safetensors layout (https://github.com/huggingface/safetensors): an
// 8-byte little-endian header length N, N bytes of JSON mapping each tensor
// name to {"dtype","shape","data_offsets":[begin,end]} (offsets relative to
// the data section) plus an optional "__metadata__" string map, then the
// data. nn writes F32 only, tensors sorted by name and packed back to back,
// the header padded with spaces to a multiple of 8 bytes.

// maxHeader bounds the JSON header so a corrupt length cannot make us
// allocate gigabytes.
const maxHeader = 100 << 20

// crcPrefix marks the metadata entries holding each tensor's CRC-32 (IEEE)
// of its little-endian bytes, so silent corruption is caught and named.
const crcPrefix = "nn.crc32."

type stEntry struct {
	DType   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// EncodeSafetensors serialises named tensors and metadata.
func EncodeSafetensors(tensors map[string]*Tensor, meta map[string]string) ([]byte, error) {
	names := make([]string, 0, len(tensors))
	for n := range tensors {
		if n == "" || n == "__metadata__" {
			return nil, fmt.Errorf("nn: safetensors: invalid tensor name %q", n)
		}
		names = append(names, n)
	}
	sort.Strings(names)
	allMeta := map[string]string{}
	for k, v := range meta {
		allMeta[k] = v
	}
	header := map[string]any{}
	var off int64
	var data bytes.Buffer
	buf := make([]byte, 0, 4096)
	for _, n := range names {
		t := tensors[n]
		if numel(t.Shape) != len(t.Data) {
			return nil, fmt.Errorf("nn: safetensors: tensor %q has %d values for shape %v", n, len(t.Data), t.Shape)
		}
		buf = buf[:0]
		for _, v := range t.Data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
		data.Write(buf)
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[n] = stEntry{DType: "F32", Shape: shape, Offsets: [2]int64{off, off + int64(len(buf))}}
		allMeta[crcPrefix+n] = strconv.FormatUint(uint64(crc32.ChecksumIEEE(buf)), 16)
		off += int64(len(buf))
	}
	header["__metadata__"] = allMeta
	h, err := json.Marshal(header)
	if err != nil {
		return nil, fmt.Errorf("nn: safetensors: %w", err)
	}
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	out := make([]byte, 8, 8+len(h)+data.Len())
	binary.LittleEndian.PutUint64(out, uint64(len(h)))
	out = append(out, h...)
	return append(out, data.Bytes()...), nil
}

// DecodeSafetensors parses a safetensors file. Only F32 tensors are
// accepted. Errors name the offending tensor.
func DecodeSafetensors(b []byte) (map[string]*Tensor, map[string]string, error) {
	if len(b) < 8 {
		return nil, nil, errors.New("nn: safetensors: file shorter than its 8-byte header length")
	}
	n := binary.LittleEndian.Uint64(b)
	if n > maxHeader || n > uint64(len(b)-8) {
		return nil, nil, fmt.Errorf("nn: safetensors: header length %d exceeds file size %d", n, len(b))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &raw); err != nil {
		return nil, nil, fmt.Errorf("nn: safetensors: header: %w", err)
	}
	data := b[8+n:]
	meta := map[string]string{}
	if m, ok := raw["__metadata__"]; ok {
		if err := json.Unmarshal(m, &meta); err != nil {
			return nil, nil, fmt.Errorf("nn: safetensors: __metadata__: %w", err)
		}
		delete(raw, "__metadata__")
	}
	out := make(map[string]*Tensor, len(raw))
	for name, r := range raw {
		var e stEntry
		if err := json.Unmarshal(r, &e); err != nil {
			return nil, nil, fmt.Errorf("nn: safetensors: tensor %q: %w", name, err)
		}
		if e.DType != "F32" {
			return nil, nil, fmt.Errorf("nn: safetensors: tensor %q has dtype %q, only F32 is supported", name, e.DType)
		}
		count := int64(1)
		for _, s := range e.Shape {
			if s < 0 || s > math.MaxInt32 || count*int64(s) > int64(len(data)) && s != 0 {
				return nil, nil, fmt.Errorf("nn: safetensors: tensor %q has invalid shape %v", name, e.Shape)
			}
			count *= int64(s)
		}
		lo, hi := e.Offsets[0], e.Offsets[1]
		if lo < 0 || hi < lo || hi > int64(len(data)) {
			return nil, nil, fmt.Errorf("nn: safetensors: tensor %q: data offsets [%d, %d] outside the %d data bytes (truncated?)", name, lo, hi, len(data))
		}
		if hi-lo != 4*count {
			return nil, nil, fmt.Errorf("nn: safetensors: tensor %q: %d data bytes for shape %v (want %d)", name, hi-lo, e.Shape, 4*count)
		}
		seg := data[lo:hi]
		if want, ok := meta[crcPrefix+name]; ok {
			if got := strconv.FormatUint(uint64(crc32.ChecksumIEEE(seg)), 16); got != want {
				return nil, nil, fmt.Errorf("nn: safetensors: tensor %q is corrupt: CRC-32 %s, recorded %s", name, got, want)
			}
		}
		t := &Tensor{Shape: append([]int{}, e.Shape...), Data: make([]float32, count)}
		for i := range t.Data {
			t.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(seg[4*i:]))
		}
		out[name] = t
	}
	for k := range meta {
		if strings.HasPrefix(k, crcPrefix) {
			delete(meta, k)
		}
	}
	return out, meta, nil
}

// Checkpoint tensor names: each parameter under its Name; with an optimiser,
// its first and second moments under "optim.m.NAME" and "optim.v.NAME" and
// its step count and hyper-parameters in the metadata ("optim.step",
// "optim.lr", ...). Metadata values given by the caller are kept as they are.
const (
	optimM = "optim.m."
	optimV = "optim.v."
)

// SaveCheckpoint writes params (and opt's state when opt is non-nil) to
// path as safetensors, atomically.
func SaveCheckpoint(path string, params []*Param, opt *AdamW, meta map[string]string) error {
	ts := make(map[string]*Tensor, len(params))
	for _, p := range params {
		if _, dup := ts[p.Name]; dup {
			return fmt.Errorf("nn: checkpoint %s: duplicate parameter name %q", path, p.Name)
		}
		ts[p.Name] = p.Tensor()
	}
	all := map[string]string{"format": "pt"}
	for k, v := range meta {
		all[k] = v
	}
	if opt != nil {
		for i, p := range opt.params {
			ts[optimM+p.Name] = &Tensor{Shape: p.Shape, Data: opt.m[i]}
			ts[optimV+p.Name] = &Tensor{Shape: p.Shape, Data: opt.v[i]}
		}
		all["optim.step"] = strconv.Itoa(opt.Step)
		all["optim.lr"] = strconv.FormatFloat(float64(opt.LR), 'g', -1, 32)
		all["optim.beta1"] = strconv.FormatFloat(float64(opt.Beta1), 'g', -1, 32)
		all["optim.beta2"] = strconv.FormatFloat(float64(opt.Beta2), 'g', -1, 32)
		all["optim.eps"] = strconv.FormatFloat(float64(opt.Eps), 'g', -1, 32)
		all["optim.weight_decay"] = strconv.FormatFloat(float64(opt.WeightDecay), 'g', -1, 32)
	}
	b, err := EncodeSafetensors(ts, all)
	if err != nil {
		return fmt.Errorf("nn: checkpoint %s: %w", path, err)
	}
	// atomicfile: a crash never leaves a half-written checkpoint, and the
	// file is 0644 like every other output (nn imports only this leaf).
	if err := atomicfile.WriteFile(path, b); err != nil {
		return fmt.Errorf("nn: checkpoint: %w", err)
	}
	return nil
}

// LoadCheckpoint reads path into params (and opt's state when opt is
// non-nil) and returns the metadata. Every parameter must be present with
// its shape; tensors the model does not have are an error too, so a
// checkpoint of another architecture is refused with the tensor named.
func LoadCheckpoint(path string, params []*Param, opt *AdamW) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("nn: checkpoint: %w", err)
	}
	ts, meta, err := DecodeSafetensors(b)
	if err != nil {
		return nil, fmt.Errorf("nn: checkpoint %s: %w", path, err)
	}
	used := map[string]bool{}
	take := func(name string, shape []int, dst []float32) error {
		t, ok := ts[name]
		if !ok {
			return fmt.Errorf("nn: checkpoint %s: tensor %q missing", path, name)
		}
		if !slices.Equal(t.Shape, shape) {
			return fmt.Errorf("nn: checkpoint %s: tensor %q has shape %v, the model wants %v", path, name, t.Shape, shape)
		}
		used[name] = true
		copy(dst, t.Data)
		return nil
	}
	for _, p := range params {
		if err := take(p.Name, p.Shape, p.Data); err != nil {
			return nil, err
		}
	}
	if opt != nil {
		for i, p := range opt.params {
			if err := take(optimM+p.Name, p.Shape, opt.m[i]); err != nil {
				return nil, err
			}
			if err := take(optimV+p.Name, p.Shape, opt.v[i]); err != nil {
				return nil, err
			}
		}
		step, err := strconv.Atoi(meta["optim.step"])
		if err != nil {
			return nil, fmt.Errorf("nn: checkpoint %s: metadata optim.step %q: %w", path, meta["optim.step"], err)
		}
		opt.Step = step
		for key, dst := range map[string]*float32{"optim.lr": &opt.LR, "optim.beta1": &opt.Beta1, "optim.beta2": &opt.Beta2, "optim.eps": &opt.Eps, "optim.weight_decay": &opt.WeightDecay} {
			v, err := strconv.ParseFloat(meta[key], 32)
			if err != nil {
				return nil, fmt.Errorf("nn: checkpoint %s: metadata %s %q: %w", path, key, meta[key], err)
			}
			*dst = float32(v)
		}
	}
	var extra []string
	for name := range ts {
		if !used[name] && (opt != nil || !strings.HasPrefix(name, "optim.")) {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return nil, fmt.Errorf("nn: checkpoint %s: tensor %q is not in the model (%d unexpected tensors)", path, extra[0], len(extra))
	}
	return meta, nil
}
