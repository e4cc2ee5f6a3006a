package llm

import (
	"context"
	"fmt"

	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/facs"
)

// Builtin is the Reasoner that needs no network: the Exp-CoT engine of
// package cot. It is the default of `tell analyze` and the fallback of Model.
type Builtin struct {
	// Options steer the engine; Classes defaults to the request's.
	Options cot.Options
}

// Reason implements Reasoner. With r.TrueLabel set it runs the engine's
// verification and feedback-reflection loop against it.
func (b Builtin) Reason(_ context.Context, r Request) (Answer, error) {
	o := b.Options
	if len(o.Classes) == 0 {
		o.Classes = r.Classes
	}
	c, err := cot.Generate(r.Evidence, r.TrueLabel, o)
	if err != nil {
		return Answer{}, fmt.Errorf("built-in reasoner: %w", err)
	}
	return Answer{CoT: c, Source: "builtin"}, nil
}

// facsName names an AU from the FACS catalogue.
func facsName(au int) string {
	if i, ok := facs.Lookup(au); ok {
		return i.Name
	}
	return ""
}

// des2exp reads the label back from a text with the cot engine's own
// reader, mapped onto the classes; "" when it reads none.
func des2exp(text string, classes []string) string {
	l, err := cot.ReadLabel(text)
	if err != nil {
		return ""
	}
	if c, ok := classOf(l, classes); ok {
		return c
	}
	return ""
}
