package train

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
)

// Config is a training configuration: which model family, its
// hyper-parameters, and what this package does around it. In JSON the
// family's hyper-parameters sit under the family's name:
//
//	{"model": "merclip", "seed": 1, "members": 1, "input": {...}, "merclip": {...}}
//
// Fields left out keep their defaults; unknown fields are errors.
type Config struct {
	// Model names the family ("cnn", "merclip").
	Model string
	// Seed makes training deterministic: the same seed, data and config
	// give the same weights and metrics whatever the number of cores.
	Seed int64
	// Members is the size of the seed ensemble: every fold (and the final
	// model) trains Members models with seeds Seed, Seed+1, ... and
	// averages their class probabilities (default 1).
	Members int
	// Input says what the model sees.
	Input Input
	// Validation, when positive, is the share of a fold's training subjects
	// held out as a validation set for the family (early stopping); the
	// test subjects are never part of it. 0 (default): none.
	Validation float64
	// Workers is how many folds train at once; 0 means one per core. It
	// does not change results.
	Workers int
	// Spec is the family's hyper-parameters.
	Spec Spec
}

// DefaultConfig returns the defaults with the first family of fs.
func DefaultConfig(fs Families) Config {
	c := Config{Seed: 1, Members: 1, Input: DefaultInput()}
	if len(fs) > 0 {
		c.Model, c.Spec = fs[0].Name(), fs[0].DefaultSpec()
	}
	return c
}

type configJSON struct {
	Model      string  `json:"model"`
	Seed       int64   `json:"seed"`
	Members    int     `json:"members"`
	Input      Input   `json:"input"`
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
func ParseConfig(b []byte, fs Families) (Config, error) {
	c := DefaultConfig(fs)
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&raw); err != nil {
		return c, err
	}
	if m, ok := raw["model"]; ok {
		if err := json.Unmarshal(m, &c.Model); err != nil {
			return c, fmt.Errorf("model: %w", err)
		}
	}
	fam, err := fs.Lookup(c.Model)
	if err != nil {
		return c, fmt.Errorf("model: %w", err)
	}
	base := map[string]json.RawMessage{}
	var unknown []string
	for k, v := range raw {
		switch k {
		case "model", "seed", "members", "input", "validation", "workers":
			base[k] = v
		case fam.Name():
		default:
			if _, err := fs.Lookup(k); err == nil {
				unknown = append(unknown, fmt.Sprintf("%q (a section for model %q, but model is %q)", k, k, c.Model))
			} else {
				unknown = append(unknown, fmt.Sprintf("%q", k))
			}
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return c, fmt.Errorf("unknown field %s", unknown[0])
	}
	bb, _ := json.Marshal(base)
	cj := configJSON{c.Model, c.Seed, c.Members, c.Input, c.Validation, c.Workers}
	d := json.NewDecoder(bytes.NewReader(bb))
	d.DisallowUnknownFields()
	if err := d.Decode(&cj); err != nil {
		return c, err
	}
	c.Model, c.Seed, c.Members, c.Input, c.Validation, c.Workers = cj.Model, cj.Seed, cj.Members, cj.Input, cj.Validation, cj.Workers
	if sec, ok := raw[fam.Name()]; ok {
		if c.Spec, err = fam.ParseSpec(sec); err != nil {
			return c, fmt.Errorf("%s: %w", fam.Name(), err)
		}
	} else {
		c.Spec = fam.DefaultSpec()
	}
	return c, c.Validate()
}

// LoadConfig reads a JSON config file (see ParseConfig).
func LoadConfig(path string, fs Families) (Config, error) {
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

// maxMembers bounds Members: a seed ensemble beyond this costs time without
// a measurable gain.
const maxMembers = 64

// Validate reports the fields that cannot work, naming them.
func (c Config) Validate() error {
	var errs []error
	if c.Model == "" || c.Spec == nil {
		errs = append(errs, errors.New("model: no model family"))
	}
	if c.Members < 1 || c.Members > maxMembers {
		errs = append(errs, fmt.Errorf("members: want 1 to %d, got %d", maxMembers, c.Members))
	}
	if c.Input.Size <= 0 || c.Input.Size > 1024 {
		errs = append(errs, fmt.Errorf("input.size: want 1 to 1024, got %d", c.Input.Size))
	}
	if !(c.Validation >= 0 && c.Validation < 1) {
		errs = append(errs, fmt.Errorf("validation: want a share in [0, 1), got %g", c.Validation))
	}
	if c.Workers < 0 {
		errs = append(errs, fmt.Errorf("workers: must be ≥ 0, got %d", c.Workers))
	}
	if c.Spec != nil {
		if err := c.Spec.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.Model, err))
		}
	}
	return errors.Join(errs...)
}
