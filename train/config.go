package train

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/tell-project/tell/model"
)

// Config is a training configuration: the model's part (model.Config:
// which family, what it sees, its hyper-parameters) and what this package
// does around it. In JSON the family's hyper-parameters sit under the
// family's name:
//
//	{"model": "merclip", "seed": 1, "members": 1, "input": {...}, "merclip": {...}}
//
// Fields left out keep their defaults; unknown fields are errors.
type Config struct {
	model.Config
	// Seed makes training deterministic: the same seed, data and config
	// give the same weights and metrics whatever the number of cores.
	Seed int64
	// Members is the size of the seed ensemble: every fold (and the final
	// model) trains Members models with seeds Seed, Seed+1, ... and
	// averages their class probabilities (default 1).
	Members int
	// Validation, when positive, is the share of a fold's training subjects
	// held out as a validation set for the family (early stopping); the
	// test subjects are never part of it. 0 (default): none.
	Validation float64
	// Workers is how many folds train at once; 0 means one per core. It
	// does not change results.
	Workers int
}

// DefaultConfig returns the defaults with the first family of fs.
func DefaultConfig(fs model.Families) Config {
	return Config{Config: model.DefaultConfig(fs), Seed: 1, Members: 1}
}

type configJSON struct {
	Model      string      `json:"model"`
	Seed       int64       `json:"seed"`
	Members    int         `json:"members"`
	Input      model.Input `json:"input"`
	Validation float64     `json:"validation"`
	Workers    int         `json:"workers"`
}

// settingsJSON are the training settings beside the model's part of a
// config.
type settingsJSON struct {
	Seed       int64   `json:"seed"`
	Members    int     `json:"members"`
	Validation float64 `json:"validation"`
	Workers    int     `json:"workers"`
}

// MarshalJSON writes the config with the family's section under its name.
func (c Config) MarshalJSON() ([]byte, error) {
	base, err := json.Marshal(configJSON{c.Model, c.Seed, c.Members, c.Input, c.Validation, c.Workers})
	if err != nil {
		return nil, err
	}
	if c.Spec == nil {
		return base, nil
	}
	spec, err := json.Marshal(c.Spec)
	if err != nil {
		return nil, err
	}
	name, _ := json.Marshal(c.Model)
	out := append(base[:len(base)-1], ',')
	out = append(out, name...)
	out = append(out, ':')
	out = append(out, spec...)
	return append(out, '}'), nil
}

// JSON returns the config as indented JSON.
func (c Config) JSON() []byte {
	b, err := json.Marshal(c)
	if err != nil {
		return []byte(fmt.Sprintf("{\"error\": %q}", err))
	}
	var out bytes.Buffer
	json.Indent(&out, b, "", "  ")
	return out.Bytes()
}

// Hash identifies the config for resuming: a run resumes only folds trained
// under the same hash. Workers does not change results and is left out.
func (c Config) Hash() string {
	c.Workers = 0
	b, _ := json.Marshal(c)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// ParseConfig decodes JSON over the defaults of fs (the family named by
// "model", else the first) and validates the result.
func ParseConfig(b []byte, fs model.Families) (Config, error) {
	c := DefaultConfig(fs)
	s := settingsJSON{c.Seed, c.Members, c.Validation, c.Workers}
	mc, err := model.ParseConfigWith(b, fs, &s)
	c.Config = mc
	if err != nil {
		return c, err
	}
	c.Seed, c.Members, c.Validation, c.Workers = s.Seed, s.Members, s.Validation, s.Workers
	return c, c.Validate()
}

// LoadConfig reads a JSON config file (see ParseConfig).
func LoadConfig(path string, fs model.Families) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return DefaultConfig(fs), fmt.Errorf("train: config: %w", err)
	}
	c, err := ParseConfig(b, fs)
	if err != nil {
		return c, fmt.Errorf("train: config %s: %w", path, err)
	}
	return c, nil
}

// Validate reports the fields that cannot work, naming them.
func (c Config) Validate() error {
	var errs []error
	if err := c.Config.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Members < 1 || c.Members > model.MaxMembers {
		errs = append(errs, fmt.Errorf("members: want 1 to %d, got %d", model.MaxMembers, c.Members))
	}
	if !(c.Validation >= 0 && c.Validation < 1) {
		errs = append(errs, fmt.Errorf("validation: want a share in [0, 1), got %g", c.Validation))
	}
	if c.Workers < 0 {
		errs = append(errs, fmt.Errorf("workers: must be ≥ 0, got %d", c.Workers))
	}
	return errors.Join(errs...)
}
