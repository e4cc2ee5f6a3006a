package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tell-project/tell/dataset"
)

// datasetCommand converts the public micro-expression datasets' own
// annotation sheets and frame folders into a manifest CSV.
func datasetCommand() command {
	return command{
		name:    "dataset",
		summary: "convert CASME II, SAMM, SMIC, CAS(ME)^3 or the MEGC2019 composite to a manifest",
		usage: `usage: tell dataset casme2|samm|smic|casme3 --root DIR --out manifest.csv [flags]
       tell dataset composite --casme2 DIR --samm DIR --smic DIR --out manifest.csv [flags]

Reads a dataset as its owners ship it (the .xlsx coding sheet or a .csv
export of it, and the frame folders) and writes a manifest CSV: one row per
clip with subject, label, frames folder, onset/apex/offset frame numbers,
AUs and emotion. Odd cells (apex "/", offsets of -1, subject ids spelled
differently in sheet and folders) are handled and listed on stderr.

AU cells are read as coders write them ("?", "12?", "(R6 or R12)+R15",
"T18", "ref(7B)", "4A/B", "A/L12", action descriptors such as 38, 43, 61,
AD19, M59): the manifest's aus column holds them canonically, aus_raw the
cell verbatim. Text that is not FACS ("R14+17+soft focus") never stops the
conversion: the FACS part is kept and the cell is listed as a warning.

  --root DIR          the dataset's folder
  --sheet FILE        the annotation sheet (default: searched under --root)
  --out FILE          the manifest to write
  --classes SCHEME    label scheme (default: the sheet's emotion):
                        3          MEGC2019 negative/positive/surprise (all)
                        5          CASME II: happiness, disgust, repression, surprise, others
                                   SAMM: anger, contempt, happiness, surprise, others
                        7, 4       CAS(ME)^3 7-class, 4-class (+ others)
                        objective  objective classes I..VII (SAMM/CAS(ME)^3 sheet column, else from AUs)
  --skip-missing      leave out clips whose frames are missing instead of failing
  --sheet-only        convert the sheet without frame folders: rows name where
                      the frames belong (ROOT/SUBJECT/CLIP); --root defaults
                      to the sheet's folder
  --strict            AU cells that are not FACS are errors, not warnings
  --casme2, --samm, --smic DIR   (composite) the three datasets' folders

The composite prefixes subject and sample ids with the dataset
("casme2_sub01", "samm_006", "smic_s1") and always uses the 3-class scheme.`,
		run: runDataset,
	}
}

func runDataset(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 {
		return usageErrorf("missing dataset name (casme2, samm, smic, casme3 or composite)")
	}
	name := args[0]
	if name == "-h" || name == "-help" || name == "--help" {
		return flag.ErrHelp
	}
	fs := newFlagSet("dataset")
	root := fs.String("root", "", "dataset folder")
	sheet := fs.String("sheet", "", "annotation sheet")
	out := fs.String("out", "", "manifest to write")
	classes := fs.String("classes", "", "class scheme")
	skip := fs.Bool("skip-missing", false, "leave out clips without frames")
	sheetOnly := fs.Bool("sheet-only", false, "convert the sheet without frame folders")
	strict := fs.Bool("strict", false, "AU cells that are not FACS are errors")
	casme2 := fs.String("casme2", "", "CASME II folder (composite)")
	samm := fs.String("samm", "", "SAMM folder (composite)")
	smic := fs.String("smic", "", "SMIC folder (composite)")
	rest, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErrorf("unexpected arguments %q", rest)
	}
	if *out == "" {
		return usageErrorf("--out is required")
	}
	if *sheetOnly && *root == "" && *sheet != "" {
		*root = filepath.Dir(*sheet)
	}
	opt := dataset.ConvertOptions{Root: *root, Sheet: *sheet, Classes: *classes, SkipMissing: *skip, SheetOnly: *sheetOnly, Strict: *strict}
	var conv *dataset.Conversion
	switch name {
	case "composite":
		if *casme2 == "" || *samm == "" || *smic == "" {
			return usageErrorf("composite needs --casme2, --samm and --smic")
		}
		conv, err = dataset.ConvertComposite(ctx, map[string]string{"casme2": *casme2, "samm": *samm, "smic": *smic}, opt)
	case "casme2", "samm", "smic", "casme3":
		if *root == "" {
			return usageErrorf("--root is required")
		}
		conv, err = dataset.Convert(ctx, name, opt)
	default:
		return usageErrorf("unknown dataset %q (casme2, samm, smic, casme3 or composite)", name)
	}
	if err != nil {
		return err
	}
	for _, n := range conv.Notes {
		fmt.Fprintln(env.stderr, "note:", n)
	}
	for _, w := range conv.Warnings {
		fmt.Fprintln(env.stderr, "warning:", w)
	}
	if err := dataset.Validate(conv.Samples, dataset.Options{SkipFileCheck: *sheetOnly}); err != nil {
		return err
	}
	if err := dataset.Write(*out, conv.Samples); err != nil {
		return err
	}
	counts := map[string]int{}
	subjects := map[string]bool{}
	for _, s := range conv.Samples {
		counts[s.Label]++
		subjects[s.Subject] = true
	}
	fmt.Fprintf(env.stdout, "wrote %s: %s, %s, %s, %s\n", *out, plural(len(conv.Samples), "sample"), plural(len(subjects), "subject"), plural(len(conv.Notes), "note"), plural(len(conv.Warnings), "warning"))
	fmt.Fprintf(env.stdout, "labels: %s\n", countList(counts))
	if len(conv.Dropped) > 0 {
		fmt.Fprintf(env.stdout, "left out by --classes %q: %s\n", *classes, countList(conv.Dropped))
	}
	return nil
}

// countList formats counts as "a 3, b 1", sorted by name.
func countList(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
