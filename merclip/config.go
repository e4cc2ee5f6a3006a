// Package merclip is the MER-CLIP model family (Liu et al., arXiv
// 2505.05937) for package train: a patch-token transformer over optical flow
// (u, v, optical strain, optionally apex appearance), an AU text encoder
// over FACS movement descriptions, a symmetric InfoNCE loss that aligns each
// clip with the text of its own Action Units, a focal loss on the emotion,
// the Emotion Inference Module, and LocalStaticFaceMix augmentation. It also
// trains appearance-only models when a manifest carries only still images
// (RAF-DB / CK+ style facial expression recognition).
//
// The package owns the model, its hyper-parameters (Config) and its
// training loop; preparation, protocols, resumption and model files belong
// to package train. The paper's ablation table is reproduced with configs
// such as
//
//	{"model": "merclip", "merclip": {"loss": {"contrastive": false}}}   without AU-text alignment
//	{"model": "merclip", "merclip": {"eim": {"enabled": false}}}        without the Emotion Inference Module
//	{"model": "merclip", "merclip": {"mix": {"enabled": false}}}        without LocalStaticFaceMix
//	{"model": "merclip", "merclip": {"text": {"freeze": true}}}         frozen text tower
//
// passed to `tell train --config` (fields left out keep their defaults).
//
// Leak guards: every fitted quantity (input normalisation, class weights,
// LocalStaticFaceMix's static faces) comes from the FitData a fold gives
// Fit, which holds its training side only.
//
// Limits: trained from scratch on 28×28 inputs, the model is far smaller
// than the paper's CLIP-initialised video transformer, and on real
// micro-expression flows it scores below a shallow CNN (see docs/measured.md's
// ablation table); trained on small micro-expression sets (a few hundred
// clips, tens of subjects), its figures have wide intervals; the built-in
// model is trained on synthetic clips of one face only; nothing here
// detects faces or spots expressions.
package merclip

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/tell-project/tell/model"
)

// Config describes a model and how it is trained. Every part of MER-CLIP can
// be switched off here, so the paper's ablation table can be reproduced:
// Contrastive.Enabled=false (no AU text), EIM.Enabled=false (a linear head on
// the visual class token), Mix.Enabled=false (no LocalStaticFaceMix).
//
// The zero value is not useful; start from DefaultConfig and change fields.
// The defaults are scaled down from the paper (which fine-tunes a
// CLIP-initialised video transformer on 224×224 frames) to a model trained from
// scratch on 28×28 flow images, the input size of the MEGC2019 baselines; see
// the comment on each field.
type Config struct {
	Visual EncoderConfig `json:"visual"`
	Text   TextConfig    `json:"text"`
	EIM    EIMConfig     `json:"eim"`
	Loss   LossConfig    `json:"loss"`
	Mix    MixConfig     `json:"mix"`
	Train  TrainConfig   `json:"train"`
	// EmbedDim is the size of the joint vision-text space (the paper: 512; default 32).
	EmbedDim int `json:"embed_dim"`
}

// EncoderConfig is a pre-norm transformer over patch tokens.
type EncoderConfig struct {
	Patch  int `json:"patch"`  // patch side in pixels (default 4: 49 tokens on 28×28)
	Dim    int `json:"dim"`    // token width (default 32)
	Layers int `json:"layers"` // transformer blocks (default 1)
	Heads  int `json:"heads"`  // attention heads (default 4)
	MLP    int `json:"mlp"`    // MLP expansion factor (default 2; the paper: 4)
}

// TextConfig is the AU text encoder: a small transformer over the words of
// the AU description placed in one of MER-CLIP's seven templates.
type TextConfig struct {
	Dim    int `json:"dim"`     // token width (default 32)
	Layers int `json:"layers"`  // transformer blocks (default 1)
	Heads  int `json:"heads"`   // attention heads (default 4)
	MaxLen int `json:"max_len"` // tokens kept, including the class token (default 48)
	// Freeze keeps the text tower at its initial weights (the paper freezes
	// a pre-trained CLIP text tower; here the initial weights come from Init
	// when set, else from the seed).
	Freeze bool `json:"freeze"`
	// Init optionally names a model.safetensors whose text tower initialises
	// this one (for example one trained on a larger data set).
	Init string `json:"init,omitempty"`
}

