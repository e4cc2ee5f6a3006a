package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/dataset"
	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/llm"
)

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
