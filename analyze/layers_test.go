package analyze

import (
	"os/exec"
	"strings"
	"testing"
)

// TestInferenceLinksNoTraining keeps the layers apart: the packages that
// run analyses (analyze, server, queue) link no training, dataset,
// synthetic-data or evaluation package, no model family (they get the
// families from their caller, through package model) and neither the xlsx
// reader nor the progress bars.
func TestInferenceLinksNoTraining(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", "../analyze", "../server", "../queue").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const tell = "github.com/tell-project/tell/"
	forbidden := map[string]bool{
		tell + "train": true, tell + "cnn": true, tell + "merclip": true, tell + "dataset": true,
		tell + "synth": true, tell + "eval": true, tell + "metrics": true, tell + "llm/llmeval": true,
		"github.com/xuri/excelize/v2": true, "github.com/schollz/progressbar/v3": true,
	}
	for _, p := range strings.Fields(string(out)) {
		if forbidden[p] || strings.HasPrefix(p, tell+"train/") {
			t.Errorf("analyze, server or queue links %s", p)
		}
	}
}
