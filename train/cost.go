package train

import (
	"github.com/tell-project/tell/dataset"
	"github.com/tell-project/tell/model"
)

// Coster is a Spec that estimates its own compute, so that a sweep can rank
// candidates by cost before any of them trains (a measured time depends on
// the machine and its load; the rule must not).
type Coster interface {
	// Cost estimates the multiply-adds of fitting one model on train rows
	// of info's input (all epochs, forward and backward) and of predicting
	// test rows.
	Cost(info model.Info, train, test int) float64
}

// FitCost is the usual estimate of one training step per sample: a forward
// pass and a backward pass of about twice its multiply-adds.
const FitCost = 3

// runCost estimates the multiply-adds of a run's folds: each fold fits the
// Members of cfg on its training side and predicts its test side. A family
// whose Spec is not a Coster is charged epochs × rows × input values, a
// proxy that ranks its own configs by epochs and data alone.
func runCost(cfg Config, info model.Info, folds []dataset.Fold) float64 {
	var total float64
	for i := range folds {
		tr, te := folds[i].Train().Len(), folds[i].Test().Len()
		var c float64
		if cs, ok := cfg.Spec.(Coster); ok {
			c = cs.Cost(info, tr, te)
		} else {
			c = float64(cfg.Spec.Epochs())*float64(tr)*float64(info.Layout.Len())*FitCost + float64(te)*float64(info.Layout.Len())
		}
		total += c * float64(cfg.Members)
	}
	return total
}
