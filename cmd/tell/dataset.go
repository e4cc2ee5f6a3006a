package main

import (
	"context"
	"path/filepath"

	"github.com/tell-project/tell/dataset"
	"github.com/tell-project/tell/internal/cli"
)

// runDataset converts the public micro-expression datasets' own
// annotation sheets and frame folders into a manifest CSV.
func runDataset(ctx context.Context, env *cli.Env, args []string) error {
	if len(args) == 0 {
		return cli.Usagef("missing dataset name (casme2, samm, smic, casme3 or composite)")
	}
	name := args[0]
	fs := cli.NewFlagSet("dataset")
	root := fs.String("root", "", "`DIR` the dataset's folder")
	sheet := fs.String("sheet", "", "`FILE` the annotation sheet (default: searched under --root)")
	out := fs.String("out", "", "`FILE` the manifest to write")
	classes := fs.String("classes", "", "`SCHEME` label scheme (default: the sheet's emotion): 3 (MEGC2019 negative/positive/surprise), 5 (CASME II: happiness, disgust, repression, surprise, others; SAMM: anger, contempt, happiness, surprise, others), 7 or 4 (CAS(ME)^3, 4: + others), objective (classes I..VII: the sheet's column, else from AUs)")
	skip := fs.Bool("skip-missing", false, "leave out clips whose frames are missing instead of failing")
	sheetOnly := fs.Bool("sheet-only", false, "convert the sheet without frame folders: rows name where the frames belong (ROOT/SUBJECT/CLIP); --root defaults to the sheet's folder")
	strict := fs.Bool("strict", false, "AU cells that are not FACS are errors, not warnings")
	casme2 := fs.String("casme2", "", "`DIR` composite: CASME II's folder")
	samm := fs.String("samm", "", "`DIR` composite: SAMM's folder")
	smic := fs.String("smic", "", "`DIR` composite: SMIC's folder")
	if name == "-h" || name == "-help" || name == "--help" {
		return &cli.HelpRequest{FlagSet: fs}
	}
	rest, err := cli.Parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return cli.Usagef("unexpected arguments %q", rest)
	}
	if *out == "" {
		return cli.Usagef("--out is required")
	}
	if *sheetOnly && *root == "" && *sheet != "" {
		*root = filepath.Dir(*sheet)
	}
	opt := dataset.ConvertOptions{Root: *root, Sheet: *sheet, Classes: *classes, SkipMissing: *skip, SheetOnly: *sheetOnly, Strict: *strict}
	var conv *dataset.Conversion
	switch name {
	case "composite":
		if *casme2 == "" || *samm == "" || *smic == "" {
			return cli.Usagef("composite needs --casme2, --samm and --smic")
		}
		conv, err = dataset.ConvertComposite(ctx, map[string]string{"casme2": *casme2, "samm": *samm, "smic": *smic}, opt)
	case "casme2", "samm", "smic", "casme3":
		if *root == "" {
			return cli.Usagef("--root is required")
		}
		conv, err = dataset.Convert(ctx, name, opt)
	default:
		return cli.Usagef("unknown dataset %q (casme2, samm, smic, casme3 or composite)", name)
	}
	if err != nil {
		return err
	}
	conv.PrintNotes(env.Stderr)
	if err := dataset.Validate(conv.Samples, dataset.Options{SkipFileCheck: *sheetOnly}); err != nil {
		return err
	}
	if err := dataset.Write(*out, conv.Samples); err != nil {
		return err
	}
	conv.Print(env.Stdout, *out, *classes)
	return nil
}
