package tfjs

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/tell-project/tell/models"
)

// randomGraph builds a graph of n ops over [1, h, w, c] tensors whose
// inputs are drawn from every earlier tensor (so some live long and some
// die at once), with reshapes and identities that alias their input, and
// outputs that include an alias of an intermediate.
func randomGraph(rng *rand.Rand, n int) (Graph, []int) {
	type t struct {
		name  string
		shape []int
	}
	in := []int{1, 2 + rng.IntN(7), 2 + rng.IntN(7), 1 + rng.IntN(4)}
	g := Graph{Nodes: []Node{{Name: "x", Op: "Placeholder"}}}
	ts := []t{{"x", in}}
	konst := func(name string, shape []int) string {
		k := &Tensor{Name: name, Shape: shape, DType: "float32", F32: make([]float32, mustElems(shape))}
		for i := range k.F32 {
			k.F32[i] = float32(rng.NormFloat64() * 0.5)
		}
		g.Nodes = append(g.Nodes, Node{Name: name, Op: "Const", Value: k})
		return name
	}
	ints := func(name string, v ...int32) string {
		g.Nodes = append(g.Nodes, Node{Name: name, Op: "Const", Value: &Tensor{Name: name, Shape: []int{len(v)}, DType: "int32", I32: v}})
		return name
	}
	pick := func() t {
		if rng.IntN(3) == 0 { // favour recent tensors: chains as in real nets
			return ts[len(ts)-1]
		}
		return ts[rng.IntN(len(ts))]
	}
	for i := 0; len(ts) < n+1; i++ {
		name := fmt.Sprintf("n%d", i)
		a := pick()
		s := a.shape
		node := Node{Name: name, Inputs: []string{a.name}, Attr: map[string]Attr{}}
		out := slices.Clone(s)
		switch rng.IntN(10) {
		case 0:
			node.Op = []string{"Relu", "Tanh", "Sigmoid", "Relu6"}[rng.IntN(4)]
		case 1:
			// A second operand of the same shape, if one exists, else a
			// broadcast constant.
			node.Op = []string{"AddV2", "Mul", "Sub", "Maximum", "Prelu"}[rng.IntN(5)]
			b := konst(name+"/b", []int{s[3]})
			for _, o := range ts {
				if slices.Equal(o.shape, s) && rng.IntN(2) == 0 {
					b = o.name
				}
			}
			node.Inputs = append(node.Inputs, b)
		case 2:
			node.Op = "Reshape" // [1, h, w, c] → [1, w, h, c]: an alias
			out = []int{1, s[2], s[1], s[3]}
			node.Inputs = append(node.Inputs, ints(name+"/shape", 1, int32(s[2]), int32(s[1]), int32(s[3])))
		case 3:
			node.Op = "Identity"
		case 4:
			node.Op = "MaxPool"
			node.Attr = map[string]Attr{"ksize": AttrInts(1, 2, 2, 1), "strides": AttrInts(1, 2, 2, 1), "padding": AttrString("SAME")}
			out = []int{1, (s[1] + 1) / 2, (s[2] + 1) / 2, s[3]}
		case 5:
			node.Op = "Pad"
			node.Inputs = append(node.Inputs, ints(name+"/p", 0, 0, 1, 0, 0, 2, 0, 0))
			out = []int{1, s[1] + 1, s[2] + 2, s[3]}
			if out[1]*out[2] > 400 {
				continue
			}
		case 6:
			node.Op = "DepthwiseConv2dNative"
			node.Attr = map[string]Attr{"strides": AttrInts(1, 1, 1, 1), "padding": AttrString("SAME")}
			node.Inputs = append(node.Inputs, konst(name+"/w", []int{3, 3, s[3], 1}))
		case 7:
			co := 1 + rng.IntN(6)
			node.Op = "Conv2D"
			node.Attr = map[string]Attr{"strides": AttrInts(1, 1, 1, 1), "padding": AttrString("SAME")}
			k := 1 + 2*rng.IntN(2)
			node.Inputs = append(node.Inputs, konst(name+"/w", []int{k, k, s[3], co}))
			out[3] = co
			// Half are fused with a bias and maybe an activation, as
			// converted Keras models have them.
			if rng.IntN(2) == 0 {
				node.Op = "_FusedConv2D"
				ops := []string{"BiasAdd"}
				node.Inputs = append(node.Inputs, konst(name+"/bias", []int{co}))
				switch rng.IntN(3) {
				case 1:
					ops = append(ops, "Relu")
				case 2:
					ops = append(ops, "Prelu")
					node.Inputs = append(node.Inputs, konst(name+"/alpha", []int{co}))
				}
				node.Attr["fused_ops"] = AttrStrings(ops...)
				node.Attr["num_args"] = AttrInt(int64(len(node.Inputs) - 2))
			}
		case 8:
			b := pick()
			if b.shape[1] != s[1] || b.shape[2] != s[2] || s[3]+b.shape[3] > 12 {
				continue
			}
			node.Op = "ConcatV2"
			node.Inputs = append(node.Inputs, b.name, ints(name+"/axis", 3))
			out[3] += b.shape[3]
		case 9:
			// ExpandDims then Squeeze: two aliases in a row.
			e := name + "/e"
			g.Nodes = append(g.Nodes, Node{Name: e, Op: "ExpandDims", Inputs: []string{a.name, ints(name+"/ax", 0)}})
			node.Op = "Squeeze"
			node.Inputs = []string{e}
			node.Attr = map[string]Attr{"squeeze_dims": AttrInts(0)}
		}
		g.Nodes = append(g.Nodes, node)
		ts = append(ts, t{name, out})
	}
	// Outputs: the last tensor and two others (an alias among them often);
	// the rest reach them or are pruned.
	g.Outputs = []string{ts[len(ts)-1].name, ts[1+rng.IntN(len(ts)-1)].name, ts[1+rng.IntN(len(ts)-1)].name}
	g.Outputs = slices.Compact(slices.Sorted(slices.Values(g.Outputs)))
	return g, in
}