// EIMConfig is the Emotion Inference Module: all visual tokens → linear +
// LayerNorm → Layers pre-norm transformer layers; after each layer the class
// token → LayerNorm → dropout → linear to class scores; scores averaged.
type EIMConfig struct {
	Enabled bool    `json:"enabled"` // default true; false: linear head on the visual class token
	Dim     int     `json:"dim"`     // width (the paper: 512; default 32)
	Layers  int     `json:"layers"`  // default 2, as the paper
	Heads   int     `json:"heads"`   // default 4, as the paper
	Dropout float64 `json:"dropout"` // default 0.1, as the paper
}

// LossConfig weighs the two objectives. The contrastive weight falls linearly
// from ContrastiveStart to ContrastiveEnd over training and the classification
// weight is 2 minus it (the paper: 2→1 and 0→1). With the contrastive loss
// disabled the classification weight is 1 throughout.
type LossConfig struct {
	Contrastive      bool    `json:"contrastive"`       // default true
	ContrastiveStart float64 `json:"contrastive_start"` // default 2
	ContrastiveEnd   float64 `json:"contrastive_end"`   // default 1
	// Temperature is the initial InfoNCE temperature; the logit scale
	// log(1/Temperature) is learned (default 0.07, as CLIP).
	Temperature float64 `json:"temperature"`
	FocalGamma  float64 `json:"focal_gamma"` // default 2
}

// MixConfig is LocalStaticFaceMix (see Mixer).
type MixConfig struct {
	Enabled bool    `json:"enabled"` // default true
	P       float64 `json:"p"`       // probability per training sample (default 0.5)
	Alpha   float64 `json:"alpha"`   // weight of the sample's own content (default 0.5)
}

// TrainConfig is the optimiser and schedule.
type TrainConfig struct {
	Epochs      int     `json:"epochs"`       // default 12 (the paper: 55 with a pre-trained backbone)
	Batch       int     `json:"batch"`        // default 16 (the paper: 8)
	LR          float64 `json:"lr"`           // peak learning rate (default 2e-3, from scratch)
	WeightDecay float64 `json:"weight_decay"` // AdamW (default 0.05, as the paper)
	Warmup      int     `json:"warmup"`       // warm-up epochs before cosine decay (default 1)
	ClipNorm    float64 `json:"clip_norm"`    // global gradient norm clip, 0 = off (default 1)
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		Visual:   EncoderConfig{Patch: 4, Dim: 32, Layers: 1, Heads: 4, MLP: 2},
		Text:     TextConfig{Dim: 32, Layers: 1, Heads: 4, MaxLen: 48},
		EIM:      EIMConfig{Enabled: true, Dim: 32, Layers: 2, Heads: 4, Dropout: 0.1},
		Loss:     LossConfig{Contrastive: true, ContrastiveStart: 2, ContrastiveEnd: 1, Temperature: 0.07, FocalGamma: 2},
		Mix:      MixConfig{Enabled: true, P: 0.5, Alpha: 0.5},
		Train:    TrainConfig{Epochs: 12, Batch: 16, LR: 2e-3, WeightDecay: 0.05, Warmup: 1, ClipNorm: 1},
		EmbedDim: 32,
	}
}

// ParseConfig decodes JSON over the defaults and validates the result.
func ParseConfig(b []byte) (Config, error) {
	c := DefaultConfig()
	err := c.decode(b)
	return c, err
}

func (c *Config) decode(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return err
	}
	return c.Validate()
}

// Epochs implements model.Spec.
func (c Config) Epochs() int { return c.Train.Epochs }

