package main

import (
	"context"
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/queue"
	"github.com/tell-project/tell/server"
	"github.com/tell-project/tell/train"
)

func workerCommand() command {
	return command{
		name:    "worker",
		summary: "run queued analyses and training folds from a NATS server (tell serve's or a cluster)",
		usage: `usage: tell worker --nats URL [--nats-creds FILE] [--jobs N] [--name NAME]
                   [--workdir DIR] [--landmarks PATH] [--max-pixels N]
                   [--max-seconds S] [--job-budget WORK] [--memory-limit MB]
                   [--max-train-bytes N] [--log-json]

Takes jobs from the NATS JetStream queue that tell serve and tell batch
(analyses) and tell train --nats and tell sweep --nats (training folds)
fill, runs whichever comes here and stores the outputs back in the queue:
a machine needs only the NATS URL. A training job runs only on a worker of
the submitter's build (others leave it in the queue), so that its fold is
the fold the same run trains locally. A job stays acknowledged-pending while
it runs (the worker reports every few seconds); a worker that dies has its
job run by another. SIGINT or SIGTERM puts running jobs back in the queue.

Flags:
  --nats URL          the NATS server: tell serve --nats-listen's address,
                      or a cluster's URLs (comma-separated)
` + natsClientUsage + `
                      (a worker-role user: it runs jobs, submits none)
  --jobs N            analyses at once (default 1)
  --name NAME         this worker's name in job records (default host-pid)
  --workdir DIR       running jobs' inputs and outputs (default: the
                      system's temporary folder)
  --landmarks PATH    dlib 68-point model (default: Debian's libdlib-data)
  --max-pixels N      pixels of one image or video frame (default 25000000)
  --max-seconds S     seconds of one video or folder (default 10800)
  --job-budget WORK   pixel-frames one analysis may decode (default
                      1h@1080p30; a job's own budget, set by tell serve, is
                      kept when smaller): past it the job fails "over budget"
  --memory-limit MB   the resident memory the process keeps under (at least
                      512; default 0: none, as training folds hold their
                      data): Go's limit, and a budget 256 MiB less that each
                      analysis reserves its estimate from
  --max-train-bytes N prepared rows of one training run held in memory
                      (default 1073741824; the last two runs are kept)
  --log-json          logs as JSON lines on stderr`,
		run: runWorker,
	}
}

func runWorker(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet("worker")
	url := fs.String("nats", "", "")
	nf := addNATSClientFlags(fs)
	jobBudget := fs.String("job-budget", "1h@1080p30", "")
	memLimit := fs.Int64("memory-limit", 0, "")
	jobs := fs.Int("jobs", 1, "")
	name := fs.String("name", "", "")
	workdir := fs.String("workdir", "", "")
	landmarks := fs.String("landmarks", "", "")
	maxPixels := fs.Int64("max-pixels", server.DefaultMaxPixels, "")
	maxSeconds := fs.Float64("max-seconds", server.DefaultMaxSeconds, "")
	maxTrain := fs.Int64("max-train-bytes", 1<<30, "")
	logJSON := fs.Bool("log-json", false, "")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usageErrorf("unexpected argument %q", pos[0])
	case *url == "":
		return usageErrorf("--nats URL is required")
	case *jobs < 1:
		return usageErrorf("--jobs %d: want at least 1", *jobs)
	case *maxPixels < 1 || *maxSeconds <= 0 || *maxTrain < 1:
		return usageErrorf("--max-pixels, --max-seconds and --max-train-bytes want positive values")
	case *memLimit < 0 || *memLimit > 0 && *memLimit < 512:
		return usageErrorf("--memory-limit %d: want 0 (none) or at least 512 MiB", *memLimit)
	}
	jobWork, err := server.ParseWork(*jobBudget)
	if err != nil {
		return usageErrorf("--job-budget %q: %v", *jobBudget, err)
	}
	var mem *server.Memory
	if *memLimit > 0 {
		var goLimit int64
		goLimit, mem = server.MemoryForLimit(*memLimit << 20)
		old := debug.SetMemoryLimit(goLimit)
		defer debug.SetMemoryLimit(old)
	}
	log := env.log
	if *logJSON {
		log = slog.New(slog.NewJSONHandler(env.stderr, nil))
	}
	if _, err := face.ResolveModelPath(*landmarks); err != nil {
		log.Warn("landmark model not found: analyses will fail until it is installed", "err", err)
	}
	if *workdir != "" {
		if err := os.MkdirAll(*workdir, 0o755); err != nil {
			return err
		}
	}
	fc, err := connectQueue(ctx, env, *url, nf, "tell worker", log)
	if err != nil {
		return err
	}
	defer fc.close()
	q := fc.q
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
