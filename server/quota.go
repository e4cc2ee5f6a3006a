package server

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Work budgets and per-key quotas. Work is counted in decoded
// pixel-frames (frames × width × height, from the headers or ffprobe
// before any decoding): what an analysis costs grows with it.
const (
	// DefaultJobWork is one job's budget: an hour of 1920×1080 at 30 fps.
	DefaultJobWork = 3600 * 30 * 1920 * 1080
	// DefaultKeyWorkPerHour is what one key may submit in an hour: four
	// such hours of video.
	DefaultKeyWorkPerHour = 4 * DefaultJobWork
	// DefaultKeyQueued bounds a key's jobs waiting (held or queued).
	DefaultKeyQueued = 32
	// DefaultKeyRunning bounds a key's jobs handed to workers at once
	// (queued for a worker or running); its other jobs are held until one
	// of these finishes.
	DefaultKeyRunning = 8
)

// quotas admit submissions against the queue's room and each key's quotas.
// Submissions between admission and the index (pending) count as queued,
// so that concurrent uploads of one key cannot all pass the same check.
type quotas struct {
	maxQueued      int // every key's waiting jobs
	keyQueued      int
	keyRunning     int
	keyWorkPerHour int64

	mu         sync.Mutex
	pendingAll int
	pending    map[string]*keyPending
	charges    map[string][]workCharge // work submitted in the last hour
}

type keyPending struct{ queued, running int }

type workCharge struct {
	at   time.Time
	work int64
}

func newQuotas(cfg Config) *quotas {
	return &quotas{maxQueued: cfg.MaxQueued, keyQueued: cfg.KeyQueued, keyRunning: cfg.KeyRunning, keyWorkPerHour: cfg.KeyWorkPerHour,
		pending: map[string]*keyPending{}, charges: map[string][]workCharge{}}
}

// Reasons a submission is refused for (tell_rejected_requests_total).
const (
	rejectKeyQueue = "key_queue"
	rejectKeyWork  = "key_work"
)

// room checks, without taking anything, that the queue and the key have
// room for one more job: what can be refused from a request's headers.
func (q *quotas) room(key string, waiting int, oc ownerCounts) (reason string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.roomLocked(key, waiting, oc)
}

func (q *quotas) roomLocked(key string, waiting int, oc ownerCounts) string {
	p := q.pending[key]
	if p == nil {
		p = &keyPending{}
	}
	switch {
	case waiting+q.pendingAll >= q.maxQueued:
		return rejectQueue
	case oc.held+oc.queued+p.queued >= q.keyQueued:
		return rejectKeyQueue
	}
	return ""
}

// reserve takes a queue place for a submission of key and says whether
// its job is to be held (the key has keyRunning jobs in flight already).
// release gives the place back once the job is in the index, or refused.
func (q *quotas) reserve(key string, waiting int, oc ownerCounts) (release func(), held bool, reason string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if reason := q.roomLocked(key, waiting, oc); reason != "" {
		return nil, false, reason
	}
	p := q.pending[key]
	if p == nil {
		p = &keyPending{}
		q.pending[key] = p
	}
	// Held behind the key's held jobs too: a key's jobs start in order.
	held = oc.held > 0 || oc.queued+oc.running+p.running >= q.keyRunning
	q.pendingAll++
	p.queued++
	if !held {
		p.running++
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			q.mu.Lock()
			defer q.mu.Unlock()
			q.pendingAll--
			p.queued--
			if !held {
				p.running--
			}
			if p.queued == 0 && p.running == 0 {
				delete(q.pending, key)
			}
		})
	}, held, ""
}

// charge records work submitted by key now, unless the key's last hour
// holds too much already; then it says how long until it would fit.
// refund takes a charge back (the submission failed after all).
func (q *quotas) charge(key string, work int64, now time.Time) (refund func(), wait time.Duration, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	hour := now.Add(-time.Hour)
	cs := q.charges[key]
	i := 0
	for i < len(cs) && !cs[i].at.After(hour) {
		i++
	}
	cs = cs[i:]
	var sum int64
	for _, c := range cs {
		sum += c.work
	}
	if sum+work > q.keyWorkPerHour {
		// The oldest charges leave the window first.
		over := sum + work - q.keyWorkPerHour
		for _, c := range cs {
			over -= c.work
			if over <= 0 {
				q.charges[key] = cs
				return nil, c.at.Add(time.Hour).Sub(now), false
			}
		}
		q.charges[key] = cs
		return nil, time.Hour, false
	}
	c := workCharge{at: now, work: work}
	q.charges[key] = append(cs, c)
	return func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		cs := q.charges[key]
		for i := range cs {
			if cs[i] == c {
				q.charges[key] = append(cs[:i:i], cs[i+1:]...)
				return
			}
		}
	}, 0, true
}

// seed charges the work of jobs submitted within the last hour, as the
// index holds them at start: a restart does not forget the hour.
func (q *quotas) seed(jobs []chargedJob, now time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, j := range jobs {
		if j.work > 0 && now.Sub(j.at) < time.Hour {
			q.charges[j.owner] = append(q.charges[j.owner], workCharge{at: j.at, work: j.work})
		}
	}
	for k, cs := range q.charges {
		sortCharges(cs)
		q.charges[k] = cs
	}
}

type chargedJob struct {
	owner string
	at    time.Time
	work  int64
}

func sortCharges(cs []workCharge) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].at.Before(cs[j-1].at); j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

// WorkText describes an amount of pixel-frames for people: in
// pixel-frames and as seconds of 1080p at 30 fps.
func WorkText(pf int64) string {
	const hd30 = 1920 * 1080 * 30
	secs := float64(pf) / hd30
	var d string
	switch {
	case secs >= 3600:
		d = fmt.Sprintf("%.1f h", secs/3600)
	case secs >= 60:
		d = fmt.Sprintf("%.1f min", secs/60)
	default:
		d = fmt.Sprintf("%.1f s", secs)
	}
	return fmt.Sprintf("%s pixel-frames (%s of 1080p at 30 fps)", siText(float64(pf)), d)
}

func siText(v float64) string {
	for _, u := range []struct {
		f float64
		s string
	}{{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if v >= u.f {
			return strconv.FormatFloat(v/u.f, 'g', 4, 64) + u.s
		}
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// ParseWork reads an amount of pixel-frames: a number with an optional
// suffix k, M, G or T (powers of 1000), "224G" say, or "1h@1080p30": a
// duration at 1920×1080 and 30 fps.
func ParseWork(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if d, ok := strings.CutSuffix(s, "@1080p30"); ok {
		dur, err := time.ParseDuration(d)
		if err != nil || dur <= 0 {
			return 0, fmt.Errorf("work %q: want a positive duration before @1080p30", s)
		}
		return int64(dur.Seconds() * 1920 * 1080 * 30), nil
	}
	mult := 1.0
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k', 'K':
			mult, s = 1e3, s[:n-1]
		case 'M':
			mult, s = 1e6, s[:n-1]
		case 'G':
			mult, s = 1e9, s[:n-1]
		case 'T':
			mult, s = 1e12, s[:n-1]
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v <= 0 || v*mult > 9e18 {
		return 0, errors.New("want a positive number of pixel-frames, with k, M, G or T, or DURATION@1080p30")
	}
	return int64(v * mult), nil
}