// runBoth runs m with and without buffer reuse on each input (in order,
// on the same two Runners) and fails unless every output is bit-identical.
func runBoth(t *testing.T, m *Model, shapes [][]int, feeds ...[][]float32) (reused, separate *Runner) {
	t.Helper()
	r, err := m.newRunner(true, shapes...)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := m.newRunner(false, shapes...)
	if err != nil {
		t.Fatal(err)
	}
	for k, in := range feeds {
		got, err := r.Run(in...)
		if err != nil {
			t.Fatal(err)
		}
		want, err := ref.Run(in...)
		if err != nil {
			t.Fatal(err)
		}
		for o := range want {
			for i := range want[o] {
				if math.Float32bits(got[o][i]) != math.Float32bits(want[o][i]) {
					t.Fatalf("%s: feed %d: output %d[%d]: %v with reuse, %v without", m.Name(), k, o, i, got[o][i], want[o][i])
				}
			}
		}
	}
	checkPlan(t, m, r)
	return r, ref
}

// checkPlan checks the buffer plan itself: two values share a buffer only
// when one aliases the other (a shape op) or their lives do not overlap,
// and no op writes into one of its own inputs.
func checkPlan(t *testing.T, m *Model, r *Runner) {
	t.Helper()
	aliasOp := map[string]bool{"Reshape": true, "Squeeze": true, "ExpandDims": true, "Identity": true}
	// root[i]: the node whose op wrote the buffer node i's value is in.
	root := make([]int, len(m.nodes))
	last := make([]int, len(m.nodes))
	for _, n := range m.nodes {
		root[n.id] = n.id
		if aliasOp[n.Op] && r.vals[n.id].buf != nil && r.vals[n.id].buf == r.vals[n.in[0].id].buf {
			root[n.id] = root[n.in[0].id]
		}
		// An op fused into the step writing one of its inputs has that
		// input's value: the same tensor, changed in place.
		for _, p := range n.in {
			if r.vals[n.id] == r.vals[p.id] && r.vals[p.id].buf != nil {
				root[n.id] = root[p.id]
			}
		}
		last[n.id] = n.id
		for _, p := range n.in {
			last[p.id] = max(last[p.id], n.id)
		}
	}
	for _, o := range m.outputs {
		last[o.id] = len(m.nodes)
	}
	for _, n := range m.inputs {
		last[n.id] = len(m.nodes)
	}
	// A written buffer lives from its writer to the last read of any alias.
	end := map[int]int{}
	for _, n := range m.nodes {
		end[root[n.id]] = max(end[root[n.id]], last[n.id])
	}
	for _, a := range m.nodes {
		for _, b := range m.nodes {
			va, vb := r.vals[a.id], r.vals[b.id]
			ra, rb := root[a.id], root[b.id]
			if ra >= rb || va.buf == nil || va.buf != vb.buf {
				continue
			}
			if end[ra] >= rb {
				t.Fatalf("%s: %s (written by node %d, read until %d) shares a buffer with %s (written by node %d)",
					m.Name(), a.Name, ra, end[ra], b.Name, rb)
			}
		}
	}
}

