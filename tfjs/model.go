package tfjs

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/tell-project/tell/nn"
)

// Model is a validated graph ready to run: nodes in execution order, pruned
// to those its outputs need, every op known and its attributes checked.
type Model struct {
	name    string
	nodes   []*mnode // topological order
	inputs  []*mnode // Placeholders
	outputs []*mnode

	// filters holds the convolution filters packed for the GEMM kernel,
	// made by the first Runner that needs each and shared by all.
	mu      sync.Mutex
	filters map[*Tensor]*nn.PackedB
}

// packedFilter returns the constant filter t (k×n, row-major) packed for
// nn.GemmPackedSerial, packing it on first use.
func (m *Model) packedFilter(t *Tensor, k, n int) *nn.PackedB {
	m.mu.Lock()
	defer m.mu.Unlock()
	if pb, ok := m.filters[t]; ok {
		return pb
	}
	if m.filters == nil {
		m.filters = map[*Tensor]*nn.PackedB{}
	}
	pb := nn.PackB(k, n, t.F32, n)
	m.filters[t] = pb
	return pb
}

// mnode is a node with its inputs resolved.
type mnode struct {
	Node
	in  []*mnode
	def *opDef
	id  int
}

// NewModel validates g: names unique, inputs present, no cycle, every op
// needed for the outputs known to this package with attributes it can
// honour. name names the model in errors.
func NewModel(name string, g Graph) (*Model, error) {
	byName := make(map[string]*mnode, len(g.Nodes))
	all := make([]*mnode, 0, len(g.Nodes))
	for i := range g.Nodes {
		n := &mnode{Node: g.Nodes[i]}
		if n.Name == "" {
			return nil, fmt.Errorf("tfjs: %s: node %d has no name", name, i)
		}
		if _, dup := byName[n.Name]; dup {
			return nil, fmt.Errorf("tfjs: %s: node %q defined twice", name, n.Name)
		}
		byName[n.Name] = n
		all = append(all, n)
	}
	used := map[*mnode]bool{}
	for _, n := range all {
		for _, ref := range n.Inputs {
			src, idx, _ := strings.Cut(ref, ":")
			if idx != "" && idx != "0" {
				return nil, fmt.Errorf("tfjs: %s: node %q: input %q: only the first output of a node can be used", name, n.Name, ref)
			}
			p, ok := byName[src]
			if !ok {
				return nil, fmt.Errorf("tfjs: %s: node %q: input %q is not in the graph", name, n.Name, ref)
			}
			n.in = append(n.in, p)
			used[p] = true
		}
	}
	var outs []*mnode
	if len(g.Outputs) > 0 {
		for _, o := range g.Outputs {
			p, ok := byName[strings.TrimSuffix(o, ":0")]
			if !ok {
				return nil, fmt.Errorf("tfjs: %s: output %q is not in the graph", name, o)
			}
			outs = append(outs, p)
		}
	} else {
		for _, n := range all {
			if !used[n] && n.Op != "Const" && n.Op != "NoOp" && n.Op != "Placeholder" {
				outs = append(outs, n)
			}
		}
	}
	if len(outs) == 0 {
		return nil, fmt.Errorf("tfjs: %s: the graph has no output", name)
	}
	// Reachable set, then Kahn's algorithm over it (no recursion: a hostile
	// file may chain a million nodes).
	reach := map[*mnode]bool{}
	stack := append([]*mnode{}, outs...)
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if reach[n] {
			continue
		}
		reach[n] = true
		stack = append(stack, n.in...)
	}
	indeg := map[*mnode]int{}
	users := map[*mnode][]*mnode{}
	for _, n := range all {
		if !reach[n] {
			continue
		}
		indeg[n] += 0
		for _, p := range n.in {
			indeg[n]++
			users[p] = append(users[p], n)
		}
	}
	m := &Model{name: name, outputs: outs}
	var queue []*mnode
	for _, n := range all {
		if reach[n] && indeg[n] == 0 {
			queue = append(queue, n)
		}
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		n.id = len(m.nodes)
		m.nodes = append(m.nodes, n)
		for _, u := range users[n] {
			indeg[u]--
			if indeg[u] == 0 {
				queue = append(queue, u)
			}
		}
	}
	if len(m.nodes) != len(reach) {
		return nil, fmt.Errorf("tfjs: %s: the graph has a cycle", name)
	}
	for _, n := range m.nodes {
		def, ok := opDefs[n.Op]
		if !ok {
			return nil, fmt.Errorf("tfjs: %s: node %q: unknown op %q (not supported by this runtime)", name, n.Name, n.Op)
		}
		n.def = def
		if def.nin >= 0 && len(n.in) != def.nin || def.nin < 0 && len(n.in) < -def.nin {
			return nil, fmt.Errorf("tfjs: %s: node %q (%s): %d inputs", name, n.Name, n.Op, len(n.in))
		}
		if n.Op == "Const" && n.Value == nil {
			return nil, fmt.Errorf("tfjs: %s: node %q: constant without a value", name, n.Name)
		}
		if def.check != nil {
			if err := def.check(n); err != nil {
				return nil, fmt.Errorf("tfjs: %s: node %q (%s): %w", name, n.Name, n.Op, err)
			}
		}
		if n.Op == "Placeholder" {
			m.inputs = append(m.inputs, n)
		}
	}
	// Inputs in the order the file lists them.
	slices.SortFunc(m.inputs, func(a, b *mnode) int { return indexOf(all, a) - indexOf(all, b) })
	return m, nil
}

