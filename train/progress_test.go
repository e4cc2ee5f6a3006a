package train

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunReportsProgress: a run tells its Progress of every prepared row
// and every trained epoch, one at a time and in order, each step ending at
// its total.
func TestRunReportsProgress(t *testing.T) {
	dir := t.TempDir()
	man, err := WriteSynth(dir, SynthOptions{Seed: 9, Subjects: SynthSubjects(3, 2)})
	if err != nil {
		t.Fatal(err)
	}
	samples, _, err := ReadManifest(man)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	fs, _ := testFamilies()
	last := map[string][2]int{}
	var order []string
	progress := func(step string, done, total int) {
		prev, seen := last[step]
		if !seen {
			order = append(order, step)
		}
		if done != prev[0]+1 || seen && total != prev[1] {
			t.Errorf("%s: %d of %d after %d of %d", step, done, total, prev[0], prev[1])
		}
		last[step] = [2]int{done, total}
	}
	res, err := Run(context.Background(), RunOptions{Manifest: man, Protocol: ProtocolHoldout, Out: filepath.Join(dir, "run"),
		Config: cfg, Families: fs, Bootstrap: -1, Progress: progress})
	if err != nil {
		t.Fatal(err)
	}
	if len(order) != 2 || order[0] != "prepare" || !strings.HasPrefix(order[1], "train ") {
		t.Fatalf("steps %q, want prepare then train", order)
	}
	if p := last["prepare"]; p[0] != len(samples) || p[1] != len(samples) {
		t.Errorf("prepare ended at %v, want %d rows", p, len(samples))
	}
	// The holdout fold and the final model, each cfg.Members × the epochs.
	if p, want := last[order[1]], 2*cfg.Members*cfg.Spec.Epochs(); p[0] != p[1] || p[1] != want {
		t.Errorf("%s ended at %v, want %d epochs (%d folds resumed)", order[1], p, want, res.Resumed)
	}
}

// TestLibrariesDrawNoBars: only commands draw progress bars; no package
// outside cmd/ and internal/cli (the commands' framework) imports the
// progress bar module (train reports through Progress).
func TestLibrariesDrawNoBars(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	out, err := exec.Command(goTool, "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, " ")
		if strings.Contains(pkg, "/cmd/") || strings.HasSuffix(pkg, "/internal/cli") {
			continue
		}
		if strings.Contains(" "+imports+" ", " github.com/schollz/progressbar/v3 ") {
			t.Errorf("%s imports the progress bars", pkg)
		}
	}
}
