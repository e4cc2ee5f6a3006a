// Package server is tell's HTTP API and web page: upload an image or a
// video, follow the analysis as a background job, fetch its frames.csv,
// events.json and report.html, and turn AU codes into a chain of thought.
//
// Routes:
//
//	GET    /                         the web page (self-contained, no external assets)
//	GET    /healthz                  {"status":"ok"}
//	GET    /v1/version               {"version":...}
//	POST   /v1/analyze               multipart "file" (or JSON {"path"} under --allow-paths) → 202 {"id","status_url"}
//	GET    /v1/jobs                  every job, newest first
//	GET    /v1/jobs/{id}             status, progress, error, links
//	GET    /v1/jobs/{id}/events.json the outputs of analyze.Run
//	GET    /v1/jobs/{id}/frames.csv
//	GET    /v1/jobs/{id}/report.html
//	DELETE /v1/jobs/{id}             cancel the job and remove its files
//	POST   /v1/cot                   {"aus":"4B+7A"} or {"evidence":[...]} → the CoT JSON
//
// Errors are JSON {"error": "..."} with a fitting status code.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tell-project/tell/analyze"
)

// DefaultAddr is where tell serve listens unless told otherwise: loopback
// only, so that an analysis server is never exposed by accident.
const DefaultAddr = "127.0.0.1:8080"

// Defaults for Config's zero fields.
const (
	DefaultMaxUpload = 256 << 20 // bytes
	DefaultKeep      = time.Hour
	maxJSONBody      = 1 << 20
)

// AnalyzeFunc runs one analysis; analyze.Run is the default. Tests and
// embedders may substitute their own.
type AnalyzeFunc func(ctx context.Context, input string, opt analyze.Options) (*analyze.Result, error)

// Config configures a Server. Zero fields take the defaults.
type Config struct {
	// Workdir holds the jobs' folders (default os.TempDir()); the server
	// makes its own subfolder there and removes it on Close.
	Workdir string
	// MaxUpload bounds an uploaded file in bytes (default DefaultMaxUpload).
	MaxUpload int64
	// Jobs is how many analyses run at once (default 1); more wait queued.
	Jobs int
	// MaxQueued bounds the jobs waiting for a worker (default 16×Jobs);
	// beyond it POST /v1/analyze answers 503.
	MaxQueued int
	// AllowPaths, when set, lets POST /v1/analyze name a file or folder
	// on the server under this folder ({"path": ...}). Empty: uploads only.
	AllowPaths string
	// Keep is how long a finished job's outputs stay (default DefaultKeep).
	Keep time.Duration
	// Version is reported by GET /v1/version.
	Version string
	// Landmarker makes the landmarker the jobs share; it is called at the
	// first job and again at later jobs until it succeeds, so a model file
	// installed after start-up is picked up without a restart (default
	// analyze.NewFaceLandmarker("")).
	Landmarker func() (analyze.Landmarker, error)
	// Analyze runs a job (default analyze.Run).
	Analyze AnalyzeFunc
	// Log receives request and job logs (default: discard).
	Log *slog.Logger
}

// Server serves the API. Create it with New; Close it to cancel the jobs
// and remove their files.
type Server struct {
	cfg        Config
	log        *slog.Logger
	root       string // this server's folder under Workdir
	allowRoot  string // resolved AllowPaths, "" when paths are refused
	landmarker *loader
	mux        *http.ServeMux
	jobs       *jobStore
	ctx        context.Context // parent of every job; cancelled by Close
	cancel     context.CancelFunc
	closeOnce  sync.Once
}

// New makes a Server and its work folder.
func New(cfg Config) (*Server, error) {
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
		cfg.MaxQueued = 16 * cfg.Jobs
	}
	if cfg.Keep <= 0 {
		cfg.Keep = DefaultKeep
	}
	if cfg.Version == "" {
		cfg.Version = "(devel)"
	}
	if cfg.Analyze == nil {
		cfg.Analyze = analyze.Run
	}
	if cfg.Landmarker == nil {
		cfg.Landmarker = func() (analyze.Landmarker, error) { return analyze.NewFaceLandmarker("") }
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{cfg: cfg, log: log}
	if cfg.AllowPaths != "" {
		abs, err := filepath.Abs(cfg.AllowPaths)
		if err == nil {
			abs, err = filepath.EvalSymlinks(abs)
		}
		if err != nil {
			return nil, fmt.Errorf("server: allowed paths %s: %w", cfg.AllowPaths, err)
		}
		s.allowRoot = abs
	}
	if err := os.MkdirAll(cfg.Workdir, 0o755); err != nil {
		return nil, fmt.Errorf("server: workdir: %w", err)
	}
	root, err := os.MkdirTemp(cfg.Workdir, "tell-serve-")
	if err != nil {
		return nil, fmt.Errorf("server: workdir: %w", err)
	}
	s.root = root
	s.landmarker = &loader{load: cfg.Landmarker}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.jobs = newJobStore(cfg.Jobs, cfg.MaxQueued)
	s.routes()
	go s.janitor()
	return s, nil
}

// Handler returns the server's HTTP handler, with request logging.
func (s *Server) Handler() http.Handler { return s.logRequests(s.mux) }

// Close cancels every job, waits for them to stop and removes the work
// folder. It is safe to call more than once.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.cancel()
		s.jobs.wait()
		err = os.RemoveAll(s.root)
	})
	return err
}

// Serve answers HTTP on ln until ctx is cancelled, then shuts down
// gracefully: it stops accepting, gives open requests a few seconds,
// cancels the running jobs and closes the Server.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		// Uploads of large videos may take a while; whole-request reads
		// are still bounded.
		ReadTimeout:  10 * time.Minute,
		WriteTimeout: 10 * time.Minute,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	s.log.Info("serving", "addr", "http://"+ln.Addr().String()+"/", "jobs", s.cfg.Jobs, "max_upload_mb", s.cfg.MaxUpload>>20)
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		s.log.Info("shutting down; cancelling running jobs")
		start := time.Now()
		// Jobs first: a client polling a job should see it cancelled, and
		// no analysis should outlive the process's intent to stop.
		s.cancel()
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

// janitor removes finished jobs older than Keep.
func (s *Server) janitor() {
	t := time.NewTicker(max(time.Second, min(s.cfg.Keep/4, time.Minute)))
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-t.C:
			for _, j := range s.jobs.expired(now.Add(-s.cfg.Keep)) {
				s.remove(j)
			}
		}
	}
}

// remove forgets j, cancels it, and deletes its folder once its goroutine
// has stopped writing there.
func (s *Server) remove(j *job) {
	s.jobs.forget(j.id)
	j.cancel()
	go func() {
		<-j.done
		if err := os.RemoveAll(j.dir); err != nil {
			s.log.Warn("job cleanup", "id", j.id, "err", err)
		}
	}()
}

// statusWriter records the status and size of a response for the log.
type statusWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelWarn
		}
		s.log.Log(r.Context(), level, "request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"bytes", sw.n, "ms", time.Since(start).Milliseconds(), "remote", r.RemoteAddr)
	})
}

// loader keeps the first landmarker that loads. A failure is not kept:
// the model file may be installed or repaired while the server runs, and
// caching the error would fail every job until a restart.
type loader struct {
	load func() (analyze.Landmarker, error)
	mu   sync.Mutex
	ok   bool
	lm   analyze.Landmarker
}

func (l *loader) get() (analyze.Landmarker, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ok {
		return l.lm, nil
	}
	lm, err := l.load()
	if err != nil {
		return nil, err
	}
	l.lm, l.ok = lm, true
	return lm, nil
}