func indexOf(all []*mnode, n *mnode) int { return slices.Index(all, n) }

// Name is the model's name (its file name when loaded).
func (m *Model) Name() string { return m.name }

// Inputs returns the names and declared shapes of the model's inputs (-1
// for a free dimension, nil when the rank is unknown).
func (m *Model) Inputs() (names []string, shapes [][]int) {
	for _, n := range m.inputs {
		names = append(names, n.Name)
		var s []int
		if a, ok := n.Attr["shape"]; ok && a.Kind == 'h' {
			s = append([]int{}, a.Shape...)
		}
		shapes = append(shapes, s)
	}
	return names, shapes
}

// Prune returns a model computing only the named nodes of m's graph, in
// that order, and no node they do not need (its constants shared with m).
// Each output is the same, bit for bit, as when m computes it: a node's
// value depends only on the nodes it reads.
func (m *Model) Prune(outputs ...string) (*Model, error) {
	g := Graph{Nodes: make([]Node, len(m.nodes)), Outputs: outputs}
	for i, n := range m.nodes {
		g.Nodes[i] = n.Node
	}
	return NewModel(m.name, g)
}

// Outputs returns the names of the model's outputs, in Run's order.
func (m *Model) Outputs() []string {
	var out []string
	for _, n := range m.outputs {
		out = append(out, n.Name)
	}
	return out
}

// Ops counts the nodes per op that a run executes.
func (m *Model) Ops() map[string]int {
	c := map[string]int{}
	for _, n := range m.nodes {
		c[n.Op]++
	}
	return c
}

// value is a node's output in a Runner: float data (in one of the Runner's
// buffers, or a constant's) and, for constants, the tensor itself.
type value struct {
	shape []int
	data  []float32
	konst *Tensor
	buf   *buffer  // the Runner's buffer that data lies in; nil for constants
	fuse  *fusable // the step writing data, when later element-wise ops may run inside it
}

// buffer is one allocation of a Runner. An op's output and the reshapes
// that alias it share a buffer; once the last node that reads any of them
// has been compiled, a later op may write its own output there.
type buffer struct {
	data []float32 // the whole allocation
	last int       // id of the last node that reads it (keepAlive: never freed)
}

// Runner executes a Model for fixed input shapes with buffers allocated
// once. Not safe for concurrent use.
type Runner struct {
	m       *Model
	vals    []*value
	steps   []func()
	scratch []float32
	ins     []*value
	outs    [][]float32
	shapes  [][]int
	floats  int // float32 values allocated for the Runner, scratch included
}

