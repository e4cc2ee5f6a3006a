package merclip

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tell-project/tell/facs"
	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/nn"
)

// flowInfo is a flow input of side size with the given classes.
func flowInfo(size int, classes ...string) model.Info {
	return model.Info{Kind: model.KindFlow, Layout: model.Input{Size: size}.Layout(model.KindFlow), Classes: classes}
}

func tinyConfig() Config {
	c := DefaultConfig()
	c.Visual = EncoderConfig{Patch: 4, Dim: 8, Layers: 1, Heads: 2, MLP: 2}
	c.Text = TextConfig{Dim: 8, Layers: 1, Heads: 2, MaxLen: 24}
	c.EIM = EIMConfig{Enabled: true, Dim: 8, Layers: 2, Heads: 2, Dropout: 0}
	c.EmbedDim = 6
	return c
}

// TestModelGradients checks every parameter tensor's gradient of the
// weighted MER-CLIP loss (focal + InfoNCE through visual, EIM and text
// towers) against central finite differences, for each ablation.
func TestModelGradients(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
	}{
		{"full", func(*Config) {}},
		{"no-eim", func(c *Config) { c.EIM.Enabled = false }},
		{"no-contrastive", func(c *Config) { c.Loss.Contrastive = false }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tinyConfig()
			tc.edit(&cfg)
			vocab := NewVocab(TextCorpus())
			m, err := NewModel(cfg, 1, flowInfo(8, "a", "b", "c"), vocab)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(3, 4))
			const B = 3
			x := make([]float32, B*m.Layout.Len())
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			b := &batch{x: x, y: []int{0, 2, 1}, wCon: 1.3, wCls: 0.7}
			if m.nce != nil {
				codes := []facs.Code{facs.MustParse("4+7"), facs.MustParse("R12")}
				b.rows = []int{0, 2}
				ids := make([]int32, 2*cfg.Text.MaxLen)
				for r, c := range codes {
					n := vocab.Encode(facs.Sentence(c, rng), ids[r*cfg.Text.MaxLen:(r+1)*cfg.Text.MaxLen])
					b.L = max(b.L, n)
				}
				for r := range codes {
					b.ids = append(b.ids, ids[r*cfg.Text.MaxLen:r*cfg.Text.MaxLen+b.L]...)
				}
			}
			loss := func() float64 {
				zero(m)
				cl, co, err := m.stepLoss(b)
				if err != nil {
					t.Fatal(err)
				}
				return b.wCls*float64(cl) + b.wCon*float64(co)
			}
			loss()
			params := m.Params()
			grads := make([][]float32, len(params))
			for i, p := range params {
				grads[i] = append([]float32(nil), p.Grad...)
			}
			const h = 2e-3
			for i, p := range params {
				// a few coordinates per tensor keep the test fast
				for _, j := range []int{0, len(p.Data) / 2, len(p.Data) - 1} {
					old := p.Data[j]
					p.Data[j] = old + h
					lp := loss()
					p.Data[j] = old - h
					lm := loss()
					p.Data[j] = old
					num := (lp - lm) / (2 * h)
					an := float64(grads[i][j])
					if math.Abs(num-an) > 2e-3+5e-2*math.Abs(num) {
						t.Errorf("%s[%d]: analytic %.6f, numeric %.6f", p.Name, j, an, num)
					}
				}
			}
		})
	}
}

func zero(m *Model) {
	for _, p := range m.Params() {
		clear(p.Grad)
	}
}

// TestLastBlocksReadOnlyClass: the last EIM, text and (without the EIM)
// visual blocks compute only the class token, which is all the heads read;
// scores and losses are bit-identical to the full blocks' and the gradients
// equal to rounding (the pruned blocks' weight gradients sum fewer rows).
func TestLastBlocksReadOnlyClass(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(*Config)
		pruned func(*Model) []*nn.Block
	}{
		{"full", func(*Config) {}, func(m *Model) []*nn.Block {
			return []*nn.Block{m.eimBlocks[len(m.eimBlocks)-1], m.text.blocks[len(m.text.blocks)-1]}
		}},
		{"no-eim", func(c *Config) { c.EIM.Enabled = false }, func(m *Model) []*nn.Block {
			return []*nn.Block{m.vblocks[len(m.vblocks)-1], m.text.blocks[len(m.text.blocks)-1]}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tinyConfig()
			cfg.Visual.Layers, cfg.Text.Layers = 2, 2
			tc.edit(&cfg)
			vocab := NewVocab(TextCorpus())
			m, err := NewModel(cfg, 1, flowInfo(8, "a", "b", "c"), vocab)
			if err != nil {
				t.Fatal(err)
			}
			for _, blk := range tc.pruned(m) {
				if blk.Queries != 1 {
					t.Fatalf("a last block computes %d rows, want the class token", blk.Queries)
				}
			}
			rng := rand.New(rand.NewPCG(5, 6))
			const B = 4
			x := make([]float32, B*m.Layout.Len())
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			b := &batch{x: x, y: []int{0, 2, 1, 1}, wCon: 1, wCls: 1, rows: []int{0, 1, 3}}
			for _, s := range []string{"4+7", "R12", "6+12"} {
				ids := make([]int32, cfg.Text.MaxLen)
				n := vocab.Encode(facs.Sentence(facs.MustParse(s), rng), ids)
				b.L = max(b.L, n)
				b.ids = append(b.ids, ids...)
			}
			ids := b.ids
			b.ids = nil
			for r := 0; r < 3; r++ {
				b.ids = append(b.ids, ids[r*cfg.Text.MaxLen:r*cfg.Text.MaxLen+b.L]...)
			}
			run := func() (float32, float32, []float32, [][]float32) {
				zero(m)
				cl, co, err := m.stepLoss(b)
				if err != nil {
					t.Fatal(err)
				}
				sc := append([]float32(nil), m.forwardVisual(x, B).Data...)
				var gs [][]float32
				for _, p := range m.Params() {
					gs = append(gs, append([]float32(nil), p.Grad...))
				}
				return cl, co, sc, gs
			}
			cl1, co1, sc1, g1 := run()
			for _, blk := range tc.pruned(m) {
				blk.Queries = 0
			}
			cl0, co0, sc0, g0 := run()
			if cl1 != cl0 || co1 != co0 {
				t.Fatalf("losses %v %v, full blocks %v %v", cl1, co1, cl0, co0)
			}
			for i := range sc0 {
				if sc1[i] != sc0[i] {
					t.Fatalf("score %d: %v, full blocks %v", i, sc1[i], sc0[i])
				}
			}
			for k, p := range m.Params() {
				for i := range g0[k] {
					if d := math.Abs(float64(g1[k][i] - g0[k][i])); d > 1e-6+1e-5*math.Abs(float64(g0[k][i])) {
						t.Fatalf("%s[%d]: grad %v, full blocks %v", p.Name, i, g1[k][i], g0[k][i])
					}
				}
			}
		})
	}
}
