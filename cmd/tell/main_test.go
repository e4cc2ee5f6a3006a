package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tell-project/tell/internal/cli"
)

// runTell runs the tell command line in-process and returns its exit code and
// output streams.
func runTell(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cli.Env{Stdout: &out, Stderr: &errb, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	code = run(context.Background(), env, args)
	return code, out.String(), errb.String()
}

// run runs the tell command line in-process and returns its exit code.
func run(ctx context.Context, env *cli.Env, args []string) int { return tell().Run(ctx, env, args) }

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
	for _, c := range tell().Commands {
		code, out, _ := runTell(t, "help", c.Name)
		if code != 0 || !strings.Contains(out, c.Name) {
			t.Errorf("tell help %s: exit %d, output %q", c.Name, code, out)
		}
		if c.Summary == "" {
			t.Errorf("command %s has no summary", c.Name)
		}
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
	for _, c := range tell().Commands {
		text, _ := tell().Help(c.Name)
		for _, name := range re.FindAllString(text, -1) {
			if _, err := os.Stat(filepath.Join("..", "..", name)); err != nil {
				t.Errorf("tell help %s names %s, which is not in the repository", c.Name, name)
			}
		}
	}
}

// TestQuietEverywhere: every long-running command takes --quiet.
func TestQuietEverywhere(t *testing.T) {
	for _, name := range []string{"analyze", "batch", "synth", "prepare", "train", "sweep", "eval", "eval-llm", "export"} {
		if text, _ := tell().Help(name); !strings.Contains(text, "--quiet") {
			t.Errorf("tell help %s does not document --quiet", name)
		}
		if code, out, errOut := runTell(t, name, "--quiet", "-h"); code != 0 {
			t.Errorf("tell %s --quiet -h: exit %d\n%s%s", name, code, out, errOut)
		}
	}
}

// TestEveryFlagInHelp: every flag a command (or bench target) defines is
// named in its help text, so that `tell help CMD` is the whole story.
func TestEveryFlagInHelp(t *testing.T) {
	env := &cli.Env{Stdout: io.Discard, Stderr: io.Discard, Log: slog.New(slog.DiscardHandler)}
	check := func(topic string, runIt func() error) {
		err := runIt()
		fs := cli.Flags(err)
		if fs == nil {
			t.Errorf("tell %s --help: %v, want the help request", topic, err)
			return
		}
		text, ok := tell().Help(topic)
		if !ok {
			t.Errorf("tell help %s: no help", topic)
			return
		}
		fs.VisitAll(func(f *flag.Flag) {
			// A line of the flag list: "  --name ARG  what it does" (or
			// "  --a, --b, --name DIR" and "  --onset N --offset N" for
			// flags explained together): the flag before the description.
			word := regexp.MustCompile(`--` + regexp.QuoteMeta(f.Name) + `\b`)
			found := false
			for _, line := range strings.Split(text, "\n") {
				l := strings.TrimLeft(line, " ")
				if len(l) == len(line) || !strings.HasPrefix(l, "--") {
					continue
				}
				head, _, _ := strings.Cut(l, "  ")
				found = found || word.MatchString(head)
			}
			if !found {
				t.Errorf("tell help %s does not explain --%s in its flag list", topic, f.Name)
			}
		})
	}
	for _, c := range tell().Commands {
		args := []string{"--help"}
		if c.Name == "dataset" {
			args = []string{"casme2", "--help"}
		}
		for _, b := range c.Targets {
			check(c.Name+" "+b.Name, func() error { return b.Run(context.Background(), env, []string{"--help"}) })
			own, _ := tell().Help(c.Name + " " + b.Name)
			if text, _ := tell().Help(c.Name); !strings.Contains(text, own) {
				t.Errorf("tell help %s lacks the help of %s", c.Name, b.Name)
			}
		}
		if c.Targets != nil {
			continue
		}
		check(c.Name, func() error { return c.Run(context.Background(), env, args) })
	}
}

// TestUsageErrorOneLine: a wrong flag or value is one line on stderr that
// names the command's help, not the help itself.
func TestUsageErrorOneLine(t *testing.T) {
	for _, c := range []struct {
		args  []string
		topic string
	}{
		{[]string{"analyze", "--fps", "100000", "x"}, "analyze"},
		{[]string{"analyze", "--fps", "-1", "x"}, "analyze"},
		{[]string{"analyze", "--bogus", "x"}, "analyze"},
		{[]string{"analyze", "--appearance", "nope", "x"}, "analyze"},
		// Refused before the models load or the input is opened.
		{[]string{"analyze", "--reasoner", "llm", "--llm-url", "http://127.0.0.1:9", "--llm-model", "m", "--llm-timeout=-1s", "x"}, "analyze"},
		{[]string{"export", "--format", "nosuch"}, "export"},
		{[]string{"bench", "spot", "--fps", "0.5", "truth.csv"}, "bench spot"},
		{[]string{"bench", "spot"}, "bench spot"},
		{[]string{"synth", "--n", "-1"}, "synth"},
		{[]string{"train", "--protocol", "x"}, "train"},
	} {
		code, out, errOut := runTell(t, c.args...)
		if code != 2 || out != "" {
			t.Errorf("tell %v: exit %d, stdout %q", c.args, code, out)
		}
		if strings.Count(errOut, "\n") != 1 || !strings.HasSuffix(errOut, "; run 'tell help "+c.topic+"'\n") || !strings.HasPrefix(errOut, "tell "+c.topic+": ") {
			t.Errorf("tell %v: stderr %q, want one line naming tell help %s", c.args, errOut, c.topic)
		}
	}
}

// TestHelpTopics: tell help reaches a bench target's own help.
func TestHelpTopics(t *testing.T) {
	code, out, _ := runTell(t, "help", "bench", "spot")
	if code != 0 || !strings.Contains(out, "--known") {
		t.Errorf("tell help bench spot: exit %d\n%s", code, out)
	}
	if code, _, errOut := runTell(t, "help", "bench", "nosuch"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("tell help bench nosuch: exit %d %q", code, errOut)
	}
}

// TestVersion: tell --version prints tell and the build (package cli's
// TestVersion checks the build's description).
func TestVersion(t *testing.T) {
	code, out, _ := runTell(t, "--version")
	if code != 0 || !strings.HasPrefix(out, "tell ") || !strings.Contains(out, "(") {
		t.Errorf("tell --version: %d %q", code, out)
	}
}