// TestReuseIdenticalRandomGraphs: on random graphs, a Runner that reuses
// buffers and fuses element-wise ops into the steps writing their inputs
// gives bit for bit the outputs of one with a buffer and a step per tensor,
// run after run.
func TestReuseIdenticalRandomGraphs(t *testing.T) {
	saved, fused := 0, 0
	for seed := uint64(1); seed <= 200; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		g, in := randomGraph(rng, 5+rng.IntN(40))
		m, err := NewModel(fmt.Sprintf("random%d", seed), g)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		feeds := make([][][]float32, 3)
		for k := range feeds {
			x := make([]float32, mustElems(in))
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			feeds[k] = [][]float32{x}
		}
		feeds = append(feeds, feeds[0]) // the first again, after others
		r, ref := runBoth(t, m, [][]int{in}, feeds...)
		if r.Bytes() > ref.Bytes() {
			t.Fatalf("seed %d: %d bytes with reuse, %d without", seed, r.Bytes(), ref.Bytes())
		}
		if r.Bytes() < ref.Bytes() {
			saved++
		}
		if len(r.steps) < len(ref.steps) {
			fused++
		}
	}
	if saved < 100 {
		t.Errorf("reuse saved memory on only %d of 200 random graphs", saved)
	}
	if fused < 30 {
		t.Errorf("element-wise ops were fused in only %d of 200 random graphs", fused)
	}
	t.Logf("memory saved in %d, ops fused in %d of 200 random graphs", saved, fused)
}

// pinnedModels loads the installed pinned TensorFlow.js models with an
// input shape each (none when they are not installed).
func pinnedModels(t testing.TB) (ms []*Model, shapes [][]int) {
	root := models.Root("")
	for _, c := range []struct {
		m     models.Model
		shape []int
	}{{models.BlazeFace(), []int{1, 256, 256, 3}}, {models.Iris(), []int{2, 64, 64, 3}}, {models.Human(), []int{1, 64, 64, 1}}, {models.FaceAPI(), []int{1, 112, 112, 3}}} {
		path, err := models.Locate(root, c.m)
		if err != nil {
			if models.Required() {
				t.Fatal(err)
			}
			t.Logf("%s: %v", c.m.Name, err)
			continue
		}
		var m *Model
		if c.m.Name == models.FaceAPI().Name {
			m, err = LoadFaceExpressionNet(path)
		} else {
			m, err = LoadGraphModel(path)
		}
		if err != nil {
			t.Fatal(err)
		}
		ms, shapes = append(ms, m), append(shapes, c.shape)
	}
	if len(ms) == 0 {
		t.Skip("no pinned model installed")
	}
	return ms, shapes
}

