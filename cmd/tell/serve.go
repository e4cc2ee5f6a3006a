package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/server"
)

func serveCommand() command {
	return command{
		name:    "serve",
		summary: "HTTP API and web page: upload, analyse, explain",
		usage: `usage: tell serve [--addr HOST:PORT] [--workdir DIR] [--max-upload MB] [--jobs N]
                  [--allow-paths DIR] [--keep DURATION] [--landmarks PATH] [--log-json]

Serves the web page at / and the JSON API:
  POST   /v1/analyze           multipart field "file": an image or a video
                               → 202 {"id","status_url"}; the analysis runs
                               in the background (at most --jobs at once)
  GET    /v1/jobs/{id}         status (queued, running, done, failed,
                               canceled), progress, error, links
  GET    /v1/jobs/{id}/events.json | frames.csv | report.html
  DELETE /v1/jobs/{id}         cancel the job and delete its files
  POST   /v1/cot               {"aus":"4B+7A+L10","label":"disgust","seed":1}
                               or {"evidence":[...]} → as tell cot --json
  GET    /healthz, /v1/version
Errors are JSON {"error": "..."}. SIGINT or SIGTERM stops the server
gracefully, cancelling running jobs; their files are removed.

Flags:
  --addr HOST:PORT   where to listen (default 127.0.0.1:8080: this machine
                     only; give 0.0.0.0:8080 to serve others, knowingly)
  --workdir DIR      uploads and outputs go in a folder made here, removed
                     on exit (default: the system's temporary folder)
  --max-upload MB    largest upload in MiB (default 256); larger gets 413
  --jobs N           analyses running at once (default 1)
  --allow-paths DIR  also accept JSON {"path": "..."} naming a file or
                     folder of frames under DIR on the server (default:
                     uploads only)
  --keep DURATION    how long finished jobs' outputs stay (default 1h)
  --landmarks PATH   dlib 68-point model (default: Debian's libdlib-data)
  --log-json         logs as JSON lines on stderr`,
		run: runServe,
	}
}

func runServe(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet("serve")
	addr := fs.String("addr", server.DefaultAddr, "")
	workdir := fs.String("workdir", "", "")
	maxUpload := fs.Int64("max-upload", server.DefaultMaxUpload>>20, "")
	jobs := fs.Int("jobs", 1, "")
	allow := fs.String("allow-paths", "", "")
	keep := fs.Duration("keep", server.DefaultKeep, "")
	landmarks := fs.String("landmarks", "", "")
	logJSON := fs.Bool("log-json", false, "")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("unexpected argument %q", pos[0])
	}
	if _, _, err := net.SplitHostPort(*addr); err != nil {
		return usageErrorf("--addr %q: want HOST:PORT: %v", *addr, err)
	}
	if *maxUpload <= 0 || *maxUpload > 1<<20 {
		return usageErrorf("--max-upload %d: want 1..1048576 MiB", *maxUpload)
	}
	if *jobs < 1 {
		return usageErrorf("--jobs %d: want at least 1", *jobs)
	}
	if *keep <= 0 {
		return usageErrorf("--keep %v: want a positive duration", *keep)
	}
	log := env.log
	if *logJSON {
		log = slog.New(slog.NewJSONHandler(env.stderr, nil))
	}
	if _, err := face.ResolveModelPath(*landmarks); err != nil {
		// The API still explains AU codes; analyses will fail with this.
		log.Warn("landmark model not found: analyses will fail until it is installed", "err", err)
	}
	srv, err := server.New(server.Config{
		Workdir: *workdir, MaxUpload: *maxUpload << 20, Jobs: *jobs, AllowPaths: *allow, Keep: *keep,
		Version: version(), Log: log,
		Landmarker: func() (analyze.Landmarker, error) { return analyze.NewFaceLandmarker(*landmarks) },
	})
	if err != nil {
		return err
	}
	return srv.ListenAndServe(ctx, *addr, func(a net.Addr) {
		fmt.Fprintf(env.stdout, "tell serve: listening on http://%s/\n", a)
	})
}
