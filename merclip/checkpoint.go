package merclip

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
)

// A model file is one safetensors file: every parameter under its layer
// name, the input normalisation as "input.mean" and "input.std", and in the
// metadata the config ("config", JSON), the class list ("classes", JSON
// array), the input kind ("kind"), the AU-text vocabulary ("vocab", JSON
// array) and the run fingerprint ("fingerprint").
// The codec below is the standard safetensors layout (8-byte header length,
// JSON header, little-endian F32 data), so Python's safetensors reads it.

// Save writes the model to path atomically.
func (m *Model) Save(path string) error {
	tensors := map[string]stTensor{}
	for _, p := range m.Params() {
		tensors[p.Name] = stTensor{shape: p.Shape, data: p.Data}
	}
	tensors["input.mean"] = stTensor{shape: []int{len(m.Mean)}, data: m.Mean}
	tensors["input.std"] = stTensor{shape: []int{len(m.Std)}, data: m.Std}
	cls, _ := json.Marshal(m.Classes)
	meta := map[string]string{
		"format":      "tell-merclip-1",
		"config":      string(m.Cfg.JSON()),
		"classes":     string(cls),
		"kind":        string(m.Kind),
		"fingerprint": m.Fingerprint,
	}
	if m.Vocab != nil {
		v, _ := json.Marshal(m.Vocab.List())
		meta["vocab"] = string(v)
	}
	b, err := encodeSafetensors(tensors, meta)
	if err != nil {
		return fmt.Errorf("merclip: save %s: %w", path, err)
	}
	return writeFileAtomic(path, b)
}

// LoadModel reads a model written by Save. Every tensor the config implies
// must be present with its shape; errors name the file and the tensor.
func LoadModel(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("merclip: load model: %w", err)
	}
	tensors, meta, err := decodeSafetensors(b)
	if err != nil {
		return nil, fmt.Errorf("merclip: load %s: %w", path, err)
	}
	if meta["format"] != "tell-merclip-1" {
		return nil, fmt.Errorf("merclip: load %s: not a tell MER-CLIP model (format %q)", path, meta["format"])
	}
	cfg, err := ParseConfig([]byte(meta["config"]))
	if err != nil {
		return nil, fmt.Errorf("merclip: load %s: config: %w", path, err)
	}
	var classes []string
	if err := json.Unmarshal([]byte(meta["classes"]), &classes); err != nil {
		return nil, fmt.Errorf("merclip: load %s: classes: %w", path, err)
	}
	var vocab *Vocab
	if s := meta["vocab"]; s != "" {
		var words []string
		if err := json.Unmarshal([]byte(s), &words); err != nil {
			return nil, fmt.Errorf("merclip: load %s: vocab: %w", path, err)
		}
		if vocab, err = VocabFromWords(words); err != nil {
			return nil, fmt.Errorf("merclip: load %s: %w", path, err)
		}
	}
	kind := Kind(meta["kind"])
	if kind != KindFlow && kind != KindImage {
		return nil, fmt.Errorf("merclip: load %s: unknown input kind %q", path, kind)
	}
	m, err := NewModel(cfg, kind, classes, vocab)
	if err != nil {
		return nil, fmt.Errorf("merclip: load %s: %w", path, err)
	}
	m.Fingerprint = meta["fingerprint"]
	dst := map[string]stTensor{
		"input.mean": {shape: []int{len(m.Mean)}, data: m.Mean},
		"input.std":  {shape: []int{len(m.Std)}, data: m.Std},
	}
	for _, p := range m.Params() {
		dst[p.Name] = stTensor{shape: p.Shape, data: p.Data}
	}
	for name, d := range dst {
		t, ok := tensors[name]
		if !ok {
			return nil, fmt.Errorf("merclip: load %s: tensor %q missing", path, name)
		}
		if !sameShape(t.shape, d.shape) {
			return nil, fmt.Errorf("merclip: load %s: tensor %q has shape %v, want %v", path, name, t.shape, d.shape)
		}
		copy(d.data, t.data)
	}
	return m, nil
}

