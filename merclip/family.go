package merclip

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/nn"
	"github.com/tell-project/tell/train"
)

// Family is the MER-CLIP model family for package train ("merclip").
type Family struct{}

// Name implements model.Family.
func (Family) Name() string { return "merclip" }

// DefaultSpec implements model.Family.
func (Family) DefaultSpec() model.Spec { return DefaultConfig() }

// ParseSpec implements model.Family.
func (Family) ParseSpec(b []byte) (model.Spec, error) { return ParseConfig(b) }

// Fit implements train.Family.
func (Family) Fit(ctx context.Context, spec model.Spec, d *train.FitData, opt train.FitOptions) (model.Net, error) {
	cfg, ok := spec.(Config)
	if !ok {
		return nil, fmt.Errorf("merclip: spec is %T, not merclip.Config", spec)
	}
	m, err := Fit(ctx, cfg, d, opt)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Scores implements model.Net: class scores for prepared inputs.
func (m *Model) Scores(xs [][]float32) [][]float32 { return m.Predict(xs) }

// Encode implements model.Net: every parameter under its layer name, the
// input normalisation as "input.mean" and "input.std", and in the metadata
// the AU-text vocabulary ("vocab", JSON array) and the seed ("seed").
func (m *Model) Encode() (map[string]*nn.Tensor, map[string]string) {
	tensors := map[string]*nn.Tensor{}
	for _, p := range m.Params() {
		tensors[p.Name] = p.Tensor()
	}
	tensors["input.mean"] = nn.FromData(m.Mean, len(m.Mean))
	tensors["input.std"] = nn.FromData(m.Std, len(m.Std))
	meta := map[string]string{"seed": fmt.Sprint(m.Seed)}
	if m.Vocab != nil {
		v, _ := json.Marshal(m.Vocab.List())
		meta["vocab"] = string(v)
	}
	return tensors, meta
}

// Decode implements model.Family: every tensor the config implies must be
// present with its shape; errors name the tensor.
func (Family) Decode(spec model.Spec, info model.Info, tensors map[string]*nn.Tensor, meta map[string]string) (model.Net, error) {
	cfg, ok := spec.(Config)
	if !ok {
		return nil, fmt.Errorf("merclip: spec is %T, not merclip.Config", spec)
	}
	var vocab *Vocab
	if s := meta["vocab"]; s != "" {
		var words []string
		if err := json.Unmarshal([]byte(s), &words); err != nil {
			return nil, fmt.Errorf("vocab: %w", err)
		}
		var err error
		if vocab, err = VocabFromWords(words); err != nil {
			return nil, err
		}
	}
	var seed int64
	fmt.Sscan(meta["seed"], &seed)
	m, err := NewModel(cfg, seed, info, vocab)
	if err != nil {
		return nil, err
	}
	dst := map[string]*nn.Tensor{
		"input.mean": nn.FromData(m.Mean, len(m.Mean)),
		"input.std":  nn.FromData(m.Std, len(m.Std)),
	}
	for _, p := range m.Params() {
		dst[p.Name] = p.Tensor()
	}
	if err := model.CopyTensors(dst, tensors); err != nil {
		return nil, err
	}
	return m, nil
}

// LoadTextTower copies the text tower of the first member of the model
// file at path into m (for Config.Text.Init); shapes and vocabulary must
// match.
func (m *Model) LoadTextTower(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("merclip: text tower: %w", err)
	}
	tensors, meta, err := nn.DecodeSafetensors(b)
	if err != nil {
		return fmt.Errorf("merclip: text tower %s: %w", path, err)
	}
	var words []string
	if err := json.Unmarshal([]byte(meta["m0.vocab"]), &words); err != nil || m.Vocab == nil || !slices.Equal(words, m.Vocab.List()) {
		return fmt.Errorf("merclip: text tower %s: vocabulary differs", path)
	}
	dst := map[string]*nn.Tensor{}
	for _, p := range m.TextParams() {
		dst[p.Name] = p.Tensor()
	}
	src := map[string]*nn.Tensor{}
	for k, t := range tensors {
		if rest, ok := strings.CutPrefix(k, "m0."); ok {
			src[rest] = t
		}
	}
	if err := model.CopyTensors(dst, src); err != nil {
		return fmt.Errorf("merclip: text tower %s: %w", path, err)
	}
	return nil
}
