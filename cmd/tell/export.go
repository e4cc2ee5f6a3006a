package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/tell-project/tell/atomicfile"
	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/dataset"
	"github.com/tell-project/tell/llm"
)

// exportCommand writes instruction data for fine-tuning a vision LLM.
func exportCommand() command {
	return command{
		name:    "export",
		summary: "write vision-LLM instruction data (label + CoT turns) from a manifest",
		usage: `usage: tell export --manifest M --format expllm|llava|sharegpt --out F.jsonl
                   [--seed N] [--classes a,b,c] [--abs]
                   [--rewrite-with URL --llm-model NAME [LLM flags]]

One JSON line per sample: the image (the manifest's image, or the apex
frame of frames + apex), a label-only turn, and a chain-of-thought turn
built from the manifest's aus column by the Exp-CoT engine and verified
against the label.

  expllm    {"id","image","label","system","tasks":[label, cot],"cot":{...}}
  llava     {"id","image","conversations":[{"from":"human","value":"<image>\n..."},...]}
  sharegpt  {"id","messages":[{"role","content"}],"images":[...]}

Rows without an image or a label are skipped; rows without AUs, with an
unreadable AU string, or whose CoT cannot be reconciled with the label get
the label turn only. Every such row is listed on stderr and counted in the
summary printed last. Image paths are relative to the output file's folder
(absolute with --abs). --classes sets the label set (default: the
manifest's labels). The output is written atomically.

--rewrite-with URL lets a vision LLM at URL (an OpenAI-compatible server)
rephrase each verified chain of thought for fluency — the Exp-CoT loop with
an LLM as the writer. A rewrite is kept only if it keeps the three headings
and exactly the same AUs, and Des2Exp still reads the true label from it;
otherwise the model is asked again with the reasons (up to 3 attempts), and
then the built-in text is kept. The summary counts llm_rewritten and
llm_kept; three records in a row that cannot reach the server stop the
export.

Flags:
  --manifest M     the manifest CSV (image, or frames with apex; label, aus)
  --format F       expllm, llava or sharegpt
  --out F.jsonl    the output file
  --seed N         phrasing seed of the chains of thought (default 0)
  --classes a,b,c  the label set (default: the manifest's labels)
  --abs            absolute image paths instead of paths relative to --out
  --rewrite-with URL
                   a vision LLM server that rephrases each verified chain
                   of thought (needs --llm-model)
` + quietUsage + `
` + llmFlagsUsage,
		run: runExport,
	}
}

func runExport(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet("export")
	manifest := fs.String("manifest", "", "manifest CSV")
	format := fs.String("format", "", "expllm, llava or sharegpt")
	out := fs.String("out", "", "output JSONL")
	seed := fs.Uint64("seed", 0, "phrasing seed")
	classes := fs.String("classes", "", "label set")
	abs := fs.Bool("abs", false, "absolute image paths")
	rewriteWith := fs.String("rewrite-with", "", "LLM server that rephrases the CoT")
	quiet := quietFlag(fs)
	lf := addLLMFlags(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErrorf("unexpected argument %q", rest[0])
	}
	if *manifest == "" || *out == "" || *format == "" {
		return usageErrorf("--manifest, --format and --out are required")
	}
	f, err := cot.ParseFormat(*format)
	if err != nil {
		return usageErrorf("%v", err)
	}
	m, err := dataset.ReadWith(*manifest, dataset.Options{AllowUnlabelled: true, SkipFileCheck: true})
	// Row problems (no input, duplicate id, ...) skip those rows with a
	// report; problems of the file itself stop the export.
	bad := map[int]string{}
	invalid := 0
	var ve *dataset.ValidationError
	switch {
	case errors.As(err, &ve) && m != nil:
		rows := map[int]bool{}
		for _, s := range m.Samples {
			rows[s.Line] = true
		}
		for _, p := range ve.Problems {
			// A broken quote stopped the reader: skipping it would
			// silently drop every row after it.
			if p.Line < 2 || p.Stopped {
				return err
			}
			if !rows[p.Line] {
				// A row too short to read has no sample: report it here,
				// or it would vanish from the export without a word.
				invalid++
				fmt.Fprintf(env.stderr, "tell export: %s: %s: skipped\n", *manifest, p)
				continue
			}
			if bad[p.Line] != "" {
				bad[p.Line] += "; "
			}
			bad[p.Line] += p.String()
		}
	case err != nil:
		return err
	}
	var recs []cot.Record
	for _, s := range m.Samples {
		if msg, ok := bad[s.Line]; ok {
			invalid++
			fmt.Fprintf(env.stderr, "tell export: %s: %s: skipped\n", *manifest, msg)
			continue
		}
		recs = append(recs, cot.Record{ID: s.ID, Subject: s.Subject, Label: s.Label, Dataset: s.Dataset,
			Emotion: s.Emotion, Image: s.Image, Frames: s.Frames, Apex: s.Apex, AUs: s.AUs, AUsRaw: s.AUsRaw, Line: s.Line})
	}
	o := cot.ExportOptions{Format: f, Seed: *seed, Classes: m.Labels()}
	if *classes != "" {
		o.Classes = nil
		for _, c := range strings.Split(*classes, ",") {
			if c = strings.TrimSpace(c); c != "" {
				o.Classes = append(o.Classes, c)
			}
		}
	}
	if !*abs {
		o.BaseDir = filepath.Dir(*out)
	}
	if *rewriteWith != "" {
		client, err := lf.client(*rewriteWith, commandLog(env, *quiet))
		if err != nil {
			return usageErrorf("%v", err)
		}
		o.Rewrite = (&llm.Rewriter{Client: client, MaxTokens: lf.maxTokens}).ForExport(o.Classes)
	}
	var sum cot.ExportSummary
	err = atomicfile.Write(*out, func(w io.Writer) error {
		var err error
		sum, err = cot.Export(ctx, w, recs, o)
		if err == nil && sum.Written == 0 {
			err = errors.New("no exportable row")
		}
		return err
	})
	const show = 20
	for i, p := range sum.Problems {
		if i == show {
			fmt.Fprintf(env.stderr, "tell export: ... and %d more\n", len(sum.Problems)-show)
			break
		}
		fmt.Fprintf(env.stderr, "tell export: %s\n", p)
	}
	if err != nil {
		return fmt.Errorf("%s: %w (%s, invalid_rows=%d)", *out, err, sum, invalid)
	}
	fmt.Fprintf(env.stdout, "exported %s: %s invalid_rows=%d\n", *out, sum, invalid)
	return nil
}
