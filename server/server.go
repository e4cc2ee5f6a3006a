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
// a key sees only its own jobs (an admin key sees and cancels all);
// requests are rate-limited per key (reads and writes apart); uploads are
// admitted (rate, queue room, the key's quota of jobs waiting) before
// their body is read, take an upload place (the key's own first, then the
// shared pool) only once their file begins to arrive, and must keep a
// minimum pace over a sliding window; image and video headers are checked
// against a pixel, duration, work (pixel-frames) and memory budget before
// anything is decoded, and each key's work per hour is bounded; a key's
// jobs beyond its quota in flight are held until its earlier ones end.
// Decoding and analysis reserve their bytes from one process-wide budget
// (Memory), and ffmpeg's children run under an address-space limit.
// tell batch submits through the same checks over NATS (ServeNATS).
// Errors are JSON {"error": "..."}.
//
// Limits: the index of jobs is held in memory (bounded by MaxJobs); the
// rate limits, upload places, memory budget and the hour of work charged
// are per server, not per fleet (a restart recounts the hour from the
// jobs kept).
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
	// keys, one client address (default MaxUploads/4, at least 1). Each
	// key of the keys file has one upload place of its own besides the
	// MaxUploads shared ones, and an upload takes its place only once its
	// file's first bytes have arrived.
	MaxUploads       int
	MaxUploadsPerKey int
	// KeyQueued bounds one key's jobs waiting (default DefaultKeyQueued),
	// KeyRunning those handed to workers at once (default
	// DefaultKeyRunning: its other jobs are held until one finishes), and
	// KeyWorkPerHour the pixel-frames it may submit in an hour (default
	// DefaultKeyWorkPerHour). Without keys, every client is one key.
	KeyQueued      int
	KeyRunning     int
	KeyWorkPerHour int64
	// Rate and Burst are each key's token bucket for POST and DELETE
	// (default DefaultRate per second, burst 2×Rate); Rate < 0 turns it off.
	// ReadRate is its bucket for GET and HEAD (default 10×Rate, burst
	// 2×ReadRate; off with Rate).
	Rate     float64
	Burst    int
	ReadRate float64
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
	// MaxCoT bounds the chains of thought made at once from the shared
	// pool (default GOMAXPROCS); each key of the keys file also has one
	// place of its own, and a request takes a place only once its body
	// has arrived.
	MaxCoT int
	// Memory is the process's budget of bytes that decoding and analysis
	// reserve from before they start (NewMemory; nil: none). An input
	// whose estimate is over the whole budget is refused (413).
	Memory *Memory
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
	quota     *quotas
	uploadsIn *slots
	limit     *limiter
	readLimit *limiter
	cotSlots  *slots
	kick      chan struct{} // asks the janitor to look now
	dispatch  chan struct{} // asks the dispatcher to release held jobs
	uploads   string        // this process's folder of uploads in transit
	met       *metrics
	mu        sync.Mutex
	nats      *natsAPI // the NATS API, when served
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
	if cfg.ReadRate == 0 {
		cfg.ReadRate = 10 * cfg.Rate
	}
	if cfg.KeyQueued <= 0 {
		cfg.KeyQueued = DefaultKeyQueued
	}
	if cfg.KeyRunning <= 0 {
		cfg.KeyRunning = DefaultKeyRunning
	}
	if cfg.KeyWorkPerHour <= 0 {
		cfg.KeyWorkPerHour = DefaultKeyWorkPerHour
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
	if cfg.Analysis.Memory == nil {
		cfg.Analysis.Memory = cfg.Memory
	}
	if cfg.KeyWorkPerHour < cfg.Budget.JobWork {
		return nil, fmt.Errorf("server: a key's work per hour (%s) is less than one job's budget (%s)", WorkText(cfg.KeyWorkPerHour), WorkText(cfg.Budget.JobWork))
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Analysis.Log == nil {
		cfg.Analysis.Log = log
	}
	s := &Server{cfg: cfg, log: log, q: cfg.Queue, index: newIndex(), quota: newQuotas(cfg),
		limit: newLimiter(cfg.Rate, cfg.Burst), readLimit: newLimiter(cfg.ReadRate, max(1, int(2*cfg.ReadRate))),
		cotSlots: newSlots(1, cfg.MaxCoT, 1+max(1, cfg.MaxCoT/2)), uploadsIn: newSlots(1, cfg.MaxUploads, cfg.MaxUploadsPerKey),
		kick: make(chan struct{}, 1), dispatch: make(chan struct{}, 1)}
	s.hosts = allowedHosts("", cfg.AllowedHosts)
	if cfg.AllowPaths != "" {
		root, err := resolveRoot(cfg.AllowPaths)
		if err != nil {
			return nil, fmt.Errorf("server: allowed paths %s: %w", cfg.AllowPaths, err)
		}
		s.allowRoot = root
	}
	// Uploads in transit go to this server's own private folder; those of
	// a server killed mid-upload are removed here.
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
	// The last hour's submissions count against each key's work quota.
	var recent []chargedJob
	for _, j := range s.index.list("", true) {
		recent = append(recent, chargedJob{owner: j.Owner, at: j.Created, work: j.Work})
	}
	s.quota.seed(recent, time.Now())
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
	s.wg.Add(2)
	go func() { defer s.wg.Done(); s.janitor() }()
	go func() { defer s.wg.Done(); s.dispatcher() }()
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
		os.RemoveAll(s.uploads)
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

// dispatcher releases held jobs as their keys' jobs in flight finish:
// when told to (a job ended), and every few seconds (another server's
// jobs, a release that failed).
func (s *Server) dispatcher() {
	t := time.NewTicker(3 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.dispatch:
		case <-t.C:
		}
		for _, j := range s.index.held(func(owner string, oc ownerCounts) int {
			return s.cfg.KeyRunning - oc.queued - oc.running
		}) {
			r, err := s.q.Release(s.ctx, j.ID)
			if err != nil {
				if !errors.Is(err, queue.ErrNotFound) {
					s.log.Warn("releasing a held job", "job", j.ID, "err", err)
				}
				continue
			}
			s.index.released(r)
		}
	}
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
