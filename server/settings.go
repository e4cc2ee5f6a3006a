package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"time"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/queue"
)

// Limits are what tell serve and tell worker are told about the analyses
// they run, in their flags' units. Validate checks them; its errors name
// the flags (a command reports them as usage mistakes).
type Limits struct {
	Jobs        int     // --jobs: analyses at once
	Landmarks   string  // --landmarks: dlib's model ("": Debian's)
	MaxPixels   int64   // --max-pixels: of one image or video frame
	MaxSeconds  float64 // --max-seconds: of one video or folder of frames
	JobBudget   string  // --job-budget: pixel-frames of one job (ParseWork)
	MemoryLimit int64   // --memory-limit: MiB the process keeps under (0: none)
}

// Validate checks the limits.
func (l Limits) Validate() error {
	switch {
	case l.Jobs < 1:
		return fmt.Errorf("--jobs %d: want at least 1", l.Jobs)
	case l.MaxPixels < 1 || l.MaxSeconds <= 0:
		return errors.New("--max-pixels and --max-seconds want positive values")
	case l.MemoryLimit < 0 || l.MemoryLimit > 0 && l.MemoryLimit < 512:
		return fmt.Errorf("--memory-limit %d: want 0 (none) or at least 512 MiB", l.MemoryLimit)
	}
	if _, err := ParseWork(l.JobBudget); err != nil {
		return fmt.Errorf("--job-budget %q: %v", l.JobBudget, err)
	}
	return nil
}

// Memory sets Go's memory limit for MemoryLimit and returns the budget
// analyses reserve from (nil without a limit) and a function that puts
// Go's limit back.
func (l Limits) Memory() (*Memory, func()) {
	if l.MemoryLimit <= 0 {
		return nil, func() {}
	}
	goLimit, mem := MemoryForLimit(l.MemoryLimit << 20)
	old := debug.SetMemoryLimit(goLimit)
	return mem, func() { debug.SetMemoryLimit(old) }
}

// WarnLandmarks warns on log when the landmark model is not installed:
// the API still explains AU codes, and analyses fail until it is there.
func (l Limits) WarnLandmarks(log *slog.Logger) {
	if _, err := face.ResolveModelPath(l.Landmarks); err != nil {
		log.Warn("landmark model not found: analyses will fail until it is installed", "err", err)
	}
}

// Analysis is the analysis of jobs under the limits (after Validate),
// with the landmark model of Landmarks and the memory budget mem.
func (l Limits) Analysis(mem *Memory, log *slog.Logger) *Analysis {
	work, _ := ParseWork(l.JobBudget)
	return &Analysis{Budget: Budget{MaxPixels: l.MaxPixels, MaxSeconds: l.MaxSeconds, JobWork: work}, Log: log, Memory: mem,
		Landmarker: func() (analyze.Landmarker, error) { return analyze.NewFaceLandmarker(l.Landmarks) }}
}

// Settings are tell serve's settings, in its flags' units (MiB, WORK,
// comma-separated names; a Rate of 0 turns the limits off). Validate
// checks them; its errors name the flags.
type Settings struct {
	Limits
	Addr         string        // --addr
	Workers      int           // --workers: 0 or 1 local worker
	MaxUpload    int64         // --max-upload, MiB
	MaxQueued    int           // --max-queued
	MaxUploads   int           // --max-uploads
	MaxJobs      int           // --max-jobs
	MaxStored    int64         // --max-stored, MiB
	Rate         float64       // --rate
	Keep         time.Duration // --keep
	AckWait      time.Duration // --ack-wait
	KeyQueued    int           // --key-queued
	KeyRunning   int           // --key-running
	KeyWork      string        // --key-work, WORK per hour
	AllowedHosts string        // --allowed-hosts
	AllowPaths   string        // --allow-paths
	Workdir      string        // --workdir
	// Where the jobs' queue is: an external NATS server, or the embedded
	// one's folder, listen address, users file and TLS files.
	NATS, Data, NATSListen, NATSUsers, NATSCert, NATSKey string
	// Insecure serves without keys beyond loopback, or NATS without users.
	Insecure bool
}

