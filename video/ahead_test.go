package video

import (
	"context"
	"errors"
	"io"
	"runtime"
	"slices"
	"testing"
	"time"
)

// readAll reads every frame of path (colour too), opened with procs
// GOMAXPROCS (1: read inline; more: read ahead).
func readAll(t *testing.T, path string, procs int) []*Frame {
	t.Helper()
	old := runtime.GOMAXPROCS(procs)
	src, err := Open(context.Background(), path, Options{Color: true})
	runtime.GOMAXPROCS(old)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if ahead := src.(*videoSource).ahead != nil; ahead != (procs > 1) {
		t.Fatalf("GOMAXPROCS %d: reading ahead %v", procs, ahead)
	}
	var out []*Frame
	for {
		f, err := src.Next(context.Background())
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
}

// TestReadAhead: frames read ahead are the frames read inline, each its
// own grey and colour buffers (the caller keeps every frame).
func TestReadAhead(t *testing.T) {
	path := makeVideo(t, 9, 32, 24)
	inline, ahead := readAll(t, path, 1), readAll(t, path, 2)
	if len(inline) != 9 || len(ahead) != 9 {
		t.Fatalf("%d and %d frames, want 9", len(inline), len(ahead))
	}
	for i := range inline {
		a, b := inline[i], ahead[i]
		if a.Index != b.Index || a.Time != b.Time || !slices.Equal(a.Gray.Pix, b.Gray.Pix) || !slices.Equal(a.RGB.Pix, b.RGB.Pix) {
			t.Errorf("frame %d differs", i)
		}
		if i > 0 && &b.RGB.Pix[0] == &ahead[i-1].RGB.Pix[0] {
			t.Errorf("frame %d shares its colour buffer with the frame before", i)
		}
	}
}

// TestReadAheadStop: closing or cancelling in mid-video stops ffmpeg and
// the reader (whose end DecoderCPU then reports), and Next keeps saying so.
func TestReadAheadStop(t *testing.T) {
	path := makeVideo(t, 40, 32, 24)
	for _, how := range []string{"close", "cancel"} {
		ctx, cancel := context.WithCancel(context.Background())
		src, err := Open(ctx, path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		vs := src.(*videoSource)
		if vs.ahead == nil {
			t.Skip("one core: frames are read inline")
		}
		if _, err := src.Next(ctx); err != nil {
			t.Fatal(err)
		}
		want := context.Canceled
		if how == "close" {
			src.Close()
			want = nil
		} else {
			cancel()
		}
		for range 2 {
			_, err = src.Next(ctx)
			if err == nil || err == io.EOF || (want != nil && !errors.Is(err, want)) {
				t.Errorf("%s: Next = %v", how, err)
			}
		}
		select {
		case <-vs.done:
		default:
			t.Errorf("%s: the reader is still running", how)
		}
		if vs.cmd.ProcessState == nil {
			t.Errorf("%s: ffmpeg was not waited for", how)
		}
		src.Close()
		cancel()
	}
}

// TestReadAheadCancelNoClose: a caller that cancels its context and stops
// without Close or another Next does not leave the reader blocked with a
// frame in hand (a goroutine, two frames and an unreaped ffmpeg).
func TestReadAheadCancelNoClose(t *testing.T) {
	path := makeVideo(t, 40, 32, 24)
	ctx, cancel := context.WithCancel(context.Background())
	src, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	vs := src.(*videoSource)
	if vs.ahead == nil {
		t.Skip("one core: frames are read inline")
	}
	if _, err := src.Next(ctx); err != nil {
		t.Fatal(err)
	}
	for len(vs.ahead) < cap(vs.ahead) {
		time.Sleep(time.Millisecond) // until a frame waits for a Next that never comes
	}
	cancel()
	select {
	case <-vs.done:
	case <-time.After(20 * time.Second): // a hang guard, not a timing
		t.Fatal("the reader still runs after its context was cancelled")
	}
	// Next with a live context gives the frame that waited, then says the
	// source was cancelled.
	for i := 0; ; i++ {
		_, err := src.Next(context.Background())
		if err == nil && i == 0 {
			continue
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Next %d after the open context's cancel = %v", i, err)
		}
		break
	}
}
