package main

import (
	"context"
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/queue"
	"github.com/tell-project/tell/server"
	"github.com/tell-project/tell/train"
)

func workerCommand() cli.Command {
	return cli.Command{
		Name:    "worker",
		Summary: "run queued analyses and training folds from a NATS server (tell serve's or a cluster)",
		Usage: `usage: tell worker --nats URL [--nats-creds FILE] [--jobs N] [--name NAME]
                   [--workdir DIR] [--landmarks PATH] [--max-pixels N]
                   [--max-seconds S] [--job-budget WORK] [--memory-limit MB]
                   [--max-train-bytes N] [--log-json]`,
		Run: runWorker,
	}
}

func runWorker(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("worker")
	url := fs.String("nats", "", "`URL` the NATS server: tell serve --nats-listen's address, or a cluster's URLs (comma-separated)")
	nf := addNATSClientFlags(fs)
	jobBudget := fs.String("job-budget", "1h@1080p30", "`WORK` pixel-frames one analysis may decode (default 1h@1080p30; a job's own budget, set by tell serve, is kept when smaller): past it the job fails \"over budget\"")
	memLimit := fs.Int64("memory-limit", 0, "`MB` the resident memory the process keeps under (at least 512; default 0: none, as training folds hold their data): Go's limit, and a budget 256 MiB less that each analysis reserves its estimate from")
	jobs := fs.Int("jobs", 1, "`N` analyses at once (default 1)")
	name := fs.String("name", "", "`NAME` this worker's name in job records (default host-pid)")
	workdir := fs.String("workdir", "", "`DIR` running jobs' inputs and outputs (default: the system's temporary folder)")
	landmarks := fs.String("landmarks", "", "`PATH` dlib 68-point model (default: Debian's libdlib-data)")
	maxPixels := fs.Int64("max-pixels", server.DefaultMaxPixels, "`N` pixels of one image or video frame (default 25000000)")
	maxSeconds := fs.Float64("max-seconds", server.DefaultMaxSeconds, "`S` seconds of one video or folder (default 10800)")
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
	case *jobs < 1:
		return cli.Usagef("--jobs %d: want at least 1", *jobs)
	case *maxPixels < 1 || *maxSeconds <= 0 || *maxTrain < 1:
		return cli.Usagef("--max-pixels, --max-seconds and --max-train-bytes want positive values")
	case *memLimit < 0 || *memLimit > 0 && *memLimit < 512:
		return cli.Usagef("--memory-limit %d: want 0 (none) or at least 512 MiB", *memLimit)
	}
	jobWork, err := server.ParseWork(*jobBudget)
	if err != nil {
		return cli.Usagef("--job-budget %q: %v", *jobBudget, err)
	}
	var mem *server.Memory
	if *memLimit > 0 {
		var goLimit int64
		goLimit, mem = server.MemoryForLimit(*memLimit << 20)
		old := debug.SetMemoryLimit(goLimit)
		defer debug.SetMemoryLimit(old)
	}
	log := env.Log
	if *logJSON {
		log = slog.New(slog.NewJSONHandler(env.Stderr, nil))
	}
	if _, err := face.ResolveModelPath(*landmarks); err != nil {
		log.Warn("landmark model not found: analyses will fail until it is installed", "err", err)
	}
	if *workdir != "" {
		if err := os.MkdirAll(*workdir, 0o755); err != nil {
			return err
		}
	}
	fc, err := connectQueue(ctx, *url, nf, "tell worker", log)
	if err != nil {
		return err
	}
	defer fc.Close()
	q := fc.Queue
	a := &server.Analysis{
		Budget: server.Budget{MaxPixels: *maxPixels, MaxSeconds: *maxSeconds, JobWork: jobWork}, Log: log, Memory: mem,
		Landmarker: func() (analyze.Landmarker, error) { return analyze.NewFaceLandmarker(*landmarks) },
	}
	log.Info("worker started", "jobs", *jobs)
	h := queue.Route(map[string]queue.Handler{
		"":            a.Handle,
		train.JobKind: train.WorkerHandler(q, train.WorkerOptions{Families: families(), MaxDataBytes: *maxTrain, Log: log}),
	})
	err = q.Work(ctx, queue.WorkerConfig{Name: *name, Jobs: *jobs, Dir: *workdir, Handler: h, Log: log})
	log.Info("worker stopped")
	return err
}
