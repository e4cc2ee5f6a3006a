package main

import (
	"context"
	"fmt"

	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/train"
	"github.com/tell-project/tell/video"
)

func runPrepare(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("prepare")
	manifest := fs.String("manifest", "", "`M` manifest CSV")
	out := fs.String("out", "", "`CACHE` cache folder")
	size := fs.Int("size", model.DefaultInput().Size, "`N` input side in pixels (default 28, the model default)")
	apex := fs.Bool("apex", false, "add the apex frame as an appearance channel (frames rows)")
	align := fs.Bool("align", true, "=false take frames and images as given (default: detect and align the face, once per clip; rows without a face are kept as given)")
	workers := fs.Int("workers", 0, "`N` rows at once (default: one per core)")
	maxPixels := fs.Int("max-pixels", video.DefaultMaxPixels, "`N` refuse images larger than N pixels before decoding them (default 50000000)")
	faceMode := fs.String("face", "auto", "`MODE` how faces are found for alignment: auto (default: detection, a padded rescan, and for face crops a fit in the whole frame), detect (no crop fit), full (every image is a crop)")
	quiet := cli.QuietFlag(fs)
	if _, err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *manifest == "" || *out == "" {
		return cli.Usagef("--manifest and --out are required")
	}
	if *maxPixels <= 0 {
		return cli.Usagef("--max-pixels %d: want a positive number of pixels", *maxPixels)
	}
	mode, err := face.ParseFindMode(*faceMode)
	if err != nil {
		return cli.Usagef("--face: %v", err)
	}
	samples, rowErrs, err := train.ReadManifest(*manifest)
	if err != nil {
		return err
	}
	kind := train.KindOf(samples)
	d, err := train.Prepare(ctx, samples, kind, train.PrepareOptions{Size: *size, Apex: *apex, Align: *align, Workers: *workers, Cache: *out, Progress: cli.StepBars(env, *quiet), MaxPixels: *maxPixels, Face: mode})
	if err != nil {
		return err
	}
	rowErrs = append(rowErrs, d.Errors...)
	for _, e := range rowErrs {
		fmt.Fprintf(env.Stderr, "tell prepare: %s: %v\n", *manifest, e)
	}
	if d.AlignError != "" {
		fmt.Fprintf(env.Stderr, "tell prepare: faces not aligned: %s\n", d.AlignError)
	}
	if d.Unaligned > 0 && mode != face.FindFull {
		fmt.Fprintf(env.Stderr, "tell prepare: no face found in %s (taken as given); if the images are face crops, --face full takes the whole frame as the face\n", cli.Plural(d.Unaligned, "row"))
	}
	fmt.Fprintf(env.Stdout, "kind=%s\nprepared=%d\ncached=%d\naligned=%d\naligned_crops=%d\nno_face=%d\nfailed=%d\ncache=%s\n",
		kind, len(d.Samples), d.Cached, d.Aligned, d.AlignedCrops, d.Unaligned, len(rowErrs), *out)
	if len(d.Samples) == 0 {
		return fmt.Errorf("no row could be prepared")
	}
	return nil
}
