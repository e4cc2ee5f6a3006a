package server

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tell-project/tell/profile"
	"github.com/tell-project/tell/queue"
)

// metrics are the server's Prometheus metrics, on a registry of its own.
// Job figures come from the queue's records, so jobs run by tell worker
// processes elsewhere are counted too.
type metrics struct {
	reg        *prometheus.Registry
	jobs       *prometheus.GaugeVec
	jobSeconds prometheus.Histogram
	jobFPS     prometheus.Histogram
	frames     prometheus.Counter
	stageCPU   *prometheus.CounterVec
	rejected   *prometheus.CounterVec
	requests   *prometheus.CounterVec
	uploads    prometheus.Gauge
	meanJob    ewma
}

// wakeDispatcher asks the dispatcher to look at the held jobs now.
func (s *Server) wakeDispatcher() {
	select {
	case s.dispatch <- struct{}{}:
	default:
	}
}

// Rejection reasons, the label of tell_rejected_requests_total.
const (
	rejectHost     = "host"
	rejectOrigin   = "origin"
	rejectAuth     = "auth"
	rejectRate     = "rate"
	rejectUploads  = "uploads"
	rejectQueue    = "queue_full"
	rejectTooLarge = "too_large"
	rejectBudget   = "budget"
	rejectMedia    = "media_type"
	rejectBad      = "bad_request"
	rejectSlow     = "slow_body"
	rejectPath     = "path"
	rejectCoTBusy  = "cot_busy"
	rejectNotReady = "not_ready"
)

var rejectReasons = []string{rejectHost, rejectOrigin, rejectAuth, rejectRate, rejectUploads, rejectQueue, rejectTooLarge,
	rejectBudget, rejectMedia, rejectBad, rejectSlow, rejectPath, rejectCoTBusy, rejectNotReady, rejectKeyQueue, rejectKeyWork}

func newMetrics(s *Server) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.jobs = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tell_jobs", Help: "Jobs kept, by state."}, []string{"state"})
	m.jobSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tell_job_seconds", Help: "Wall time of finished jobs, from start to result.",
		Buckets: prometheus.ExponentialBuckets(0.05, 2, 16)})
	m.jobFPS = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tell_job_frames_per_second", Help: "Frames analysed per second of finished jobs.",
		Buckets: prometheus.ExponentialBuckets(0.5, 2, 12)})
	m.frames = prometheus.NewCounter(prometheus.CounterOpts{Name: "tell_frames_total", Help: "Frames analysed by finished jobs; rate() is frames per second."})
	m.stageCPU = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tell_stage_cpu_seconds_total",
		Help: "CPU seconds of finished jobs' analyses by stage (decode, detect, landmarks, flow, appearance, ...); rate() divided by tell_frames_total's is CPU seconds per frame."}, []string{"stage"})
	m.rejected = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tell_rejected_requests_total", Help: "Requests refused, by reason."}, []string{"reason"})
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tell_http_requests_total", Help: "HTTP requests answered, by status code."}, []string{"code"})
	m.uploads = prometheus.NewGauge(prometheus.GaugeOpts{Name: "tell_uploads_in_progress", Help: "Uploads being received."})
	depth := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tell_queue_depth", Help: "Jobs in the work queue (waiting or being run), as JetStream counts them."},
		func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			d, err := s.q.Depth(ctx)
			if err != nil {
				return -1
			}
			return float64(d)
		})
	m.reg.MustRegister(m.jobs, m.jobSeconds, m.jobFPS, m.frames, m.stageCPU, m.rejected, m.requests, m.uploads, depth,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, st := range states {
		m.jobs.WithLabelValues(st)
	}
	for _, r := range rejectReasons {
		m.rejected.WithLabelValues(r)
	}
	for _, st := range profile.Stages() {
		m.stageCPU.WithLabelValues(st.String())
	}
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// jobEvent keeps the index and the job metrics current.
func (s *Server) jobEvent(ev queue.Event) {
	old, had := s.index.apply(ev)
	switch {
	case ev.Err != nil:
		// Loudly: until the watch is back, /readyz says not ready.
		s.log.Error("the job index's watch broke off; starting it again", "err", ev.Err)
		return
	case ev.Reset:
		s.log.Warn("the job index's watch started again; replaying the jobs")
		return
	case ev.Caught:
		s.wakeDispatcher()
		return
	}
	// A job that ends, or goes, leaves its key room for a held one; its
	// end is announced to the owner's batch clients.
	ended := !ev.Deleted && queue.Terminal(ev.Job.State) && !(had && queue.Terminal(old.State))
	if ev.Deleted || ended {
		s.wakeDispatcher()
	}
	if ended && !ev.Initial {
		s.mu.Lock()
		api := s.nats
		s.mu.Unlock()
		if api != nil {
			api.announce(ev.Job)
		}
	}
	for _, st := range states {
		s.met.jobs.WithLabelValues(st).Set(float64(s.index.count(st)))
	}
	j := ev.Job
	if !ev.Deleted && queue.Terminal(j.State) {
		select { // a finished job may put the kept ones over a bound
		case s.kick <- struct{}{}:
		default:
		}
	}
	// A job is counted when this server sees it finish, not when the
	// stored jobs are replayed at start-up.
	if ev.Deleted || ev.Initial || !queue.Terminal(j.State) || had && queue.Terminal(old.State) || j.Started.IsZero() {
		return
	}
	if j.State == queue.StateCanceled {
		return
	}
	secs := j.Finished.Sub(j.Started).Seconds()
	s.met.jobSeconds.Observe(secs)
	s.met.meanJob.add(secs)
	s.met.frames.Add(float64(max(0, j.Frames)))
	if secs > 0 && j.Frames > 0 {
		s.met.jobFPS.Observe(float64(j.Frames) / secs)
	}
	var sum Summary
	if len(j.Result) > 0 && json.Unmarshal(j.Result, &sum) == nil {
		for stage, cpu := range sum.StageCPU {
			if cpu > 0 && validStage(stage) {
				s.met.stageCPU.WithLabelValues(stage).Add(cpu)
			}
		}
	}
}

// validStage keeps the stage label to profile's names, whatever a worker
// put in a job's summary.
func validStage(name string) bool {
	for _, st := range profile.Stages() {
		if st.String() == name {
			return true
		}
	}
	return false
}

// ewma is a running mean of job seconds, for Retry-After estimates.
type ewma struct {
	mu  sync.Mutex
	val float64
	n   int
}

func (e *ewma) add(v float64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.n == 0 {
		e.val = v
	} else {
		e.val += 0.1 * (v - e.val)
	}
	e.n++
}

// mean is the running mean, or def before any job has finished.
func (e *ewma) mean(def float64) float64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.n == 0 {
		return def
	}
	return e.val
}
