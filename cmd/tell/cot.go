package main

// This file holds the commands of chains of thought and vision LLMs: tell
// cot, export and eval-llm.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/dataset"
	"github.com/tell-project/tell/facs"
	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/llm"
	"github.com/tell-project/tell/llm/llmeval"
)

// runCot explains AU evidence as an ExpLLM-style chain of thought.
func runCot(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("cot")
	aus := fs.String("aus", "", "`CODES` FACS string as dataset sheets write it: 4+7, R12A+R14A, 12B, 1/2 (or), 12? (uncertain), A2 (asymmetric); \"0\" for none. AUs without a letter are reasoned on as present, intensity not coded.")
	auJSON := fs.String("au-json", "", "`FILE` evidence as JSON: [{\"au\":12,\"side\":\"right\",\"intensity\":2}], {\"evidence\":[...]}, or {\"AU04\":2,\"L12\":1.5,\"AU12_r\":2.5} (intensities on the 0-5 range of frames.csv and events.json, OpenFace's range; FACS letters A=1 .. E=5).")
	label := fs.String("label", "", "`L` the true label: the text is verified against it (Des2Exp) and the feedback loop runs; a failure is reported, never hidden.")
	asJSON := fs.Bool("json", false, "print the structured chain of thought (conclusion.label, ...).")
	seed := fs.Uint64("seed", 0, "`N` phrasing seed (default 0): same seed, same text.")
	classes := fs.String("classes", "", "`a,b,c` the task's label set, e.g. negative,positive,surprise.")
	dataset := fs.String("dataset", "", "`NAME` source dataset for dataset-aware mappings (e.g. \"CASME II\").")
	rest, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return cli.Usagef("unexpected argument %q", rest[0])
	}
	set := cli.Set(fs)
	if set["aus"] == set["au-json"] {
		return cli.Usagef("give exactly one of --aus and --au-json")
	}
	var ev []cot.Evidence
	if set["aus"] {
		code, err := facs.Parse(*aus)
		if err != nil {
			return fmt.Errorf("--aus: %w", err)
		}
		ev = cot.EvidenceFromCode(code)
	} else {
		data, err := os.ReadFile(*auJSON)
		if err != nil {
			return fmt.Errorf("--au-json: %w", err)
		}
		ev, err = cot.ParseEvidenceJSON(data)
		if err != nil {
			return fmt.Errorf("--au-json %s: %w", *auJSON, err)
		}
	}
	o := cot.Options{Seed: *seed, Dataset: *dataset, Classes: cli.List(*classes)}
	c, err := cot.Generate(ev, *label, o)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(c); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(env.Stdout, c.Text)
	}
	if msg := c.Verification.Reflected(); msg != "" {
		fmt.Fprintf(env.Stderr, "tell cot: %s\n", msg)
	}
	return c.Verification.Err()
}

// runExport writes instruction data for fine-tuning a vision LLM.
func runExport(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("export")
	manifest := fs.String("manifest", "", "`M` the manifest CSV (image, or frames with apex; label, aus)")
	format := fs.String("format", "", "`F` expllm, llava or sharegpt")
	out := fs.String("out", "", "`F.jsonl` the output file")
	seed := fs.Uint64("seed", 0, "`N` phrasing seed of the chains of thought (default 0)")
	classes := fs.String("classes", "", "`a,b,c` the label set (default: the manifest's labels)")
	abs := fs.Bool("abs", false, "absolute image paths instead of paths relative to --out")
	rewriteWith := fs.String("rewrite-with", "", "`URL` a vision LLM server that rephrases each verified chain of thought (needs --llm-model)")
	quiet := cli.QuietFlag(fs)
	lf := llm.AddFlags(fs, os.Getenv)
	rest, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return cli.Usagef("unexpected argument %q", rest[0])
	}
	if *manifest == "" || *out == "" || *format == "" {
		return cli.Usagef("--manifest, --format and --out are required")
	}
	f, err := cot.ParseFormat(*format)
	if err != nil {
		return cli.Usagef("%v", err)
	}
	m, err := dataset.ReadWith(*manifest, dataset.Options{AllowUnlabelled: true, SkipFileCheck: true})
	// Row problems (no input, duplicate id, ...) skip those rows with a
	// report; problems of the file itself stop the export.
	samples, skipped, err := dataset.Usable(m, err)
	if err != nil {
		return err
	}
	for _, msg := range skipped {
		fmt.Fprintf(env.Stderr, "tell export: %s: %s: skipped\n", *manifest, msg)
	}
	invalid := len(skipped)
	var recs []cot.Record
	for _, s := range samples {
		recs = append(recs, cot.Record{ID: s.ID, Subject: s.Subject, Label: s.Label, Dataset: s.Dataset,
			Emotion: s.Emotion, Image: s.Image, Frames: s.Frames, Apex: s.Apex, AUs: s.AUs, AUsRaw: s.AUsRaw, Line: s.Line})
	}
	o := cot.ExportOptions{Format: f, Seed: *seed, Classes: m.Labels()}
	if *classes != "" {
		o.Classes = cli.List(*classes)
	}
	if !*abs {
		o.BaseDir = filepath.Dir(*out)
	}
	if *rewriteWith != "" {
		client, err := lf.Client(*rewriteWith, cli.Logger(env, *quiet))
		if err != nil {
			return cli.Usagef("%v", err)
		}
		o.Rewrite = (&llm.Rewriter{Client: client, MaxTokens: lf.MaxTokens}).ForExport(o.Classes)
	}
	sum, err := cot.ExportFile(ctx, *out, recs, o)
	sum.PrintProblems(env.Stderr, "tell export: ", 20)
	if err != nil {
		return fmt.Errorf("%s: %w (%s, invalid_rows=%d)", *out, err, sum, invalid)
	}
	fmt.Fprintf(env.Stdout, "exported %s: %s invalid_rows=%d\n", *out, sum, invalid)
	return nil
}

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