// LoadTextTower copies the text tower of the model at path into m (for
// Config.Text.Init); shapes and vocabulary must match.
func (m *Model) LoadTextTower(path string) error {
	src, err := LoadModel(path)
	if err != nil {
		return err
	}
	if src.Vocab == nil || m.Vocab == nil || !equalStrings(src.Vocab.List(), m.Vocab.List()) {
		return fmt.Errorf("merclip: text tower %s: vocabulary differs", path)
	}
	a, b := src.TextParams(), m.TextParams()
	if len(a) != len(b) {
		return fmt.Errorf("merclip: text tower %s: %d tensors, want %d", path, len(a), len(b))
	}
	for i := range a {
		if a[i].Name != b[i].Name || !sameShape(a[i].Shape, b[i].Shape) {
			return fmt.Errorf("merclip: text tower %s: tensor %q %v, want %q %v", path, a[i].Name, a[i].Shape, b[i].Name, b[i].Shape)
		}
		copy(b[i].Data, a[i].Data)
	}
	return nil
}

func equalStrings(a, b []string) bool {
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

func sameShape(a, b []int) bool {
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

type stTensor struct {
	shape []int
	data  []float32
}

type stEntry struct {
	Dtype   string `json:"dtype"`
	Shape   []int  `json:"shape"`
	Offsets [2]int `json:"data_offsets"`
}

func encodeSafetensors(tensors map[string]stTensor, meta map[string]string) ([]byte, error) {
	names := make([]string, 0, len(tensors))
	for n := range tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	header := map[string]any{"__metadata__": meta}
	off := 0
	for _, n := range names {
		t := tensors[n]
		header[n] = stEntry{Dtype: "F32", Shape: t.shape, Offsets: [2]int{off, off + 4*len(t.data)}}
		off += 4 * len(t.data)
	}
	h, err := json.Marshal(header)
	if err != nil {
		return nil, err
	}
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	var buf bytes.Buffer
	buf.Grow(8 + len(h) + off)
	binary.Write(&buf, binary.LittleEndian, uint64(len(h)))
	buf.Write(h)
	for _, n := range names {
		binary.Write(&buf, binary.LittleEndian, tensors[n].data)
	}
	return buf.Bytes(), nil
}

func decodeSafetensors(b []byte) (map[string]stTensor, map[string]string, error) {
	if len(b) < 8 {
		return nil, nil, fmt.Errorf("file of %d bytes is too short for safetensors", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > uint64(len(b)-8) {
		return nil, nil, fmt.Errorf("header length %d exceeds file size %d", n, len(b))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &raw); err != nil {
		return nil, nil, fmt.Errorf("header: %w", err)
	}
	data := b[8+n:]
	meta := map[string]string{}
	out := map[string]stTensor{}
	for name, r := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(r, &meta); err != nil {
				return nil, nil, fmt.Errorf("metadata: %w", err)
			}
			continue
		}
		var e stEntry
		if err := json.Unmarshal(r, &e); err != nil {
			return nil, nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		if e.Dtype != "F32" {
			return nil, nil, fmt.Errorf("tensor %q: dtype %s, want F32", name, e.Dtype)
		}
		cnt := 1
		for _, s := range e.Shape {
			if s < 0 || (s > 0 && cnt > math.MaxInt32/s) {
				return nil, nil, fmt.Errorf("tensor %q: bad shape %v", name, e.Shape)
			}
			cnt *= s
		}
		lo, hi := e.Offsets[0], e.Offsets[1]
		if lo < 0 || hi < lo || hi > len(data) || hi-lo != 4*cnt {
			return nil, nil, fmt.Errorf("tensor %q: offsets [%d,%d) do not fit shape %v in %d data bytes", name, lo, hi, e.Shape, len(data))
		}
		v := make([]float32, cnt)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[lo+4*i:]))
		}
		out[name] = stTensor{shape: e.Shape, data: v}
	}
	return out, meta, nil
}
