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

// ScratchDir makes parent/prefix-PID, this process's folder for files in
// transit, and removes the folders of the same prefix whose process is
// gone: a process killed with SIGKILL cannot clean up after itself, so the
// next one does. Folders of live processes are left alone (several servers
// and workers may share parent).
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
			pid, err := strconv.Atoi(rest)
			if err != nil || pid == os.Getpid() || alive(pid) {
				continue
			}
			os.RemoveAll(filepath.Join(parent, e.Name()))
		}
	}
	dir := filepath.Join(parent, fmt.Sprintf("%s-%d", prefix, os.Getpid()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	return dir, nil
}

// alive reports whether a process with pid exists (signal 0 probes).
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
