package train

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tell-project/tell/metrics"
)

// TestChoose: known answers of the rule. A costlier candidate is chosen
// only when it beats every cheaper one by the margin; equal costs compete
// on the score alone.
func TestChoose(t *testing.T) {
	row := func(name string, cost, score float64) SweepRow {
		return SweepRow{Name: name, Cost: cost, Score: Stat{Mean: score}}
	}
	for _, tc := range []struct {
		name     string
		rows     []SweepRow
		want     string
		eligible []bool
	}{
		{"cheapest wins a near tie", []SweepRow{row("flip", 2, 0.7765), row("default", 1, 0.7760)}, "default", []bool{false, true}},
		{"costlier clears the margin", []SweepRow{row("a", 1, 0.770), row("b", 2, 0.774), row("c", 3, 0.779)}, "c", []bool{true, false, true}},
		{"costlier within the margin of a mid one", []SweepRow{row("a", 1, 0.770), row("b", 2, 0.776), row("c", 3, 0.780)}, "b", []bool{true, true, false}},
		{"equal cost, higher score", []SweepRow{row("x", 1, 0.761), row("y", 1, 0.776)}, "y", []bool{true, true}},
		{"equal score and cost: the first", []SweepRow{row("x", 1, 0.776), row("y", 1, 0.776)}, "x", []bool{true, true}},
		{"a worse cheap one does not block", []SweepRow{row("cheap", 1, 0.5), row("good", 5, 0.77)}, "good", []bool{true, true}},
	} {
		if got := choose(tc.rows, 0.005); got != tc.want {
			t.Errorf("%s: chose %s, want %s", tc.name, got, tc.want)
		}
		for i, r := range tc.rows {
			if r.Eligible != tc.eligible[i] {
				t.Errorf("%s: %s eligible=%v, want %v", tc.name, r.Name, r.Eligible, tc.eligible[i])
			}
		}
	}
}

func candidate(t *testing.T, name, js string) Candidate {
	t.Helper()
	fs, _ := testFamilies()
	c, err := ParseCandidate(name, []byte(js), fs)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSweep: every candidate runs under every seed with the split of that
// seed; the centroid family ignores its epochs, so equal scores go to the
// cheapest; an ensemble of two equal members predicts as they do; a rerun
// trains nothing and writes the same table; another rule in the same folder
// is refused.
func TestSweep(t *testing.T) {
	dir := t.TempDir()
	man, err := WriteSynth(dir, SynthOptions{Seed: 3, Subjects: SynthSubjects(6, 2)})
	if err != nil {
		t.Fatal(err)
	}
	fs, fam := testFamilies()
	out := filepath.Join(dir, "sweep")
	opt := SweepOptions{Manifest: man, Protocol: ProtocolKFold, Folds: 3, Seeds: 3, Families: fs, Out: out, Bootstrap: 50,
		Candidates: []Candidate{
			candidate(t, "long", `{"centroid": {"epochs": 9}}`),
			candidate(t, "short", `{"centroid": {"epochs": 2}}`),
			candidate(t, "both", `{"ensemble": ["long", "short"]}`),
		}}
	res, err := Sweep(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(fam.seen) != 2*3*3 {
		t.Errorf("%d fits, want 2 candidates × 3 seeds × 3 folds", len(fam.seen))
	}
	if res.Chosen != "short" {
		t.Errorf("chose %s, want the cheaper of equal scores", res.Chosen)
	}
	long, short, both := res.Rows[0], res.Rows[1], res.Rows[2]
	if long.Cost <= short.Cost || both.Cost != long.Cost+short.Cost {
		t.Errorf("costs long %g, short %g, both %g", long.Cost, short.Cost, both.Cost)
	}
	for i := range long.Seeds {
		if long.Seeds[i].UF1 != short.Seeds[i].UF1 || both.Seeds[i].UF1 != short.Seeds[i].UF1 {
			t.Errorf("seed %d: UF1 long %.4f short %.4f both %.4f, want equal", long.Seeds[i].Seed, long.Seeds[i].UF1, short.Seeds[i].UF1, both.Seeds[i].UF1)
		}
	}
	// Each seed draws its own split, the same for every candidate.
	subjects := func(c string, seed int) string {
		r, err := metrics.ReadJSON(filepath.Join(out, "runs", c, fmt.Sprintf("seed-%d", seed), "metrics.json"))
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(r.Folds[0].TestSubjects)
	}
	if subjects("short", 1) == subjects("short", 2) && subjects("short", 2) == subjects("short", 3) {
		t.Error("every seed drew the same split")
	}
	if subjects("short", 2) != subjects("long", 2) {
		t.Error("two candidates drew different splits under one seed")
	}
	chosen, _ := os.ReadFile(filepath.Join(out, "chosen.json"))
	if !bytes.Equal(chosen, opt.Candidates[1].Source) {
		t.Errorf("chosen.json %q", chosen)
	}
	md, _ := os.ReadFile(filepath.Join(out, "sweep.md"))
	for _, want := range []string{"**short**", "| long |", "seed 3", "Chosen: short"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("sweep.md lacks %q:\n%s", want, md)
		}
	}
	// A rerun trains nothing and writes the same table.
	before, _ := os.ReadFile(filepath.Join(out, "runs", "long", "seed-2", "metrics.json"))
	fam.seen = nil
	if _, err := Sweep(context.Background(), opt); err != nil {
		t.Fatal(err)
	}
	if len(fam.seen) != 0 {
		t.Errorf("the rerun fitted %d models", len(fam.seen))
	}
	if after, _ := os.ReadFile(filepath.Join(out, "runs", "long", "seed-2", "metrics.json")); !bytes.Equal(before, after) || len(before) == 0 {
		t.Error("the rerun changed a run's metrics")
	}
	// The rule cannot change once the sweep started.
	opt.Rule = DefaultRule()
	opt.Rule.Margin = 0.01
	if _, err := Sweep(context.Background(), opt); err == nil || !strings.Contains(err.Error(), "another rule") {
		t.Errorf("changed rule: %v", err)
	}
}

// TestSweepRefusesHeldOutSubjects: a development manifest that shares a
// subject with a declared held-out manifest is refused before anything is
// written.
func TestSweepRefusesHeldOutSubjects(t *testing.T) {
	dir := t.TempDir()
	man, err := WriteSynth(filepath.Join(dir, "dev"), SynthOptions{Seed: 3, Subjects: SynthSubjects(4, 1)})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(man)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	held := filepath.Join(dir, "dev", "held.csv")
	// The header and the last row: one subject of the development set.
	if err := os.WriteFile(held, []byte(lines[0]+"\n"+lines[len(lines)-1]+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fs, _ := testFamilies()
	out := filepath.Join(dir, "sweep")
	_, err = Sweep(context.Background(), SweepOptions{Manifest: man, Protocol: ProtocolLOSO, Seeds: 1, Families: fs, Out: out, HeldOut: []string{held},
		Candidates: []Candidate{candidate(t, "a", `{}`)}})
	if err == nil || !strings.Contains(err.Error(), "shares 1 subjects with the held-out manifest") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the refused sweep wrote %s", out)
	}
}
