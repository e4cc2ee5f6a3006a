package profile

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// spin burns CPU on the calling thread until the thread clock has moved d.
func spin(d time.Duration) {
	start := threadCPU()
	x := 1.0
	for threadCPU()-start < d {
		for i := 0; i < 1000; i++ {
			x = x*1.0000001 + 1e-9
		}
	}
	sink = x
}

var sink float64

// TestLaneCharges: CPU work is charged to the stage that did it, waiting
// to none, and nested stages return to the outer one.
func TestLaneCharges(t *testing.T) {
	p := New()
	l := p.Lane()
	l.Enter(Flow)
	spin(20 * time.Millisecond)
	prev := l.Enter(Landmarks)
	spin(10 * time.Millisecond)
	l.Leave(prev) // back to Flow
	spin(10 * time.Millisecond)
	l.Enter(Spotting)
	time.Sleep(30 * time.Millisecond) // wall time, no CPU
	l.Enter(None)
	l.Close()
	by := map[Stage]StageTime{}
	for _, st := range p.Stages() {
		by[st.Stage] = st
	}
	if f, lm := by[Flow].CPU, by[Landmarks].CPU; f < 30*time.Millisecond || lm < 10*time.Millisecond || f < lm {
		t.Errorf("flow %v (want ≥ 30ms), landmarks %v (want ≥ 10ms)", f, lm)
	}
	if sp := by[Spotting]; sp.Wall < 30*time.Millisecond || sp.CPU > sp.Wall/2 {
		t.Errorf("spotting (sleeping) cpu %v wall %v: want wall ≥ 30ms and little CPU", sp.CPU, sp.Wall)
	}
	if by[Flow].Entries != 1 || by[Landmarks].Entries != 1 {
		t.Errorf("entries: flow %d, landmarks %d, want 1 each", by[Flow].Entries, by[Landmarks].Entries)
	}
	if by[Decode].CPU != 0 {
		t.Errorf("decode never ran: %v", by[Decode].CPU)
	}
	p.Add(Decode, 2*time.Second, 3*time.Second)
	if got := p.Stages()[1]; got.Stage != Decode || got.CPU < 2*time.Second || got.Wall < 3*time.Second {
		t.Errorf("decoder process time not in decode: %+v", got)
	}
}

// TestLanesInParallel: two goroutines' lanes each charge their own work.
func TestLanesInParallel(t *testing.T) {
	p := New()
	var wg sync.WaitGroup
	for _, s := range []Stage{Flow, Appearance} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := p.Lane()
			defer l.Close()
			l.Enter(s)
			spin(15 * time.Millisecond)
			l.Enter(None)
		}()
	}
	wg.Wait()
	for _, st := range p.Stages() {
		switch st.Stage {
		case Flow, Appearance:
			if st.CPU < 15*time.Millisecond {
				t.Errorf("%v: %v, want ≥ 15ms", st.Stage, st.CPU)
			}
		default:
			if st.CPU != 0 {
				t.Errorf("%v: %v, want 0", st.Stage, st.CPU)
			}
		}
	}
}

// TestNil: profiling off is a nil Profile, whose lanes do nothing.
func TestNil(t *testing.T) {
	var p *Profile
	l := p.Lane()
	l.Leave(l.Enter(Flow))
	l.Flush()
	l.Close()
	p.Add(Decode, time.Second, time.Second)
	if p.Stages() != nil || p.CPU() != 0 {
		t.Error("a nil profile reports time")
	}
}

func TestWrite(t *testing.T) {
	p := New()
	l := p.Lane()
	l.Enter(Writing)
	spin(5 * time.Millisecond)
	l.Close()
	var b bytes.Buffer
	if err := p.Write(&b, Summary{Frames: 10, Wall: time.Second, ProcessCPU: p.CPU() + 100*time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, s := range Stages() {
		if !strings.Contains(out, s.String()) {
			t.Errorf("stage %v missing from\n%s", s, out)
		}
	}
	for _, want := range []string{"other", "total", "10 frames, 10.0 frames/s end to end"} {
		if !strings.Contains(out, want) {
			t.Errorf("%q missing from\n%s", want, out)
		}
	}
}

func ExampleLane() {
	p := New() // nil when profiling is off: every call below then does nothing
	l := p.Lane()
	defer l.Close()
	l.Enter(Decode)
	// ... read a frame ...
	prev := l.Enter(Landmarks)
	// ... place landmarks ...
	l.Leave(prev)
}

func BenchmarkEnter(b *testing.B) {
	l := New().Lane()
	defer l.Close()
	for i := 0; i < b.N; i++ {
		l.Enter(Stage(1 + i%int(NumStages-1)))
	}
}
