package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/dataset"
	"github.com/tell-project/tell/llm/llmeval"
)

func evalLLMCommand() command {
	return command{
		name:    "eval-llm",
		summary: "score a vision LLM on a labelled manifest (accuracy, UF1, UAR, CoT faithfulness, cost)",
		usage: `usage: tell eval-llm --manifest M --llm-url URL --llm-model NAME --out RUN [--limit N]
                     [--classes a,b,c] [--workers N] [--evidence aus|measured]
                     [--landmarks PATH] [LLM flags]`,
		run: runEvalLLM,
	}
}

func runEvalLLM(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet("eval-llm")
	manifest := fs.String("manifest", "", "`M` labelled manifest CSV")
	out := fs.String("out", "", "`RUN` run folder")
	limit := fs.Int("limit", 0, "`N` only the first N samples (default all)")
	classes := fs.String("classes", "", "`LIST` label set, comma-separated (default: the manifest's labels)")
	workers := fs.Int("workers", 2, "`N` samples in flight at once (default 2)")
	evidence := fs.String("evidence", "aus", "`SRC` the AUs the model is grounded in and checked against: aus (the manifest's coded AUs; default) or measured (tell measures each image or clip itself, as tell analyze does, and uses its strongest spotted expression)")
	landmarks := fs.String("landmarks", "", "`PATH` dlib 68-point model for --evidence measured (default: Debian's libdlib-data)")
	quiet := quietFlag(fs)
	lf := addLLMFlags(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return usageErrorf("unexpected argument %q", rest[0])
	case *manifest == "":
		return usageErrorf("--manifest is required")
	case *out == "":
		return usageErrorf("--out is required")
	case lf.url == "":
		return usageErrorf("--llm-url (or TELL_LLM_URL) is required")
	case *limit < 0:
		return usageErrorf("--limit must be >= 0")
	case *evidence != "aus" && *evidence != "measured":
		return usageErrorf("--evidence %q: want aus or measured", *evidence)
	}
	log := commandLog(env, *quiet)
	client, err := lf.client("", log)
	if err != nil {
		return err
	}
	m, err := dataset.Read(*manifest)
	if err != nil {
		return err
	}
	var cls []string
	for _, c := range strings.Split(*classes, ",") {
		if c = strings.TrimSpace(c); c != "" {
			cls = append(cls, c)
		}
	}
	var measure func(context.Context, dataset.Sample) ([]cot.Evidence, error)
	if *evidence == "measured" {
		lm, err := analyze.NewFaceLandmarker(*landmarks)
		if err != nil {
			return err
		}
		measure = llmeval.Measured(lm)
	}
	mt, err := llmeval.Run(ctx, m, lf.reasoner(client, nil), llmeval.Options{
		Out: *out, Classes: cls, Limit: *limit, Workers: *workers, Evidence: measure,
		Model: client.Model(), URL: client.Endpoint(), Logger: log,
		Progress: func(done, total int) {
			if done == total || done%10 == 0 {
				log.Info("eval-llm", "done", done, "total", total)
			}
		},
	})
	if err != nil {
		return err
	}
	mt.Print(env.stdout)
	if mt.Failed > 0 {
		// A run whose requests failed (server down, wrong URL) exited 0
		// with zero metrics; say so, and how to finish it.
		return fmt.Errorf("%d of %d samples got no answer (first: %s); rerun the same command to ask them again", mt.Failed, mt.Samples, mt.FirstError)
	}
	return nil
}
