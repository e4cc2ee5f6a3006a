package analyze

import (
	"context"
	"errors"
	"fmt"
	"image"
	"sync"

	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/raster"
)

// FlowScorer gives class probabilities for an event (a flow model trained
// by tell train). tell analyze's event scorer fuses them with the
// appearance and AU evidence (see scoreEvent).
type FlowScorer interface {
	FlowScores(ctx context.Context, in FlowInput) (classes []string, probs map[string]float64, err error)
}

// FlowInput is what a flow model may see of an event.
type FlowInput struct {
	// Onset and Apex are the event's onset and apex frames, whole, as read
	// (nil when not kept: see FramesScorer).
	Onset, Apex *raster.Gray
	// Faces are the onset and apex faces as analyze aligns them (its
	// crops), for models trained on such crops.
	Faces []image.Image
}

// FramesScorer is a FlowScorer that needs the events' whole onset and
// apex frames: analyze then keeps the most recent frames (within
// modelFrameBudget).
type FramesScorer interface {
	FlowScorer
	WantsFrames() bool
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
	// chance on real clips). It was trained on frames framed as analyze's
	// face crops, and sees those.
	Builtin bool
	// Aligner aligns an event's onset and apex frames as tell prepare
	// aligns a frames row's (when the model's config asks for alignment);
	// nil: tell prepare's default (the default landmark model, auto mode).
	Aligner *model.Aligner
	once    sync.Once
}

func (r *ModelReasoner) aligner() *model.Aligner {
	r.once.Do(func() {
		if r.Aligner == nil {
			r.Aligner = model.NewAligner("", face.FindAuto)
		}
	})
	return r.Aligner
}

// NewModelReasoner loads RUN/model.safetensors, whose family must be one
// of fs; its events' frames are aligned with the landmark model at
// landmarks ("" for the default) found in mode, as tell prepare does.
func NewModelReasoner(path string, fs model.Families, landmarks string, mode face.FindMode) (*ModelReasoner, error) {
	m, err := model.Load(path, fs)
	if err != nil {
		return nil, err
	}
	if m.Kind != model.KindFlow {
		return nil, fmt.Errorf("model %s sees %q inputs; tell analyze needs a flow (micro-expression) model", path, m.Kind)
	}
	return &ModelReasoner{Model: m, Aligner: model.NewAligner(landmarks, mode)}, nil
}

// WantsFrames implements FramesScorer: a trained model takes the whole
// onset and apex frames, as tell prepare reads a frames row; the shipped
// model takes analyze's face crops.
func (r *ModelReasoner) WantsFrames() bool { return !r.Builtin }

// Reason implements Reasoner for a caller that has no appearance net: the
// model's probabilities fused with the AU evidence, explained by the
// Exp-CoT engine.
func (r *ModelReasoner) Reason(ctx context.Context, ev []cot.Evidence, images []image.Image) (cot.CoT, error) {
	in := FlowInput{Faces: images}
	if len(images) >= 2 && images[0] != nil && images[1] != nil {
		in.Onset, in.Apex = raster.FromImage(images[0]), raster.FromImage(images[1])
	}
	classes, probs, err := r.FlowScores(ctx, in)
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
// mean of its members' softmax) for the event's input, which is
// model.FramesInput of its onset and apex frames (aligned when the model's
// config aligns), exactly as tell prepare makes a frames row's; for a
// model trained on flow images (the releases' min-max normalised u, v,
// strain) that flow re-encoded as such an image (model.AsFlowImage); the
// shipped model's from analyze's face crops.
func (r *ModelReasoner) FlowScores(ctx context.Context, in FlowInput) ([]string, map[string]float64, error) {
	x, err := r.Input(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	p := r.Model.Probabilities([][]float32{x})[0]
	probs := map[string]float64{}
	for i, v := range p {
		probs[r.Model.Classes[i]] = float64(v)
	}
	return r.Model.Classes, probs, nil
}

// Input is the model's input tensor for an event (see FlowScores).
func (r *ModelReasoner) Input(ctx context.Context, in FlowInput) ([]float32, error) {
	if r.Model.Kind != model.KindFlow {
		return nil, fmt.Errorf("model reasoner: input is %s, not flow", r.Model.Kind)
	}
	onset, apex := in.Onset, in.Apex
	var al *model.Aligner
	if r.Builtin {
		if len(in.Faces) < 2 || in.Faces[0] == nil || in.Faces[1] == nil {
			return nil, errors.New("model reasoner: needs the onset and apex faces")
		}
		onset, apex = raster.FromImage(in.Faces[0]), raster.FromImage(in.Faces[1])
	} else if r.Model.Config.Input.Align {
		al = r.aligner()
	}
	if onset == nil || apex == nil {
		return nil, errors.New("model reasoner: needs the onset and apex frames")
	}
	if onset.W != apex.W || onset.H != apex.H || onset.W < 3 || onset.H < 3 {
		return nil, fmt.Errorf("model reasoner: onset %dx%d and apex %dx%d frames", onset.W, onset.H, apex.W, apex.H)
	}
	x, _, _, err := model.FramesInput(ctx, al, onset, apex, r.Model.Layout)
	if err != nil {
		return nil, fmt.Errorf("model reasoner: %w", err)
	}
	if r.Model.Source == model.SourceFlowImages {
		// Trained on released flow images: the same flow, stored as they
		// store it (min-max per channel, 8 bits) and read as tell prepare
		// reads a flow row.
		if x, err = model.AsFlowImage(x, r.Model.Layout); err != nil {
			return nil, fmt.Errorf("model reasoner: %w", err)
		}
	}
	return x, nil
}