// TestReuseIdenticalPinnedModels: BlazeFace, iris and the expression nets
// give bit-identical outputs with and without buffer reuse, on two inputs
// run one after the other and the first again, and hold less memory with
// reuse (BlazeFace, the largest, at most a quarter). The memory is also measured independently
// of the planner's count, as the heap bytes NewRunner allocates.
func TestReuseIdenticalPinnedModels(t *testing.T) {
	ms, shapes := pinnedModels(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for i, m := range ms {
		feeds := make([][][]float32, 2)
		for k := range feeds {
			x := make([]float32, mustElems(shapes[i]))
			for j := range x {
				x[j] = rng.Float32()*2 - 1
			}
			feeds[k] = [][]float32{x}
		}
		r, ref := runBoth(t, m, shapes[i:i+1], feeds[0], feeds[1], feeds[0])
		heap := func(reuse bool) uint64 {
			var a, b runtime.MemStats
			runtime.ReadMemStats(&a)
			if _, err := m.newRunner(reuse, shapes[i]); err != nil {
				t.Fatal(err)
			}
			runtime.ReadMemStats(&b)
			return b.TotalAlloc - a.TotalAlloc
		}
		hr, hs := heap(true), heap(false)
		t.Logf("%s %v: %.1f MiB with reuse, %.1f MiB without (heap allocated by NewRunner: %.1f vs %.1f MiB)",
			m.Name(), shapes[i], float64(r.Bytes())/(1<<20), float64(ref.Bytes())/(1<<20), float64(hr)/(1<<20), float64(hs)/(1<<20))
		t.Logf("%s: %d steps with fusion, %d without", m.Name(), len(r.steps), len(ref.steps))
		// BlazeFace and iris add each block's shortcut to a convolution's
		// output and then activate: both fold into the convolution's step.
		if len(r.steps) >= len(ref.steps) && (m.Name() == "blazeface.json" || m.Name() == "iris.json") {
			t.Errorf("%s: no op fused (%d steps)", m.Name(), len(r.steps))
		}
		if r.Bytes() >= ref.Bytes() || hr >= hs || m == ms[0] && (4*r.Bytes() > ref.Bytes() || 4*hr > hs) {
			t.Errorf("%s: reuse keeps %d of %d bytes (heap %d of %d)", m.Name(), r.Bytes(), ref.Bytes(), hr, hs)
		}
	}
}

// TestRunnersOwnTheirBuffers: two Runners of one model share no buffer, so
// that a pool may run them on different goroutines at once.
func TestRunnersOwnTheirBuffers(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	g, in := randomGraph(rng, 30)
	m, err := NewModel("random", g)
	if err != nil {
		t.Fatal(err)
	}
	a, err := m.NewRunner(in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.NewRunner(in)
	if err != nil {
		t.Fatal(err)
	}
	for i, va := range a.vals {
		if va.buf != nil && va.buf == b.vals[i].buf {
			t.Fatalf("node %d: both Runners hold the same buffer", i)
		}
	}
	x := make([]float32, mustElems(in))
	for i := range x {
		x[i] = float32(i%7) - 3
	}
	want, _ := a.Run(x)
	want = cloneOuts(want)
	done := make(chan [][]float32)
	for _, r := range []*Runner{a, b} {
		go func() {
			var out [][]float32
			for k := 0; k < 50; k++ {
				out, _ = r.Run(x)
			}
			done <- cloneOuts(out)
		}()
	}
	for range 2 {
		got := <-done
		for o := range want {
			if !slices.Equal(got[o], want[o]) {
				t.Fatalf("output %d differs when two Runners run at once", o)
			}
		}
	}
}

func cloneOuts(o [][]float32) [][]float32 {
	c := make([][]float32, len(o))
	for i := range o {
		c[i] = slices.Clone(o[i])
	}
	return c
}

// BenchmarkNewRunnerBlazeFace reports the bytes a BlazeFace Runner holds.
func BenchmarkNewRunnerBlazeFace(b *testing.B) {
	path, err := models.Locate(models.Root(""), models.BlazeFace())
	if err != nil {
		b.Skip(err)
	}
	m, err := LoadGraphModel(path)
	if err != nil {
		b.Fatal(err)
	}
	var r *Runner
	for b.Loop() {
		if r, err = m.NewRunner([]int{1, 256, 256, 3}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(r.Bytes())/(1<<20), "MiB/runner")
}

// BenchmarkPinnedModels runs each pinned model's Runner on a fixed input
// (BlazeFace 1×256×256×3, iris 2×64×64×3, the expression nets) and
// reports the process's CPU time per run beside the wall time.
func BenchmarkPinnedModels(b *testing.B) {
	ms, shapes := pinnedModels(b)
	for i, m := range ms {
		name := strings.TrimSuffix(filepath.Base(m.Name()), ".json")
		b.Run(name, func(b *testing.B) {
			r, err := m.NewRunner(shapes[i])
			if err != nil {
				b.Fatal(err)
			}
			x := make([]float32, mustElems(shapes[i]))
			for j := range x {
				x[j] = float32(j%251)/251 - 0.5
			}
			c := cpuTime()
			for b.Loop() {
				if _, err := r.Run(x); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((cpuTime()-c)/float64(b.N), "cpu-ms/op")
		})
	}
}

// cpuTime is the process's user+system CPU time in milliseconds.
func cpuTime() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6
}
