package merclip

import (
	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/train"
)

// blockCost is the multiply-adds of one pre-norm transformer block over t
// tokens of width d with an MLP of width mlp: the four projections, the
// attention scores and their weighted sum, and the MLP.
func blockCost(t, d, mlp int) float64 {
	T, D := float64(t), float64(d)
	return 4*T*D*D + 2*T*T*D + 2*T*D*float64(mlp)
}

// textTokens is the length of an average AU sentence in tokens (a template
// of 6–8 words around one to four movements of 4–6 words).
const textTokens = 16

// Cost implements train.Coster: the visual encoder and the EIM (or the
// linear head), FitCost passes per training sample and epoch, plus the
// text tower on one sentence per sample (a forward pass only when it is
// frozen); one visual pass per prediction.
func (c Config) Cost(info model.Info, trainRows, testRows int) float64 {
	l := info.Layout
	p := c.Visual.Patch
	patches := (l.H / p) * (l.W / p)
	t := patches + 1
	D, K := c.Visual.Dim, len(info.Classes)
	vis := float64(patches*l.Channels*p*p*D) + float64(c.Visual.Layers)*blockCost(t, D, c.Visual.MLP*D)
	if c.EIM.Enabled {
		E := c.EIM.Dim
		vis += float64(t*D*E) + float64(c.EIM.Layers)*(blockCost(t, E, 4*E)+float64(E*K))
	} else {
		vis += float64(D * K)
	}
	fit := train.FitCost * vis
	if c.Loss.Contrastive {
		text := TextCost(c.Text, float64(c.EmbedDim))
		if c.Text.Freeze {
			fit += text
		} else {
			fit += train.FitCost * text
		}
		fit += train.FitCost * float64(D*c.EmbedDim)
	}
	return float64(c.Train.Epochs)*float64(trainRows)*fit + float64(testRows)*vis
}

// TextCost is the multiply-adds of one forward pass of a text tower of
// shape t on an average AU sentence, projected to embed values.
func TextCost(t TextConfig, embed float64) float64 {
	return float64(t.Layers)*blockCost(min(textTokens, t.MaxLen), t.Dim, 4*t.Dim) + float64(t.Dim)*embed
}
