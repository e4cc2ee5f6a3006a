package train

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/tell-project/tell/facs"
	"github.com/tell-project/tell/nn"
)

// Family is one kind of model tell trains ("cnn", "merclip"). A family owns
// its network, its hyper-parameters (a Spec) and its training loop; this
// package owns everything around them: preparation, protocols, resumption,
// seed ensembles, metrics and model files. A family's Fit sees the training
// side of a fold only (FitData); nothing of the test side reaches it, so no
// family can select epochs or checkpoints by test scores.
type Family interface {
	// Name is the family's name in configs and model files.
	Name() string
	// DefaultSpec returns the family's default hyper-parameters.
	DefaultSpec() Spec
	// ParseSpec decodes JSON over the defaults (unknown fields are errors)
	// and validates the result.
	ParseSpec(b []byte) (Spec, error)
	// Fit trains one model.
	Fit(ctx context.Context, spec Spec, d *FitData, opt FitOptions) (Model, error)
	// Decode rebuilds a model from the tensors and metadata its Encode
	// returned (tensor names as Encode gave them).
	Decode(spec Spec, info Info, tensors map[string]*nn.Tensor, meta map[string]string) (Model, error)
}

// Spec is a family's hyper-parameters; it marshals to JSON.
type Spec interface {
	// Validate reports the first fields that cannot work, naming them.
	Validate() error
	// Epochs is the number of passes over the training data.
	Epochs() int
	// WithEpochs returns a copy with the number of epochs replaced (--epochs).
	WithEpochs(n int) Spec
}

// Model is one trained network. Its methods are not safe for concurrent use
// (models reuse their buffers).
type Model interface {
	// Scores returns class scores (logits, one row of len(Classes) per
	// input) for prepared inputs (Layout.Len() values each, as Prepare
	// returns them).
	Scores(xs [][]float32) [][]float32
	// Encode returns the model's tensors and metadata, for model files.
	Encode() (map[string]*nn.Tensor, map[string]string)
}

// Info is what every model of a run shares: its input and its classes.
type Info struct {
	Kind    Kind
	Layout  Layout
	Classes []string
}

// FitData is what one model is fitted on: the training side of a fold, or
// every row for the final model. X and Static are as in Data; Y are class
// indices into Classes; AUs are the parsed FACS codes (Empty when a row has
// none); Datasets the rows' dataset column ("" when absent).
type FitData struct {
	Info
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

// Families lists the model families a program knows; the first is the
// default.
type Families []Family

// Lookup returns the family called name.
func (fs Families) Lookup(name string) (Family, error) {
	for _, f := range fs {
		if f.Name() == name {
			return f, nil
		}
	}
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Name()
	}
	return nil, fmt.Errorf("unknown model family %q (want %s)", name, strings.Join(names, " or "))
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
