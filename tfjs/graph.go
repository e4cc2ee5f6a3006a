package tfjs

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
)

// Node is one operation of a graph: the TensorFlow op name, the names of
// the nodes whose first outputs it takes ("name" or "name:0"; control
// inputs "^name" are ignored), its attributes and, for a Const, its value.
type Node struct {
	Name   string
	Op     string
	Inputs []string
	Attr   map[string]Attr
	Value  *Tensor
}

// Attr is a node attribute. Exactly the field named by Kind is set:
// 's' S, 'i' I, 'f' F, 'b' B, 't' Type, 'h' Shape, 'l' List; 0 for an
// attribute this package does not read (tensors, functions).
type Attr struct {
	Kind  byte
	S     []byte
	I     int64
	F     float64
	B     bool
	Type  string
	Shape []int
	List  AttrList
}

// AttrList is the value of a list attribute.
type AttrList struct {
	S    [][]byte
	I    []int64
	F    []float64
	B    []bool
	Type []string
}

// Graph is a set of nodes, with the names of its outputs (default: every
// node whose output no other node takes).
type Graph struct {
	Nodes   []Node
	Outputs []string
}

// graphFile is model.json.
type graphFile struct {
	Format          string          `json:"format"`
	ModelTopology   json.RawMessage `json:"modelTopology"`
	WeightsManifest []WeightGroup   `json:"weightsManifest"`
	Signature       *struct {
		Outputs map[string]struct {
			Name string `json:"name"`
		} `json:"outputs"`
	} `json:"signature"`
}

type graphDef struct {
	Node []struct {
		Name  string                     `json:"name"`
		Op    string                     `json:"op"`
		Input []string                   `json:"input"`
		Attr  map[string]json.RawMessage `json:"attr"`
	} `json:"node"`
	Library json.RawMessage `json:"library"`
}

// LoadGraphModel reads a TensorFlow.js graph model (model.json and the
// shards of its weightsManifest, beside it) and validates it (see NewModel).
func LoadGraphModel(file string) (*Model, error) {
	data, err := readLimited(file, maxJSON)
	if err != nil {
		return nil, fmt.Errorf("tfjs: %w", err)
	}
	return ParseGraphModel(filepath.Base(file), data, dirShards(filepath.Dir(file)))
}

// ParseGraphModel parses model.json bytes; read supplies the shards. name
// names the file in errors.
func ParseGraphModel(name string, data []byte, read ShardReader) (*Model, error) {
	var f graphFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("tfjs: %s: not a TensorFlow.js model.json: %w", name, err)
	}
	if f.Format != "" && f.Format != "graph-model" {
		return nil, fmt.Errorf("tfjs: %s: format %q: only graph models are supported", name, f.Format)
	}
	if len(f.ModelTopology) == 0 {
		return nil, fmt.Errorf("tfjs: %s: no modelTopology", name)
	}
	var gd graphDef
	if err := json.Unmarshal(f.ModelTopology, &gd); err != nil {
		return nil, fmt.Errorf("tfjs: %s: modelTopology: %w", name, err)
	}
	if len(gd.Node) == 0 {
		return nil, fmt.Errorf("tfjs: %s: modelTopology has no nodes", name)
	}
	if len(gd.Library) > 0 && string(gd.Library) != "{}" && string(gd.Library) != "null" {
		var lib struct {
			Function []json.RawMessage `json:"function"`
		}
		if json.Unmarshal(gd.Library, &lib) == nil && len(lib.Function) > 0 {
			return nil, fmt.Errorf("tfjs: %s: the graph defines functions (control flow); not supported", name)
		}
	}
	weights, err := DecodeWeights(name, f.WeightsManifest, read)
	if err != nil {
		return nil, err
	}
	g := Graph{Nodes: make([]Node, 0, len(gd.Node))}
	for i, jn := range gd.Node {
		if jn.Name == "" {
			return nil, fmt.Errorf("tfjs: %s: node %d has no name", name, i)
		}
		n := Node{Name: jn.Name, Op: jn.Op, Attr: map[string]Attr{}}
		for _, in := range jn.Input {
			if strings.HasPrefix(in, "^") {
				continue
			}
			n.Inputs = append(n.Inputs, in)
		}
		for k, raw := range jn.Attr {
			a, err := parseAttr(raw)
			if err != nil {
				return nil, fmt.Errorf("tfjs: %s: node %q: attribute %s: %w", name, jn.Name, k, err)
			}
			n.Attr[k] = a
		}
		if n.Op == "Const" {
			w, ok := weights[n.Name]
			if !ok {
				return nil, fmt.Errorf("tfjs: %s: node %q: constant without a weight in the weightsManifest", name, n.Name)
			}
			n.Value = w
		}
		g.Nodes = append(g.Nodes, n)
	}
	if f.Signature != nil {
		for _, o := range f.Signature.Outputs {
			g.Outputs = append(g.Outputs, strings.TrimSuffix(o.Name, ":0"))
		}
		sortStrings(g.Outputs)
	}
	return NewModel(name, g)
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// flexInt reads an integer written as a JSON number or string.
type flexInt int64

