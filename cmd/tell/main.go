// Command tell finds faces in images and video, measures their facial Action
// Units, spots micro- and macro-expressions, recognises the emotion and explains
// its answer as an AU-grounded chain of thought.
//
// Limits: the command is a thin layer of flags over the packages; each
// package's documentation states what its part cannot do (AUs validated on
// synthetic clips only: package au; one face per video: package analyze).
//
// Usage:
//
//	tell <command> [flags] [arguments]
//	tell help [command]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one subcommand of tell. run receives the arguments after the
// command name; it returns errHelp-wrapped errors for usage mistakes.
type command struct {
	name    string
	summary string // one line for `tell help`
	usage   string // the usage lines of `tell help NAME`; the flags come from the FlagSet
	// sub, when set, is the help of the command's parts (`tell help
	// bench spot`): false for an unknown part.
	sub func(part string) (string, bool)
	run func(ctx context.Context, env *environment, args []string) error
}

// environment carries the process's streams and logger to commands, so that
// tests can run commands in-process without touching globals.
type environment struct {
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
}

// commands lists every subcommand. Keep it sorted by name.
func commands() []command {
	cmds := []command{
		// One entry per subcommand, each defined in its own file.
		analyzeCommand(),
		benchCommand(),
		evalCommand(),
		prepareCommand(),
		trainCommand(),
		sweepCommand(),
		synthCommand(),
		cotCommand(),
		exportCommand(),
		datasetCommand(),
		evalLLMCommand(),
		serveCommand(),
		workerCommand(),
		batchCommand(),
		viewCommand(),
	}
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].name < cmds[j].name })
	return cmds
}

// errUsage marks errors caused by wrong command-line use; main prints
// them in one line that names the command's help, and exits 2.
var errUsage = errors.New("usage")

func usageErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := &environment{
		stdout: os.Stdout,
		stderr: os.Stderr,
		log:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
	os.Exit(run(ctx, env, os.Args[1:]))
}

// run executes the command line args and returns the process exit code.
func run(ctx context.Context, env *environment, args []string) int {
	if len(args) == 0 {
		printOverview(env.stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			topic := strings.Join(args[1:], " ")
			text, ok := helpText(topic)
			if !ok {
				fmt.Fprintf(env.stderr, "tell: unknown command %q; run 'tell help'\n", topic)
				return 2
			}
			fmt.Fprintln(env.stdout, text)
			return 0
		}
		printOverview(env.stdout)
		return 0
	case "version", "-version", "--version":
		fmt.Fprintln(env.stdout, "tell", version())
		return 0
	}
	c, ok := lookup(name)
	if !ok {
		fmt.Fprintf(env.stderr, "tell: unknown command %q; run 'tell help'\n", name)
		return 2
	}
	err := c.run(ctx, env, args[1:])
	topic := name
	var te *topicError
	if errors.As(err, &te) {
		topic = te.topic
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		text, _ := helpText(topic)
		fmt.Fprintln(env.stdout, text)
		return 0
	case errors.Is(err, errUsage):
		// One line: the mistake and where the flags are explained, not
		// the whole help text after it.
		msg := strings.TrimPrefix(err.Error(), errUsage.Error()+": ")
		msg = strings.Join(strings.Fields(msg), " ")
		fmt.Fprintf(env.stderr, "tell %s: %s; run 'tell help %s'\n", topic, msg, topic)
		return 2
	default:
		fmt.Fprintf(env.stderr, "tell %s: %v\n", topic, err)
		return 1
	}
}

// topicError is an error of a part of a command with help of its own
// (`tell bench spot`): main names that topic in the message and in the
// help it points to.
type topicError struct {
	topic string
	err   error
}

func (e *topicError) Error() string { return e.err.Error() }
func (e *topicError) Unwrap() error { return e.err }

// helpText is the help of a command ("analyze") or of a part of one
// ("bench spot"), trimmed; false when there is no such topic.
func helpText(topic string) (string, bool) {
	name, sub, _ := strings.Cut(topic, " ")
	c, ok := lookup(name)
	if !ok {
		return "", false
	}
	if sub == "" {
		if c.name == "bench" {
			return strings.TrimSpace(c.usage), true
		}
		return helpOf(c.usage, c.summary, func(env *environment) error {
			return c.run(context.Background(), env, []string{"--help"})
		}), true
	}
	if c.sub == nil {
		return "", false
	}
	text, ok := c.sub(sub)
	return strings.TrimSpace(text), ok
}

func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func printOverview(w io.Writer) {
	fmt.Fprintln(w, "tell — facial expression and micro-expression recognition that explains itself")
	fmt.Fprintln(w, "\nUsage: tell <command> [flags] [arguments]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'tell help <command>' for a command's flags.")
}

// newFlagSet returns a FlagSet that reports errors instead of exiting and
// prints nothing itself; run prints the usage.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses args and converts flag errors into usage errors.
// Flags may follow positional arguments (`tell analyze clip.mp4 --out x`).
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, &helpRequest{fs: fs}
			}
			return nil, usageErrorf("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
		if len(args) > 0 && args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
	}
}

// helpRequest is parseFlags' answer to -h or --help: it wraps
// flag.ErrHelp and carries the command's flags (the help of a bench target
// without a written one is made from them; tests check that every flag is
// in its command's help).
type helpRequest struct{ fs *flag.FlagSet }

func (h *helpRequest) Error() string { return flag.ErrHelp.Error() }
func (h *helpRequest) Unwrap() error { return flag.ErrHelp }

// helpOf is a command's help: its usage lines, its summary, the flags its
// FlagSet defines (run with --help answers a helpRequest carrying it) and
// where the whole description is.
func helpOf(usage, summary string, runHelp func(env *environment) error) string {
	text := strings.TrimSpace(usage) + "\n\n" + strings.ToUpper(summary[:1]) + summary[1:] + "."
	env := &environment{stdout: io.Discard, stderr: io.Discard, log: slog.New(slog.DiscardHandler)}
	var h *helpRequest
	if err := runHelp(env); errors.As(err, &h) {
		text += "\n\nFlags:\n" + flagsHelp(h.fs)
	}
	return text + "\nThe whole description: docs/usage.md, \"Every command in full\"."
}

// flagsHelp lists fs's flags with their descriptions, wrapped to 80
// columns, and their defaults where the description does not give one.
// A description starts with its argument's name in back quotes
// ("`DIR` output folder"), which the list shows after the flag.
func flagsHelp(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		usage = strings.TrimSpace(strings.TrimPrefix(usage, name+" "))
		left := "--" + f.Name
		if name != "" {
			left += " " + name
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && !strings.Contains(usage, "default") {
			usage += " (default " + f.DefValue + ")"
		}
		const indent, width = 22, 80
		line := fmt.Sprintf("  %-19s", left)
		if len(left) > 18 {
			b.WriteString(line + "\n")
			line = strings.Repeat(" ", indent)
		} else {
			line += " "
		}
		for i, w := range strings.Fields(usage) {
			if i > 0 && len(line)+1+len(w) > width {
				b.WriteString(line + "\n")
				line = strings.Repeat(" ", indent) + w
				continue
			}
			if i > 0 {
				line += " "
			}
			line += w
		}
		b.WriteString(line + "\n")
	})
	return b.String()
}

// plural is "1 frame", "2 frames": counts in messages read as English.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
