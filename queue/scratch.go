package queue

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ScratchDir makes a new private folder (mode 0700, a name no one can
// guess: os.MkdirTemp) in parent for this process's files in transit,
// named prefix-PID-RANDOM, and removes the folders of the same prefix
// that this user owns and whose process is gone: a process killed with
// SIGKILL cannot clean up after itself, so the next one does. Folders of
// live processes and of other users are left alone, and never used: on a
// shared parent (/tmp) another user may have made any name first.
func ScratchDir(parent, prefix string) (string, error) {
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	if ents, err := os.ReadDir(parent); err == nil {
		for _, e := range ents {
			rest, ok := strings.CutPrefix(e.Name(), prefix+"-")
			if !ok || !e.IsDir() {
				continue
			}
			// prefix-PID-RANDOM, or prefix-PID of earlier versions.
			p, _, _ := strings.Cut(rest, "-")
			pid, err := strconv.Atoi(p)
			if err != nil || pid == os.Getpid() || alive(pid) {
				continue
			}
			path := filepath.Join(parent, e.Name())
			if !ownDir(path) {
				continue
			}
			os.RemoveAll(path)
		}
	}
	dir, err := os.MkdirTemp(parent, fmt.Sprintf("%s-%d-", prefix, os.Getpid()))
	if err != nil {
		return "", err
	}
	return dir, nil
}

// ownDir reports whether path is a folder (not a link) this user owns.
func ownDir(path string) bool {
	st, err := os.Lstat(path)
	if err != nil || !st.IsDir() {
		return false
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	return ok && int(sys.Uid) == os.Getuid()
}

// alive reports whether a process with pid exists (signal 0 probes).
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
