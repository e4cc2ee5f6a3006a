package cli

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"testing"
)

// program is a two-command program: "echo" prints its arguments and
// checks --n; "bench" has one target.
func program() *Program {
	echo := func(ctx context.Context, env *Env, args []string) error {
		fs := NewFlagSet("echo")
		n := fs.Int("n", 1, "`N` times to print")
		pos, err := Parse(fs, args)
		if err != nil {
			return err
		}
		if *n < 1 {
			return Usagef("--n %d: want at least 1", *n)
		}
		for range *n {
			env.Stdout.Write([]byte(strings.Join(pos, " ") + "\n"))
		}
		return nil
	}
	fail := func(ctx context.Context, env *Env, args []string) error {
		if _, err := Parse(NewFlagSet("fail"), args); err != nil {
			return err
		}
		return errors.New("broke")
	}
	return &Program{Name: "p", Title: "p — a test program", Footer: "More: docs.",
		Commands: []Command{
			{Name: "echo", Summary: "print the arguments", Usage: "usage: p echo ARG...", Run: echo},
			{Name: "bench", Summary: "measure", Usage: "Usage: p bench TARGET", Target: "benchmark target",
				Targets: []Command{{Name: "fail", Summary: "always fails", Run: fail}}},
		}}
}

func runP(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	env := &Env{Stdout: &out, Stderr: &errb, Log: slog.New(slog.DiscardHandler)}
	code := program().Run(context.Background(), env, args)
	return code, out.String(), errb.String()
}

func TestRun(t *testing.T) {
	for _, c := range []struct {
		args        []string
		code        int
		out, errOut string
	}{
		{nil, 2, "", "p — a test program\n\nUsage: p <command> [flags] [arguments]\n\nCommands:\n  bench      measure\n  echo       print the arguments\n\nRun 'p help <command>' for a command's flags.\n"},
		{[]string{"echo", "a", "--n", "2", "b"}, 0, "a b\na b\n", ""},
		{[]string{"echo", "--n", "0"}, 2, "", "p echo: --n 0: want at least 1; run 'p help echo'\n"},
		{[]string{"echo", "--bogus"}, 2, "", "p echo: flag provided but not defined: -bogus; run 'p help echo'\n"},
		{[]string{"echo", "-h"}, 0, "usage: p echo ARG...\n\nPrint the arguments.\n\nFlags:\n  --n N               times to print (default 1)\n\nMore: docs.\n", ""},
		{[]string{"nosuch"}, 2, "", "p: unknown command \"nosuch\"; run 'p help'\n"},
		{[]string{"bench"}, 2, "", "p bench: missing benchmark target; run 'p help bench'\n"},
		{[]string{"bench", "x"}, 2, "", "p bench: unknown benchmark target \"x\"; run 'p help bench'\n"},
		{[]string{"bench", "fail"}, 1, "", "p bench fail: broke\n"},
		{[]string{"bench", "fail", "--x"}, 2, "", "p bench fail: flag provided but not defined: -x; run 'p help bench fail'\n"},
		{[]string{"help", "bench", "fail"}, 0, "usage: p bench fail [flags]\n\nAlways fails.\nMore: docs.\n", ""},
		{[]string{"help", "bench"}, 0, "Usage: p bench TARGET\n\nTargets:\n  fail       always fails\n\nEach target's flags:\n\nusage: p bench fail [flags]\n\nAlways fails.\nMore: docs.\n", ""},
		{[]string{"help", "bench", "x"}, 2, "", "p: unknown command \"bench x\"; run 'p help'\n"},
	} {
		code, out, errOut := runP(c.args...)
		if code != c.code || out != c.out || errOut != c.errOut {
			t.Errorf("p %q: exit %d\n%q\n%q\nwant %d\n%q\n%q", c.args, code, out, errOut, c.code, c.out, c.errOut)
		}
	}
}

