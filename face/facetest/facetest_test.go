package facetest

import (
	"errors"
	"testing"
)

// TestCheck: a missing model fails a test that requires it and skips one
// that does not; a found model's path is returned.
func TestCheck(t *testing.T) {
	missing := errors.New("no model")
	for _, tc := range []struct {
		err             error
		required        bool
		failed, skipped bool
	}{
		{missing, true, true, false},
		{missing, false, false, true},
		{nil, true, false, false},
	} {
		ft := &fakeT{TB: t}
		var got string
		func() {
			defer func() { recover() }()
			got = check(ft, "/m.dat", tc.err, tc.required)
		}()
		if ft.failed != tc.failed || ft.skipped != tc.skipped || (tc.err == nil && got != "/m.dat") {
			t.Errorf("err %v required %v: failed %v skipped %v path %q", tc.err, tc.required, ft.failed, ft.skipped, got)
		}
	}
}

// fakeT records Fatalf and Skipf and stops the call as they would.
type fakeT struct {
	testing.TB
	failed, skipped bool
}

func (f *fakeT) Helper() {}
func (f *fakeT) Fatalf(string, ...any) {
	f.failed = true
	panic("stop")
}
func (f *fakeT) Skipf(string, ...any) {
	f.skipped = true
	panic("stop")
}
