package parallel

import (
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
)

// caught runs f and returns what it panicked with (nil if it did not).
func caught(f func()) (r any) {
	defer func() { r = recover() }()
	f()
	return nil
}

func TestGroupRaisesAGoroutinesPanicInTheCaller(t *testing.T) {
	var g Group
	var ran atomic.Int32
	for i := range 4 {
		g.Go(func() {
			ran.Add(1)
			if i == 2 {
				var s []int
				_ = s[i] // index out of range on a goroutine
			}
		})
	}
	r := caught(g.Wait)
	p, ok := r.(*Panic)
	if !ok {
		t.Fatalf("Wait panicked with %T %v, want *Panic", r, r)
	}
	if ran.Load() != 4 {
		t.Errorf("%d of 4 parts ran before the panic was raised", ran.Load())
	}
	var re runtime.Error
	if !errors.As(p, &re) || !strings.Contains(p.Error(), "index out of range") {
		t.Errorf("panic %q: want the runtime error", p.Error())
	}
	// The stack is the goroutine's, where the index was out of range.
	if !strings.Contains(string(p.GoroutineStack()), "TestGroupRaisesAGoroutinesPanicInTheCaller.func") {
		t.Errorf("stack does not show the panicking goroutine:\n%s", p.Stack)
	}
}

func TestGroupWaitsBeforeRaisingTheCallersPanic(t *testing.T) {
	var g Group
	release := make(chan struct{})
	var done atomic.Bool
	g.Go(func() { <-release; done.Store(true) })
	g.Do(func() { close(release); panic("caller's part") })
	r := caught(g.Wait)
	if p, ok := r.(*Panic); !ok || p.Value != "caller's part" {
		t.Fatalf("Wait panicked with %v", r)
	}
	if !done.Load() {
		t.Error("Wait raised the panic before the other part ended")
	}
}

func TestNestedPanicKeepsItsStack(t *testing.T) {
	var outer Group
	outer.Go(func() {
		var inner Group
		inner.Go(func() { deepest() })
		inner.Wait()
	})
	p, _ := caught(outer.Wait).(*Panic)
	if p == nil || p.Value != "deepest" || !strings.Contains(string(p.Stack), "parallel.deepest") {
		t.Fatalf("got %v", p)
	}
}

func deepest() { panic("deepest") }

func TestNoPanicNoRaise(t *testing.T) {
	var g Group
	g.Go(func() {})
	g.Do(func() {})
	if r := caught(g.Wait); r != nil {
		t.Fatalf("Wait panicked with %v", r)
	}
	var c Catcher
	c.Repanic() // nothing kept: returns
}
