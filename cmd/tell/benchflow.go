package main

import (
	"context"
	"fmt"

	"github.com/tell-project/tell/eval"
	"github.com/tell-project/tell/flow"
	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/video"
)

// benchFlow times TV-L1 on one image pair: `tell bench flow A B`.
func benchFlow(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("bench flow")
	gtPath := fs.String("gt", "", "`FILE` ground-truth flow (.flo) to report the end-point error against")
	outPath := fs.String("out", "", "`FILE` write the computed flow here (.flo)")
	preset := fs.String("preset", "default", "`NAME` parameters: default (OpenCV's) or fast")
	workers := fs.Int("workers", 0, "`N` goroutines (0: all cores)")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return cli.Usagef("want two images, got %d arguments", len(pos))
	}
	p, err := flow.Preset(*preset)
	if err != nil {
		return cli.Usagef("%v", err)
	}
	p.Workers = *workers
	a, err := loadGray(pos[0])
	if err != nil {
		return err
	}
	b, err := loadGray(pos[1])
	if err != nil {
		return err
	}
	f, iterations, ms, err := eval.Flow(ctx, p, a, b)
	if err != nil {
		return fmt.Errorf("%s, %s: %w", pos[0], pos[1], err)
	}
	if *outPath != "" {
		if err := flow.SaveFlo(*outPath, f); err != nil {
			return err
		}
	}
	if *gtPath != "" {
		gt, err := flow.LoadFlo(*gtPath)
		if err != nil {
			return err
		}
		epe, err := flow.EPE(f, gt, 8)
		if err != nil {
			return fmt.Errorf("%s: %w", *gtPath, err)
		}
		fmt.Fprintf(env.Stdout, "epe=%.4f\n", epe)
	}
	fmt.Fprintf(env.Stdout, "iterations=%d\n", iterations)
	fmt.Fprintf(env.Stdout, "tell_tvl1_ms=%.1f\n", ms)
	return nil
}

// loadGray decodes an image file to grey within the default pixel budget.
func loadGray(path string) (*raster.Gray, error) { return video.ReadGray(path, 0) }
