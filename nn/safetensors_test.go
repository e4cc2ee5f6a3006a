package nn

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSafetensorsRoundTrip(t *testing.T) {
	in := map[string]*Tensor{
		"a.weight": randTensor(60, 1, 3, 4),
		"b":        FromData([]float32{float32(math.Inf(1)), -0, 1e-40, 3}, 4),
		"scalar":   FromData([]float32{2.5}),
	}
	b, err := EncodeSafetensors(in, map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	if len(b)%4 != 0 || int(b[0])%8 != 0 {
		t.Fatalf("header not padded to 8 bytes: %d", b[0])
	}
	out, meta, err := DecodeSafetensors(b)
	if err != nil {
		t.Fatal(err)
	}
	if meta["k"] != "v" || len(meta) != 1 {
		t.Fatalf("metadata %v", meta)
	}
	for name, want := range in {
		got := out[name]
		if got == nil || !slices.Equal(got.Shape, want.Shape) {
			t.Fatalf("%s: got %v", name, got)
		}
		for i := range want.Data {
			if math.Float32bits(got.Data[i]) != math.Float32bits(want.Data[i]) {
				t.Fatalf("%s[%d]: %v != %v", name, i, got.Data[i], want.Data[i])
			}
		}
	}
}

// pyReader is a safetensors reader written from the format's specification
// with numpy only (the safetensors Python package is not installed here):
// it prints every tensor as exact float64 values in JSON.
const pyReader = `
import json, struct, sys
import numpy as np
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8+n])
data = b[8+n:]
out = {}
for name, e in h.items():
    if name == '__metadata__':
        continue
    assert e['dtype'] == 'F32'
    lo, hi = e['data_offsets']
    a = np.frombuffer(data[lo:hi], dtype='<f4').reshape(e['shape'])
    out[name] = {'shape': list(a.shape), 'values': a.astype(np.float64).ravel().tolist()}
print(json.dumps({'meta': h.get('__metadata__', {}), 'tensors': out}))
`

// TestSafetensorsPython: a checkpoint written by nn reads back in Python
// (numpy, following the format's specification) with the same values.
func TestSafetensorsPython(t *testing.T) {
	py := ""
	for _, cand := range []string{"python3", "/usr/bin/python3"} {
		if p, err := exec.LookPath(cand); err == nil && exec.Command(p, "-c", "import numpy").Run() == nil {
			py = p
			break
		}
	}
	if py == "" {
		t.Skip("no python3 with numpy")
	}
	cfg := tinyRefConfig()
	m := NewRefModel(cfg)
	opt := NewAdamW(m.Params(), 1e-3, 0.05)
	trainRef(t, m, opt, 2, 70)
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := SaveCheckpoint(path, m.Params(), opt, map[string]string{"model": "ref"}); err != nil {
		t.Fatal(err)
	}
	outb, err := exec.Command(py, "-c", pyReader, path).Output()
	if err != nil {
		t.Fatalf("python reader: %v", err)
	}
	var got struct {
		Meta    map[string]string
		Tensors map[string]struct {
			Shape  []int
			Values []float64
		}
	}
	if err := json.Unmarshal(outb, &got); err != nil {
		t.Fatal(err)
	}
	if got.Meta["model"] != "ref" || got.Meta["optim.step"] != "2" {
		t.Fatalf("metadata seen by Python: %v", got.Meta)
	}
	check := func(name string, shape []int, data []float32) {
		pt, ok := got.Tensors[name]
		if !ok {
			t.Fatalf("Python does not see %q", name)
		}
		if !slices.Equal(pt.Shape, shape) {
			t.Fatalf("%s: Python shape %v, want %v", name, pt.Shape, shape)
		}
		for i, v := range data {
			if float32(pt.Values[i]) != v {
				t.Fatalf("%s[%d]: Python %v, Go %v", name, i, pt.Values[i], v)
			}
		}
	}
	for i, p := range m.Params() {
		check(p.Name, p.Shape, p.Data)
		check("optim.m."+p.Name, p.Shape, opt.m[i])
	}
	if len(got.Tensors) != 3*len(m.Params()) {
		t.Fatalf("Python sees %d tensors, want %d", len(got.Tensors), 3*len(m.Params()))
	}
}

// TestResumeBitExact: training 6 steps straight and training 3, saving,
// loading into a fresh model and optimiser and training 3 more give the
// same losses and weights bit for bit.
func TestResumeBitExact(t *testing.T) {
	cfg := tinyRefConfig()
	a := NewRefModel(cfg)
	oa := NewAdamW(a.Params(), 1e-3, 0.05)
	want := trainRef(t, a, oa, 6, 80)

	b := NewRefModel(cfg)
	ob := NewAdamW(b.Params(), 1e-3, 0.05)
	got := trainRef(t, b, ob, 3, 80)
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	if err := SaveCheckpoint(path, b.Params(), ob, nil); err != nil {
		t.Fatal(err)
	}
	cfg2 := cfg
	cfg2.Seed = 99 // different initial weights: all must come from the file
	c := NewRefModel(cfg2)
	oc := NewAdamW(c.Params(), 5, 5)
	if _, err := LoadCheckpoint(path, c.Params(), oc); err != nil {
		t.Fatal(err)
	}
	if oc.Step != 3 || oc.WeightDecay != 0.05 {
		t.Fatalf("optimiser state step %d wd %v", oc.Step, oc.WeightDecay)
	}
	got = append(got, trainRef(t, c, oc, 3, 80)...)
	for i := range want {
		if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
			t.Fatalf("step %d: loss %v resumed, %v straight", i, got[i], want[i])
		}
	}
	for i, p := range a.Params() {
		for j, v := range p.Data {
			if math.Float32bits(v) != math.Float32bits(c.Params()[i].Data[j]) {
				t.Fatalf("%s[%d] differs after resume", p.Name, j)
			}
		}
	}
}

