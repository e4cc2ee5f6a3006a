package analyze

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"

	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/merclip"
	"github.com/tell-project/tell/raster"
)

// ScoringReasoner is a Reasoner that also gives a probability per class;
// events.json then reports those instead of the prototype-match prior.
type ScoringReasoner interface {
	Reasoner
	ReasonScores(ctx context.Context, ev []cot.Evidence, images []image.Image) (cot.CoT, map[string]float64, error)
}

// ModelReasoner labels an event with a trained MER-CLIP model (tell train)
// from its onset and apex faces, then writes the chain of thought with the
// Exp-CoT engine conditioned on that label (ExpLLM's label-first order).
// When the AU evidence cannot support the model's label, the CoT keeps the
// evidence-only reading and its Verification is flagged.
type ModelReasoner struct {
	Model *merclip.Model
	Seed  uint64
	// Prior fuses the model's probabilities with the Exp-CoT prior (the
	// AUs' prototype match) by product, for classes the prior knows.
	Prior bool
}

// NewModelReasoner loads RUN/model.safetensors.
func NewModelReasoner(path string) (*ModelReasoner, error) {
	m, err := merclip.LoadModel(path)
	if err != nil {
		return nil, err
	}
	if m.Kind != merclip.KindFlow {
		return nil, fmt.Errorf("model %s sees %q inputs; tell analyze needs a flow (micro-expression) model", path, m.Kind)
	}
	return &ModelReasoner{Model: m}, nil
}

// Reason implements Reasoner.
func (r *ModelReasoner) Reason(ctx context.Context, ev []cot.Evidence, images []image.Image) (cot.CoT, error) {
	c, _, err := r.ReasonScores(ctx, ev, images)
	return c, err
}

// ReasonScores implements ScoringReasoner.
func (r *ModelReasoner) ReasonScores(ctx context.Context, ev []cot.Evidence, images []image.Image) (cot.CoT, map[string]float64, error) {
	if len(images) < 2 || images[0] == nil || images[1] == nil {
		return cot.CoT{}, nil, errors.New("model reasoner: needs the onset and apex faces")
	}
	x, err := r.Model.InputFromFrames(ctx, raster.FromImage(images[0]), raster.FromImage(images[1]))
	if err != nil {
		return cot.CoT{}, nil, fmt.Errorf("model reasoner: %w", err)
	}
	scores := r.Model.Predict([][]float32{x})[0]
	// Softmax over the class scores.
	var mx float64 = math.Inf(-1)
	for _, s := range scores {
		mx = math.Max(mx, float64(s))
	}
	probs := map[string]float64{}
	var z float64
	best := 0
	for i, s := range scores {
		z += math.Exp(float64(s) - mx)
		if s > scores[best] {
			best = i
		}
	}
	for i, s := range scores {
		probs[r.Model.Classes[i]] = round3(math.Exp(float64(s)-mx) / z)
	}
	if r.Prior {
		prior := priorScores(ev)
		var z float64
		for k, p := range probs {
			if q, ok := prior[k]; ok {
				probs[k] = p * q
			}
			z += probs[k]
		}
		for k := range probs {
			probs[k] = round3(probs[k] / z)
		}
		for i, c := range r.Model.Classes {
			if probs[c] > probs[r.Model.Classes[best]] {
				best = i
			}
		}
	}
	label := r.Model.Classes[best]
	c, err := cot.Generate(ev, label, cot.Options{Seed: r.Seed, Classes: r.Model.Classes, Probabilities: probs})
	if err != nil {
		return cot.CoT{}, nil, err
	}
	c.Conclusion.Label = label
	c.Conclusion.Confidence = probs[label]
	return c, probs, nil
}
