package cot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/tell-project/tell/facs"
)

// ParseEvidenceJSON reads AU evidence from JSON in one of three shapes:
//
//   - a list of Evidence objects: [{"au":12,"side":"right","intensity":2}]
//   - an object holding such a list under "evidence" or "aus"
//   - an object mapping AU names to intensities: {"AU04": 2, "L12": 1.5,
//     "AU12_r": 2.5} (a row of OpenFace's or tell's frames.csv); "_c"
//     presence columns are skipped.
//
// Intensities are on the 0–5 scale (MaxIntensity) everywhere.
//
// Errors name the offending entry.
func ParseEvidenceJSON(data []byte) ([]Evidence, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, fmt.Errorf("cot: evidence JSON is empty")
	}
	if data[0] == '[' {
		var ev []Evidence
		if err := json.Unmarshal(data, &ev); err != nil {
			return nil, fmt.Errorf("cot: evidence list: %w", err)
		}
		return ev, validate(ev)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, fmt.Errorf("cot: evidence JSON: %w", err)
	}
	for _, k := range []string{"evidence", "aus"} {
		if raw, ok := obj[k]; ok && len(bytes.TrimSpace(raw)) > 0 && bytes.TrimSpace(raw)[0] == '[' {
			var ev []Evidence
			if err := json.Unmarshal(raw, &ev); err != nil {
				return nil, fmt.Errorf("cot: evidence JSON %q: %w", k, err)
			}
			return ev, validate(ev)
		}
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var ev []Evidence
	for _, k := range keys {
		name := strings.TrimSpace(k)
		lk := strings.ToLower(name)
		switch {
		case strings.HasSuffix(lk, "_c"):
			continue
		case strings.HasSuffix(lk, "_r"):
			name = name[:len(name)-2]
		}
		var v float64
		if err := json.Unmarshal(obj[k], &v); err != nil {
			return nil, fmt.Errorf("cot: evidence JSON key %q: want a number: %w", k, err)
		}
		c, err := facs.Parse(name)
		if err != nil {
			return nil, fmt.Errorf("cot: evidence JSON key %q: %w", k, err)
		}
		aus := c.AUs()
		if len(aus) != 1 || aus[0].Intensity.Valid() || aus[0].Uncertain {
			return nil, fmt.Errorf("cot: evidence JSON key %q: want one AU such as AU12, L12 or AU12_r", k)
		}
		ev = append(ev, Evidence{AU: aus[0].Number, Side: aus[0].Side.String(), Intensity: v})
	}
	return ev, validate(ev)
}

// validate checks ranges so that errors name the entry before reasoning.
func validate(ev []Evidence) error {
	_, err := aggregate(ev)
	return err
}
