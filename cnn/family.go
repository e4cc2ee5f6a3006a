package cnn

import (
	"context"
	"fmt"

	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/nn"
	"github.com/tell-project/tell/train"
)

// Family is the CNN model family for package train ("cnn").
type Family struct{}

// Name implements model.Family.
func (Family) Name() string { return "cnn" }

// DefaultSpec implements model.Family.
func (Family) DefaultSpec() model.Spec { return DefaultConfig() }

// ParseSpec implements model.Family.
func (Family) ParseSpec(b []byte) (model.Spec, error) { return ParseConfig(b) }

// Fit implements train.Family.
func (Family) Fit(ctx context.Context, spec model.Spec, d *train.FitData, opt train.FitOptions) (model.Net, error) {
	cfg, ok := spec.(Config)
	if !ok {
		return nil, fmt.Errorf("cnn: spec is %T, not cnn.Config", spec)
	}
	m, err := Fit(ctx, cfg, d, opt)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Encode implements model.Net: the parameters under their names, the
// BatchNorm running statistics, and the seed in the metadata.
func (m *Model) Encode() (map[string]*nn.Tensor, map[string]string) {
	ts := map[string]*nn.Tensor{}
	for _, p := range m.Params() {
		ts[p.Name] = p.Tensor()
	}
	if m.trunk.useBN {
		for k, t := range m.trunk.bn.Buffers() {
			ts[k] = t
		}
	}
	return ts, map[string]string{"seed": fmt.Sprint(m.Seed)}
}

// Decode implements model.Family.
func (Family) Decode(spec model.Spec, info model.Info, tensors map[string]*nn.Tensor, meta map[string]string) (model.Net, error) {
	cfg, ok := spec.(Config)
	if !ok {
		return nil, fmt.Errorf("cnn: spec is %T, not cnn.Config", spec)
	}
	var seed int64
	fmt.Sscan(meta["seed"], &seed)
	m, err := NewModel(cfg, seed, info)
	if err != nil {
		return nil, err
	}
	dst, _ := m.Encode()
	if err := model.CopyTensors(dst, tensors); err != nil {
		return nil, err
	}
	return m, nil
}
