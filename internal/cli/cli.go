// Package cli runs a program made of subcommands: it dispatches a command
// line to its command (or to a target of a command, `tell bench spot`),
// parses flags that may follow the arguments, makes each command's help
// from its usage lines and the flags its FlagSet defines, and reports a
// usage mistake in one line that names the help to read. It knows nothing
// of what the commands do.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
)

// Env carries the process's streams and logger to commands, so that tests
// can run commands in-process without touching globals.
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	Log    *slog.Logger
}

// Command is one subcommand, or one target of a command with Targets.
type Command struct {
	Name    string
	Summary string // one line for the list of commands
	// Usage is the usage lines of the command's help (the flags come from
	// its FlagSet). For a command with Targets it is the whole text before
	// the list of targets.
	Usage string
	// Run receives the arguments after the command's name; it returns
	// Usagef errors for usage mistakes, and Parse's help request for -h.
	Run func(ctx context.Context, env *Env, args []string) error
	// Targets, when set, are the command's parts: the first argument names
	// the one to run, and the command's help lists them with their own.
	// A target's Usage defaults to "usage: PROGRAM NAME TARGET [flags]".
	Targets []Command
	// Target names what a target is in messages ("benchmark target").
	Target string
}

// Program is a program's commands and how its help reads.
type Program struct {
	Name     string    // the program's name, "tell"
	Title    string    // the first line of the list of commands
	Commands []Command // listed and looked up by name
	// Footer ends every command's help (where the long description is).
	Footer string
}

// ErrUsage marks errors caused by wrong command-line use; Run prints them
// in one line that names the command's help, and exits 2.
var ErrUsage = errors.New("usage")

// Usagef is a usage error: Run prints "PROGRAM CMD: MESSAGE; run 'PROGRAM
// help CMD'" and exits 2.
func Usagef(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUsage}, args...)...)
}

// Run executes the command line args and returns the process exit code.
// Besides the commands it answers help [TOPIC] and version, which prints
// the program's name and Version().
func (p *Program) Run(ctx context.Context, env *Env, args []string) int {
	if len(args) == 0 {
		p.printOverview(env.Stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			topic := strings.Join(args[1:], " ")
			text, ok := p.Help(topic)
			if !ok {
				fmt.Fprintf(env.Stderr, "%s: unknown command %q; run '%s help'\n", p.Name, topic, p.Name)
				return 2
			}
			fmt.Fprintln(env.Stdout, text)
			return 0
		}
		p.printOverview(env.Stdout)
		return 0
	case "version", "-version", "--version":
		fmt.Fprintln(env.Stdout, p.Name, Version())
		return 0
	}
	c, ok := p.lookup(name)
	if !ok {
		fmt.Fprintf(env.Stderr, "%s: unknown command %q; run '%s help'\n", p.Name, name, p.Name)
		return 2
	}
	err := p.runCommand(ctx, env, c, args[1:])
	topic := name
	var te *topicError
	if errors.As(err, &te) {
		topic = te.topic
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		text, _ := p.Help(topic)
		fmt.Fprintln(env.Stdout, text)
		return 0
	case errors.Is(err, ErrUsage):
		// One line: the mistake and where the flags are explained, not
		// the whole help text after it.
		msg := strings.TrimPrefix(err.Error(), ErrUsage.Error()+": ")
		msg = strings.Join(strings.Fields(msg), " ")
		fmt.Fprintf(env.Stderr, "%s %s: %s; run '%s help %s'\n", p.Name, topic, msg, p.Name, topic)
		return 2
	default:
		fmt.Fprintf(env.Stderr, "%s %s: %v\n", p.Name, topic, err)
		return 1
	}
}

