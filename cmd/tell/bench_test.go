package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/tell-project/tell/internal/cli"
)

func TestBenchNNUsage(t *testing.T) {
	var out, errb bytes.Buffer
	env := &cli.Env{Stdout: &out, Stderr: &errb, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
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
