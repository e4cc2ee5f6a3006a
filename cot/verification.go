package cot

import (
	"fmt"
	"strings"
)

// Reflected says, when feedback reflection reached the true label after
// more than one attempt, after how many and why the others failed; ""
// otherwise (and for a nil Verification).
func (v *Verification) Reflected() string {
	if v == nil || !v.MatchesTrueLabel || v.Attempts <= 1 {
		return ""
	}
	return fmt.Sprintf("%q reached after %d attempts of feedback reflection: %s", v.TrueLabel, v.Attempts, strings.Join(v.Feedback, "; "))
}

// Err is the verification's failure when it is Flagged, with the
// attempts' feedback; nil otherwise (and for a nil Verification).
func (v *Verification) Err() error {
	if v == nil || !v.Flagged {
		return nil
	}
	return fmt.Errorf("verification failed after %d attempt(s): the evidence does not support %q: %s",
		v.Attempts, v.TrueLabel, strings.Join(v.Feedback, "; "))
}