func TestParseInterleaved(t *testing.T) {
	fs := NewFlagSet("x")
	out := fs.String("out", "", "")
	pos, err := Parse(fs, []string{"a.mp4", "--out", "dir", "b", "--", "--c"})
	if err != nil {
		t.Fatal(err)
	}
	if *out != "dir" || strings.Join(pos, " ") != "a.mp4 b --c" {
		t.Errorf("got out=%q pos=%v", *out, pos)
	}
	if _, err := Parse(fs, []string{"--bogus"}); !errors.Is(err, ErrUsage) {
		t.Errorf("unknown flag: %v, want a usage error", err)
	}
	if _, err := Parse(fs, []string{"x", "-h"}); Flags(err) != fs {
		t.Errorf("-h: %v, want a help request carrying the flags", err)
	}
}

func TestFlagsHelpWraps(t *testing.T) {
	fs := NewFlagSet("x")
	fs.String("a-very-long-flag-name", "z", "`DIR` "+strings.Repeat("word ", 30))
	fs.Bool("b", false, "a switch")
	got := FlagsHelp(fs)
	want := "  --a-very-long-flag-name DIR\n" +
		"                      word word word word word word word word word word word\n" +
		"                      word word word word word word word word word word word\n" +
		"                      word word word word word word word word (default z)\n" +
		"  --b                 a switch\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestList(t *testing.T) {
	if got := List(" a, ,b ,"); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("List = %q", got)
	}
	if List("") != nil {
		t.Error("List of nothing is not nil")
	}
	if Plural(1, "frame") != "1 frame" || Plural(0, "frame") != "0 frames" {
		t.Error("Plural")
	}
}

// TestNoProgressIntoPipes: a command whose stderr is not a terminal draws
// no progress bar (no carriage returns).
func TestNoProgressIntoPipes(t *testing.T) {
	env := &Env{Stderr: &bytes.Buffer{}}
	if w := ProgressOut(env, false); w != nil {
		t.Error("progress bar on a buffer")
	}
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env.Stderr = f
	if w := ProgressOut(env, false); w != nil {
		t.Error("progress bar into a file")
	}
	if NewBar(nil, "x", "") != nil || StepBars(env, false) != nil {
		t.Error("a bar with nowhere to draw")
	}
	var b *Bar
	b.Finish() // no bar: nothing to do
}

// TestVersion: the module version and the VCS revision from the build
// info, and a note when there is no revision.
func TestVersion(t *testing.T) {
	info := &debug.BuildInfo{Main: debug.Module{Path: "github.com/tell-project/tell", Version: "v0.0.0-20261207135643-458a258b86a8"},
		Settings: []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "458a258b86a84f0e3898a37590908c1d7b361e8d"},
			{Key: "vcs.time", Value: "2026-12-07T13:56:43Z"}, {Key: "vcs.modified", Value: "true"}}}
	if got, want := versionOf(info), "v0.0.0-20261207135643-458a258b86a8 (git 458a258b86a8+modified, 2026-12-07T13:56:43Z)"; got != want {
		t.Errorf("versionOf = %q, want %q", got, want)
	}
	bare := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}
	if got := versionOf(bare); !strings.Contains(got, "no VCS revision") {
		t.Errorf("without VCS: %q", got)
	}
}

// TestLogFlags: --log-json writes JSON lines, --quiet keeps warnings only,
// and neither is the environment's logger.
func TestLogFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"--quiet"}, "level=WARN msg=w\n"},
		{[]string{"--log-json"}, `"level":"INFO","msg":"i"`},
		{[]string{"--log-json", "--quiet"}, `"level":"WARN","msg":"w"`},
	} {
		fs := NewFlagSet("x")
		lf := AddLogFlags(fs, true)
		if _, err := Parse(fs, c.args); err != nil {
			t.Fatal(err)
		}
		var errb bytes.Buffer
		log := lf.Logger(&Env{Stderr: &errb, Log: slog.New(slog.DiscardHandler)})
		log.Info("i")
		log.Warn("w")
		if got := errb.String(); c.want == "" && got != "" || !strings.Contains(got, c.want) || c.args != nil && c.args[len(c.args)-1] == "--quiet" && strings.Contains(got, `"i"`) {
			t.Errorf("%v: %q, want %q", c.args, got, c.want)
		}
	}
	if fs := NewFlagSet("y"); AddLogFlags(fs, false) != nil && fs.Lookup("quiet") != nil {
		t.Error("--quiet defined for a command without progress")
	}
}
