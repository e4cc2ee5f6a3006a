// Package server is tell's HTTP API and web page, and the analysis that
// queue workers run: upload an image or a video, follow the analysis as a
// job, fetch its frames.csv, events.json and report.html, and turn AU
// codes into a chain of thought.
//
// Jobs live in package queue (NATS JetStream), so they survive restarts
// and any number of workers may run them; the server is the front door.
// Routes (the OpenAPI document at /openapi.json describes each):
//
//	GET    /                         the web page (self-contained, no external assets)
//	GET    /healthz                  the process answers
//	GET    /readyz                   the queue answers: jobs can be taken
//	GET    /metrics                  Prometheus metrics
//	GET    /openapi.json             the OpenAPI 3 document
//	GET    /v1/version               {"version":...}
//	POST   /v1/analyze               multipart "file" (or JSON {"path"} under --allow-paths) → 202 {"id","status_url"}
//	GET    /v1/jobs                  the caller's jobs, newest first
//	GET    /v1/jobs/{id}             status, progress, error, links
//	GET    /v1/jobs/{id}/events.json the outputs of the analysis
//	GET    /v1/jobs/{id}/frames.csv
//	GET    /v1/jobs/{id}/report.html
//	DELETE /v1/jobs/{id}             cancel the job and remove its files
//	POST   /v1/cot                   {"aus":"4B+7A"} or {"evidence":[...]} → the CoT JSON
//
// Safe by default: requests must name an allowed Host (DNS rebinding);
// cross-site browser requests that change state are refused; with API
// keys every /v1 route and /metrics needs "Authorization: Bearer KEY" and
// a key sees only its own jobs; uploads are admitted (rate, concurrent
// uploads, queue room) before their body is read, and must keep a minimum
// pace; image and video headers are checked against a pixel and duration
// budget before anything is decoded. Errors are JSON {"error": "..."}.
//
// Limits: the index of jobs is held in memory (bounded by MaxJobs); the
// rate limit and upload slots are per server, not per fleet.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/tell-project/tell/queue"
)

// DefaultAddr is where tell serve listens unless told otherwise: loopback
// only, so that an analysis server is never exposed by accident.
const DefaultAddr = "127.0.0.1:8080"

// Defaults for Config's zero fields.
const (
	DefaultMaxUpload  = 256 << 20 // bytes
	DefaultKeep       = time.Hour
	DefaultMaxJobs    = 1000
	DefaultMaxBytes   = 4 << 30
	DefaultMaxQueued  = 64
	DefaultMaxUploads = 16
	// DefaultBodyGrace and DefaultMinBodyRate pace request bodies: after
	// the grace, a body must have arrived at MinBodyRate on average or the
	// request is cut (408). A client sending 1 byte a second is cut after
	// about the grace.
	DefaultBodyGrace   = 10 * time.Second
	DefaultMinBodyRate = 64 << 10 // bytes per second
	DefaultRate        = 50       // requests per second and key, POST and DELETE
	maxJSONBody        = 64 << 10
)

// Config configures a Server. Zero fields take the defaults.
type Config struct {
	// Queue holds the jobs (required).
	Queue *queue.Queue
	// Jobs is how many analyses the server's own worker runs at once
	// (default 1); NoWorker leaves every job to tell worker processes.
	Jobs     int
	NoWorker bool
	// Analysis is what the server's own worker runs (default: the real
	// analysis with Debian's landmark model).
	Analysis *Analysis
	// Workdir holds uploads while they arrive and the worker's job folders
	// (default os.TempDir()).
	Workdir string
	// MaxUpload bounds an uploaded file in bytes (default DefaultMaxUpload).
	MaxUpload int64
	// MaxQueued bounds the jobs waiting for a worker, uploads being
	// received included (default DefaultMaxQueued); beyond it POST
	// /v1/analyze answers 429 with Retry-After.
	MaxQueued int
	// MaxUploads bounds the uploads received at once (default
	// DefaultMaxUploads), MaxUploadsPerKey those of one key or, without
	// keys, one client address (default MaxUploads/4, at least 1).
	MaxUploads       int
	MaxUploadsPerKey int
	// Rate and Burst are each key's token bucket for POST and DELETE
	// (default DefaultRate per second, burst 2×Rate); Rate < 0 turns it off.
	Rate  float64
	Burst int
	// MaxJobs, MaxBytes and Keep bound the finished jobs kept: by count,
	// by stored bytes and by age (defaults DefaultMaxJobs, DefaultMaxBytes,
	// DefaultKeep); the oldest go first.
	MaxJobs  int
	MaxBytes int64
	Keep     time.Duration
	// Budget bounds the pixels and duration of an input.
	Budget Budget
	// BodyGrace and MinBodyRate pace request bodies (defaults
	// DefaultBodyGrace, DefaultMinBodyRate).
	BodyGrace   time.Duration
	MinBodyRate int64
	// MaxCoT bounds the chains of thought made at once (default GOMAXPROCS).
	MaxCoT int
	// AllowPaths, when set, lets POST /v1/analyze name a file or folder
	// on the server under this folder ({"path": ...}). Empty: uploads only.
	AllowPaths string
	// Keys, when set, are the API keys; without them every client is the
	// same anonymous owner, which is safe only on loopback (tell serve
	// refuses to listen elsewhere without keys unless told it is insecure).
	Keys *Keys
	// AllowedHosts are extra names the Host header may carry; the listen
	// address and, on loopback, localhost names are always allowed.
	AllowedHosts []string
	// Version is reported by GET /v1/version.
	Version string
	// Log receives request and job logs (default: discard).
	Log *slog.Logger
}