// runCommand runs c, or the target of c that args name.
func (p *Program) runCommand(ctx context.Context, env *Env, c Command, args []string) error {
	if c.Targets == nil {
		return c.Run(ctx, env, args)
	}
	if len(args) == 0 {
		return Usagef("missing %s", c.Target)
	}
	t, ok := target(c, args[0])
	if !ok {
		return Usagef("unknown %s %q", c.Target, args[0])
	}
	if err := t.Run(ctx, env, args[1:]); err != nil {
		return &topicError{topic: c.Name + " " + t.Name, err: err}
	}
	return nil
}

// topicError is an error of a target (`tell bench spot`): Run names that
// topic in the message and in the help it points to.
type topicError struct {
	topic string
	err   error
}

func (e *topicError) Error() string { return e.err.Error() }
func (e *topicError) Unwrap() error { return e.err }

// Help is the help of a command ("analyze") or of a target of one ("bench
// spot"), trimmed; false when there is no such topic.
func (p *Program) Help(topic string) (string, bool) {
	name, sub, _ := strings.Cut(topic, " ")
	c, ok := p.lookup(name)
	if !ok {
		return "", false
	}
	switch {
	case sub == "" && c.Targets != nil:
		return strings.TrimSpace(p.targetsHelp(c)), true
	case sub == "":
		return p.helpOf(c.Usage, c.Summary, c.Run), true
	}
	t, ok := target(c, sub)
	if !ok {
		return "", false
	}
	return p.targetHelp(c, t), true
}

// targetsHelp is the help of a command with targets: its usage text, the
// list of targets, then each target's help.
func (p *Program) targetsHelp(c Command) string {
	var sb strings.Builder
	sb.WriteString(c.Usage + "\n\nTargets:\n")
	for _, t := range sorted(c.Targets) {
		fmt.Fprintf(&sb, "  %-10s %s\n", t.Name, t.Summary)
	}
	sb.WriteString("\nEach target's flags:\n")
	for _, t := range sorted(c.Targets) {
		fmt.Fprintf(&sb, "\n%s\n", p.targetHelp(c, t))
	}
	return sb.String()
}

func (p *Program) targetHelp(c, t Command) string {
	usage := t.Usage
	if usage == "" {
		usage = "usage: " + p.Name + " " + c.Name + " " + t.Name + " [flags]"
	}
	return p.helpOf(usage, t.Summary, t.Run)
}

func target(c Command, name string) (Command, bool) {
	for _, t := range c.Targets {
		if t.Name == name {
			return t, true
		}
	}
	return Command{}, false
}

func (p *Program) lookup(name string) (Command, bool) {
	for _, c := range p.Commands {
		if c.Name == name {
			return c, true
		}
	}
	return Command{}, false
}

// sorted is cs by name.
func sorted(cs []Command) []Command {
	cs = append([]Command(nil), cs...)
	sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
	return cs
}

func (p *Program) printOverview(w io.Writer) {
	fmt.Fprintln(w, p.Title)
	fmt.Fprintf(w, "\nUsage: %s <command> [flags] [arguments]\n\nCommands:\n", p.Name)
	for _, c := range sorted(p.Commands) {
		fmt.Fprintf(w, "  %-10s %s\n", c.Name, c.Summary)
	}
	fmt.Fprintf(w, "\nRun '%s help <command>' for a command's flags.\n", p.Name)
}

// helpOf is a command's help: its usage lines, its summary, the flags its
// FlagSet defines (run with --help answers a HelpRequest carrying it) and
// the footer.
func (p *Program) helpOf(usage, summary string, run func(context.Context, *Env, []string) error) string {
	text := strings.TrimSpace(usage) + "\n\n" + strings.ToUpper(summary[:1]) + summary[1:] + "."
	env := &Env{Stdout: io.Discard, Stderr: io.Discard, Log: slog.New(slog.DiscardHandler)}
	if fs := Flags(run(context.Background(), env, []string{"--help"})); fs != nil && FlagsHelp(fs) != "" {
		text += "\n\nFlags:\n" + FlagsHelp(fs)
	}
	if p.Footer != "" {
		text += "\n" + p.Footer
	}
	return text
}
