package merclip

import (
	"fmt"
	"testing"

	"github.com/tell-project/tell/model"
)

func ExampleRegion_Bounds() {
	for r := Forehead; r <= RightCheek; r++ {
		y0, y1, x0, x1 := r.Bounds(28, 28)
		fmt.Printf("%s: rows [%d,%d) cols [%d,%d)\n", r, y0, y1, x0, x1)
	}
	// Output:
	// forehead: rows [0,7) cols [0,28)
	// chin: rows [21,28) cols [0,28)
	// left cheek: rows [7,21) cols [0,14)
	// right cheek: rows [7,21) cols [14,28)
}

func ExampleMixRegion() {
	// One 4×4 flow frame with u=v=strain=1 everywhere: mixing a static
	// face (no motion) into the chin with alpha 0.5 halves the motion there.
	l := model.Layout{Frames: 1, Channels: 3, H: 4, W: 4, Motion: []bool{true, true, true}}
	x := make([]float32, l.Len())
	for i := range x {
		x[i] = 1
	}
	MixRegion(x, l, nil, Chin, 0.5)
	fmt.Println(x[:16])
	// Output: [1 1 1 1 1 1 1 1 1 1 1 1 0.5 0.5 0.5 0.5]
}

func ExampleParseConfig() {
	// The paper's ablation "without EIM", everything else at the defaults.
	c, err := ParseConfig([]byte(`{"eim": {"enabled": false}}`))
	fmt.Println(c.EIM.Enabled, c.Loss.Contrastive, c.Mix.P, c.Loss.FocalGamma, err)
	// Output: false true 0.5 2 <nil>
}

// BenchmarkTrainStep measures one forward+backward step of the default
// model on a batch of 16 flows with AU text.
func BenchmarkTrainStep(b *testing.B) {
	cfg := DefaultConfig()
	vocab := NewVocab(TextCorpus())
	m, err := NewModel(cfg, 1, flowInfo(28, "negative", "positive", "surprise"), vocab)
	if err != nil {
		b.Fatal(err)
	}
	const B = 16
	x := make([]float32, B*m.Layout.Len())
	for i := range x {
		x[i] = float32(i%13)/13 - 0.5
	}
	bt := &batch{x: x, wCon: 1.5, wCls: 0.5, train: true}
	ids := make([]int32, cfg.Text.MaxLen)
	for i := 0; i < B; i++ {
		bt.y = append(bt.y, i%3)
		n := vocab.Encode("This micro-expression involves a combination of lowering the brows and tightening the lids.", ids)
		bt.L = n
		bt.ids = append(bt.ids, ids[:n]...)
		bt.rows = append(bt.rows, i)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		zero(m)
		if _, _, err := m.stepLoss(bt); err != nil {
			b.Fatal(err)
		}
	}
}
