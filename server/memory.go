package server

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
)

// Memory is a process-wide budget of bytes: decoding and analysis reserve
// their estimate (Budget's DecodeBytes, video.DecodeMemory) from it before
// they start and wait, in order of arrival, while others hold it. It keeps
// the process (and its ffmpeg children) under --memory-limit however many
// uploads and jobs arrive at once.
type Memory struct {
	mu      sync.Mutex
	total   int64
	used    int64
	waiters []*memWaiter
}

type memWaiter struct {
	n     int64
	ready chan struct{}
}

// ErrOverMemory is returned (wrapped) by Reserve for a reservation larger
// than the whole budget: it could never be served.
var ErrOverMemory = errors.New("more memory than the server's budget")

// NewMemory returns a budget of total bytes.
func NewMemory(total int64) *Memory { return &Memory{total: total} }

// MemoryForLimit splits a process memory limit (bytes, the resident size
// not to pass) into Go's soft limit (GOMEMLIMIT: seven eighths of it, for
// what Go does not count, the program's own pages among them, and for the
// collector's overshoot while it marks) and the budget that decoding and
// analysis reserve from (Go's limit less 256 MiB for what every server
// holds: the landmark and appearance models, the embedded NATS server,
// connections; at least half the limit). Measured: a server with one
// small job done holds 120 MB; with --memory-limit 640, Go's limit 576 MiB
// and a 320 MiB budget, eight grey uploads that fit it peaked at 586 to
// 671 MB, 26 MB of it the program's pages.
func MemoryForLimit(limit int64) (goLimit int64, budget *Memory) {
	goLimit = limit / 8 * 7
	return goLimit, NewMemory(max(limit/2, goLimit-256<<20))
}

// Total is the budget's size (0 for a nil budget: none).
func (m *Memory) Total() int64 {
	if m == nil {
		return 0
	}
	return m.total
}

// Fits reports whether n bytes can ever be reserved; a nil budget holds
// anything.
func (m *Memory) Fits(n int64) bool { return m == nil || n <= m.total }

// Reserve takes n bytes, waiting until they are free or ctx ends. A nil
// budget reserves nothing.
func (m *Memory) Reserve(ctx context.Context, n int64) (release func(), err error) {
	if m == nil || n <= 0 {
		return func() {}, nil
	}
	if n > m.total {
		return nil, fmt.Errorf("%w: %d MiB needed, %d MiB in all", ErrOverMemory, mib(n), mib(m.total))
	}
	m.mu.Lock()
	if len(m.waiters) == 0 && m.used+n <= m.total {
		m.used += n
		m.mu.Unlock()
		return m.releaser(n), nil
	}
	w := &memWaiter{n: n, ready: make(chan struct{})}
	m.waiters = append(m.waiters, w)
	m.mu.Unlock()
	select {
	case <-w.ready:
		return m.releaser(n), nil
	case <-ctx.Done():
		m.mu.Lock()
		select {
		case <-w.ready: // served meanwhile: give it back
			m.used -= n
		default:
			for i, x := range m.waiters {
				if x == w {
					m.waiters = append(m.waiters[:i:i], m.waiters[i+1:]...)
					break
				}
			}
		}
		m.wake()
		m.mu.Unlock()
		return nil, ctx.Err()
	}
}

func (m *Memory) releaser(n int64) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			m.mu.Lock()
			m.used -= n
			m.wake()
			m.mu.Unlock()
		})
	}
}

// wake serves waiters in order while they fit; mu is held.
func (m *Memory) wake() {
	for len(m.waiters) > 0 && m.used+m.waiters[0].n <= m.total {
		w := m.waiters[0]
		m.waiters = m.waiters[1:]
		m.used += w.n
		close(w.ready)
	}
}

// Used is the bytes reserved now.
func (m *Memory) Used() int64 {
	if m == nil {
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.used
}

// releaseLarge gives back a reservation of n bytes; after a large one (a
// quarter of the budget or more) the freed memory is returned to the
// system at once, so that the next large job does not find the last one's
// pages still resident (measured: eight 16-bit uploads then eight grey
// ones peaked 80 MB higher than the grey ones alone).
func (m *Memory) releaseLarge(release func(), n int64) {
	release()
	if m != nil && n >= m.total/4 {
		debug.FreeOSMemory()
	}
}

func mib(n int64) int64 { return (n + 1<<20 - 1) >> 20 }
