// Package parallel runs the parts of one computation on several goroutines
// so that a panic in any part reaches the caller: the part's goroutine
// recovers it, and the caller's goroutine panics again with it once every
// part has ended. A job handler that recovers panics (queue's worker) then
// fails the one job instead of the whole process dying, and no part of the
// computation outlives the call that started it.
package parallel

import (
	"fmt"
	"runtime/debug"
	"sync"
)

// Panic is a panic recovered on one goroutine and raised again on
// another: the panic's value and the stack of the goroutine where it
// happened (the stack of the new panic shows only where it was raised
// again).
type Panic struct {
	Value any
	Stack []byte
}

// Error is the panic's value, as a panic prints it.
func (p *Panic) Error() string { return fmt.Sprint(p.Value) }

// Unwrap is the panic's value when it is an error (a runtime error).
func (p *Panic) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// GoroutineStack is the stack of the goroutine where the panic happened.
func (p *Panic) GoroutineStack() []byte { return p.Stack }

// Catcher keeps the first panic of the goroutines that defer its Recover.
// The zero value is ready to use.
type Catcher struct {
	mu sync.Mutex
	p  *Panic
}

// Recover, deferred at the top of a goroutine, recovers that goroutine's
// panic and keeps it when it is the first. A panic that is already a
// *Panic (raised again by a nested Group) keeps its own stack.
func (c *Catcher) Recover() {
	r := recover()
	if r == nil {
		return
	}
	p, ok := r.(*Panic)
	if !ok {
		p = &Panic{Value: r, Stack: debug.Stack()}
	}
	c.mu.Lock()
	if c.p == nil {
		c.p = p
	}
	c.mu.Unlock()
}

// Repanic panics with the kept panic, if any, and forgets it. Call it on
// the caller's goroutine once the goroutines have ended.
func (c *Catcher) Repanic() {
	c.mu.Lock()
	p := c.p
	c.p = nil
	c.mu.Unlock()
	if p != nil {
		panic(p)
	}
}

// Group runs functions on goroutines and waits for them, like a
// sync.WaitGroup, and raises the first of their panics again in Wait.
// The zero value is ready to use; a Group is used once.
type Group struct {
	wg sync.WaitGroup
	c  Catcher
}

// Go runs f on a new goroutine.
func (g *Group) Go(f func()) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		defer g.c.Recover()
		f()
	}()
}

// Do runs f on the caller's goroutine as one of the group's parts: a panic
// of f is kept like a goroutine's, so that Wait still waits for the others
// before raising it.
func (g *Group) Do(f func()) {
	defer g.c.Recover()
	f()
}

// Wait waits for the goroutines started by Go, then panics with the first
// panic of any part (a *Panic), if one panicked.
func (g *Group) Wait() {
	g.wg.Wait()
	g.c.Repanic()
}
