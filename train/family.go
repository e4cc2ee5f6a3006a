package train

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/tell-project/tell/facs"
	"github.com/tell-project/tell/model"
)

// Family is a model family that trains ("cnn", "merclip"): model.Family
// (its name, hyper-parameters and file decoding) plus its training loop. A
// family owns its network, its hyper-parameters and its training loop; this
// package owns everything around them: preparation, protocols, resumption,
// seed ensembles, metrics and model files. A family's Fit sees the training
// side of a fold only (FitData); nothing of the test side reaches it, so no
// family can select epochs or checkpoints by test scores. Families are
// listed in a model.Families; a listed family that has no Fit cannot train.
type Family interface {
	model.Family
	// Fit trains one network.
	Fit(ctx context.Context, spec model.Spec, d *FitData, opt FitOptions) (model.Net, error)
}

// trainer returns the family called name of fs, which must train.
func trainer(fs model.Families, name string) (Family, error) {
	f, err := fs.Lookup(name)
	if err != nil {
		return nil, err
	}
	t, ok := f.(Family)
	if !ok {
		return nil, fmt.Errorf("model family %q cannot train", name)
	}
	return t, nil
}

// FitData is what one model is fitted on: the training side of a fold, or
// every row for the final model. X and Static are as in Data; Y are class
// indices into Classes; AUs are the parsed FACS codes (Empty when a row has
// none); Datasets the rows' dataset column ("" when absent).
type FitData struct {
	model.Info
	X        [][]float32
	Static   [][]float32
	Y        []int
	AUs      []facs.Code
	Datasets []string
	// Val is an optional validation set carved from the training subjects
	// (Config.Validation); nil without one. It never holds a test subject.
	Val *ValData
}

// ValData is a validation set: whole subjects of the training side.
type ValData struct {
	X        [][]float32
	Y        []int
	Subjects []string
}

// FitOptions are the per-model settings that are not hyper-parameters.
type FitOptions struct {
	// Seed initialises the model and its random streams (Config.Seed plus
	// the member index of a seed ensemble).
	Seed int64
	// Stream separates the random streams of folds (fold index + 1; 0 for
	// the final model).
	Stream uint64
	// Log receives per-epoch losses; nil for none.
	Log *slog.Logger
	// Epoch, when set, is called after every epoch (progress bars).
	Epoch func(epoch int)
}

// Logger returns opt.Log or a logger that discards.
func (opt FitOptions) Logger() *slog.Logger {
	if opt.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return opt.Log
}

// Counts returns the number of rows of each class in y.
func Counts(y []int, k int) []int {
	c := make([]int, k)
	for _, v := range y {
		c[v]++
	}
	return c
}

// BalancedWeights returns the class weights n/(K_present·n_c) of the classes
// present in y (0 for absent classes): each present class weighs the same in
// total.
func BalancedWeights(y []int, k int) []float32 {
	counts := Counts(y, k)
	present := 0
	for _, c := range counts {
		if c > 0 {
			present++
		}
	}
	w := make([]float32, k)
	for c, n := range counts {
		if n > 0 {
			w[c] = float32(len(y)) / float32(present*n)
		}
	}
	return w
}
