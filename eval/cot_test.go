package eval

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestBenchCot scores a hand-made manifest whose answers are worked out
// by hand from the engine's published rules (RESEARCH.md §5).
func TestCoT(t *testing.T) {
	dir := t.TempDir()
	manifest := filepath.Join(dir, "m.csv")
	rows := "sample,subject,label,dataset,aus,frames\n" +
		"a,s1,disgust,casme2,4+7,clips/x\n" + // CASME II criterion: disgust
		"b,s1,happiness,casme2,R12,clips/x\n" + // one-sided AU12: happiness
		"c,s2,disgust,casme2,4,clips/x\n" + // AU4 alone: anger (wrong); negative (right)
		"d,s2,surprise,casme2,1+2,clips/x\n" +
		"e,s3,others,casme2,4,clips/x\n" + // in neither task
		"f,s3,repression,casme2,15+17,clips/x\n" + // 3-class only: negative
		"g,s4,anger,samm,4+7,clips/x\n" + // Davison's class III: anger
		"h,s4,sadness,casme2,?,clips/x\n" // no AUs: skipped
	if err := os.WriteFile(manifest, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	sc, err := CoT(t.Context(), manifest, func(line string) { b.WriteString(line + "\n") })
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.Print(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	// basic, CASME II: 4 rows, 3 right; F1 disgust 2/3, happiness 1,
	// surprise 1 → UF1 0.889; recall 1/2, 1, 1 → UAR 0.833.
	for _, want := range []string{
		"rows=8\n", "skipped_no_aus=1\n",
		"basic_casme2_n=4\n", "basic_casme2_accuracy=0.750\n", "basic_casme2_uar=0.833\n", "basic_casme2_uf1=0.889\n",
		"basic_samm_n=1\n", "basic_samm_accuracy=1.000\n",
		"basic_all_n=5\n", "basic_all_accuracy=0.800\n",
		"3class_casme2_n=5\n", "3class_casme2_accuracy=1.000\n",
		"3class_all_n=6\n",
		"# row c dataset=casme2 label=disgust aus=4 basic=anger 3class=negative\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "# row e ") {
		t.Errorf("row e (others) was scored:\n%s", out)
	}
	for _, re := range []string{`(?m)^basic_casme2_ece=0\.[0-9]{3}$`, `(?m)^basic_casme2_ece_loso=0\.[0-9]{3}$`,
		`(?m)^temperature_engine=6\.200$`, `(?m)^temperature_fit=[0-9.]+$`,
		`(?m)^temperature_loso_folds=4$`, // s1, s2, s3 on CASME II, s4 on SAMM (h skipped)
		`(?m)^# \(0\.[0-9],[01]\.[0-9]\] +[0-9]+ +[01]\.[0-9]{2} +[01]\.[0-9]{2} \| +[0-9]+ `,
		`(?m)^3class_all_doubt_n=[0-9]+$`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("no %s in\n%s", re, out)
		}
	}
	if !regexp.MustCompile(`(?m)^3class_all_uf1=1\.000\n\z`).MatchString(out) {
		t.Errorf("3class_all_uf1 is not the last line, or not 1.000:\n%s", out)
	}
	if _, err := CoT(t.Context(), filepath.Join(dir, "none.csv"), nil); err == nil || !strings.Contains(err.Error(), "none.csv") {
		t.Errorf("missing manifest: %v", err)
	}
}
