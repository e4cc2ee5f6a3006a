package cot

import (
	"strings"
	"testing"
)

func TestVerificationMessages(t *testing.T) {
	var none *Verification
	if none.Reflected() != "" || none.Err() != nil {
		t.Error("a nil verification says something")
	}
	v := &Verification{TrueLabel: "fear", MatchesTrueLabel: true, Attempts: 2, Feedback: []string{"read surprise"}}
	if got := v.Reflected(); got != `"fear" reached after 2 attempts of feedback reflection: read surprise` || v.Err() != nil {
		t.Errorf("reflected %q, err %v", got, v.Err())
	}
	v = &Verification{TrueLabel: "fear", Attempts: 3, Flagged: true, Feedback: []string{"a", "b"}}
	if err := v.Err(); err == nil || !strings.Contains(err.Error(), `after 3 attempt(s): the evidence does not support "fear": a; b`) || v.Reflected() != "" {
		t.Errorf("flagged: %v", err)
	}
}
