package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/tell-project/tell/face/facetest"
	"github.com/tell-project/tell/internal/cli"
)

func testEnv() (*cli.Env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &cli.Env{Stdout: &out, Stderr: &errb, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, &out, &errb
}

// TestBenchLandmarksMatchesDlib: the command prints dlib_landmarks.cpp's
// lines, and the points equal dlib's (face/testdata/golden).
func TestBenchLandmarksMatchesDlib(t *testing.T) {
	facetest.ModelPath(t)
	env, out, errb := testEnv()
	code := run(context.Background(), env, []string{"bench", "landmarks", "../../portrait/astronaut.png", "--box", "179,83,88,88", "--n", "3"})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	golden, err := os.ReadFile("../../face/testdata/golden/astronaut.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.SplitN(string(golden), "\n", 2)[1] // drop the "# image" line
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 71 || !strings.HasPrefix(lines[69], "tell_landmark_us=") || !strings.HasPrefix(lines[70], "tell_landmark_cpu_us=") {
		t.Fatalf("output has %d lines, last %q", len(lines), lines[len(lines)-1])
	}
	if got := strings.Join(lines[:69], "\n") + "\n"; got != want {
		t.Errorf("output differs from dlib's:\n%s\nwant\n%s", got, want)
	}
}

func TestBenchLandmarksUsage(t *testing.T) {
	for _, args := range [][]string{
		{"bench"},
		{"bench", "nosuch"},
		{"bench", "landmarks"},
		{"bench", "landmarks", "x.png", "--box", "1,2,3"},
		{"bench", "landmarks", "x.png", "--box", "1,2,0,4"},
	} {
		env, _, errb := testEnv()
		if code := run(context.Background(), env, args); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errb)
		}
	}
	env, _, errb := testEnv()
	if code := run(context.Background(), env, []string{"bench", "landmarks", "/nonexistent.png", "--box", "1,2,3,4", "--landmarks", "/nonexistent.dat"}); code != 1 || !strings.Contains(errb.String(), "apt-get install libdlib-data") {
		t.Errorf("missing model: exit %d: %s", code, errb)
	}
}
