package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCotCommand(t *testing.T) {
	code, out, errOut := runTell(t, "cot", "--aus", "6+12", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var v struct {
		Conclusion struct{ Label string } `json:"conclusion"`
		Text       string                 `json:"text"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if v.Conclusion.Label != "happiness" {
		t.Errorf("conclusion.label = %q", v.Conclusion.Label)
	}

	code, out, _ = runTell(t, "cot", "--aus", "1+2+5B+26")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, h := range []string{"**Key Observations:**", "**Overall Emotional Interpretation:**", "**Conclusion:**"} {
		if !strings.Contains(out, h) {
			t.Errorf("missing heading %s:\n%s", h, out)
		}
	}
	if concl := out[strings.Index(out, "**Conclusion:**"):]; !strings.Contains(concl, "surprise") {
		t.Errorf("does not conclude surprise:\n%s", out)
	}

	// Same seed, same text; another seed may differ.
	_, a, _ := runTell(t, "cot", "--aus", "4B+7A+L10", "--seed", "5")
	_, b, _ := runTell(t, "cot", "--aus", "4B+7A+L10", "--seed", "5")
	if a != b {
		t.Error("seeded output not deterministic")
	}

	// A label the evidence cannot support: printed, flagged, exit 1.
	code, out, errOut = runTell(t, "cot", "--aus", "4+7", "--label", "happiness")
	if code != 1 || !strings.Contains(errOut, "verification failed") || !strings.Contains(out, "disgust") {
		t.Errorf("flagged label: exit %d, stderr %q", code, errOut)
	}
	code, _, _ = runTell(t, "cot", "--aus", "4+7", "--label", "disgust")
	if code != 0 {
		t.Errorf("consistent label: exit %d", code)
	}

	// JSON evidence file.
	p := filepath.Join(t.TempDir(), "ev.json")
	if err := os.WriteFile(p, []byte(`[{"au":12,"side":"right","intensity":1.5},{"au":14,"side":"right","intensity":1.5}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runTell(t, "cot", "--au-json", p, "--json")
	if code != 0 || !strings.Contains(out, `"label": "contempt"`) {
		t.Errorf("--au-json: exit %d %s\n%s", code, errOut, out)
	}

	// Usage and input errors.
	for _, args := range [][]string{{"cot"}, {"cot", "--aus", "6", "--au-json", p}, {"cot", "--aus", "6", "extra"}} {
		if code, _, _ := runTell(t, args...); code != 2 {
			t.Errorf("tell %v: exit %d, want 2", args, code)
		}
	}
	code, _, errOut = runTell(t, "cot", "--aus", "4+x7")
	if code != 1 || !strings.Contains(errOut, `"x7"`) {
		t.Errorf("bad AU string: exit %d, %q", code, errOut)
	}
	code, _, errOut = runTell(t, "cot", "--au-json", filepath.Join(t.TempDir(), "missing.json"))
	if code != 1 || !strings.Contains(errOut, "missing.json") {
		t.Errorf("missing file: exit %d, %q", code, errOut)
	}
}
