package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// NewFlagSet returns a FlagSet that reports errors instead of exiting and
// prints nothing itself; Program.Run prints the help.
func NewFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// Parse parses args and converts flag errors into usage errors, and -h or
// --help into a HelpRequest. Flags may follow positional arguments
// (`tell analyze clip.mp4 --out x`); "--" ends the flags.
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, &HelpRequest{FlagSet: fs}
			}
			return nil, Usagef("%v", err)
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

// HelpRequest is Parse's answer to -h or --help: it wraps flag.ErrHelp and
// carries the command's flags, from which its help is made.
type HelpRequest struct{ FlagSet *flag.FlagSet }

func (h *HelpRequest) Error() string { return flag.ErrHelp.Error() }
func (h *HelpRequest) Unwrap() error { return flag.ErrHelp }

// Flags is the FlagSet of the HelpRequest err is or wraps; nil if none.
func Flags(err error) *flag.FlagSet {
	var h *HelpRequest
	if errors.As(err, &h) {
		return h.FlagSet
	}
	return nil
}

// Set is the names of the flags given on fs's command line.
func Set(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// FlagsHelp lists fs's flags with their descriptions, wrapped to 80
// columns, and their defaults where the description does not give one.
// A description starts with its argument's name in back quotes
// ("`DIR` output folder"), which the list shows after the flag.
func FlagsHelp(fs *flag.FlagSet) string {
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

// List splits a comma-separated flag value into its trimmed, non-empty
// items (nil for an empty value).
func List(s string) []string {
	var items []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			items = append(items, v)
		}
	}
	return items
}

// Strings is a repeatable string flag.
type Strings []string

func (f *Strings) String() string     { return strings.Join(*f, ",") }
func (f *Strings) Set(v string) error { *f = append(*f, v); return nil }

// Plural is "1 frame", "2 frames": counts in messages read as English.
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
