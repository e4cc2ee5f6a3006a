package tfjs

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// tinyModel returns a small graph model as TensorFlow.js's converter writes
// it (string-typed integers, base64 strings, control inputs, ":0" refs) and
// its shard: conv+bias+relu, depthwise, max-pool, add, mean, softmax.
func tinyModel() (modelJSON, shard []byte) { return tinyModelEdit(nil) }

// tinyModelEdit is tinyModel with nodes (by name) and weight specs edited.
func tinyModelEdit(edit func(nodes map[string]map[string]any, specs map[string]map[string]any)) (modelJSON, shard []byte) {
	ints := func(v ...string) map[string]any { return map[string]any{"list": map[string]any{"i": v}} }
	s := func(v string) map[string]any { return map[string]any{"s": b64(v)} }
	nodes := []map[string]any{
		{"name": "x", "op": "Placeholder", "attr": map[string]any{"shape": map[string]any{"shape": map[string]any{"dim": []any{map[string]any{"size": "-1"}, map[string]any{"size": "6"}, map[string]any{"size": "6"}, map[string]any{"size": "1"}}}}, "dtype": map[string]any{"type": "DT_FLOAT"}}},
		{"name": "w", "op": "Const", "attr": map[string]any{"dtype": map[string]any{"type": "DT_FLOAT"}}},
		{"name": "b", "op": "Const", "attr": map[string]any{}},
		{"name": "dw", "op": "Const", "attr": map[string]any{}},
		{"name": "axes", "op": "Const", "attr": map[string]any{}},
		{"name": "conv", "op": "_FusedConv2D", "input": []string{"x", "w:0", "b", "^axes"}, "attr": map[string]any{
			"strides": ints("1", "1", "1", "1"), "padding": s("SAME"), "data_format": s("NHWC"), "dilations": ints("1", "1", "1", "1"),
			"fused_ops": map[string]any{"list": map[string]any{"s": []string{b64("BiasAdd"), b64("Relu")}}}, "num_args": map[string]any{"i": "1"}, "epsilon": map[string]any{"f": 0}}},
		{"name": "dwc", "op": "DepthwiseConv2dNative", "input": []string{"conv", "dw"}, "attr": map[string]any{"strides": ints("1", "1", "1", "1"), "padding": s("SAME")}},
		{"name": "pool", "op": "MaxPool", "input": []string{"dwc"}, "attr": map[string]any{"ksize": ints("1", "3", "3", "1"), "strides": ints("1", "2", "2", "1"), "padding": s("SAME")}},
		{"name": "conv_pool", "op": "MaxPool", "input": []string{"conv"}, "attr": map[string]any{"ksize": ints("1", "3", "3", "1"), "strides": ints("1", "2", "2", "1"), "padding": s("SAME")}},
		{"name": "sum", "op": "AddV2", "input": []string{"pool", "conv_pool"}},
		{"name": "mean", "op": "Mean", "input": []string{"sum", "axes"}, "attr": map[string]any{"keep_dims": map[string]any{"b": false}}},
		{"name": "prob", "op": "Softmax", "input": []string{"mean"}},
		{"name": "Identity", "op": "Identity", "input": []string{"prob"}},
	}
	specs := []map[string]any{
		{"name": "w", "shape": []int{3, 3, 1, 8}, "dtype": "float32", "quantization": map[string]any{"dtype": "uint8", "scale": 0.01, "min": -1.2}},
		{"name": "b", "shape": []int{8}, "dtype": "float32", "quantization": map[string]any{"dtype": "float16"}},
		{"name": "dw", "shape": []int{3, 3, 8, 1}, "dtype": "float32"},
		{"name": "axes", "shape": []int{2}, "dtype": "int32"},
	}
	for i := 0; i < 72; i++ {
		shard = append(shard, byte(i*37))
	}
	for i := 0; i < 8; i++ {
		shard = binary.LittleEndian.AppendUint16(shard, 0x3000+uint16(i*97)) // small positive halves
	}
	for i := 0; i < 72; i++ {
		shard = binary.LittleEndian.AppendUint32(shard, math.Float32bits(float32(math.Sin(float64(i)))))
	}
	shard = binary.LittleEndian.AppendUint32(shard, 1)
	shard = binary.LittleEndian.AppendUint32(shard, 2)
	if edit != nil {
		byName, specBy := map[string]map[string]any{}, map[string]map[string]any{}
		for _, n := range nodes {
			byName[n["name"].(string)] = n
		}
		for _, w := range specs {
			specBy[w["name"].(string)] = w
		}
		edit(byName, specBy)
		var keep []map[string]any
		for _, w := range specs {
			if w["name"] != "" {
				keep = append(keep, w)
			}
		}
		specs = keep
	}
	modelJSON, _ = json.Marshal(map[string]any{
		"format": "graph-model", "generatedBy": "test", "convertedBy": "test",
		"modelTopology":   map[string]any{"node": nodes, "library": map[string]any{}, "versions": map[string]any{"producer": 1}},
		"weightsManifest": []any{map[string]any{"paths": []string{"tiny.bin"}, "weights": specs}},
	})
	return modelJSON, shard
}

