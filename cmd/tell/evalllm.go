package main

import (
	"context"
	"fmt"
	"os"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/dataset"
	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/llm"
	"github.com/tell-project/tell/llm/llmeval"
)

func runEvalLLM(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("eval-llm")
	manifest := fs.String("manifest", "", "`M` labelled manifest CSV")
	out := fs.String("out", "", "`RUN` run folder")
	limit := fs.Int("limit", 0, "`N` only the first N samples (default all)")
	classes := fs.String("classes", "", "`LIST` label set, comma-separated (default: the manifest's labels)")
	workers := fs.Int("workers", 2, "`N` samples in flight at once (default 2)")
	evidence := fs.String("evidence", "aus", "`SRC` the AUs the model is grounded in and checked against: aus (the manifest's coded AUs; default) or measured (tell measures each image or clip itself, as tell analyze does, and uses its strongest spotted expression)")
	landmarks := fs.String("landmarks", "", "`PATH` dlib 68-point model for --evidence measured (default: Debian's libdlib-data)")
	quiet := cli.QuietFlag(fs)
	lf := llm.AddFlags(fs, os.Getenv)
	rest, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return cli.Usagef("unexpected argument %q", rest[0])
	case *manifest == "":
		return cli.Usagef("--manifest is required")
	case *out == "":
		return cli.Usagef("--out is required")
	case lf.URL == "":
		return cli.Usagef("--llm-url (or TELL_LLM_URL) is required")
	case *limit < 0:
		return cli.Usagef("--limit must be >= 0")
	case *evidence != "aus" && *evidence != "measured":
		return cli.Usagef("--evidence %q: want aus or measured", *evidence)
	}
	log := cli.Logger(env, *quiet)
	client, err := lf.Client("", log)
	if err != nil {
		return err
	}
	m, err := dataset.Read(*manifest)
	if err != nil {
		return err
	}
	var measure func(context.Context, dataset.Sample) ([]cot.Evidence, error)
	if *evidence == "measured" {
		lm, err := analyze.NewFaceLandmarker(*landmarks)
		if err != nil {
			return err
		}
		measure = llmeval.Measured(lm)
	}
	mt, err := llmeval.Run(ctx, m, lf.Reasoner(client, nil), llmeval.Options{
		Out: *out, Classes: cli.List(*classes), Limit: *limit, Workers: *workers, Evidence: measure,
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
	mt.Print(env.Stdout)
	if mt.Failed > 0 {
		// A run whose requests failed (server down, wrong URL) exited 0
		// with zero metrics; say so, and how to finish it.
		return fmt.Errorf("%d of %d samples got no answer (first: %s); rerun the same command to ask them again", mt.Failed, mt.Samples, mt.FirstError)
	}
	return nil
}
