package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/queue"
	"github.com/tell-project/tell/server"
)

func serveCommand() command {
	return command{
		name:    "serve",
		summary: "HTTP API and web page: upload, analyse, explain",
		usage: `usage: tell serve [--addr HOST:PORT] [--data DIR | --nats URL] [--jobs N] [--workers 0|1]
                  [--api-keys FILE] [--allowed-hosts NAMES] [--insecure-no-auth] [flags]
       tell serve --add-key NAME --api-keys FILE

Serves the web page at / and the JSON API (GET /openapi.json describes it):
  POST   /v1/analyze           multipart field "file": an image or a video
                               → 202 {"id","status_url"}; the analysis runs
                               as a job on the queue
  GET    /v1/jobs, /v1/jobs/{id}   the caller's jobs: status (queued, running,
                               done, failed, canceled), progress, error, links
  GET    /v1/jobs/{id}/events.json | frames.csv | report.html
  DELETE /v1/jobs/{id}         cancel the job and delete its files
  POST   /v1/cot               {"aus":"4B+7A+L10","label":"disgust","seed":1}
                               or {"evidence":[...]} → as tell cot --json
  GET    /healthz, /readyz, /metrics (Prometheus), /v1/version
Errors are JSON {"error": "..."}. SIGINT or SIGTERM stops the server
gracefully: running jobs go back to the queue.

Jobs live on NATS JetStream. By default tell serve runs a NATS server in
its own process with its files under --data, so jobs survive a restart and
one machine needs nothing else; --nats URL joins an external NATS cluster
instead. tell worker processes on other machines run jobs too (give the
embedded server a port with --nats-listen); --workers 0 leaves every job
to them.

Safe by default: only this machine (127.0.0.1) unless --addr says
otherwise, and beyond loopback only with --api-keys (or, knowingly,
--insecure-no-auth); requests must name an allowed Host; cross-site
browser requests that change state are refused; uploads are admitted
before their body is read and must keep a pace of 64 KiB/s after 10 s;
image headers and ffprobe's view of videos are checked against the pixel
and duration budgets before anything is decoded.

Flags:
  --addr HOST:PORT     where to listen (default 127.0.0.1:8080)
  --data DIR           the embedded NATS server's files: the jobs, their
                       inputs and outputs (default: the user's cache folder,
                       tell/serve)
  --nats URL           use this NATS server or cluster instead of embedding one
  --nats-listen H:P    let other processes reach the embedded NATS server
                       here (default: in-process only). NATS has no password
                       here: keep it on loopback or a private network
  --jobs N             analyses the local worker runs at once (default 1)
  --workers 0|1        run a local worker (default 1); 0: only tell worker
                       processes run jobs
  --api-keys FILE      API keys file (NAME sha256:HEX lines); each key sees
                       only its own jobs. Required to listen beyond loopback
  --add-key NAME       make a new key NAME in --api-keys FILE, print it once
                       and exit (the file keeps only its hash)
  --insecure-no-auth   listen beyond loopback without keys (everyone shares
                       every job); printed as a warning at start
  --allowed-hosts LIST extra comma-separated names the Host header may carry
                       (the server's own name behind a proxy, say)
  --allow-paths DIR    also accept JSON {"path": "..."} naming a file or
                       folder of frames under DIR on the server
  --max-upload MB      largest upload in MiB (default 256); larger gets 413
  --max-queued N       jobs waiting before uploads get 429 (default 64)
  --max-uploads N      uploads received at once (default 16; a key or
                       client address gets a quarter)
  --rate R             POST and DELETE requests per second per key (default
                       50, bursts of 2R; 0 turns the limit off)
  --keep DURATION      how long finished jobs stay (default 1h)
  --max-jobs N         finished and running jobs kept (default 1000)
  --max-stored MB      bytes of inputs and outputs kept (default 4096)
  --max-pixels N       pixels of one image or video frame (default 25000000)
  --max-seconds S      seconds of one video or folder of frames (default 10800)
  --memory-limit MB    the process's soft memory limit, Go's GOMEMLIMIT
                       (default 2048; 0: none)
  --ack-wait DURATION  a worker silent this long is presumed dead and its
                       job goes to another (default 30s)
  --workdir DIR        uploads in transit and running jobs' files (default:
                       the system's temporary folder)
  --landmarks PATH     dlib 68-point model (default: Debian's libdlib-data)
  --log-json           logs as JSON lines on stderr`,
		run: runServe,
	}
}