type tinyEdit func(nodes, specs map[string]map[string]any)

func writeTiny(t *testing.T, edit tinyEdit, text func(string) string) string {
	t.Helper()
	js, shard := tinyModelEdit(edit)
	s := string(js)
	if text != nil {
		s = text(s)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "tiny.bin"), shard, 0o644)
	p := filepath.Join(dir, "model.json")
	os.WriteFile(p, []byte(s), 0o644)
	return p
}

// TestGraphModel loads the tiny model and checks it against the same graph
// built in code from the decoded weights: the parser must produce the
// graph the file describes.
func TestGraphModel(t *testing.T) {
	m, err := LoadGraphModel(writeTiny(t, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	names, shapes := m.Inputs()
	if len(names) != 1 || names[0] != "x" || len(shapes[0]) != 4 || shapes[0][0] != -1 {
		t.Fatalf("inputs %v %v", names, shapes)
	}
	if o := m.Outputs(); len(o) != 1 || o[0] != "Identity" {
		t.Fatalf("outputs %v", o)
	}
	in := make([]float32, 2*6*6)
	for i := range in {
		in[i] = float32(math.Cos(float64(i) * 0.7))
	}
	r, err := m.NewRunner([]int{2, 6, 6, 1})
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	// Reference: the same computation from parts run one op at a time.
	_, shard := tinyModel()
	ws, err := DecodeWeights("tiny", []WeightGroup{{Paths: []string{"s"}, Weights: []WeightSpec{
		{Name: "w", Shape: []int{3, 3, 1, 8}, DType: "float32", Quantization: &Quantization{DType: "uint8", Scale: f64(0.01), Min: f64(-1.2)}},
		{Name: "b", Shape: []int{8}, DType: "float32", Quantization: &Quantization{DType: "float16"}},
		{Name: "dw", Shape: []int{3, 3, 8, 1}, DType: "float32"},
		{Name: "axes", Shape: []int{2}, DType: "int32"}}}}, func(string) ([]byte, error) { return shard, nil })
	if err != nil {
		t.Fatal(err)
	}
	k := func(n string) Node { return Node{Name: n, Op: "Const", Value: ws[n]} }
	pool := map[string]Attr{"ksize": AttrInts(1, 3, 3, 1), "strides": AttrInts(1, 2, 2, 1), "padding": AttrString("SAME")}
	g := Graph{Nodes: []Node{{Name: "x", Op: "Placeholder"}, k("w"), k("b"), k("dw"), k("axes"),
		{Name: "c", Op: "Conv2D", Inputs: []string{"x", "w"}, Attr: map[string]Attr{"strides": AttrInts(1, 1, 1, 1), "padding": AttrString("SAME")}},
		{Name: "cb", Op: "BiasAdd", Inputs: []string{"c", "b"}},
		{Name: "cr", Op: "Relu", Inputs: []string{"cb"}},
		{Name: "d", Op: "DepthwiseConv2dNative", Inputs: []string{"cr", "dw"}, Attr: map[string]Attr{"strides": AttrInts(1, 1, 1, 1), "padding": AttrString("SAME")}},
		{Name: "p1", Op: "MaxPool", Inputs: []string{"d"}, Attr: pool},
		{Name: "p2", Op: "MaxPool", Inputs: []string{"cr"}, Attr: pool},
		{Name: "s", Op: "Add", Inputs: []string{"p1", "p2"}},
		{Name: "m", Op: "Mean", Inputs: []string{"s", "axes"}},
		{Name: "y", Op: "Softmax", Inputs: []string{"m"}}}}
	ref, err := NewModel("ref", g)
	if err != nil {
		t.Fatal(err)
	}
	rr, err := ref.NewRunner([]int{2, 6, 6, 1})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := rr.Run(in)
	if len(out[0]) != 16 || len(want[0]) != 16 {
		t.Fatalf("outputs of %d and %d values", len(out[0]), len(want[0]))
	}
	for i := range want[0] {
		if math.Abs(float64(out[0][i]-want[0][i])) > 1e-6 {
			t.Fatalf("output %d: %v, reference %v", i, out[0][i], want[0][i])
		}
	}
	if ops := m.Ops(); ops["_FusedConv2D"] != 1 || ops["MaxPool"] != 2 {
		t.Errorf("ops %v", ops)
	}
}

// TestGraphErrors: a model the runtime cannot run is refused at load time,
// naming the node and what is wrong.
func TestGraphErrors(t *testing.T) {
	attr := func(n map[string]any) map[string]any { return n["attr"].(map[string]any) }
	cases := []struct {
		name string
		edit tinyEdit
		text func(string) string
		want []string
	}{
		{"unknown op", func(n, _ map[string]map[string]any) { n["pool"]["op"] = "FancyPool" }, nil,
			[]string{"model.json", `"pool"`, `"FancyPool"`, "unknown op"}},
		{"missing input", func(n, _ map[string]map[string]any) { n["pool"]["input"] = []string{"nowhere"} }, nil, []string{`"pool"`, "nowhere"}},
		{"second output", func(n, _ map[string]map[string]any) { n["pool"]["input"] = []string{"dwc:1"} }, nil, []string{`"pool"`, "dwc:1"}},
		{"bad padding", func(n, _ map[string]map[string]any) { attr(n["pool"])["padding"] = map[string]any{"s": b64("REFLECT")} }, nil,
			[]string{`"pool"`, "REFLECT"}},
		{"NCHW", func(n, _ map[string]map[string]any) {
			attr(n["conv"])["data_format"] = map[string]any{"s": b64("NCHW")}
		}, nil, []string{`"conv"`, "NCHW"}},
		{"cycle", func(n, _ map[string]map[string]any) { n["dwc"]["input"] = []string{"sum", "dw"} }, nil, []string{"cycle"}},
		{"functions", nil, func(s string) string { return strings.Replace(s, `"library":{}`, `"library":{"function":[{}]}`, 1) }, []string{"functions"}},
		{"layers model", nil, func(s string) string { return strings.Replace(s, `"graph-model"`, `"layers-model"`, 1) }, []string{"layers-model"}},
		{"weight missing", func(_, w map[string]map[string]any) { w["dw"]["name"] = "dw2" }, nil, []string{"model.json", `"dw"`}},
		{"truncated weights", func(_, w map[string]map[string]any) { w["dw"]["shape"] = []int{3, 3, 8, 2} }, nil, []string{"model.json", `"dw"`, "truncated"}},
		{"bad fused op", func(n, _ map[string]map[string]any) {
			attr(n["conv"])["fused_ops"] = map[string]any{"list": map[string]any{"s": []string{b64("BiasAdd"), b64("Swish")}}}
		}, nil, []string{`"conv"`, "Swish"}},
		{"not json", nil, func(s string) string { return s[:len(s)/2] }, []string{"model.json"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadGraphModel(writeTiny(t, c.edit, c.text))
			if err == nil {
				t.Fatal("loaded")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
		})
	}
}

// FuzzParseGraphModel: any model.json gives an error or a model that runs
// on its declared input shape, never a panic.
func FuzzParseGraphModel(f *testing.F) {
	js, shard := tinyModel()
	f.Add(js, shard)
	f.Add([]byte(`{"modelTopology":{"node":[{"name":"x","op":"Placeholder"},{"name":"r","op":"Reshape","input":["x","x"]}]},"weightsManifest":[]}`), []byte{})
	f.Fuzz(func(t *testing.T, js, shard []byte) {
		old := runnerBudget
		runnerBudget = 1 << 20
		defer func() { runnerBudget = old }()
		m, err := ParseGraphModel("fuzz.json", js, func(string) ([]byte, error) { return shard, nil })
		if err != nil {
			return
		}
		_, shapes := m.Inputs()
		var feeds [][]float32
		for i, s := range shapes {
			if s == nil {
				s = []int{1}
			}
			s = append([]int{}, s...)
			for k, d := range s {
				if d < 1 || d > 64 {
					s[k] = 1
				}
			}
			shapes[i] = s
			n, _ := elems(s)
			feeds = append(feeds, make([]float32, n))
		}
		r, err := m.NewRunner(shapes...)
		if err != nil {
			return
		}
		if _, err := r.Run(feeds...); err != nil {
			t.Fatal(err)
		}
	})
}

// TestPrune: a model pruned to one of its nodes runs only what that node
// needs and gives it bit for bit as a model computing more gives it.
func TestPrune(t *testing.T) {
	m, err := LoadGraphModel(writeTiny(t, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	both, err := m.Prune("conv_pool", "Identity")
	if err != nil {
		t.Fatal(err)
	}
	one, err := m.Prune("conv_pool")
	if err != nil {
		t.Fatal(err)
	}
	if ops := one.Ops(); ops["DepthwiseConv2dNative"] != 0 || ops["Softmax"] != 0 || ops["MaxPool"] != 1 {
		t.Errorf("pruned model's ops %v", ops)
	}
	if o := one.Outputs(); len(o) != 1 || o[0] != "conv_pool" {
		t.Errorf("outputs %v", o)
	}
	in := make([]float32, 2*6*6)
	for i := range in {
		in[i] = float32(math.Cos(float64(i) * 0.3))
	}
	run := func(m *Model) [][]float32 {
		r, err := m.NewRunner([]int{2, 6, 6, 1})
		if err != nil {
			t.Fatal(err)
		}
		out, err := r.Run(in)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	a, b := run(both), run(one)
	if len(a) != 2 || len(b) != 1 || len(a[0]) != 2*3*3*8 || len(b[0]) != len(a[0]) {
		t.Fatalf("output sizes %d/%d", len(a), len(b))
	}
	for i := range b[0] {
		if math.Float32bits(a[0][i]) != math.Float32bits(b[0][i]) {
			t.Fatalf("value %d: %v pruned, %v in the whole model", i, b[0][i], a[0][i])
		}
	}
	if _, err := m.Prune("nope"); err == nil {
		t.Error("a node not in the graph was accepted")
	}
}
