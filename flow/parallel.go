package flow

import "sync"

// team is a fixed set of worker goroutines that run row bands of one pass.
// Dispatch sends plain values over per-worker channels, so a pass allocates
// nothing; the caller's goroutine runs band 0 itself.
type team struct {
	n     int // bands per pass, including the caller's
	tasks []chan task
	wg    sync.WaitGroup
	once  sync.Once
}

// task is one band of one pass: the pass kind is interpreted by the runner.
type task struct {
	run    runner
	kind   int
	band   int
	y0, y1 int
}

// runner executes a band of a pass.
type runner interface {
	band(kind, band, y0, y1 int)
}

func newTeam(n int) *team {
	if n < 1 {
		n = 1
	}
	t := &team{n: n}
	for i := 1; i < n; i++ {
		ch := make(chan task)
		t.tasks = append(t.tasks, ch)
		go t.work(ch)
	}
	return t
}

func (t *team) work(ch chan task) {
	for tk := range ch {
		tk.run.band(tk.kind, tk.band, tk.y0, tk.y1)
		t.wg.Done()
	}
}

// bands returns how many bands a pass over h rows of w pixels should use:
// small levels run on one goroutine because a hand-off costs about as much
// as a few thousand pixel updates.
func (t *team) bands(w, h int) int {
	n := t.n
	const minPixels = 6000
	if m := w * h / minPixels; m < n {
		n = m
	}
	if n > h/2 {
		n = h / 2
	}
	if n < 1 {
		n = 1
	}
	return n
}

// do runs kind over rows [0,h) split into nb bands and waits for all.
func (t *team) do(r runner, kind, nb, h int) {
	if nb <= 1 {
		r.band(kind, 0, 0, h)
		return
	}
	t.wg.Add(nb - 1)
	for b := 1; b < nb; b++ {
		t.tasks[b-1] <- task{run: r, kind: kind, band: b, y0: b * h / nb, y1: (b + 1) * h / nb}
	}
	r.band(kind, 0, 0, h/nb)
	t.wg.Wait()
}

// close stops the workers; the team must not be used afterwards.
func (t *team) close() {
	t.once.Do(func() {
		for _, ch := range t.tasks {
			close(ch)
		}
	})
}
