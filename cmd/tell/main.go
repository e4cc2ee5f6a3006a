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
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/tell-project/tell/internal/cli"
)

// tell is the program: every subcommand, each defined in its own file.
func tell() *cli.Program {
	return &cli.Program{
		Name:  "tell",
		Title: "tell — facial expression and micro-expression recognition that explains itself",
		Commands: []cli.Command{
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
		},
		Footer: `The whole description: docs/usage.md, "Every command in full".`,
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := &cli.Env{
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Log:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
	os.Exit(tell().Run(ctx, env, os.Args[1:]))
}