// Server serves the API. Create it with New; Close it to stop its worker.
type Server struct {
	cfg       Config
	log       *slog.Logger
	q         *queue.Queue
	allowRoot string // resolved AllowPaths, "" when paths are refused
	mux       *http.ServeMux
	handler   http.Handler
	hosts     hostSet
	hostsMu   sync.RWMutex
	index     *index
	admit     *admission
	limit     *limiter
	cotSlots  chan struct{}
	kick      chan struct{} // asks the janitor to look now
	uploads   string        // this process's folder of uploads in transit
	met       *metrics
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// New makes a Server, starts its worker (unless NoWorker) and its index of
// the queue's jobs.
func New(cfg Config) (*Server, error) {
	if cfg.Queue == nil {
		return nil, errors.New("server: no queue")
	}
	if cfg.Workdir == "" {
		cfg.Workdir = os.TempDir()
	}
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = DefaultMaxUpload
	}
	if cfg.Jobs <= 0 {
		cfg.Jobs = 1
	}
	if cfg.MaxQueued <= 0 {
		cfg.MaxQueued = DefaultMaxQueued
	}
	if cfg.MaxUploads <= 0 {
		cfg.MaxUploads = DefaultMaxUploads
	}
	if cfg.MaxUploadsPerKey <= 0 {
		cfg.MaxUploadsPerKey = max(1, cfg.MaxUploads/4)
	}
	if cfg.Rate == 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.Burst <= 0 {
		cfg.Burst = max(1, int(2*cfg.Rate))
	}
	if cfg.MaxJobs <= 0 {
		cfg.MaxJobs = DefaultMaxJobs
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.Keep <= 0 {
		cfg.Keep = DefaultKeep
	}
	if cfg.BodyGrace <= 0 {
		cfg.BodyGrace = DefaultBodyGrace
	}
	if cfg.MinBodyRate <= 0 {
		cfg.MinBodyRate = DefaultMinBodyRate
	}
	if cfg.MaxCoT <= 0 {
		cfg.MaxCoT = runtime.GOMAXPROCS(0)
	}
	cfg.Budget = cfg.Budget.withDefaults()
	if cfg.Version == "" {
		cfg.Version = "(devel)"
	}
	if cfg.Analysis == nil {
		cfg.Analysis = &Analysis{}
	}
	if cfg.Analysis.Budget == (Budget{}) {
		cfg.Analysis.Budget = cfg.Budget
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Analysis.Log == nil {
		cfg.Analysis.Log = log
	}
	s := &Server{cfg: cfg, log: log, q: cfg.Queue, index: newIndex(), limit: newLimiter(cfg.Rate, cfg.Burst),
		cotSlots: make(chan struct{}, cfg.MaxCoT), kick: make(chan struct{}, 1),
		admit: &admission{maxUploads: cfg.MaxUploads, maxPerKey: cfg.MaxUploadsPerKey, perKey: map[string]int{}}}
	s.hosts = allowedHosts("", cfg.AllowedHosts)
	if cfg.AllowPaths != "" {
		root, err := resolveRoot(cfg.AllowPaths)
		if err != nil {
			return nil, fmt.Errorf("server: allowed paths %s: %w", cfg.AllowPaths, err)
		}
		s.allowRoot = root
	}
	// Uploads in transit go to this process's own folder; those of a
	// server killed mid-upload are removed here.
	uploads, err := queue.ScratchDir(cfg.Workdir, "tell-serve")
	if err != nil {
		return nil, fmt.Errorf("server: workdir: %w", err)
	}
	s.uploads = uploads
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.met = newMetrics(s)
	if err := s.q.Watch(s.ctx, s.jobEvent); err != nil {
		s.cancel()
		return nil, fmt.Errorf("server: %w", err)
	}
	select {
	case <-s.index.caught:
	case <-time.After(time.Minute):
		s.cancel()
		return nil, errors.New("server: the job index did not load within a minute")
	}
	s.routes()
	if !cfg.NoWorker {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			err := s.q.Work(s.ctx, queue.WorkerConfig{Name: "serve", Jobs: cfg.Jobs, Dir: cfg.Workdir, Handler: cfg.Analysis.Handle, Log: log})
			if err != nil {
				log.Error("worker stopped", "err", err)
			}
		}()
	}
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.janitor() }()
	return s, nil
}

