package server

import (
	"errors"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
)

// admission hands out upload slots and queue places before a body is
// read: an upload that could not be queued is refused from its headers,
// not after its bytes have been received.
type admission struct {
	mu         sync.Mutex
	uploads    int
	perKey     map[string]int
	maxUploads int
	maxPerKey  int
	reserved   int // queue places held by uploads in progress
}

// admit takes an upload slot for key and a queue place, given the jobs
// waiting now. It returns a release function, or the reason for refusing.
func (a *admission) admit(key string, waiting, maxQueued int) (release func(), reason string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.uploads >= a.maxUploads || a.perKey[key] >= a.maxPerKey:
		return nil, rejectUploads
	case waiting+a.reserved >= maxQueued:
		return nil, rejectQueue
	}
	a.uploads++
	a.perKey[key]++
	a.reserved++
	var once sync.Once
	return func() {
		once.Do(func() {
			a.mu.Lock()
			defer a.mu.Unlock()
			a.uploads--
			a.reserved--
			if a.perKey[key]--; a.perKey[key] <= 0 {
				delete(a.perKey, key)
			}
		})
	}, ""
}

// pacedBody cuts a request body that arrives slower than a minimum pace:
// after grace, the bytes read so far must have come at rate bytes per
// second on average. The read deadline moves forward as bytes arrive, so
// a fast large upload is never cut and a trickle is cut after about grace.
type pacedBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	start time.Time
	grace time.Duration
	rate  int64
	n     int64
	slow  bool
}

func (p *pacedBody) Read(b []byte) (int, error) {
	deadline := p.start.Add(p.grace + time.Duration(float64(p.n)/float64(p.rate)*float64(time.Second)))
	// Not every writer supports deadlines (httptest's recorder): then the
	// server's own timeouts are all there is.
	_ = p.rc.SetReadDeadline(deadline)
	n, err := p.ReadCloser.Read(b)
	p.n += int64(n)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		p.slow = true
		err = errSlowBody
	}
	return n, err
}

var errSlowBody = errors.New("the request body arrived too slowly")

// isSlow reports whether err comes from a body cut for its pace.
func isSlow(err error) bool { return errors.Is(err, errSlowBody) }