func runServe(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet("serve")
	addr := fs.String("addr", server.DefaultAddr, "")
	data := fs.String("data", "", "")
	natsURL := fs.String("nats", "", "")
	natsListen := fs.String("nats-listen", "", "")
	jobs := fs.Int("jobs", 1, "")
	workers := fs.Int("workers", 1, "")
	keysFile := fs.String("api-keys", "", "")
	addKey := fs.String("add-key", "", "")
	insecure := fs.Bool("insecure-no-auth", false, "")
	hosts := fs.String("allowed-hosts", "", "")
	allow := fs.String("allow-paths", "", "")
	maxUpload := fs.Int64("max-upload", server.DefaultMaxUpload>>20, "")
	maxQueued := fs.Int("max-queued", server.DefaultMaxQueued, "")
	maxUploads := fs.Int("max-uploads", server.DefaultMaxUploads, "")
	rate := fs.Float64("rate", server.DefaultRate, "")
	keep := fs.Duration("keep", server.DefaultKeep, "")
	maxJobs := fs.Int("max-jobs", server.DefaultMaxJobs, "")
	maxStored := fs.Int64("max-stored", server.DefaultMaxBytes>>20, "")
	maxPixels := fs.Int64("max-pixels", server.DefaultMaxPixels, "")
	maxSeconds := fs.Float64("max-seconds", server.DefaultMaxSeconds, "")
	memLimit := fs.Int64("memory-limit", 2048, "")
	ackWait := fs.Duration("ack-wait", 30*time.Second, "")
	workdir := fs.String("workdir", "", "")
	landmarks := fs.String("landmarks", "", "")
	logJSON := fs.Bool("log-json", false, "")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("unexpected argument %q", pos[0])
	}
	if *addKey != "" {
		if *keysFile == "" {
			return usageErrorf("--add-key needs --api-keys FILE")
		}
		key, err := server.AddKey(*keysFile, *addKey)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "%s\n", key)
		fmt.Fprintf(env.stderr, "tell serve: key %q added to %s; it is shown only now: send it as \"Authorization: Bearer KEY\"\n", *addKey, *keysFile)
		return nil
	}
	if _, _, err := net.SplitHostPort(*addr); err != nil {
		return usageErrorf("--addr %q: want HOST:PORT: %v", *addr, err)
	}
	switch {
	case *maxUpload <= 0 || *maxUpload > 1<<20:
		return usageErrorf("--max-upload %d: want 1..1048576 MiB", *maxUpload)
	case *jobs < 1:
		return usageErrorf("--jobs %d: want at least 1", *jobs)
	case *workers != 0 && *workers != 1:
		return usageErrorf("--workers %d: want 0 (no local worker) or 1", *workers)
	case *keep <= 0:
		return usageErrorf("--keep %v: want a positive duration", *keep)
	case *maxQueued < 1 || *maxUploads < 1 || *maxJobs < 1 || *maxStored < 1:
		return usageErrorf("--max-queued, --max-uploads, --max-jobs and --max-stored want at least 1")
	case *rate < 0:
		return usageErrorf("--rate %g: want 0 (no limit) or more", *rate)
	case *maxPixels < 1 || *maxSeconds <= 0:
		return usageErrorf("--max-pixels and --max-seconds want positive values")
	case *memLimit < 0:
		return usageErrorf("--memory-limit %d: want 0 (none) or MiB", *memLimit)
	case *ackWait < time.Second:
		return usageErrorf("--ack-wait %v: want at least 1s", *ackWait)
	case *natsURL != "" && (*data != "" || *natsListen != ""):
		return usageErrorf("--nats joins an external NATS server: --data and --nats-listen are for the embedded one")
	}
	log := env.log
	if *logJSON {
		log = slog.New(slog.NewJSONHandler(env.stderr, nil))
	}
	var keys *server.Keys
	if *keysFile != "" {
		if keys, err = server.LoadKeys(*keysFile); err != nil {
			return err
		}
	}
	if !server.IsLoopback(*addr) && keys == nil {
		if !*insecure {
			return usageErrorf("--addr %s listens beyond this machine: give --api-keys FILE (make one with --add-key NAME), or --insecure-no-auth to serve everyone every job", *addr)
		}
		fmt.Fprintf(env.stderr, "tell serve: WARNING: listening on %s WITHOUT AUTHENTICATION (--insecure-no-auth): anyone who reaches it can upload, read and delete every job\n", *addr)
	}
	if *memLimit > 0 {
		old := debug.SetMemoryLimit(*memLimit << 20)
		defer debug.SetMemoryLimit(old)
	}
	if *workers == 1 {
		if _, err := face.ResolveModelPath(*landmarks); err != nil {
			// The API still explains AU codes; analyses fail until it is there.
			log.Warn("landmark model not found: analyses will fail until it is installed", "err", err)
		}
	}
	q, closeQ, err := openQueue(ctx, env, *natsURL, *data, *natsListen, queue.Config{AckWait: *ackWait, Manage: true}, log)
	if err != nil {
		return err
	}
	defer closeQ()
	var extra []string
	for _, h := range strings.Split(*hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			extra = append(extra, h)
		}
	}
	r := *rate
	if r == 0 {
		r = -1 // Config's zero means the default
	}
	budget := server.Budget{MaxPixels: *maxPixels, MaxSeconds: *maxSeconds}
	srv, err := server.New(server.Config{
		Queue: q, Jobs: *jobs, NoWorker: *workers == 0, Workdir: *workdir,
		MaxUpload: *maxUpload << 20, MaxQueued: *maxQueued, MaxUploads: *maxUploads, Rate: r,
		Keep: *keep, MaxJobs: *maxJobs, MaxBytes: *maxStored << 20, Budget: budget,
		AllowPaths: *allow, Keys: keys, AllowedHosts: extra, Version: version(), Log: log,
		Analysis: &server.Analysis{Budget: budget, Log: log,
			Landmarker: func() (analyze.Landmarker, error) { return analyze.NewFaceLandmarker(*landmarks) }},
	})
	if err != nil {
		return err
	}
	return srv.ListenAndServe(ctx, *addr, func(a net.Addr) {
		fmt.Fprintf(env.stdout, "tell serve: listening on http://%s/\n", a)
	})
}

