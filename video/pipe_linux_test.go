package video

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestGrowPipe: a pipe grows to hold a 640×360 RGB frame (the kernel's
// default is 64 KiB), and a want beyond the system's limit gets the limit
// (1 MiB at most).
func TestGrowPipe(t *testing.T) {
	for _, want := range []int{3 * 640 * 360, 1 << 30} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		growPipe(r, want)
		size, err := unix.FcntlInt(r.Fd(), unix.F_GETPIPE_SZ, 0)
		r.Close()
		w.Close()
		if err != nil {
			t.Fatal(err)
		}
		if size < min(want, pipeMax(t), 1<<20) {
			t.Errorf("want %d: pipe of %d bytes", want, size)
		}
		t.Logf("want %d: pipe of %d bytes", want, size)
	}
}

// pipeMax is the system's bound on a pipe's size.
func pipeMax(t *testing.T) int {
	b, err := os.ReadFile("/proc/sys/fs/pipe-max-size")
	if err != nil {
		t.Skip(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}
