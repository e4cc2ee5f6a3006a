// Command tell finds faces in images and video, measures their facial Action
// Units, spots micro- and macro-expressions, recognises the emotion and explains
// its answer as an AU-grounded chain of thought.
//
// Limits: the command is a thin layer of flags over the packages; each
// package's documentation states what its part cannot do (AUs validated on
// synthetic clips only: package au; faces a video follows: package analyze).
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

// tell is the program: every subcommand and bench target, each run function
// in the file of its layer (analyze.go, bench.go, cot.go, dataset.go,
// serve.go, train.go).
func tell() *cli.Program {
	return &cli.Program{
		Name:  "tell",
		Title: "tell — facial expression and micro-expression recognition that explains itself",
		Commands: []cli.Command{
			{Name: "analyze", Run: runAnalyze,
				Summary: "AUs, spotted expressions, emotions and explanations from an image, frames or a video",
				Usage:   `usage: tell analyze INPUT [--out DIR] [flags]`},
			{Name: "batch", Run: runBatch,
				Summary: "analyse many clips through the NATS queue, resumably",
				Usage: `usage: tell batch (--manifest clips.csv | DIR) --nats URL --out DIR
                  [--nats-creds FILE] [--max-pending N] [--fps F] [--quiet]`},
			{
				Name:    "bench",
				Summary: "measure a component against its peer (fer, flow, landmarks, nn), on synthetic truth (au) or on coded clips (spot)",
				Usage: "Usage: tell bench TARGET [flags] [arguments]\n\n" +
					"Measures one part of tell and prints name=value lines, the headline figure last,\n" +
					"in the same interface as the peer programs in the project's bench folder.",
				Target: "benchmark target",
				Targets: []cli.Command{
					{Name: "landmarks", Run: runLandmarksBenchmark,
						Summary: "68-point landmarks on one face box (vs dlib's C++ shape predictor)"},
					{Name: "fer", Run: runFerBenchmark,
						Summary: "pretrained expression net on face crops IMAGE... [--appearance faceapi|human] (vs TensorFlow.js): tell_fer_ms="},
					{Name: "au", Run: benchAU,
						Summary: "AU detection on synthetic clips with known truth [--generator muscle|basis] [--n N] [--seed S] [--kind micro|macro] ...: au_event_f1="},
					{Name: "spot", Run: runSpotBenchmark,
						Summary: "spotting on clips with coded onset/apex/offset (TRUTH.csv): precision, recall, F1 at IoU >= 0.5, apex error",
						Usage:   spotBenchUsage},
					{Name: "cot", Run: runCotBenchmark,
						Summary: "the Exp-CoT engine on a manifest's coded AUs (aus) against its labels: accuracy, UF1, UAR, ECE, confusion per dataset",
						Usage:   cotBenchUsage},
					{Name: "flow", Run: benchFlow,
						Summary: "TV-L1 optical flow A.png B.png [--gt gt.flo] [--out f.flo] [--preset default|fast]: epe=, tell_tvl1_ms="},
					{Name: "nn", Run: benchNN,
						Summary: "one training step of the reference MER model [--threads N] [--batch N]: tell_step_ms="},
				},
			},
			{Name: "cot", Run: runCot,
				Summary: "explain AU evidence as a three-part chain of thought",
				Usage: `usage: tell cot --aus "4B+7A+L10" | --au-json FILE [--label L] [--json] [--seed N]
                [--classes a,b,c] [--dataset NAME]`},
			{Name: "dataset", Run: runDataset,
				Summary: "convert CASME II, SAMM, SMIC, CAS(ME)^3 or the MEGC2019 composite to a manifest",
				Usage: `usage: tell dataset casme2|samm|smic|casme3 --root DIR --out manifest.csv [flags]
       tell dataset composite --casme2 DIR --samm DIR --smic DIR --out manifest.csv [flags]`},
			{Name: "eval", Run: runEval,
				Summary: "score a trained or pretrained model on a manifest (metrics.json, predictions.csv)",
				Usage: `usage: tell eval --model RUN/model.safetensors --manifest M --out RUN2
       tell eval --appearance faceapi|human --manifest images.csv --out RUN2`},
			{Name: "eval-llm", Run: runEvalLLM,
				Summary: "score a vision LLM on a labelled manifest (accuracy, UF1, UAR, CoT faithfulness, cost)",
				Usage: `usage: tell eval-llm --manifest M --llm-url URL --llm-model NAME --out RUN [--limit N]
                     [--classes a,b,c] [--workers N] [--evidence aus|measured]
                     [--landmarks PATH] [LLM flags]`},
			{Name: "export", Run: runExport,
				Summary: "write vision-LLM instruction data (label + CoT turns) from a manifest",
				Usage: `usage: tell export --manifest M --format expllm|llava|sharegpt --out F.jsonl
                   [--seed N] [--classes a,b,c] [--abs]
                   [--rewrite-with URL --llm-model NAME [LLM flags]]`},
			{Name: "prepare", Run: runPrepare,
				Summary: "prepare a manifest's model inputs once (flows, faces) into a cache",
				Usage:   `usage: tell prepare --manifest M --out CACHE [--size N] [--apex] [--workers N]`},
			{Name: "serve", Run: runServe,
				Summary: "HTTP API and web page: upload, analyse, explain",
				Usage: `usage: tell serve [--addr HOST:PORT] [--data DIR | --nats URL] [--jobs N] [--workers 0|1]
                  [--api-keys FILE] [--nats-listen H:P --nats-users FILE]
                  [--allowed-hosts NAMES] [--insecure-no-auth] [flags]
       tell serve --add-key NAME [--admin] --api-keys FILE
       tell serve --add-nats-user ROLE:NAME --nats-users FILE > NAME.creds
       tell serve --print-nats-config --nats-users FILE >> nats-server.conf

Serves the web page at / and the JSON API (GET /openapi.json describes it).`},
			{Name: "sweep", Run: runSweep,
				Summary: "choose a training config on development rows by a rule declared before any candidate trains",
				Usage:   `usage: tell sweep CONFIG... --manifest DEV --protocol kfold|loso --out DIR [flags]`},
			{Name: "synth", Run: runSynth,
				Summary: "make synthetic expression clips with ground truth",
				Usage:   `usage: tell synth --out DIR [--n N] [--seed S] [flags]`},
			{Name: "train", Run: runTrain,
				Summary: "train and evaluate a recogniser (CNN or MER-CLIP) under LOSO, k-fold or holdout",
				Usage:   `usage: tell train --manifest M --protocol loso|kfold|holdout --out RUN [flags]`},
			{Name: "view", Run: runView,
				Summary: "play a finished analysis's clip beside its AU and probability curves, in the browser",
				Usage:   `usage: tell view RUN [--addr HOST:PORT]`},
			{Name: "worker", Run: runWorker,
				Summary: "run queued analyses and training folds from a NATS server (tell serve's or a cluster)",
				Usage: `usage: tell worker --nats URL [--nats-creds FILE] [--jobs N] [--name NAME]
                   [--workdir DIR] [--landmarks PATH] [--max-pixels N]
                   [--max-seconds S] [--job-budget WORK] [--memory-limit MB]
                   [--max-train-bytes N] [--log-json]`},
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