// openQueue connects to the job queue: the NATS server at url, or one
// embedded in this process with its files under data (listening on listen
// for other processes when set). close shuts the connection (and the
// embedded server) down.
func openQueue(ctx context.Context, env *environment, url, data, listen string, cfg queue.Config, log *slog.Logger) (*queue.Queue, func(), error) {
	var nc *nats.Conn
	var emb *queue.Embedded
	if url != "" {
		var err error
		nc, err = nats.Connect(url, nats.Name("tell"), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(false))
		if err != nil {
			return nil, nil, fmt.Errorf("NATS %s: %w", url, err)
		}
	} else {
		if data == "" {
			cache, err := os.UserCacheDir()
			if err != nil {
				return nil, nil, fmt.Errorf("no --data folder and no cache folder: %w", err)
			}
			data = filepath.Join(cache, "tell", "serve")
		}
		if err := os.MkdirAll(data, 0o700); err != nil {
			return nil, nil, fmt.Errorf("--data: %w", err)
		}
		var err error
		emb, err = queue.StartEmbedded(queue.EmbeddedOptions{Dir: data, Listen: listen})
		if err != nil {
			return nil, nil, err
		}
		if nc, err = emb.Connect("tell serve"); err != nil {
			emb.Shutdown()
			return nil, nil, err
		}
		log.Info("embedded NATS JetStream", "data", data, "url", emb.ClientURL())
		if u := emb.ClientURL(); u != "" {
			fmt.Fprintf(env.stdout, "tell serve: NATS for tell worker and tell batch at %s\n", u)
		}
	}
	closeAll := func() {
		nc.Close()
		if emb != nil {
			emb.Shutdown()
		}
	}
	octx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	q, err := queue.Open(octx, nc, cfg)
	if err != nil {
		closeAll()
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w (is JetStream enabled on the NATS server?)", err)
		}
		return nil, nil, err
	}
	return q, closeAll, nil
}
