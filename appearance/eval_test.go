package appearance

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tell-project/tell/dataset"
	"github.com/tell-project/tell/models"
)

// TestEvaluate scores a manifest of the golden crops labelled with the
// peer's own argmax (fer.js): the zero-shot evaluation must agree with
// every one of them, and account for rows it cannot score.
func TestEvaluate(t *testing.T) {
	n := loadNet(t, models.FaceAPI)
	golden := readGolden(t, filepath.Join("testdata", "golden_faceapi.txt"))
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("sample,subject,label,image\n")
	i := 0
	labels := map[string]bool{}
	for file, p := range golden {
		best := 0
		for k, v := range p {
			if v > p[best] {
				best = k
			}
		}
		abs, _ := filepath.Abs(filepath.Join("..", file))
		fmt.Fprintf(&b, "s%d,subj%d,%s,%s\n", i, i%3, Labels[best], abs)
		labels[Labels[best]] = true
		i++
	}
	b.WriteString("bad,subj0,contempt," + filepath.Join(dir, "m.csv") + "\n") // a label the net lacks
	manifest := filepath.Join(dir, "m.csv")
	os.WriteFile(manifest, []byte(b.String()), 0o644)
	if len(labels) < 2 {
		t.Skipf("golden crops span %d classes", len(labels))
	}
	res, err := Evaluate(context.Background(), EvalOptions{Net: n, Manifest: manifest, Out: filepath.Join(dir, "run"), Bootstrap: 50})
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.N != len(golden) || res.Report.Accuracy != 1 || len(res.RowErrors) != 1 {
		t.Fatalf("n %d accuracy %v left out %v", res.Report.N, res.Report.Accuracy, res.RowErrors)
	}
	var m map[string]any
	raw, _ := os.ReadFile(filepath.Join(dir, "run", "metrics.json"))
	if json.Unmarshal(raw, &m) != nil || m["uf1_ci"] == nil {
		t.Errorf("metrics.json: %s", raw)
	}
	pred, _ := os.ReadFile(filepath.Join(dir, "run", "predictions.csv"))
	if strings.Count(string(pred), "\n") != len(golden)+1 {
		t.Errorf("predictions.csv:\n%s", pred)
	}
}

func TestTaskClasses(t *testing.T) {
	three := []string{"negative", "positive", "surprise", "ne"}
	c, m, err := taskClasses(samples(three...))
	if err != nil || strings.Join(c, ",") != "negative,positive,surprise" || m["sadness"] != "negative" || m["neutral"] != "" || m["happiness"] != "positive" {
		t.Errorf("three-class: %v %v %v", c, m, err)
	}
	c, m, err = taskClasses(samples("Happy", "sad", "Angry", "surprised", "disgust", "fear", "contempt"))
	if err != nil || len(c) != 6 || m["neutral"] != "" || m["happiness"] != "happiness" {
		t.Errorf("six basic + contempt: %v %v %v", c, m, err)
	}
	if _, _, err := taskClasses(samples("a", "b")); err == nil {
		t.Error("labels the net cannot express accepted")
	}
}

func samples(labels ...string) []dataset.Sample {
	var s []dataset.Sample
	for _, l := range labels {
		s = append(s, dataset.Sample{Label: l})
	}
	return s
}