// Validate checks the settings.
func (s Settings) Validate() error {
	if _, _, err := net.SplitHostPort(s.Addr); err != nil {
		return fmt.Errorf("--addr %q: want HOST:PORT: %v", s.Addr, err)
	}
	switch {
	case s.MaxUpload <= 0 || s.MaxUpload > 1<<20:
		return fmt.Errorf("--max-upload %d: want 1..1048576 MiB", s.MaxUpload)
	case s.Workers != 0 && s.Workers != 1:
		return fmt.Errorf("--workers %d: want 0 (no local worker) or 1", s.Workers)
	case s.Keep <= 0:
		return fmt.Errorf("--keep %v: want a positive duration", s.Keep)
	case s.MaxQueued < 1 || s.MaxUploads < 1 || s.MaxJobs < 1 || s.MaxStored < 1:
		return errors.New("--max-queued, --max-uploads, --max-jobs and --max-stored want at least 1")
	case s.Rate < 0:
		return fmt.Errorf("--rate %g: want 0 (no limit) or more", s.Rate)
	case s.AckWait < time.Second:
		return fmt.Errorf("--ack-wait %v: want at least 1s", s.AckWait)
	case s.NATS != "" && (s.Data != "" || s.NATSListen != "" || s.NATSUsers != "" || s.NATSCert != ""):
		return errors.New("--nats joins an external NATS server: --data, --nats-listen, --nats-users and --nats-tls-* are for the embedded one")
	case (s.NATSCert == "") != (s.NATSKey == ""):
		return errors.New("--nats-tls-cert and --nats-tls-key go together")
	case s.KeyQueued < 1 || s.KeyRunning < 1:
		return errors.New("--key-queued and --key-running want at least 1")
	}
	if err := s.Limits.Validate(); err != nil {
		return err
	}
	jobWork, _ := ParseWork(s.JobBudget)
	keyWork, err := ParseWork(s.KeyWork)
	if err != nil {
		return fmt.Errorf("--key-work %q: %v", s.KeyWork, err)
	}
	if keyWork < jobWork {
		return fmt.Errorf("--key-work %s is less than --job-budget %s: no job could ever be submitted", s.KeyWork, s.JobBudget)
	}
	return nil
}

// CheckAuth checks, once the keys and the NATS users or credentials are
// loaded, that NATS beside API keys holds its clients to their names: else
// any process that reaches NATS could act as any key.
func (s Settings) CheckAuth(keys *Keys, natsUsers, natsCreds bool) error {
	if keys == nil || s.Insecure {
		return nil
	}
	switch {
	case s.NATSListen != "" && !natsUsers:
		return errors.New("--nats-listen with --api-keys needs --nats-users FILE: without NATS users any process that reaches NATS could act as any key (or, knowingly, --insecure-no-auth)")
	case s.NATS != "" && !natsCreds:
		return errors.New("--nats with --api-keys needs --nats-creds FILE, and a NATS server that holds each user to its permissions (see tell serve --help)")
	}
	return nil
}

// Config is the server's Config for the settings (after Validate), with
// the analysis of its own worker.
func (s Settings) Config(keys *Keys, a *Analysis, version string, log *slog.Logger) Config {
	var hosts []string
	for _, h := range strings.Split(s.AllowedHosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	rate := s.Rate
	if rate == 0 {
		rate = -1 // Config's zero means the default
	}
	keyWork, _ := ParseWork(s.KeyWork)
	return Config{
		Jobs: s.Jobs, NoWorker: s.Workers == 0, Workdir: s.Workdir,
		MaxUpload: s.MaxUpload << 20, MaxQueued: s.MaxQueued, MaxUploads: s.MaxUploads, Rate: rate,
		KeyQueued: s.KeyQueued, KeyRunning: s.KeyRunning, KeyWorkPerHour: keyWork, Memory: a.Memory,
		Keep: s.Keep, MaxJobs: s.MaxJobs, MaxBytes: s.MaxStored << 20, Budget: a.Budget,
		AllowPaths: s.AllowPaths, Keys: keys, AllowedHosts: hosts, Version: version, Log: log, Analysis: a,
	}
}

// Where is where the settings put the job queue: an external NATS server
// reached as the client co, or the embedded one with its users and TLS
// loaded from their files.
func (s Settings) Where(co queue.ClientOptions) (queue.Where, error) {
	w := queue.Where{URL: s.NATS, Client: co, Dir: s.Data, Listen: s.NATSListen, InsecureNoAuth: s.Insecure}
	var err error
	if s.NATSUsers != "" {
		if w.Users, err = queue.LoadUsers(s.NATSUsers); err != nil {
			return w, err
		}
	}
	if s.NATSCert != "" {
		if w.TLS, err = queue.LoadTLS(s.NATSCert, s.NATSKey); err != nil {
			return w, err
		}
	}
	return w, nil
}
