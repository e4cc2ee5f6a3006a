package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
)

func TestBenchNNUsage(t *testing.T) {
	var out, errb bytes.Buffer
	env := &environment{stdout: &out, stderr: &errb, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if code := run(context.Background(), env, []string{"bench", "nope"}); code != 2 {
		t.Fatalf("unknown target: exit %d", code)
	}
	if code := run(context.Background(), env, []string{"bench", "nn", "--steps", "0"}); code != 2 {
		t.Fatalf("--steps 0: exit %d", code)
	}
	if !strings.Contains(errb.String(), "must be positive") {
		t.Fatalf("stderr %q", errb.String())
	}
}