// Handler returns the server's HTTP handler: request log, Host check,
// cross-origin check and authentication around the routes.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops the worker (its running jobs go back to the queue) and the
// janitor. It is safe to call more than once. The queue is not closed.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.wg.Wait()
		os.Remove(s.uploads) // when empty: another server of this process may share it
	})
	return nil
}

// Serve answers HTTP on ln until ctx is cancelled, then shuts down
// gracefully: it stops accepting, gives open requests a few seconds,
// puts running jobs back in the queue and closes the Server.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.hostsMu.Lock()
	s.hosts = allowedHosts(ln.Addr().String(), s.cfg.AllowedHosts)
	s.hostsMu.Unlock()
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		// Bodies are paced per request (BodyGrace, MinBodyRate) and
		// responses get a write deadline when they start, so that a large
		// upload at a good pace is not cut by a whole-request timeout.
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	s.log.Info("serving", "addr", "http://"+ln.Addr().String()+"/", "jobs", s.cfg.Jobs, "local_worker", !s.cfg.NoWorker,
		"max_upload_mb", s.cfg.MaxUpload>>20, "auth", s.cfg.Keys != nil)
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		s.log.Info("shutting down; running jobs go back to the queue")
		start := time.Now()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = hs.Shutdown(sctx)
		cancel()
		<-errc
		defer func() { s.log.Info("stopped", "ms", time.Since(start).Milliseconds()) }()
	}
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// ListenAndServe listens on addr (host:port; DefaultAddr when empty) and
// calls Serve. ready, when not nil, receives the bound address.
func (s *Server) ListenAndServe(ctx context.Context, addr string, ready func(net.Addr)) error {
	if addr == "" {
		addr = DefaultAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.Close()
		return fmt.Errorf("server: listen %s: %w", addr, err)
	}
	if ready != nil {
		ready(ln.Addr())
	}
	return s.Serve(ctx, ln)
}

// janitor removes finished jobs beyond the age, count and byte bounds,
// and objects that belong to no job.
func (s *Server) janitor() {
	t := time.NewTicker(max(50*time.Millisecond, min(s.cfg.Keep/4, 10*time.Second)))
	defer t.Stop()
	lastSweep := time.Now()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.kick:
			s.evict(time.Now(), 0)
		case now := <-t.C:
			s.evict(now, 0)
			if now.Sub(lastSweep) > 10*time.Minute {
				lastSweep = now
				if n, err := s.q.Sweep(s.ctx, 10*time.Minute); err != nil {
					s.log.Warn("sweeping orphan files", "err", err)
				} else if n > 0 {
					s.log.Info("swept orphan files", "n", n)
				}
			}
		}
	}
}

// evict deletes finished jobs: those older than Keep, then the oldest
// until the jobs kept (plus room more) fit MaxJobs and MaxBytes.
func (s *Server) evict(now time.Time, room int) {
	for _, id := range s.index.evictable(now.Add(-s.cfg.Keep), s.cfg.MaxJobs-room, s.cfg.MaxBytes) {
		if err := s.q.Delete(s.ctx, id); err != nil && !errors.Is(err, queue.ErrNotFound) {
			s.log.Warn("removing an old job", "job", id, "err", err)
			continue
		}
		s.index.remove(id)
		s.log.Info("job expired", "job", id)
	}
}