func TestCheckpointErrorsNameTheTensor(t *testing.T) {
	dir := t.TempDir()
	cfg := tinyRefConfig()
	m := NewRefModel(cfg)
	path := filepath.Join(dir, "m.safetensors")
	if err := SaveCheckpoint(path, m.Params(), nil, nil); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(path)
	nbad := 0
	write := func(b []byte) string {
		nbad++
		p := filepath.Join(dir, fmt.Sprintf("bad%d.safetensors", nbad))
		os.WriteFile(p, b, 0o644)
		return p
	}
	// A flipped byte inside the last tensor's data.
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)-3] ^= 0x40
	truncated := good[:len(good)-10]

	bigger := cfg
	bigger.Width, bigger.MLP = 32, 64
	other := NewRefModel(bigger)
	noText := cfg
	noText.TextDep = 0
	fewer := NewRefModel(noText)

	for _, c := range []struct {
		name   string
		path   string
		params []*Param
		want   string
	}{
		{"corrupt", write(flipped), m.Params(), "corrupt"},
		{"truncated", write(truncated), m.Params(), "outside"},
		{"shape", path, other.Params(), `"patch.weight" has shape [16 3 4 4], the model wants [32 3 4 4]`},
		{"extra", path, fewer.Params(), `tensor "txt.0.attn.proj.bias" is not in the model`},
		{"missing optimiser", path, nil, ""},
		{"garbage", write([]byte("not a safetensors file at all")), m.Params(), "header length"},
	} {
		var err error
		if c.name == "missing optimiser" {
			_, err = LoadCheckpoint(path, m.Params(), NewAdamW(m.Params(), 1, 0))
			c.want = `tensor "optim.m.patch.weight" missing`
		} else {
			_, err = LoadCheckpoint(c.path, c.params, nil)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", c.name, err, c.want)
		}
	}
	// The corrupt and truncated cases name a tensor.
	_, err := LoadCheckpoint(write(flipped), m.Params(), nil)
	if err == nil || !strings.Contains(err.Error(), `tensor "`) {
		t.Errorf("corrupt: %v", err)
	}
}

func FuzzDecodeSafetensors(f *testing.F) {
	b, _ := EncodeSafetensors(map[string]*Tensor{"x": randTensor(1, 1, 2, 3), "y": FromData([]float32{1})}, map[string]string{"a": "b"})
	f.Add(b)
	f.Add([]byte{})
	f.Add([]byte("\x02\x00\x00\x00\x00\x00\x00\x00{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, _, err := DecodeSafetensors(data)
		if err != nil {
			return
		}
		for name, x := range ts {
			if numel(x.Shape) != len(x.Data) {
				t.Fatalf("%s: %d values for shape %v", name, len(x.Data), x.Shape)
			}
		}
	})
}

// TestCheckpointFile: a checkpoint is an ordinary output file (mode 0644,
// not os.CreateTemp's 0600) with no temporary file left beside it, and a
// failed write keeps the previous checkpoint.
func TestCheckpointFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ck.safetensors")
	p := NewParam("w", 2, 2)
	if err := SaveCheckpoint(path, []*Param{p}, nil, nil); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if m := st.Mode().Perm(); m != 0o644 {
		t.Errorf("checkpoint mode %v, want 0644", m)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("files beside the checkpoint: %v", entries)
	}
	// Two parameters with one name cannot be written: the old file stays.
	before, _ := os.ReadFile(path)
	if err := SaveCheckpoint(path, []*Param{p, NewParam("w", 1)}, nil, nil); err == nil {
		t.Fatal("duplicate names written")
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("a failed save changed the previous checkpoint")
	}
}

// TestImports: nn imports nothing of the project but atomicfile and
// parallel (leaves), so every model package can build on it without cycles.
func TestImports(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if strings.Contains(line, `"github.com/tell-project/tell/`) && line != `"github.com/tell-project/tell/atomicfile"` && line != `"github.com/tell-project/tell/parallel"` {
				t.Errorf("%s imports %s", f, line)
			}
		}
	}
}
