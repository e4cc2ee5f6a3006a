// Package atomicfile writes output files so that readers never see a
// half-written one: the content goes to a temporary file in the same folder,
// is synced, and is renamed over the destination only when every step
// succeeded. A failed or interrupted write leaves the old file (or none) and
// no temporary file behind.
//
// Limits: the rename is atomic on a local POSIX filesystem; the folder
// itself is not synced, so a power loss just after the rename may, on some
// filesystems, bring back the old file; network filesystems may not rename
// atomically. Outputs are 0644.
package atomicfile

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Write runs write on a temporary file next to path and renames it to path
// when write, the sync and the close all succeed. The file gets mode 0644,
// as ordinary outputs do (os.CreateTemp makes 0600 files).
func Write(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	err = write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// WriteFile writes data to path atomically.
func WriteFile(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := io.Copy(w, bytes.NewReader(data))
		return err
	})
}
