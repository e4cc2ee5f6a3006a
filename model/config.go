package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// Config is the part of a training configuration that a model file needs at
// inference: the family, what the model sees, and the family's
// hyper-parameters (which shape its networks). In JSON the family's
// hyper-parameters sit under the family's name:
//
//	{"model": "merclip", "input": {...}, "merclip": {...}}
//
// Package train's Config embeds it and adds the training settings (seed,
// ensemble size, validation share, workers) beside these fields.
type Config struct {
	// Model names the family ("cnn", "merclip").
	Model string
	// Input says what the model sees.
	Input Input
	// Spec is the family's hyper-parameters.
	Spec Spec
}

// DefaultConfig returns the defaults with the first family of fs.
func DefaultConfig(fs Families) Config {
	c := Config{Input: DefaultInput()}
	if len(fs) > 0 {
		c.Model, c.Spec = fs[0].Name(), fs[0].DefaultSpec()
	}
	return c
}

// JSON returns the config as indented JSON: "model", "input" and the
// family's section under its name (the form ParseConfig reads).
func (c Config) JSON() []byte {
	var out bytes.Buffer
	name, _ := json.Marshal(c.Model)
	in, _ := json.Marshal(c.Input)
	fmt.Fprintf(&out, `{"model":%s,"input":%s`, name, in)
	if c.Spec != nil {
		spec, err := json.Marshal(c.Spec)
		if err != nil {
			return []byte(fmt.Sprintf("{\"error\": %q}", err))
		}
		fmt.Fprintf(&out, `,%s:%s`, name, spec)
	}
	out.WriteByte('}')
	var ind bytes.Buffer
	json.Indent(&ind, out.Bytes(), "", "  ")
	return ind.Bytes()
}

// Validate reports the fields that cannot work, naming them.
func (c Config) Validate() error {
	var errs []error
	if c.Model == "" || c.Spec == nil {
		errs = append(errs, errors.New("model: no model family"))
	}
	if c.Input.Size <= 0 || c.Input.Size > 1024 {
		errs = append(errs, fmt.Errorf("input.size: want 1 to 1024, got %d", c.Input.Size))
	}
	if c.Spec != nil {
		if err := c.Spec.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.Model, err))
		}
	}
	return errors.Join(errs...)
}

// ParseConfig reads the model's part of a config's JSON ("model", "input"
// and the family's section) over the defaults of fs, and validates it.
// Other top-level fields (the training settings a model file's config also
// holds) are left unread: they are the trainer's.
func ParseConfig(b []byte, fs Families) (Config, error) {
	c, err := parseConfig(b, fs, nil)
	if err != nil {
		return c, err
	}
	return c, c.Validate()
}

// ParseConfigWith reads the model's part of a config's JSON as ParseConfig
// does and decodes the remaining top-level fields into extra, a pointer to
// a struct whose JSON fields (over their present values) are the only
// others allowed: any other field is an error naming it. It does not
// validate; the caller validates the whole (package train reads its
// training settings with it).
func ParseConfigWith(b []byte, fs Families, extra any) (Config, error) {
	return parseConfig(b, fs, extra)
}

func parseConfig(b []byte, fs Families, extra any) (Config, error) {
	c := DefaultConfig(fs)
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&raw); err != nil {
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
	others := map[string]bool{}
	if extra != nil {
		eb, err := json.Marshal(extra)
		if err != nil {
			return c, err
		}
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(eb, &keys); err != nil {
			return c, err
		}
		for k := range keys {
			others[k] = true
		}
	}
	rest := map[string]json.RawMessage{}
	var unknown []string
	for k, v := range raw {
		switch {
		case k == "model" || k == "input" || k == fam.Name():
		case others[k]:
			rest[k] = v
		case extra == nil:
			// not the model's: left to the trainer
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
	if in, ok := raw["input"]; ok {
		if err := decodeStrict(in, &c.Input); err != nil {
			return c, err
		}
	}
	if extra != nil && len(rest) > 0 {
		rb, _ := json.Marshal(rest)
		if err := decodeStrict(rb, extra); err != nil {
			return c, err
		}
	}
	if sec, ok := raw[fam.Name()]; ok {
		if c.Spec, err = fam.ParseSpec(sec); err != nil {
			return c, fmt.Errorf("%s: %w", fam.Name(), err)
		}
	} else {
		c.Spec = fam.DefaultSpec()
	}
	return c, nil
}

// decodeStrict decodes b into v, refusing fields v does not have.
func decodeStrict(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(v)
}
