// Package facetest gives tests dlib's 68-point landmark model. Where the
// model is not installed a test is skipped, unless TELL_REQUIRE_MODELS is
// set (make test and CI set it): then it fails, so that no landmark test
// passes by skipping where the model must be.
package facetest

import (
	"testing"

	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/models"
)

// ModelPath returns the landmark model's path (face.ResolveModelPath), or
// skips or fails t as the package doc says.
func ModelPath(t testing.TB) string {
	t.Helper()
	p, err := face.ResolveModelPath("")
	return check(t, p, err, models.Required())
}

// check is ModelPath's decision on a resolved path.
func check(t testing.TB, p string, err error, required bool) string {
	t.Helper()
	if err != nil {
		if required {
			t.Fatalf("dlib's landmark model is required (TELL_REQUIRE_MODELS): %v", err)
		}
		t.Skipf("dlib's landmark model is not installed: %v", err)
	}
	return p
}
