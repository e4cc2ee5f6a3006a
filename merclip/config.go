// Package merclip is tell's micro-expression recogniser in the style of
// MER-CLIP (Liu et al., arXiv 2505.05937): a patch-token transformer over
// optical flow (u, v, optical strain, optionally apex appearance), an AU text
// encoder over FACS movement descriptions, a symmetric InfoNCE loss that
// aligns each clip with the text of its own Action Units, a focal loss on the
// emotion, the Emotion Inference Module, and LocalStaticFaceMix augmentation.
// It also trains appearance-only models when a manifest carries only still
// images (RAF-DB / CK+ style facial expression recognition).
//
// Limits: trained on small micro-expression sets (a few hundred clips, tens
// of subjects), its figures have wide intervals; the built-in model is
// trained on synthetic clips of one face only; nothing here detects faces or
// spots expressions.
//
// The package owns the model, the training loop with its evaluation
// protocols (LOSO, subject k-fold, holdout) and the preparation cache.
//
// Command line: `tell prepare` fills the cache, `tell train` runs a protocol
// and saves the final model, `tell eval` scores a saved model. The paper's
// ablation table is reproduced with configs such as
//
//	{"loss": {"contrastive": false}}   without AU-text alignment
//	{"eim": {"enabled": false}}        without the Emotion Inference Module
//	{"mix": {"enabled": false}}        without LocalStaticFaceMix
//	{"text": {"freeze": true}}         frozen text tower
//
// passed with --config (fields left out keep their defaults).
//
// Leak guards: every fitted quantity (input normalisation, class weights,
// LocalStaticFaceMix's static faces) comes from a fold's training side only
// (dataset.TrainSet); splits refuse subjects or files on both sides.
package merclip

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
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
	// Seed makes training deterministic: the same seed, data and config give
	// the same weights and metrics whatever the number of cores.
	Seed int64 `json:"seed"`

	Input  InputConfig   `json:"input"`
	Visual EncoderConfig `json:"visual"`
	Text   TextConfig    `json:"text"`
	EIM    EIMConfig     `json:"eim"`
	Loss   LossConfig    `json:"loss"`
	Mix    MixConfig     `json:"mix"`
	Train  TrainConfig   `json:"train"`
	// EmbedDim is the size of the joint vision-text space (the paper: 512; default 32).
	EmbedDim int `json:"embed_dim"`
}

// InputConfig says what the visual encoder sees.
type InputConfig struct {
	// Size is the side of the square input in pixels (default 28, as the
	// STSTNet/HTNet flow releases). Inputs of other sizes are resized.
	Size int `json:"size"`
	// Apex adds the aligned apex frame (grey) as an extra appearance channel
	// next to u, v and strain for rows that have frames (default false).
	Apex bool `json:"apex"`
	// Align detects and aligns the face of frames and image rows before
	// flow is computed (default true); flow-image rows are used as given.
	Align bool `json:"align"`
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
	// Workers is how many folds train at once; 0 means one per core.
	Workers int `json:"workers"`
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		Seed:     1,
		Input:    InputConfig{Size: 28, Align: true},
		Visual:   EncoderConfig{Patch: 4, Dim: 32, Layers: 1, Heads: 4, MLP: 2},
		Text:     TextConfig{Dim: 32, Layers: 1, Heads: 4, MaxLen: 48},
		EIM:      EIMConfig{Enabled: true, Dim: 32, Layers: 2, Heads: 4, Dropout: 0.1},
		Loss:     LossConfig{Contrastive: true, ContrastiveStart: 2, ContrastiveEnd: 1, Temperature: 0.07, FocalGamma: 2},
		Mix:      MixConfig{Enabled: true, P: 0.5, Alpha: 0.5},
		Train:    TrainConfig{Epochs: 12, Batch: 16, LR: 2e-3, WeightDecay: 0.05, Warmup: 1, ClipNorm: 1},
		EmbedDim: 32,
	}
}

// LoadConfig reads a JSON config. Fields the file leaves out keep their
// defaults; unknown fields are an error so that typos do not pass silently.
func LoadConfig(path string) (Config, error) {
	c := DefaultConfig()
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("merclip: config: %w", err)
	}
	if err := c.decode(b); err != nil {
		return c, fmt.Errorf("merclip: config %s: %w", path, err)
	}
	return c, nil
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

// JSON returns the config as indented JSON.
func (c Config) JSON() []byte {
	b, _ := json.MarshalIndent(c, "", "  ") // plain struct of numbers: cannot fail
	return b
}

// Hash identifies the config for resuming: a run resumes only folds trained
// under the same hash. Workers does not change results and is left out.
func (c Config) Hash() string {
	c.Train.Workers = 0
	h := sha256.Sum256(c.JSON())
	return hex.EncodeToString(h[:8])
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
	pos("input.size", c.Input.Size)
	pos("visual.patch", c.Visual.Patch)
	pos("visual.dim", c.Visual.Dim)
	pos("visual.layers", c.Visual.Layers)
	pos("visual.heads", c.Visual.Heads)
	pos("visual.mlp", c.Visual.MLP)
	pos("embed_dim", c.EmbedDim)
	pos("train.epochs", c.Train.Epochs)
	pos("train.batch", c.Train.Batch)
	if c.Input.Size > 0 && c.Visual.Patch > 0 && c.Input.Size%c.Visual.Patch != 0 {
		bad("visual.patch", "%d does not divide input.size %d", c.Visual.Patch, c.Input.Size)
	}
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
	if c.Train.Warmup < 0 || c.Train.Workers < 0 || c.Train.ClipNorm < 0 {
		bad("train", "warmup, workers and clip_norm must be ≥ 0")
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
