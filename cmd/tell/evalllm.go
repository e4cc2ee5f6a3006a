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
                     [--landmarks PATH] [LLM flags]

Shows a vision LLM each sample of the manifest (the image column, or the apex
and onset frames, and the flow image for micro-expressions) with tell's AU
evidence (the aus column) in ExpLLM's layout: the label request, then the
chain-of-thought request conditioned on the label. Each answer is parsed and
checked (label outside the classes, AUs claimed but not measured, a
conclusion contradicting its own observations) and appended to
RUN/answers.jsonl as it arrives; a rerun skips the samples already answered
(failed ones are asked again). At the end RUN/metrics.json holds accuracy,
UF1 and UAR over the valid answers, accuracy_all (invalid answers and
failures count as wrong), faithfulness (au_match, no_hallucination,
consistent, au_precision, au_recall) and cost (tokens, latency p50/p90/p99).

  --manifest M     labelled manifest CSV
  --out RUN        run folder
  --limit N        only the first N samples (default all)
  --classes LIST   label set, comma-separated (default: the manifest's labels)
  --workers N      samples in flight at once (default 2)
  --evidence SRC   the AUs the model is grounded in and checked against:
                   aus (the manifest's coded AUs; default) or measured (tell
                   measures each image or clip itself, as tell analyze does,
                   and uses its strongest spotted expression)
  --landmarks PATH dlib 68-point model for --evidence measured (default:
                   Debian's libdlib-data)
` + quietUsage + `
` + llmFlagsUsage,
		run: runEvalLLM,
	}
}

func runEvalLLM(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet("eval-llm")
	manifest := fs.String("manifest", "", "manifest CSV")
	out := fs.String("out", "", "run folder")
	limit := fs.Int("limit", 0, "first N samples")
	classes := fs.String("classes", "", "label set")
	workers := fs.Int("workers", 2, "samples in flight")
	evidence := fs.String("evidence", "aus", "aus or measured")
	landmarks := fs.String("landmarks", "", "dlib model")
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
	fmt.Fprintf(env.stdout, "samples=%d answered=%d invalid=%d failed=%d\n", mt.Samples, mt.Answered, mt.Invalid, mt.Failed)
	fmt.Fprintf(env.stdout, "au_match=%.4f no_hallucination=%.4f consistent=%.4f au_precision=%.4f au_recall=%.4f\n",
		mt.Faithfulness.AUMatch, mt.Faithfulness.NoHallucination, mt.Faithfulness.Consistent, mt.Faithfulness.AUPrecision, mt.Faithfulness.AURecall)
	fmt.Fprintf(env.stdout, "tokens=%d tokens_per_sample=%.1f latency_p50_ms=%.0f latency_p90_ms=%.0f latency_p99_ms=%.0f\n",
		mt.Cost.TotalTokens, mt.Cost.TokensPerSample, mt.Cost.LatencyP50MS, mt.Cost.LatencyP90MS, mt.Cost.LatencyP99MS)
	fmt.Fprintf(env.stdout, "accuracy=%.4f uf1=%.4f uar=%.4f accuracy_all=%.4f\n", mt.Accuracy, mt.UF1, mt.UAR, mt.AccuracyAll)
	if mt.Failed > 0 {
		// A run whose requests failed (server down, wrong URL) exited 0
		// with zero metrics; say so, and how to finish it.
		return fmt.Errorf("%d of %d samples got no answer (first: %s); rerun the same command to ask them again", mt.Failed, mt.Samples, mt.FirstError)
	}
	return nil
}
