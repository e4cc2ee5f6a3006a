package video

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// growPipe asks the kernel for a pipe buffer of at least want bytes (up
// to the system's limit, /proc/sys/fs/pipe-max-size, 1 MiB by default)
// on ffmpeg's output, so that a frame crosses it in one or two writes
// instead of one per 64 KiB: ffmpeg and the reader then block and wake
// each other about ten times less often. It is best effort: a pipe it
// cannot grow keeps its size.
func growPipe(r io.Reader, want int) {
	f, ok := r.(*os.File)
	if !ok {
		return
	}
	sc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = sc.Control(func(fd uintptr) {
		for size := min(want, 1<<20); size > 1<<16; size /= 2 {
			if _, err := unix.FcntlInt(fd, unix.F_SETPIPE_SZ, size); err == nil {
				return
			}
		}
	})
}
