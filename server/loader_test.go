package server

import (
	"errors"
	"testing"

	"github.com/tell-project/tell/analyze"
)

// A landmark model that fails to load (not installed yet, unreadable) must
// be tried again at the next job, and kept once it loads.
func TestLoaderRetriesFailures(t *testing.T) {
	calls := 0
	want := &analyze.FaceLandmarker{}
	l := &loader{load: func() (analyze.Landmarker, error) {
		calls++
		if calls < 3 {
			return nil, errors.New("no model file")
		}
		return want, nil
	}}
	for i := 0; i < 2; i++ {
		if _, err := l.get(); err == nil {
			t.Fatalf("call %d: want the load error", i+1)
		}
	}
	for i := 0; i < 3; i++ {
		got, err := l.get()
		if err != nil || got != want {
			t.Fatalf("after the model appeared: %v, %v", got, err)
		}
	}
	if calls != 3 {
		t.Errorf("load called %d times, want 3 (two failures, one success, then kept)", calls)
	}
}
