package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// runTell runs the tell command line in-process and returns its exit code and
// output streams.
func runTell(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &environment{stdout: &out, stderr: &errb, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	code = run(context.Background(), env, args)
	return code, out.String(), errb.String()
}

func TestDispatcher(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		contains string
	}{
		{nil, 2, "Usage: tell"},
		{[]string{"help"}, 0, "Commands:"},
		{[]string{"nosuch"}, 2, `unknown command "nosuch"`},
		{[]string{"help", "nosuch"}, 2, `unknown command "nosuch"`},
		{[]string{"version"}, 0, "tell "},
	}
	for _, tc := range tests {
		code, out, errOut := runTell(t, tc.args...)
		if code != tc.code {
			t.Errorf("tell %v: exit %d, want %d", tc.args, code, tc.code)
		}
		if !strings.Contains(out+errOut, tc.contains) {
			t.Errorf("tell %v: output %q lacks %q", tc.args, out+errOut, tc.contains)
		}
	}
}

// TestEveryCommandHasHelp checks that each registered command documents itself.
func TestEveryCommandHasHelp(t *testing.T) {
	for _, c := range commands() {
		code, out, _ := runTell(t, "help", c.name)
		if code != 0 || !strings.Contains(out, c.name) {
			t.Errorf("tell help %s: exit %d, output %q", c.name, code, out)
		}
		if c.summary == "" {
			t.Errorf("command %s has no summary", c.name)
		}
	}
}

func TestParseFlagsInterleaved(t *testing.T) {
	fs := newFlagSet("x")
	out := fs.String("out", "", "")
	pos, err := parseFlags(fs, []string{"a.mp4", "--out", "dir", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if *out != "dir" || len(pos) != 2 || pos[0] != "a.mp4" || pos[1] != "b" {
		t.Errorf("got out=%q pos=%v", *out, pos)
	}
	if _, err := parseFlags(fs, []string{"--bogus"}); err == nil {
		t.Error("unknown flag accepted")
	}
}

func TestTrainEvalFlagRanges(t *testing.T) {
	tests := [][]string{
		{"train", "--manifest", "m.csv", "--out", "o", "--protocol", "loso", "--bootstrap", "-3"},
		{"train", "--manifest", "m.csv", "--out", "o", "--protocol", "loso", "--bootstrap", "1000000000"},
		{"train", "--manifest", "m.csv", "--out", "o", "--protocol", "kfold", "--folds", "0"},
		{"train", "--manifest", "m.csv", "--out", "o", "--protocol", "holdout", "--test-fraction", "1.5"},
		{"train", "--manifest", "m.csv", "--out", "o", "--protocol", "loso", "--workers", "-2"},
		{"eval", "--model", "x", "--manifest", "m.csv", "--out", "o", "--bootstrap", "-5"},
	}
	for _, args := range tests {
		code, _, errOut := runTell(t, args...)
		if code != 2 || !strings.Contains(errOut, "--") {
			t.Errorf("tell %v: exit %d, stderr %q; want a usage error naming the flag", args, code, errOut)
		}
	}
}

// TestHelpNamesExistingFiles: every file a help text points to (docs,
// scripts, .md files) exists in the repository.
func TestHelpNamesExistingFiles(t *testing.T) {
	re := regexp.MustCompile(`[A-Za-z0-9_./-]+\.(md|sh)\b`)
	for _, c := range commands() {
		for _, name := range re.FindAllString(c.usage, -1) {
			if _, err := os.Stat(filepath.Join("..", "..", name)); err != nil {
				t.Errorf("tell help %s names %s, which is not in the repository", c.name, name)
			}
		}
	}
}

// TestQuietEverywhere: every long-running command takes --quiet.
func TestQuietEverywhere(t *testing.T) {
	for _, name := range []string{"analyze", "batch", "synth", "prepare", "train", "sweep", "eval", "eval-llm", "export"} {
		c, _ := lookup(name)
		if !strings.Contains(c.usage, "--quiet") {
			t.Errorf("tell help %s does not document --quiet", name)
		}
		if code, out, errOut := runTell(t, name, "--quiet", "-h"); code != 0 {
			t.Errorf("tell %s --quiet -h: exit %d\n%s%s", name, code, out, errOut)
		}
	}
}

// TestNoProgressIntoPipes: a command whose stderr is not a terminal draws
// no progress bar (no carriage returns).
func TestNoProgressIntoPipes(t *testing.T) {
	env := &environment{stderr: &bytes.Buffer{}}
	if w := progressOut(env, false); w != nil {
		t.Error("progress bar on a buffer")
	}
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env.stderr = f
	if w := progressOut(env, false); w != nil {
		t.Error("progress bar into a file")
	}
}
