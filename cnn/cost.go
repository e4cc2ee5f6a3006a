package cnn

import (
	"github.com/tell-project/tell/merclip"
	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/train"
)

// Cost implements train.Coster: the multiply-adds of the convolution and
// the linear heads, with the element-wise layers (ReLU, BatchNorm, pools,
// the jitter's resampling, LocalStaticFaceMix's blend) counted once per
// value they touch; the AU-text alignment's projection and text tower; FitCost
// passes per training sample and epoch, one forward pass per prediction
// (two with test-time flip).
func (c Config) Cost(info model.Info, trainRows, testRows int) float64 {
	l := info.Layout
	n := float64(c.channels())
	hw := float64(l.H * l.W)
	h1, w1 := poolOut(l.H, 3, 3, 1), poolOut(l.W, 3, 3, 1)
	h2, w2 := poolOut(h1, 2, 2, 0), poolOut(w1, 2, 2, 0)
	feat := n * float64(h2*w2)
	fwd := hw*float64(l.Channels)*9*n + // convolution
		2*hw*n + // ReLU, BatchNorm
		9*float64(h1*w1)*n + 4*float64(h2*w2)*n + // pools
		feat*float64(len(info.Classes))
	if c.AU.Weight > 0 {
		fwd += feat * 2 * maxAU
	}
	var aug float64
	if c.Augment.Shift > 0 || c.Augment.Rotate > 0 || c.Augment.Scale > 0 {
		aug = 4 * hw * float64(l.Channels)
	}
	if c.Augment.Mix.P > 0 {
		aug += c.Augment.Mix.P * hw / 4 * float64(l.Channels) // one region of a quarter of the face
	}
	fit := train.FitCost * fwd
	if c.Text.Weight > 0 {
		// The projection, and MER-CLIP's text tower on one sentence per row.
		t, e := c.Text.tower(), float64(c.Text.embed())
		fit += train.FitCost * (feat*e + merclip.TextCost(t, e))
	}
	pred := fwd
	if c.Augment.TestFlip {
		pred *= 2
	}
	return float64(c.Train.Epochs)*float64(trainRows)*(fit+aug) + float64(testRows)*pred
}
