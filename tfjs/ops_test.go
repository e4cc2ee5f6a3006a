package tfjs

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"
)

// goldenCase is one op run by TensorFlow.js (testdata/golden.js).
type goldenCase struct {
	Name   string                     `json:"name"`
	Op     string                     `json:"op"`
	Attrs  map[string]json.RawMessage `json:"attrs"`
	Inputs []struct {
		Shape       []int     `json:"shape"`
		DType       string    `json:"dtype"`
		Data        []float64 `json:"data"`
		Placeholder bool      `json:"placeholder"`
	} `json:"inputs"`
	Output struct {
		Shape []int     `json:"shape"`
		Data  []float64 `json:"data"`
	} `json:"output"`
}

func loadOpCases(t *testing.T) []goldenCase {
	t.Helper()
	b, err := os.ReadFile("testdata/ops_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Backend string       `json:"backend"`
		Cases   []goldenCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if g.Backend != "wasm" || len(g.Cases) < 50 {
		t.Fatalf("golden file from backend %q with %d cases", g.Backend, len(g.Cases))
	}
	return g.Cases
}

// caseModel builds a one-op graph: placeholders and constants feeding the op.
func caseModel(c goldenCase) (*Model, [][]int, [][]float32, error) {
	var nodes []Node
	var ins []string
	var shapes [][]int
	var feeds [][]float32
	for k, x := range c.Inputs {
		name := fmt.Sprintf("in%d", k)
		ins = append(ins, name)
		if x.Placeholder {
			nodes = append(nodes, Node{Name: name, Op: "Placeholder"})
			shapes = append(shapes, x.Shape)
			f := make([]float32, len(x.Data))
			for i, v := range x.Data {
				f[i] = float32(v)
			}
			feeds = append(feeds, f)
			continue
		}
		t := &Tensor{Name: name, Shape: x.Shape, DType: x.DType}
		if x.DType == "int32" {
			for _, v := range x.Data {
				t.I32 = append(t.I32, int32(v))
			}
		} else {
			for _, v := range x.Data {
				t.F32 = append(t.F32, float32(v))
			}
		}
		nodes = append(nodes, Node{Name: name, Op: "Const", Value: t})
	}
	attr := map[string]Attr{}
	for k, raw := range c.Attrs {
		a, err := parseAttr(raw)
		if err != nil {
			return nil, nil, nil, err
		}
		attr[k] = a
	}
	nodes = append(nodes, Node{Name: "op", Op: c.Op, Inputs: ins, Attr: attr})
	m, err := NewModel(c.Name, Graph{Nodes: nodes, Outputs: []string{"op"}})
	return m, shapes, feeds, err
}

// TestOpsAgainstTFJS runs every op case and compares with TensorFlow.js's
// output: to float32 rounding of sums (relative 2e-5), exactly in shape.
func TestOpsAgainstTFJS(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range loadOpCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			m, shapes, feeds, err := caseModel(c)
			if err != nil {
				t.Fatal(err)
			}
			r, err := m.NewRunner(shapes...)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.OutputShapes()[0]; fmt.Sprint(got) != fmt.Sprint(c.Output.Shape) {
				t.Fatalf("shape %v, TF.js %v", got, c.Output.Shape)
			}
			for rep := 0; rep < 2; rep++ { // twice: reused buffers must not leak state
				out, err := r.Run(feeds...)
				if err != nil {
					t.Fatal(err)
				}
				worst := 0.0
				for i, want := range c.Output.Data {
					d := math.Abs(float64(out[0][i])-want) / (1 + math.Abs(want))
					worst = math.Max(worst, d)
					if d > 2e-5 || math.IsNaN(float64(out[0][i])) {
						t.Fatalf("run %d: element %d: %v, TF.js %v", rep, i, out[0][i], want)
					}
				}
			}
		})
		seen[c.Op] = true
	}
	// Every op of the package doc that has a TF.js counterpart is covered.
	for _, op := range []string{"Conv2D", "_FusedConv2D", "DepthwiseConv2dNative", "FusedDepthwiseConv2dNative", "MaxPool", "AvgPool",
		"AddV2", "Sub", "Mul", "RealDiv", "Maximum", "Minimum", "BiasAdd", "Relu", "Relu6", "Elu", "Sigmoid", "Tanh", "LeakyRelu", "Prelu",
		"Softmax", "Mean", "Sum", "Max", "Reshape", "ConcatV2", "Pad", "PadV2", "ResizeBilinear", "MatMul", "_FusedMatMul", "FusedBatchNormV3"} {
		if !seen[op] {
			t.Errorf("no golden case for %s", op)
		}
	}
}

// TestRunAllocatesNothing: a Runner reuses its buffers (GEMM-free ops; the
// SGEMM's own worker bookkeeping is nn's).
func TestRunAllocatesNothing(t *testing.T) {
	cases := loadOpCases(t)
	for _, c := range cases {
		switch c.Op {
		case "Conv2D", "_FusedConv2D", "MatMul", "_FusedMatMul":
			continue
		}
		m, shapes, feeds, err := caseModel(c)
		if err != nil {
			t.Fatal(err)
		}
		r, err := m.NewRunner(shapes...)
		if err != nil {
			t.Fatal(err)
		}
		if a := testing.AllocsPerRun(10, func() { r.Run(feeds...) }); a != 0 {
			t.Errorf("%s: %v allocations per run", c.Name, a)
		}
	}
}

func TestRunnerErrors(t *testing.T) {
	c := loadOpCases(t)[0] // conv3x3_same: input [1,7,8,3]
	m, _, _, err := caseModel(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.NewRunner([]int{1, 7, 8, 5}); err == nil {
		t.Error("channel mismatch accepted")
	}
	if _, err := m.NewRunner(); err == nil {
		t.Error("missing input shape accepted")
	}
	r, err := m.NewRunner([]int{1, 7, 8, 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(make([]float32, 5)); err == nil {
		t.Error("short input accepted")
	}
	// A shape beyond the budget is refused before allocating.
	if _, err := m.NewRunner([]int{1, 1 << 15, 1 << 15, 3}); err == nil {
		t.Error("huge input accepted")
	}
}
