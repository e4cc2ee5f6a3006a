package cli

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// QuietFlag adds --quiet to a long-running command: no progress bar,
// warnings and errors only.
func QuietFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("quiet", false, "no progress bar, warnings and errors only")
}

// LogFlags are the logging flags of a command: --log-json, and --quiet
// for one that draws progress.
type LogFlags struct{ JSON, Quiet bool }

// AddLogFlags defines --log-json on fs, and --quiet when quiet.
func AddLogFlags(fs *flag.FlagSet, quiet bool) *LogFlags {
	f := &LogFlags{}
	if quiet {
		fs.BoolVar(&f.Quiet, "quiet", false, "no progress bar, warnings and errors only")
	}
	fs.BoolVar(&f.JSON, "log-json", false, "logs as JSON lines on stderr")
	return f
}

// Logger is the command's logger: JSON lines on stderr with --log-json,
// warnings and errors only with --quiet, else env.Log.
func (f *LogFlags) Logger(env *Env) *slog.Logger {
	if !f.JSON {
		return Logger(env, f.Quiet)
	}
	level := slog.LevelInfo
	if f.Quiet {
		level = slog.LevelWarn
	}
	return slog.New(slog.NewJSONHandler(env.Stderr, &slog.HandlerOptions{Level: level}))
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// ProgressOut is where progress bars may draw: stderr when it is a terminal
// and the command is not quiet, else nil. A bar redraws with \r, which in a
// pipe or a log file is noise, so it never goes there.
func ProgressOut(env *Env, quiet bool) io.Writer {
	if quiet || !IsTerminal(env.Stderr) {
		return nil
	}
	return env.Stderr
}

// Logger is the command's logger: env.Log, or warnings and errors only
// when quiet.
func Logger(env *Env, quiet bool) *slog.Logger {
	if !quiet {
		return env.Log
	}
	return slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// StepBars draws a library's progress (a step's name, done of total) as one
// bar per step on ProgressOut's writer; nil when there is nowhere to draw.
func StepBars(env *Env, quiet bool) func(step string, done, total int) {
	w := ProgressOut(env, quiet)
	if w == nil {
		return nil
	}
	var bar *progressbar.ProgressBar
	var cur string
	return func(step string, done, total int) {
		if bar == nil || step != cur {
			bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w),
				progressbar.OptionSetDescription(step), progressbar.OptionShowCount(),
				progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(200*time.Millisecond),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }))
			cur = step
		}
		bar.Set(done)
	}
}

// Bar is one progress bar of done of total, made at the first report
// (when the total is known) and cleared when finished.
type Bar struct {
	w    io.Writer
	opts []progressbar.Option
	bar  *progressbar.ProgressBar
}

// NewBar returns a bar drawing on w with a description and, when units
// is set, the rate in units per second; nil when w is nil (nowhere to
// draw: its methods then do nothing).
func NewBar(w io.Writer, description, units string) *Bar {
	if w == nil {
		return nil
	}
	opts := []progressbar.Option{progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(description),
		progressbar.OptionShowCount(), progressbar.OptionClearOnFinish()}
	if units != "" {
		opts = append(opts, progressbar.OptionShowIts(), progressbar.OptionSetItsString(units), progressbar.OptionThrottle(200*time.Millisecond))
	} else {
		opts = append(opts, progressbar.OptionSetPredictTime(true))
	}
	return &Bar{w: w, opts: opts}
}

// Report draws done of total; a library's progress callback.
func (b *Bar) Report(done, total int) {
	if b.bar == nil {
		b.bar = progressbar.NewOptions(total, b.opts...)
	}
	b.bar.Set(done)
}

// Finish ends the bar, if one was drawn.
func (b *Bar) Finish() {
	if b != nil && b.bar != nil {
		b.bar.Finish()
	}
}
