package llm_test

import (
	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/llm"
)

// EventReasoner must keep fitting tell analyze's per-event interface.
var _ analyze.Reasoner = llm.EventReasoner{}
