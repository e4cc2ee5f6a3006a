package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/models"
)

func TestBenchFer(t *testing.T) {
	var out, errb bytes.Buffer
	env := &cli.Env{Stdout: &out, Stderr: &errb, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if code := run(context.Background(), env, []string{"bench", "fer", "--appearance", "nope", "x.png"}); code != 2 {
		t.Fatalf("unknown model: exit %d", code)
	}
	if _, err := models.Locate(models.Root(""), models.FaceAPI()); errors.Is(err, models.ErrNotInstalled) && !models.Required() {
		t.Skip(err)
	}
	out.Reset()
	img := "../../appearance/testdata/crops/wide_200x150.png"
	if code := run(context.Background(), env, []string{"bench", "fer", img, "--appearance", "faceapi"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	// The peer's lines: happiness 0.921146 for this crop (testdata/golden_faceapi.txt).
	if len(lines) != 2 || !strings.HasPrefix(lines[0], img+" ") || !strings.Contains(lines[0], " 0.9211") || !strings.HasPrefix(lines[1], "tell_fer_ms=") {
		t.Fatalf("output %q", out.String())
	}
}