// compiler builds a Runner's steps.
type compiler struct {
	r       *Runner
	scratch int
	total   int // floats allocated so far
	err     error
	reuse   bool        // let ops write into the buffers of dead tensors
	fuse    bool        // let element-wise ops run inside the step writing their input
	free    []*buffer   // buffers no later step reads
	dying   [][]*buffer // dying[i]: buffers whose last reader may be node i
	uses    []int       // uses[i]: inputs of other nodes that are node i
	last    []int       // last[i]: the last node that reads node i (keepAlive: an output)
}

// runnerBudget bounds the float32 values one Runner may allocate (1 GiB):
// a model or input shape that needs more is refused by NewRunner before
// the memory is taken.
var runnerBudget = 1 << 28 // a variable only so that the fuzz tests can lower it

// alloc returns a tensor of shape: a free buffer when one is large enough
// (the smallest such; its old contents remain, so every op must write the
// whole of its output on each run, as they all do), else a new zeroed one.
// Past runnerBudget it records an error (reported after the node) and
// returns an empty tensor.
func (c *compiler) alloc(shape []int) *value {
	n, err := elems(shape)
	if err == nil && n == 0 {
		return &value{shape: shape, data: []float32{}}
	}
	if err == nil && c.reuse {
		best := -1
		for i, b := range c.free {
			if len(b.data) >= n && (best < 0 || len(b.data) < len(c.free[best].data)) {
				best = i
			}
		}
		if best >= 0 {
			b := c.free[best]
			c.free = slices.Delete(c.free, best, best+1)
			b.last = -1
			// Capacity n: an op indexing past its tensor panics as it
			// would in a buffer of its own, rather than reading a stale tail.
			return &value{shape: shape, data: b.data[:n:n], buf: b}
		}
	}
	if err == nil && c.total+n > runnerBudget {
		err = fmt.Errorf("tensors of more than %d values in all (shape %v)", runnerBudget, shape)
	}
	if err != nil {
		if c.err == nil {
			c.err = err
		}
		return &value{shape: shape, data: []float32{}}
	}
	c.total += n
	b := &buffer{data: make([]float32, n), last: -1}
	return &value{shape: shape, data: b.data, buf: b}
}

// keepAlive is the last reader of a buffer that is never freed: a model's
// inputs and outputs and what they alias.
const keepAlive = math.MaxInt

// hold records that v is read up to node last (keepAlive: by the caller).
func (c *compiler) hold(v *value, last int) {
	b := v.buf
	if b == nil || b.last >= last {
		return
	}
	b.last = last
	if last != keepAlive {
		c.dying[last] = append(c.dying[last], b)
	}
}

// release frees the buffers that no node after id reads.
func (c *compiler) release(id int) {
	for _, b := range c.dying[id] {
		if b.last == id { // else held longer by an alias since
			c.free = append(c.free, b)
		}
	}
	c.dying[id] = nil
}

// needScratch reserves n floats of scratch, shared by all steps (they run
// one after another); steps read it through c.r.scratch at run time.
func (c *compiler) needScratch(n int) {
	if n > c.scratch {
		if c.total-c.scratch+n > runnerBudget && c.err == nil {
			c.err = fmt.Errorf("scratch of %d values exceeds the budget of %d", n, runnerBudget)
			return
		}
		c.total += n - c.scratch
		c.scratch = n
	}
}

func (c *compiler) step(f func()) { c.r.steps = append(c.r.steps, f) }

// NewRunner prepares the model for inputs of the given shapes (one per
// input, in Inputs' order; they must agree with the declared shapes).
//
// Intermediate tensors share buffers: each node's output may be written
// into the buffer of a tensor that no later node reads (liveness over the
// execution order; never one of the node's own inputs), while the model's
// inputs and outputs keep buffers of their own. The arithmetic is the same
// as with a buffer per tensor, so outputs are identical; only the memory
// shrinks (see Bytes). Element-wise ops whose input nothing else reads run
// inside the step writing that input, in place (see the package doc).
func (m *Model) NewRunner(inputShapes ...[]int) (*Runner, error) {
	return m.newRunner(true, inputShapes...)
}

