package server

import (
	"errors"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
)

// slots hands out places for one kind of work (uploads being received,
// chains of thought being made). A key takes its own places first, then
// places of a shared pool, and holds at most perKey at once: a key that
// fills the pool still leaves every other key its own place.
type slots struct {
	mu     sync.Mutex
	own    int // places each named key has to itself
	shared int // the pool's places
	perKey int // places one key may hold at once, its own included
	used   int // pool places taken
	held   map[string]*keySlots
}

type keySlots struct{ own, shared int }

func newSlots(own, shared, perKey int) *slots {
	return &slots{own: own, shared: shared, perKey: max(perKey, 1), held: map[string]*keySlots{}}
}

// take gives key a place, its own when it has one left (named: only keys
// of the keys file have own places; addresses share the pool), else one
// of the pool. It returns the release function, or nil when there is no
// place.
func (s *slots) take(key string, named bool) func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.held[key]
	if k == nil {
		k = &keySlots{}
	}
	own := false
	switch {
	case k.own+k.shared >= s.perKey:
		return nil
	case named && k.own < s.own:
		k.own++
		own = true
	case s.used < s.shared:
		k.shared++
		s.used++
	default:
		return nil
	}
	s.held[key] = k
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if own {
				k.own--
			} else {
				k.shared--
				s.used--
			}
			if k.own+k.shared == 0 {
				delete(s.held, key)
			}
		})
	}
}

// pacedBody cuts a request body that arrives slower than a minimum pace,
// measured over a sliding window: after grace, the last window (= grace)
// must have brought at least rate × window bytes. A body fast at first
// and then trickling is cut about a window after it slows down, not after
// the average since its start falls below the pace. The read deadline
// moves as bytes arrive, so a fast large upload is never cut and a
// trickle is cut after about grace.
type pacedBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	start time.Time
	grace time.Duration
	rate  int64
	n     int64
	// marks are (when, bytes so far) of recent reads, one per 100 ms at
	// most, covering the last window: a mark's time is its first read's,
	// its bytes those after its last (which errs by at most 100 ms of
	// bytes towards cutting).
	marks []paceMark
	slow  bool
}

type paceMark struct {
	at time.Time
	n  int64
}

// newPacedBody paces r's body from now.
func newPacedBody(w http.ResponseWriter, r *http.Request, grace time.Duration, rate int64) *pacedBody {
	return &pacedBody{ReadCloser: r.Body, rc: http.NewResponseController(w), start: time.Now(), grace: grace, rate: rate}
}

// deadline is when the body is cut if no more bytes arrive: the first
// moment T after the grace at which the window (T-window, T] holds fewer
// than rate × window bytes.
func (p *pacedBody) deadline() time.Time {
	window := p.grace
	need := int64(float64(p.rate) * window.Seconds())
	threshold := p.n - need
	// The earliest time after which the bytes received before it exceed
	// threshold: from then on, a window ending a window later is short.
	from := p.start
	if threshold >= 0 {
		from = time.Time{}
		for _, m := range p.marks {
			if m.n > threshold {
				from = m.at
				break
			}
		}
		if from.IsZero() { // cannot happen: the last mark holds n
			from = p.start
		}
	}
	d := from.Add(window)
	if g := p.start.Add(p.grace); d.Before(g) {
		d = g
	}
	return d
}

func (p *pacedBody) Read(b []byte) (int, error) {
	// Not every writer supports deadlines (httptest's recorder): then the
	// server's own timeouts are all there is.
	_ = p.rc.SetReadDeadline(p.deadline())
	n, err := p.ReadCloser.Read(b)
	if n > 0 {
		p.arrived(time.Now(), n)
	}
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		p.slow = true
		err = errSlowBody
	}
	return n, err
}

// arrived records n bytes read at now.
func (p *pacedBody) arrived(now time.Time, n int) {
	p.n += int64(n)
	if k := len(p.marks); k > 0 && now.Sub(p.marks[k-1].at) < 100*time.Millisecond {
		p.marks[k-1].n = p.n
	} else {
		p.marks = append(p.marks, paceMark{now, p.n})
	}
	// Marks older than two windows decide nothing any more.
	cut := 0
	for cut < len(p.marks)-1 && now.Sub(p.marks[cut].at) > 2*p.grace {
		cut++
	}
	if cut > 0 {
		p.marks = append(p.marks[:0], p.marks[cut:]...)
	}
}

var errSlowBody = errors.New("the request body arrived too slowly")

// isSlow reports whether err comes from a body cut for its pace.
func isSlow(err error) bool { return errors.Is(err, errSlowBody) }
