package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/facs"
	"github.com/tell-project/tell/internal/cli"
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
	if v := c.Verification; v != nil && v.MatchesTrueLabel && v.Attempts > 1 {
		fmt.Fprintf(env.Stderr, "tell cot: %q reached after %d attempts of feedback reflection: %s\n",
			v.TrueLabel, v.Attempts, strings.Join(v.Feedback, "; "))
	}
	if v := c.Verification; v != nil && v.Flagged {
		return fmt.Errorf("verification failed after %d attempt(s): the evidence does not support %q: %s",
			v.Attempts, v.TrueLabel, strings.Join(v.Feedback, "; "))
	}
	return nil
}
