package train

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/nn"
)

// centroid is a model family for this package's tests: a nearest class
// mean classifier (scores are negative squared distances). It learns the
// synthetic flows, is deterministic and fast, and records what each Fit
// call saw, so tests can check that no test row ever reaches a family.
type centroid struct {
	mu   sync.Mutex
	seen []fitCall
}

type fitCall struct {
	stream uint64
	seed   int64
	x      [][]float32
	val    *ValData
}

type centroidSpec struct {
	N int `json:"epochs"`
}

func (s centroidSpec) Validate() error {
	if s.N <= 0 {
		return errors.New("epochs: must be positive")
	}
	return nil
}
func (s centroidSpec) Epochs() int                 { return s.N }
func (s centroidSpec) WithEpochs(n int) model.Spec { s.N = n; return s }

func (*centroid) Name() string            { return "centroid" }
func (*centroid) DefaultSpec() model.Spec { return centroidSpec{N: 2} }
func (*centroid) ParseSpec(b []byte) (model.Spec, error) {
	s := centroidSpec{N: 2}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, err
	}
	return s, s.Validate()
}

type centroidModel struct {
	means *nn.Tensor // [K, L]
	seed  int64
}

func (f *centroid) Fit(ctx context.Context, spec model.Spec, d *FitData, opt FitOptions) (model.Net, error) {
	f.mu.Lock()
	f.seen = append(f.seen, fitCall{stream: opt.Stream, seed: opt.Seed, x: d.X, val: d.Val})
	f.mu.Unlock()
	K, L := len(d.Classes), d.Layout.Len()
	m := &centroidModel{means: nn.NewTensor(K, L), seed: opt.Seed}
	n := make([]float32, K)
	for i, x := range d.X {
		nn.AddTo(m.means.Data[d.Y[i]*L:(d.Y[i]+1)*L], x)
		n[d.Y[i]]++
	}
	for k := range n {
		if n[k] > 0 {
			nn.Scale(m.means.Data[k*L:(k+1)*L], 1/n[k])
		}
	}
	for ep := 1; ep <= spec.Epochs(); ep++ {
		if opt.Epoch != nil {
			opt.Epoch(ep)
		}
	}
	return m, ctx.Err()
}

func (m *centroidModel) Scores(xs [][]float32) [][]float32 {
	K, L := m.means.Shape[0], m.means.Shape[1]
	out := make([][]float32, len(xs))
	for i, x := range xs {
		out[i] = make([]float32, K)
		for k := 0; k < K; k++ {
			var d float32
			for j, v := range m.means.Data[k*L : (k+1)*L] {
				d += (x[j] - v) * (x[j] - v)
			}
			out[i][k] = -d
		}
	}
	return out
}

func (m *centroidModel) Encode() (map[string]*nn.Tensor, map[string]string) {
	return map[string]*nn.Tensor{"means": m.means}, map[string]string{"seed": fmt.Sprint(m.seed)}
}

func (*centroid) Decode(spec model.Spec, info model.Info, ts map[string]*nn.Tensor, meta map[string]string) (model.Net, error) {
	m := &centroidModel{means: nn.NewTensor(len(info.Classes), info.Layout.Len())}
	fmt.Sscan(meta["seed"], &m.seed)
	if err := model.CopyTensors(map[string]*nn.Tensor{"means": m.means}, ts); err != nil {
		return nil, err
	}
	return m, nil
}

// TestBalancedWeights: n/(K·n_c) over the classes present, 0 for absent
// ones, so that every present class carries the same total weight.
func TestBalancedWeights(t *testing.T) {
	y := []int{0, 0, 0, 1, 2, 2}
	w := BalancedWeights(y, 4)
	want := []float32{6.0 / 9, 2, 1, 0}
	for c := range want {
		if math.Abs(float64(w[c]-want[c])) > 1e-6 {
			t.Errorf("weight of class %d = %v, want %v", c, w[c], want[c])
		}
	}
	var total [4]float32
	for _, c := range y {
		total[c] += w[c]
	}
	for c := 0; c < 3; c++ {
		if math.Abs(float64(total[c]-2)) > 1e-5 {
			t.Errorf("class %d carries %v, want 2", c, total[c])
		}
	}
}