func (v *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	i, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("integer %s: %w", b, err)
	}
	*v = flexInt(i)
	return nil
}

// flexFloat reads a float written as a JSON number or string (NaN, Infinity).
type flexFloat float64

func (v *flexFloat) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("number %s: %w", b, err)
	}
	*v = flexFloat(f)
	return nil
}

type jsonShape struct {
	Dim []struct {
		Size flexInt `json:"size"`
	} `json:"dim"`
	UnknownRank bool `json:"unknownRank"`
}

func (s *jsonShape) shape() []int {
	if s.UnknownRank {
		return nil
	}
	out := make([]int, len(s.Dim))
	for i, d := range s.Dim {
		out[i] = int(d.Size)
		if d.Size < -1 || d.Size > math.MaxInt32 {
			out[i] = -1
		}
	}
	return out
}

type jsonAttr struct {
	S      *string         `json:"s"`
	I      *flexInt        `json:"i"`
	F      *flexFloat      `json:"f"`
	B      *bool           `json:"b"`
	Type   *string         `json:"type"`
	Shape  *jsonShape      `json:"shape"`
	List   *jsonList       `json:"list"`
	Tensor json.RawMessage `json:"tensor"`
	Func   json.RawMessage `json:"func"`
}

type jsonList struct {
	S    []string    `json:"s"`
	I    []flexInt   `json:"i"`
	F    []flexFloat `json:"f"`
	B    []bool      `json:"b"`
	Type []string    `json:"type"`
}

func parseAttr(raw json.RawMessage) (Attr, error) {
	var j jsonAttr
	if err := json.Unmarshal(raw, &j); err != nil {
		return Attr{}, err
	}
	switch {
	case j.S != nil:
		b, err := base64.StdEncoding.DecodeString(*j.S)
		if err != nil {
			return Attr{}, fmt.Errorf("string is not base64: %w", err)
		}
		return Attr{Kind: 's', S: b}, nil
	case j.I != nil:
		return Attr{Kind: 'i', I: int64(*j.I)}, nil
	case j.F != nil:
		return Attr{Kind: 'f', F: float64(*j.F)}, nil
	case j.B != nil:
		return Attr{Kind: 'b', B: *j.B}, nil
	case j.Type != nil:
		return Attr{Kind: 't', Type: *j.Type}, nil
	case j.Shape != nil:
		return Attr{Kind: 'h', Shape: j.Shape.shape()}, nil
	case j.List != nil:
		l := AttrList{Type: j.List.Type, B: j.List.B}
		for _, s := range j.List.S {
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return Attr{}, fmt.Errorf("list string is not base64: %w", err)
			}
			l.S = append(l.S, b)
		}
		for _, i := range j.List.I {
			l.I = append(l.I, int64(i))
		}
		for _, f := range j.List.F {
			l.F = append(l.F, float64(f))
		}
		return Attr{Kind: 'l', List: l}, nil
	}
	return Attr{}, nil
}

// Attribute constructors for graphs built in code.

// AttrString is a string attribute.
func AttrString(s string) Attr { return Attr{Kind: 's', S: []byte(s)} }

// AttrInt is an integer attribute.
func AttrInt(i int64) Attr { return Attr{Kind: 'i', I: i} }

// AttrFloat is a float attribute.
func AttrFloat(f float64) Attr { return Attr{Kind: 'f', F: f} }

// AttrBool is a boolean attribute.
func AttrBool(b bool) Attr { return Attr{Kind: 'b', B: b} }

// AttrInts is a list of integers.
func AttrInts(v ...int64) Attr { return Attr{Kind: 'l', List: AttrList{I: v}} }

// AttrStrings is a list of strings.
func AttrStrings(v ...string) Attr {
	l := AttrList{}
	for _, s := range v {
		l.S = append(l.S, []byte(s))
	}
	return Attr{Kind: 'l', List: l}
}
