package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/tell-project/tell/batch"
	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/queue"
	"github.com/tell-project/tell/server"
	"github.com/tell-project/tell/video"
)

func runBatch(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("batch")
	url := fs.String("nats", "", "`URL` the NATS server (tell serve --nats-listen's address)")
	out := fs.String("out", "", "`DIR` results folder (made if missing)")
	manifest := fs.String("manifest", "", "`FILE` the clips; or give a folder as the argument")
	nf := queue.AddClientFlags(fs)
	user := fs.String("user", "", "`NAME` the NATS user's name, when the credentials file does not say it (a NATS .creds file)")
	maxPending := fs.Int("max-pending", 32, "`N` jobs submitted and not yet collected (default 32)")
	fps := fs.Float64("fps", 0, "`F` frame rate of folders of frames without an fps column or fps.txt (1 to 1000; a video's own rate is used)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case *url == "":
		return cli.Usagef("--nats URL is required")
	case *out == "":
		return cli.Usagef("--out DIR is required")
	case (*manifest == "") == (len(pos) != 1):
		return cli.Usagef("give --manifest FILE or one folder")
	case len(pos) > 1:
		return cli.Usagef("unexpected argument %q", pos[1])
	case *maxPending < 1:
		return cli.Usagef("--max-pending %d: want at least 1", *maxPending)
	case *fps != 0 && video.CheckFPS(*fps) != nil:
		return cli.Usagef("--fps: %v", video.CheckFPS(*fps))
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
	co, err := nf.Options("tell batch")
	if err != nil {
		return err
	}
	name := *user
	if co.Creds != nil && name == "" {
		if name = co.Creds.Name; name == "" {
			return cli.Usagef("--nats-creds %s does not name its user: give --user NAME", nf.Creds)
		}
	}
	if co.Creds == nil && name != "" {
		return cli.Usagef("--user %s needs --nats-creds FILE: without credentials the jobs are the anonymous owner's", name)
	}
	nc, err := queue.Connect(*url, co)
	if err != nil {
		return err
	}
	defer nc.Close()
	opt := batch.Options{Out: *out, MaxPending: *maxPending}
	bar := cli.NewBar(cli.ProgressOut(env, *quiet), "analysing", "")
	if bar != nil {
		opt.Progress = bar.Report
	}
	res, err := batch.Run(ctx, server.NewNATSClient(nc, name), items, opt)
	if err != nil && err == ctx.Err() {
		fmt.Fprintf(env.Stderr, "tell batch: interrupted; %d of %d collected, %d submitted jobs keep running: run again to collect them\n", res.Done, res.Total, res.Pending)
		return err
	}
	if err != nil {
		return err
	}
	bar.Finish()
	fmt.Fprintf(env.Stdout, "tell batch: %d analysed, %d failed (see job.json in their folders), results in %s\n", res.Done-res.Failed, res.Failed, *out)
	if res.Failed > 0 {
		return fmt.Errorf("%d of %d analyses failed", res.Failed, res.Done)
	}
	return nil
}