// WithEpochs implements model.Spec.
func (c Config) WithEpochs(n int) model.Spec {
	c.Train.Epochs = n
	return c
}

// Validate reports the first field that cannot work, naming it.
func (c Config) Validate() error {
	var errs []error
	bad := func(field string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{field}, args...)...))
	}
	pos := func(field string, v int) {
		if v <= 0 {
			bad(field, "must be positive, got %d", v)
		}
	}
	pos("visual.patch", c.Visual.Patch)
	pos("visual.dim", c.Visual.Dim)
	pos("visual.layers", c.Visual.Layers)
	pos("visual.heads", c.Visual.Heads)
	pos("visual.mlp", c.Visual.MLP)
	pos("embed_dim", c.EmbedDim)
	pos("train.epochs", c.Train.Epochs)
	pos("train.batch", c.Train.Batch)
	if c.Visual.Heads > 0 && c.Visual.Dim%c.Visual.Heads != 0 {
		bad("visual.heads", "%d does not divide visual.dim %d", c.Visual.Heads, c.Visual.Dim)
	}
	if c.Loss.Contrastive {
		pos("text.dim", c.Text.Dim)
		pos("text.layers", c.Text.Layers)
		pos("text.heads", c.Text.Heads)
		if c.Text.MaxLen < 2 {
			bad("text.max_len", "must be at least 2, got %d", c.Text.MaxLen)
		}
		if c.Text.Heads > 0 && c.Text.Dim%c.Text.Heads != 0 {
			bad("text.heads", "%d does not divide text.dim %d", c.Text.Heads, c.Text.Dim)
		}
		if !(c.Loss.Temperature > 0) {
			bad("loss.temperature", "must be positive, got %g", c.Loss.Temperature)
		}
		if c.Loss.ContrastiveStart < 0 || c.Loss.ContrastiveStart > 2 || c.Loss.ContrastiveEnd < 0 || c.Loss.ContrastiveEnd > 2 {
			bad("loss.contrastive_start/end", "must lie in [0,2], got %g and %g", c.Loss.ContrastiveStart, c.Loss.ContrastiveEnd)
		}
	}
	if c.EIM.Enabled {
		pos("eim.dim", c.EIM.Dim)
		pos("eim.layers", c.EIM.Layers)
		pos("eim.heads", c.EIM.Heads)
		if c.EIM.Heads > 0 && c.EIM.Dim%c.EIM.Heads != 0 {
			bad("eim.heads", "%d does not divide eim.dim %d", c.EIM.Heads, c.EIM.Dim)
		}
	}
	prob := func(field string, v float64) {
		if !(v >= 0 && v <= 1) {
			bad(field, "must lie in [0,1], got %g", v)
		}
	}
	prob("eim.dropout", c.EIM.Dropout)
	prob("mix.p", c.Mix.P)
	prob("mix.alpha", c.Mix.Alpha)
	if c.Loss.FocalGamma < 0 || math.IsNaN(c.Loss.FocalGamma) {
		bad("loss.focal_gamma", "must be ≥ 0, got %g", c.Loss.FocalGamma)
	}
	if !(c.Train.LR > 0) {
		bad("train.lr", "must be positive, got %g", c.Train.LR)
	}
	if c.Train.WeightDecay < 0 {
		bad("train.weight_decay", "must be ≥ 0, got %g", c.Train.WeightDecay)
	}
	if c.Train.Warmup < 0 || c.Train.ClipNorm < 0 {
		bad("train", "warmup and clip_norm must be ≥ 0")
	}
	return errors.Join(errs...)
}

// lossWeights returns the contrastive and classification weights at training
// progress t in [0,1].
func (c Config) lossWeights(t float64) (con, cls float64) {
	if !c.Loss.Contrastive {
		return 0, 1
	}
	con = c.Loss.ContrastiveStart + (c.Loss.ContrastiveEnd-c.Loss.ContrastiveStart)*t
	return con, 2 - con
}