// newRunner is NewRunner, with a buffer and a step per tensor (no reuse,
// no fused ops) when reuse is false (tests compare the two).
func (m *Model) newRunner(reuse bool, inputShapes ...[]int) (*Runner, error) {
	if len(inputShapes) != len(m.inputs) {
		return nil, fmt.Errorf("tfjs: %s: %d input shapes for %d inputs", m.name, len(inputShapes), len(m.inputs))
	}
	r := &Runner{m: m, vals: make([]*value, len(m.nodes))}
	c := &compiler{r: r, reuse: reuse, fuse: reuse, dying: make([][]*buffer, len(m.nodes)), uses: make([]int, len(m.nodes))}
	// last[i]: the last node that reads node i's output.
	last := make([]int, len(m.nodes))
	c.last = last
	for _, n := range m.nodes {
		last[n.id] = n.id
		for _, p := range n.in {
			last[p.id] = max(last[p.id], n.id)
			c.uses[p.id]++
		}
	}
	for _, n := range m.inputs {
		last[n.id] = keepAlive
	}
	for _, o := range m.outputs {
		last[o.id] = keepAlive
	}
	for i, n := range m.inputs {
		s := inputShapes[i]
		if _, err := elems(s); err != nil {
			return nil, fmt.Errorf("tfjs: %s: input %q: %w", m.name, n.Name, err)
		}
		if a, ok := n.Attr["shape"]; ok && a.Kind == 'h' && a.Shape != nil {
			if len(a.Shape) != len(s) {
				return nil, fmt.Errorf("tfjs: %s: input %q wants rank %d (%v), got shape %v", m.name, n.Name, len(a.Shape), a.Shape, s)
			}
			for k, d := range a.Shape {
				if d >= 0 && d != s[k] || s[k] <= 0 {
					return nil, fmt.Errorf("tfjs: %s: input %q wants shape %v, got %v", m.name, n.Name, a.Shape, s)
				}
			}
		}
		v := c.alloc(append([]int{}, s...))
		if c.err != nil {
			return nil, fmt.Errorf("tfjs: %s: input %q: %w", m.name, n.Name, c.err)
		}
		c.hold(v, keepAlive)
		r.vals[n.id] = v
		r.ins = append(r.ins, v)
	}
	for _, n := range m.nodes {
		if n.Op == "Placeholder" {
			continue
		}
		in := make([]*value, len(n.in))
		for i, p := range n.in {
			in[i] = r.vals[p.id]
		}
		v, err := n.def.compile(c, n, in)
		if c.err != nil {
			err = c.err
		}
		if err != nil {
			return nil, fmt.Errorf("tfjs: %s: node %q (%s): %w", m.name, n.Name, n.Op, err)
		}
		r.vals[n.id] = v
		// Hold first: a reshape of an input read last here keeps the
		// input's buffer alive.
		c.hold(v, last[n.id])
		c.release(n.id)
	}
	r.scratch = make([]float32, c.scratch)
	r.floats = c.total
	for _, o := range m.outputs {
		v := r.vals[o.id]
		if v.data == nil {
			return nil, fmt.Errorf("tfjs: %s: output %q is not a float tensor", m.name, o.Name)
		}
		r.outs = append(r.outs, v.data)
		r.shapes = append(r.shapes, v.shape)
	}
	return r, nil
}

// Bytes is the memory the Runner's tensors and scratch hold (constants,
// which Runners of a Model share, not counted).
func (r *Runner) Bytes() int { return 4 * r.floats }

// OutputShapes returns the shape of each output.
func (r *Runner) OutputShapes() [][]int { return r.shapes }

// Run executes the model on inputs (row-major, one per input, each of the
// shape given to NewRunner) and returns the outputs. The returned slices
// belong to the Runner and are overwritten by the next Run.
func (r *Runner) Run(inputs ...[]float32) ([][]float32, error) {
	if len(inputs) != len(r.ins) {
		return nil, fmt.Errorf("tfjs: %s: %d inputs, want %d", r.m.name, len(inputs), len(r.ins))
	}
	for i, x := range inputs {
		if len(x) != len(r.ins[i].data) {
			return nil, fmt.Errorf("tfjs: %s: input %d has %d values, want %d (shape %v)", r.m.name, i, len(x), len(r.ins[i].data), r.ins[i].shape)
		}
		copy(r.ins[i].data, x)
	}
	for _, s := range r.steps {
		s()
	}
	return r.outs, nil
}
