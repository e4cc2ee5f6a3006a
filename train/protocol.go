package train

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
)

// CheckProtocol reads the manifest (no file is opened but the manifest)
// and checks what protocol needs before rows are prepared: two labels, and
// subjects enough for the split (folds for ProtocolKFold, frac for
// ProtocolHoldout, both seeded).
func CheckProtocol(manifest, protocol string, folds int, frac float64, seed uint64) error {
	samples, _, err := ReadManifest(manifest)
	if err != nil {
		return err
	}
	labels := map[string]bool{}
	for _, s := range samples {
		if s.Label != "" {
			labels[s.Label] = true
		}
	}
	if len(labels) < 2 {
		has := fmt.Sprintf("%d labels", len(labels))
		if len(labels) == 1 {
			has = "1 label"
		}
		return fmt.Errorf("%s: training needs at least 2 labels, the manifest has %s", manifest, has)
	}
	if _, err := (Split{Protocol: protocol, Folds: folds, Fraction: frac, Seed: seed}).Make(samples); err != nil {
		return fmt.Errorf("%s: %w", manifest, err)
	}
	return nil
}

// RunDir records what a run folder held before a run, so that a failed
// run can remove what it made and nothing else.
type RunDir struct {
	path    string
	existed bool
	before  map[string]bool
}

// SnapshotDir records what the run folder path holds now (nothing when
// it does not exist).
func SnapshotDir(path string) (*RunDir, error) {
	d := &RunDir{path: path, before: map[string]bool{}}
	ents, err := os.ReadDir(path)
	switch {
	case err == nil:
		d.existed = true
		for _, e := range ents {
			d.before[e.Name()] = true
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	return d, nil
}

// Cleanup removes the entries the run created, unless a fold finished
// (its result is work a rerun resumes from), and the folder itself when
// the run created it and it is left empty. log (nil: none) hears why a
// folder is kept.
func (d *RunDir) Cleanup(log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if done, _ := filepath.Glob(filepath.Join(d.path, "folds", "fold-*.json")); len(done) > 0 && !d.before["folds"] {
		log.Warn("keeping the failed run's folder: folds finished there", "path", d.path, "folds", len(done))
		return
	}
	ents, err := os.ReadDir(d.path)
	if err != nil {
		return
	}
	for _, e := range ents {
		if !d.before[e.Name()] {
			os.RemoveAll(filepath.Join(d.path, e.Name()))
		}
	}
	if !d.existed {
		os.Remove(d.path)
	}
}
