package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/schollz/progressbar/v3"
)

// quietFlag adds --quiet to a long-running command: no progress bar,
// warnings and errors only.
func quietFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("quiet", false, "no progress bar, warnings and errors only")
}

// progressOut is where progress bars may draw: stderr when it is a terminal
// and the command is not quiet, else nil. A bar redraws with \r, which in a
// pipe or a log file is noise, so it never goes there.
func progressOut(env *environment, quiet bool) io.Writer {
	if quiet || !isTerminal(env.stderr) {
		return nil
	}
	return env.stderr
}

// commandLog is the command's logger: env.log, or warnings and errors only
// when quiet.
func commandLog(env *environment, quiet bool) *slog.Logger {
	if !quiet {
		return env.log
	}
	return slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// stepBars draws a library's progress (train.Progress: a step's name, done
// of total) as one bar per step on progressOut's writer; nil when there is
// nowhere to draw.
func stepBars(env *environment, quiet bool) func(step string, done, total int) {
	w := progressOut(env, quiet)
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
