package merclip

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"

	"github.com/tell-project/tell/atomicfile"
	"github.com/tell-project/tell/nn"
)

// A model file is one safetensors file: every parameter under its layer
// name, the input normalisation as "input.mean" and "input.std", and in the
// metadata the config ("config", JSON), the class list ("classes", JSON
// array), the input kind ("kind"), the AU-text vocabulary ("vocab", JSON
// array) and the run fingerprint ("fingerprint").
// The file is written by nn's safetensors codec, so Python's safetensors
// reads it.

// Save writes the model to path atomically.
func (m *Model) Save(path string) error {
	tensors := map[string]*nn.Tensor{}
	for _, p := range m.Params() {
		tensors[p.Name] = p.Tensor()
	}
	tensors["input.mean"] = nn.FromData(m.Mean, len(m.Mean))
	tensors["input.std"] = nn.FromData(m.Std, len(m.Std))
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
	b, err := nn.EncodeSafetensors(tensors, meta)
	if err != nil {
		return fmt.Errorf("merclip: save %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, b)
}

// LoadModel reads a model written by Save. Every tensor the config implies
// must be present with its shape; errors name the file and the tensor.
func LoadModel(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("merclip: load model: %w", err)
	}
	return DecodeModel(b, path)
}

// DecodeModel reads a model from the bytes of a file written by Save (an
// embedded model, an upload); name is what errors call it.
func DecodeModel(b []byte, name string) (*Model, error) {
	tensors, meta, err := nn.DecodeSafetensors(b)
	if err != nil {
		return nil, fmt.Errorf("merclip: load %s: %w", name, err)
	}
	if meta["format"] != "tell-merclip-1" {
		return nil, fmt.Errorf("merclip: load %s: not a tell MER-CLIP model (format %q)", name, meta["format"])
	}
	cfg, err := ParseConfig([]byte(meta["config"]))
	if err != nil {
		return nil, fmt.Errorf("merclip: load %s: config: %w", name, err)
	}
	var classes []string
	if err := json.Unmarshal([]byte(meta["classes"]), &classes); err != nil {
		return nil, fmt.Errorf("merclip: load %s: classes: %w", name, err)
	}
	var vocab *Vocab
	if s := meta["vocab"]; s != "" {
		var words []string
		if err := json.Unmarshal([]byte(s), &words); err != nil {
			return nil, fmt.Errorf("merclip: load %s: vocab: %w", name, err)
		}
		if vocab, err = VocabFromWords(words); err != nil {
			return nil, fmt.Errorf("merclip: load %s: %w", name, err)
		}
	}
	kind := Kind(meta["kind"])
	if kind != KindFlow && kind != KindImage {
		return nil, fmt.Errorf("merclip: load %s: unknown input kind %q", name, kind)
	}
	m, err := NewModel(cfg, kind, classes, vocab)
	if err != nil {
		return nil, fmt.Errorf("merclip: load %s: %w", name, err)
	}
	m.Fingerprint = meta["fingerprint"]
	dst := map[string]*nn.Tensor{
		"input.mean": nn.FromData(m.Mean, len(m.Mean)),
		"input.std":  nn.FromData(m.Std, len(m.Std)),
	}
	for _, p := range m.Params() {
		dst[p.Name] = p.Tensor()
	}
	for name, d := range dst {
		t, ok := tensors[name]
		if !ok {
			return nil, fmt.Errorf("merclip: load %s: tensor %q missing", name, name)
		}
		if !slices.Equal(t.Shape, d.Shape) {
			return nil, fmt.Errorf("merclip: load %s: tensor %q has shape %v, want %v", name, name, t.Shape, d.Shape)
		}
		copy(d.Data, t.Data)
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
	if src.Vocab == nil || m.Vocab == nil || !slices.Equal(src.Vocab.List(), m.Vocab.List()) {
		return fmt.Errorf("merclip: text tower %s: vocabulary differs", path)
	}
	a, b := src.TextParams(), m.TextParams()
	if len(a) != len(b) {
		return fmt.Errorf("merclip: text tower %s: %d tensors, want %d", path, len(a), len(b))
	}
	for i := range a {
		if a[i].Name != b[i].Name || !slices.Equal(a[i].Shape, b[i].Shape) {
			return fmt.Errorf("merclip: text tower %s: tensor %q %v, want %q %v", path, a[i].Name, a[i].Shape, b[i].Name, b[i].Shape)
		}
		copy(b[i].Data, a[i].Data)
	}
	return nil
}
