package train

import (
	"strings"
	"testing"

	"github.com/tell-project/tell/model"
)

// TestConfigJSON: the family's section sits under its name; fields left out
// keep their defaults; unknown fields, a section for another family and
// impossible values are refused with the field named; JSON round-trips.
func TestConfigJSON(t *testing.T) {
	fs := model.Families{&centroid{}, &otherFamily{}}
	c, err := ParseConfig([]byte(`{"members": 3, "centroid": {"epochs": 5}}`), fs)
	if err != nil || c.Model != "centroid" || c.Members != 3 || c.Spec.Epochs() != 5 || c.Input.Size != 28 || c.Seed != 1 {
		t.Fatalf("parsed %+v, %v", c, err)
	}
	back, err := ParseConfig(c.JSON(), fs)
	if err != nil || back.Hash() != c.Hash() {
		t.Fatalf("round trip: %v\n%s", err, c.JSON())
	}
	c.Workers = 7
	if c.Hash() != back.Hash() {
		t.Error("workers changes the hash")
	}
	o, err := ParseConfig([]byte(`{"model": "other"}`), fs)
	if err != nil || o.Model != "other" || o.Spec.Epochs() != 9 {
		t.Fatalf("other family: %+v %v", o, err)
	}
	for _, tc := range []struct{ json, field string }{
		{`{"modle": "centroid"}`, "modle"},
		{`{"model": "nope"}`, "nope"},
		{`{"other": {}}`, "model is \"centroid\""},
		{`{"members": 0}`, "members"},
		{`{"members": 1000}`, "members"},
		{`{"validation": 1}`, "validation"},
		{`{"input": {"size": 0}}`, "input.size"},
		{`{"input": {"sise": 3}}`, "sise"},
		{`{"centroid": {"epochs": 0}}`, "epochs"},
		{`[1]`, "cannot unmarshal"},
	} {
		if _, err := ParseConfig([]byte(tc.json), fs); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: error %v, want one naming %s", tc.json, err, tc.field)
		}
	}
}

type otherFamily struct{ centroid }

func (*otherFamily) Name() string            { return "other" }
func (*otherFamily) DefaultSpec() model.Spec { return centroidSpec{N: 9} }

// FuzzParseConfig: no input panics the reader, and what it accepts
// validates and round-trips.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"members": 3, "centroid": {"epochs": 5}}`))
	f.Add([]byte(`{"model": "centroid", "validation": 0.2, "input": {"size": 14, "apex": true}}`))
	fs := model.Families{&centroid{}}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b, fs)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted config does not validate: %v", err)
		}
		back, err := ParseConfig(c.JSON(), fs)
		if err != nil || back.Hash() != c.Hash() {
			t.Fatalf("round trip of %s: %v", b, err)
		}
	})
}
