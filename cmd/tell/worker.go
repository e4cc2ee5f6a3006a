package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/queue"
	"github.com/tell-project/tell/server"
	"github.com/tell-project/tell/train"
)

func runWorker(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("worker")
	var l server.Limits
	url := fs.String("nats", "", "`URL` the NATS server: tell serve --nats-listen's address, or a cluster's URLs (comma-separated)")
	nf := queue.AddClientFlags(fs)
	fs.StringVar(&l.JobBudget, "job-budget", "1h@1080p30", "`WORK` pixel-frames one analysis may decode (default 1h@1080p30; a job's own budget, set by tell serve, is kept when smaller): past it the job fails \"over budget\"")
	fs.Int64Var(&l.MemoryLimit, "memory-limit", 0, "`MB` the resident memory the process keeps under (at least 512; default 0: none, as training folds hold their data): Go's limit, and a budget 256 MiB less that each analysis reserves its estimate from")
	fs.IntVar(&l.Jobs, "jobs", 1, "`N` analyses at once (default 1)")
	name := fs.String("name", "", "`NAME` this worker's name in job records (default host-pid)")
	workdir := fs.String("workdir", "", "`DIR` running jobs' inputs and outputs (default: the system's temporary folder)")
	fs.StringVar(&l.Landmarks, "landmarks", "", "`PATH` dlib 68-point model (default: Debian's libdlib-data)")
	fs.Int64Var(&l.MaxPixels, "max-pixels", server.DefaultMaxPixels, "`N` pixels of one image or video frame (default 25000000)")
	fs.Float64Var(&l.MaxSeconds, "max-seconds", server.DefaultMaxSeconds, "`S` seconds of one video or folder (default 10800)")
	maxTrain := fs.Int64("max-train-bytes", 1<<30, "`N` prepared rows of one training run held in memory (default 1073741824; the last two runs are kept)")
	logJSON := fs.Bool("log-json", false, "logs as JSON lines on stderr")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return cli.Usagef("unexpected argument %q", pos[0])
	case *url == "":
		return cli.Usagef("--nats URL is required")
	case *maxTrain < 1:
		return cli.Usagef("--max-train-bytes %d: want a positive number of bytes", *maxTrain)
	}
	if err := l.Validate(); err != nil {
		return cli.Usagef("%v", err)
	}
	mem, restore := l.Memory()
	defer restore()
	log := env.Log
	if *logJSON {
		log = slog.New(slog.NewJSONHandler(env.Stderr, nil))
	}
	l.WarnLandmarks(log)
	if *workdir != "" {
		if err := os.MkdirAll(*workdir, 0o755); err != nil {
			return err
		}
	}
	fc, err := nf.Dial(ctx, *url, "tell worker", log)
	if err != nil {
		return err
	}
	defer fc.Close()
	log.Info("worker started", "jobs", l.Jobs)
	h := queue.Route(map[string]queue.Handler{
		"":            l.Analysis(mem, log).Handle,
		train.JobKind: train.WorkerHandler(fc.Queue, train.WorkerOptions{Families: families(), MaxDataBytes: *maxTrain, Log: log}),
	})
	err = fc.Queue.Work(ctx, queue.WorkerConfig{Name: *name, Jobs: l.Jobs, Dir: *workdir, Handler: h, Log: log})
	log.Info("worker stopped")
	return err
}
