package analyze

import (
	"context"
	"errors"
	"fmt"
	"image"

	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/raster"
)

// FlowScorer gives class probabilities for an event from its onset and
// apex faces (a flow model trained by tell train). tell analyze's event scorer fuses
// them with the appearance and AU evidence (see scoreEvent).
type FlowScorer interface {
	FlowScores(ctx context.Context, images []image.Image) (classes []string, probs map[string]float64, err error)
}

// ModelReasoner brings a flow model trained by tell train into the
// event scorer: its probabilities over its classes, from the onset and
// apex faces, are one of the experts fused there, and its classes are the
// label set. The chain of thought is the Exp-CoT engine's for the fused
// label (ExpLLM's label-first order).
type ModelReasoner struct {
	Model *model.Classifier
	Seed  uint64
	// Builtin marks the shipped synthetic model, which the event scorer
	// runs and reports but does not weigh (development data put it at
	// chance on real clips).
	Builtin bool
}

// NewModelReasoner loads RUN/model.safetensors, whose family must be one
// of fs.
func NewModelReasoner(path string, fs model.Families) (*ModelReasoner, error) {
	m, err := model.Load(path, fs)
	if err != nil {
		return nil, err
	}
	if m.Kind != model.KindFlow {
		return nil, fmt.Errorf("model %s sees %q inputs; tell analyze needs a flow (micro-expression) model", path, m.Kind)
	}
	return &ModelReasoner{Model: m}, nil
}

// Reason implements Reasoner for a caller that has no appearance net: the
// model's probabilities fused with the AU evidence, explained by the
// Exp-CoT engine.
func (r *ModelReasoner) Reason(ctx context.Context, ev []cot.Evidence, images []image.Image) (cot.CoT, error) {
	classes, probs, err := r.FlowScores(ctx, images)
	if err != nil {
		return cot.CoT{}, err
	}
	s, err := scoreEvent(scoreInput{ev: ev, measured: true, flow: probs, classes: classes, builtinFlow: r.Builtin})
	if err != nil {
		return cot.CoT{}, err
	}
	return cot.Conclude(ev, s.label, s.conf, cot.ConcludeOptions{Options: cot.Options{Seed: r.Seed, Classes: classes}, Basis: s.basis, AUAlone: s.auAlone, Doubt: s.doubt})
}

// FlowScores implements FlowScorer: the model's class probabilities (the
// mean of its members' softmax).
func (r *ModelReasoner) FlowScores(ctx context.Context, images []image.Image) ([]string, map[string]float64, error) {
	if len(images) < 2 || images[0] == nil || images[1] == nil {
		return nil, nil, errors.New("model reasoner: needs the onset and apex faces")
	}
	x, err := r.Model.InputFromFrames(ctx, raster.FromImage(images[0]), raster.FromImage(images[1]))
	if err != nil {
		return nil, nil, fmt.Errorf("model reasoner: %w", err)
	}
	p := r.Model.Probabilities([][]float32{x})[0]
	probs := map[string]float64{}
	for i, v := range p {
		probs[r.Model.Classes[i]] = float64(v)
	}
	return r.Model.Classes, probs, nil
}
