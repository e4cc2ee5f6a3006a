package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tell-project/tell/flow"
	"github.com/tell-project/tell/internal/cli"
)

// writePair writes a textured pair shifted by one pixel to the right and
// its ground truth, returning their paths.
func writePair(t *testing.T, dir string, w, h int) (a, b, gt string) {
	t.Helper()
	tex := func(x, y float64) uint8 {
		return uint8(128 + 60*math.Sin(x/3)*math.Cos(y/4) + 40*math.Sin((x+y)/7))
	}
	ia, ib := image.NewGray(image.Rect(0, 0, w, h)), image.NewGray(image.Rect(0, 0, w, h))
	f := flow.NewField(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			ia.Pix[y*w+x] = tex(float64(x), float64(y))
			ib.Pix[y*w+x] = tex(float64(x)-1, float64(y))
			f.U[y*w+x] = 1
		}
	}
	save := func(name string, img image.Image) string {
		p := filepath.Join(dir, name)
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gt = filepath.Join(dir, "gt.flo")
	if err := flow.SaveFlo(gt, f); err != nil {
		t.Fatal(err)
	}
	return save("a.png", ia), save("b.png", ib), gt
}

func TestBenchFlow(t *testing.T) {
	dir := t.TempDir()
	a, b, gt := writePair(t, dir, 48, 40)
	out := filepath.Join(dir, "out.flo")
	var stdout, stderr bytes.Buffer
	env := &cli.Env{Stdout: &stdout, Stderr: &stderr, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	code := run(context.Background(), env, []string{"bench", "flow", a, b, "--gt", gt, "--out", out, "--preset", "fast"})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if !strings.HasPrefix(lines[0], "epe=") || !strings.HasPrefix(lines[len(lines)-1], "tell_tvl1_ms=") {
		t.Fatalf("output %q: want epe= first and tell_tvl1_ms= last", stdout.String())
	}
	epe, err := strconv.ParseFloat(strings.TrimPrefix(lines[0], "epe="), 64)
	if err != nil || epe > 0.2 {
		t.Errorf("epe line %q: want a value below 0.2 for a one-pixel shift", lines[0])
	}
	f, err := flow.LoadFlo(out)
	if err != nil || f.W != 48 || f.H != 40 {
		t.Fatalf("--out: %v", err)
	}
}

func TestBenchFlowErrors(t *testing.T) {
	dir := t.TempDir()
	a, _, gt := writePair(t, dir, 32, 32)
	other, _, _ := writePair(t, t.TempDir(), 20, 20)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no benchmark", []string{"bench"}, 2, "missing benchmark"},
		{"unknown", []string{"bench", "nope"}, 2, "unknown benchmark"},
		{"one image", []string{"bench", "flow", a}, 2, "want two images"},
		{"bad preset", []string{"bench", "flow", a, a, "--preset", "slow"}, 2, "--preset"},
		{"missing file", []string{"bench", "flow", a, filepath.Join(dir, "none.png")}, 1, "none.png"},
		{"sizes differ", []string{"bench", "flow", a, other}, 1, "sizes differ"},
		{"gt not flo", []string{"bench", "flow", a, a, "--gt", a}, 1, "bad magic"},
		{"gt size", []string{"bench", "flow", other, other, "--gt", gt}, 1, "ground truth"},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		env := &cli.Env{Stdout: &stdout, Stderr: &stderr, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		if code := run(context.Background(), env, tc.args); code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d mentioning %q", tc.name, code, stderr.String(), tc.code, tc.want)
		}
	}
}
