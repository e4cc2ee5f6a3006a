package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/schollz/progressbar/v3"

	"github.com/tell-project/tell/batch"
)

func batchCommand() command {
	return command{
		name:    "batch",
		summary: "analyse many clips through the NATS queue, resumably",
		usage: `usage: tell batch (--manifest clips.csv | DIR) --nats URL --out DIR
                  [--owner NAME] [--max-pending N] [--fps F] [--quiet]

Submits every clip of a manifest (or every image and video of a folder,
recursively) to the NATS JetStream job queue that tell serve and tell
worker use, and collects each analysis into OUT/NAME/ (events.json,
frames.csv, report.html, job.json) as it finishes. Run it again after an
interruption: clips with a result folder are skipped, jobs already
submitted are awaited (their ids come from the clip's content), the rest
are submitted. Finished jobs are removed from the queue once collected.

The manifest needs a "sample" column (the result folder's name) and one
of "video" (as tell synth writes), "image" or "frames" (a folder of frame
images) per row; an "fps" column sets a folder's frame rate. Rows that
name the same input share one job and the first row's sample name.
Relative paths are relative to the manifest's folder.

Flags:
  --nats URL         the NATS server (tell serve --nats-listen's address)
  --out DIR          results folder (made if missing)
  --manifest FILE    the clips; or give a folder as the argument
  --owner NAME       owner of the jobs (default "batch"): tell serve shows
                     them to the API key of that name
  --max-pending N    jobs submitted and not yet collected (default 32)
  --fps F            frame rate of folders of frames (default 30)
  --quiet            no progress bar`,
		run: runBatch,
	}
}

func runBatch(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet("batch")
	url := fs.String("nats", "", "")
	out := fs.String("out", "", "")
	manifest := fs.String("manifest", "", "")
	owner := fs.String("owner", "batch", "")
	maxPending := fs.Int("max-pending", 32, "")
	fps := fs.Float64("fps", 0, "")
	quiet := fs.Bool("quiet", false, "")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case *url == "":
		return usageErrorf("--nats URL is required")
	case *out == "":
		return usageErrorf("--out DIR is required")
	case (*manifest == "") == (len(pos) != 1):
		return usageErrorf("give --manifest FILE or one folder")
	case len(pos) > 1:
		return usageErrorf("unexpected argument %q", pos[1])
	case *maxPending < 1:
		return usageErrorf("--max-pending %d: want at least 1", *maxPending)
	case *fps < 0 || *fps > 10000:
		return usageErrorf("--fps %g: want 0 (default) to 10000", *fps)
	}
	var items []*batch.Item
	if *manifest != "" {
		items, err = batch.FromManifest(*manifest, *fps)
	} else {
		items, err = batch.FromFolder(pos[0], *fps)
	}
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return errors.New("nothing to analyse")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	fc, err := connectQueue(ctx, env, *url, natsClientFlags{creds: new(string), ca: new(string)}, "tell batch", env.log)
	if err != nil {
		return err
	}
	defer fc.close()
	opt := batch.Options{Out: *out, Owner: *owner, MaxPending: *maxPending}
	var bar *progressbar.ProgressBar
	if w := progressOut(env, *quiet); w != nil {
		opt.Progress = func(done, total int) {
			if bar == nil {
				bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription("analysing"),
					progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish())
			}
			bar.Set(done)
		}
	}
	res, err := batch.Run(ctx, fc.q, items, opt)
	if err != nil && err == ctx.Err() {
		fmt.Fprintf(env.stderr, "tell batch: interrupted; %d of %d collected, %d submitted jobs keep running: run again to collect them\n", res.Done, res.Total, res.Pending)
		return err
	}
	if err != nil {
		return err
	}
	if bar != nil {
		bar.Finish()
	}
	fmt.Fprintf(env.stdout, "tell batch: %d analysed, %d failed (see job.json in their folders), results in %s\n", res.Done-res.Failed, res.Failed, *out)
	if res.Failed > 0 {
		return fmt.Errorf("%d of %d analyses failed", res.Failed, res.Done)
	}
	return nil
}
