package llm

import (
	"context"
	"image"

	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/facs"
)

// DefaultClasses is the label set of `tell analyze` when none is given: the
// seven basic emotions plus neutral and others, the labels the built-in
// engine uses without a class set.
func DefaultClasses() []string {
	return append(facs.BasicEmotions(), facs.Neutral, facs.Others)
}

// EventReasoner adapts a Reasoner to the per-event shape of package
// analyze (analyze.Reasoner): evidence plus images in the order onset,
// apex and, when present, the flow between them. The CoT it returns
// carries any fallback reason in Verification.Feedback, so events.json
// records why the model's answer was not used.
type EventReasoner struct {
	R Reasoner
	// Classes is the label set (nil: DefaultClasses).
	Classes []string
}

// Reason implements analyze.Reasoner.
func (e EventReasoner) Reason(ctx context.Context, ev []cot.Evidence, images []image.Image) (cot.CoT, error) {
	req := Request{Evidence: ev, Classes: e.Classes}
	if len(req.Classes) == 0 {
		req.Classes = DefaultClasses()
	}
	switch {
	case len(images) >= 2:
		req.Onset, req.Apex = images[0], images[1]
		if len(images) >= 3 {
			req.Flow = images[2]
		}
	case len(images) == 1:
		req.Apex = images[0]
	}
	ans, err := e.R.Reason(ctx, req)
	if err != nil {
		return cot.CoT{}, err
	}
	return ans.CoT, nil
}
