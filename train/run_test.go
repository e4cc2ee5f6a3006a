package train

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tell-project/tell/dataset"
	"github.com/tell-project/tell/model"
)

// testFamilies returns a fresh centroid family (it records its Fit calls).
func testFamilies() (model.Families, *centroid) {
	c := &centroid{}
	return model.Families{c}, c
}

// testConfig is the config of the end-to-end tests: the centroid family.
func testConfig() Config {
	fs, _ := testFamilies()
	return DefaultConfig(fs)
}

func synthSet(t *testing.T, shuffle bool) string {
	t.Helper()
	dir := t.TempDir()
	path, err := WriteSynth(dir, SynthOptions{Seed: 5, Subjects: SynthSubjects(10, 6), ShuffleLabels: shuffle})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLOSOLearnsAndDoesNotLeak: on synthetic flows with class-specific
// motion the pipeline reaches UF1 ≥ 0.9 under LOSO, while the same data with
// shuffled labels stays near chance (1/3 for three classes).
func TestLOSOLearnsAndDoesNotLeak(t *testing.T) {
	for _, tc := range []struct {
		shuffle bool
	}{{false}, {true}} {
		man := synthSet(t, tc.shuffle)
		out := t.TempDir()
		fs, _ := testFamilies()
		res, err := Run(context.Background(), RunOptions{Manifest: man, Protocol: ProtocolLOSO, Out: out, Config: testConfig(), Families: fs, NoFinal: true, Bootstrap: 200})
		if err != nil {
			t.Fatal(err)
		}
		r := res.Report
		t.Logf("shuffled=%v: UF1 %.3f UAR %.3f acc %.3f CI %+v", tc.shuffle, r.UF1, r.UAR, r.Accuracy, r.UF1CI)
		if r.N != 180 || len(r.Folds) != 10 {
			t.Fatalf("n=%d folds=%d, want 180 and 10", r.N, len(r.Folds))
		}
		if !tc.shuffle && r.UF1 < 0.9 {
			t.Errorf("UF1 %.3f < 0.9 on learnable data", r.UF1)
		}
		if tc.shuffle && r.UF1 > 0.55 {
			t.Errorf("UF1 %.3f on shuffled labels: the pipeline leaks", r.UF1)
		}
	}
}

// TestRunDeterministicAndResumes: the same seed gives the same metrics.json,
// byte for byte (timings are in run.json); deleting some fold results and
// running again retrains just those and gives the same bytes again.
func TestRunDeterministicAndResumes(t *testing.T) {
	dir := t.TempDir()
	man, err := WriteSynth(dir, SynthOptions{Seed: 9, Subjects: SynthSubjects(4, 2)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.Members = 2
	fs, _ := testFamilies()
	run := func(out string) []byte {
		t.Helper()
		if _, err := Run(context.Background(), RunOptions{Manifest: man, Protocol: ProtocolLOSO, Out: out, Config: cfg, Families: fs, Bootstrap: 50}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(out, "metrics.json"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	ma, mb := run(a), run(b)
	if !bytes.Equal(ma, mb) {
		t.Fatalf("same seed, different metrics:\n%s\n%s", ma, mb)
	}
	wa, _ := os.ReadFile(filepath.Join(a, "model.safetensors"))
	wb, _ := os.ReadFile(filepath.Join(b, "model.safetensors"))
	if len(wa) == 0 || !bytes.Equal(wa, wb) {
		t.Fatal("same seed, different final model")
	}
	// Resume: drop two folds; the rerun retrains only those.
	os.Remove(foldPath(a, 1))
	os.Remove(foldPath(a, 3))
	res, err := Run(context.Background(), RunOptions{Manifest: man, Protocol: ProtocolLOSO, Out: a, Config: cfg, Families: fs, Bootstrap: 50})
	if err != nil {
		t.Fatal(err)
	}
	if res.Resumed != 2 {
		t.Errorf("resumed %d folds, want 2", res.Resumed)
	}
	if got, _ := os.ReadFile(filepath.Join(a, "metrics.json")); !bytes.Equal(got, ma) {
		t.Fatalf("resumed run differs:\n%s\n%s", got, ma)
	}
	// A different seed trains different models.
	cfg.Seed = 2
	res, err = Run(context.Background(), RunOptions{Manifest: man, Protocol: ProtocolLOSO, Out: a, Config: cfg, Families: fs, Bootstrap: 50})
	if err != nil {
		t.Fatal(err)
	}
	if res.Resumed != 0 {
		t.Errorf("a new seed resumed %d folds of the old one", res.Resumed)
	}
}

// TestResumeNeedsTheSameSplit: folds finished under one k are not taken
// for the folds of another k in the same run folder.
func TestResumeNeedsTheSameSplit(t *testing.T) {
	dir := t.TempDir()
	man, err := WriteSynth(dir, SynthOptions{Seed: 9, Subjects: SynthSubjects(6, 2)})
	if err != nil {
		t.Fatal(err)
	}
	fs, _ := testFamilies()
	out := filepath.Join(dir, "run")
	for _, k := range []int{3, 2} {
		res, err := Run(context.Background(), RunOptions{Manifest: man, Protocol: ProtocolKFold, Folds: k, Out: out, Config: testConfig(), Families: fs, Bootstrap: -1, NoFinal: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.Resumed != 0 {
			t.Errorf("k=%d resumed %d folds of another k", k, res.Resumed)
		}
		if n := 0; true {
			for _, f := range res.Report.Folds {
				n += f.N
			}
			if n != res.Report.N || len(res.Report.Folds) != k {
				t.Errorf("k=%d: %d folds over %d rows, report n=%d", k, len(res.Report.Folds), n, res.Report.N)
			}
		}
	}
}

// TestRunSurvivesBadRows: malformed rows, an unreadable image and a fold
// whose training side has one class are reported and the run goes on.
func TestRunSurvivesBadRows(t *testing.T) {
	dir := t.TempDir()
	man, err := WriteSynth(dir, SynthOptions{Seed: 3, Subjects: SynthSubjects(3, 2)})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "flow", "broken.png"), []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"odd", "lonely"} {
		b, _ := os.ReadFile(filepath.Join(dir, "flow", "s03_2_00.png"))
		os.WriteFile(filepath.Join(dir, "flow", n+".png"), b, 0o644)
	}
	f, err := os.OpenFile(man, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("bad1,s02,,synth,flow/s02_0_00.png,4\n")           // empty label
	f.WriteString("bad2,s02,negative,synth,flow/broken.png,4\n")     // unreadable image
	f.WriteString("bad3,s03,positive,synth,flow/missing.png,12\n")   // missing file
	f.WriteString("bad4,s03,positive\n")                             // too few fields
	f.WriteString("odd,s09,surprise,synth,flow/odd.png,1+2+zz\n")    // bad AU string: row kept, no text
	f.WriteString("lonely,s10,surprise,synth,flow/lonely.png,1+2\n") // subject with one class
	f.Close()
	out := t.TempDir()
	fs, _ := testFamilies()
	res, err := Run(context.Background(), RunOptions{Manifest: man, Protocol: ProtocolLOSO, Out: out, Config: testConfig(), Families: fs, NoFinal: true, Bootstrap: -1})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, e := range res.RowErrors {
		msgs = append(msgs, e.Error())
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{"bad1", "bad2", "broken.png", "bad3", "missing.png", "line 22"} {
		if !strings.Contains(all, want) {
			t.Errorf("row errors do not mention %q:\n%s", want, all)
		}
	}
	if len(res.RowErrors) != 4 {
		t.Errorf("%d row errors, want 4:\n%s", len(res.RowErrors), all)
	}
	if res.Report.N != 18+2 {
		t.Errorf("scored %d samples, want 20", res.Report.N)
	}
	if b, err := os.ReadFile(filepath.Join(out, "errors.txt")); err != nil || !strings.Contains(string(b), "broken.png") {
		t.Errorf("errors.txt: %v %q", err, b)
	}
}

// TestRunOneClassTraining: a fold whose training side holds one class trains,
// logs a warning, and the run still produces metrics.
func TestRunOneClassTraining(t *testing.T) {
	dir := t.TempDir()
	// Subject 1 has only negatives, subject 2 only positives: each LOSO
	// fold trains on a single class.
	man, err := WriteSynth(dir, SynthOptions{Seed: 1, Subjects: [][]int{{3, 0, 0}, {0, 3, 0}}})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	var runLog strings.Builder
	fs, _ := testFamilies()
	res, err := Run(context.Background(), RunOptions{Manifest: man, Protocol: ProtocolLOSO, Out: out, Config: testConfig(), Families: fs, NoFinal: true, Bootstrap: -1,
		Log: slog.New(slog.NewTextHandler(&runLog, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(runLog.String(), "single class") {
		t.Errorf("run log lacks the one-class warning:\n%s", runLog.String())
	}
	if res.Report.N != 6 || len(res.Report.Folds) != 2 {
		t.Errorf("n=%d folds=%d, want 6 and 2", res.Report.N, len(res.Report.Folds))
	}
	log, _ := os.ReadFile(filepath.Join(out, "folds", "fold-000.log"))
	if !strings.Contains(string(log), "single class") {
		t.Errorf("fold log lacks the one-class warning:\n%s", log)
	}
}

// TestFitNeverSeesTestRows is the protocol guard: every Fit call of a LOSO
// run (members of a seed ensemble, a validation split) gets rows of its
// fold's training subjects only; validation subjects are training subjects,
// disjoint from the rows Fit trains on; and each member gets its own seed.
func TestFitNeverSeesTestRows(t *testing.T) {
	dir := t.TempDir()
	man, err := WriteSynth(dir, SynthOptions{Seed: 4, Subjects: SynthSubjects(5, 2)})
	if err != nil {
		t.Fatal(err)
	}
	fs, spy := testFamilies()
	cfg := testConfig()
	cfg.Members, cfg.Validation = 2, 0.25
	out := t.TempDir()
	if _, err := Run(context.Background(), RunOptions{Manifest: man, Protocol: ProtocolLOSO, Out: out, Config: cfg, Families: fs, Bootstrap: -1}); err != nil {
		t.Fatal(err)
	}
	ld, err := Load(context.Background(), man, cfg.Input, "", "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Rows by content (the synthetic rows are all different).
	key := func(x []float32) string { return fmt.Sprint(x) }
	subjectOf := map[string]string{}
	for i, x := range ld.Data.X {
		subjectOf[key(x)] = ld.Data.Samples[i].Subject
	}
	if len(subjectOf) != len(ld.Data.X) {
		t.Fatal("synthetic rows repeat")
	}
	if len(spy.seen) != 2*(5+1) {
		t.Fatalf("%d Fit calls, want 2 members × (5 folds + final)", len(spy.seen))
	}
	seeds := map[[2]int64]bool{}
	for _, c := range spy.seen {
		seeds[[2]int64{int64(c.stream), c.seed}] = true
		if c.val == nil || len(c.val.Subjects) != 1 {
			t.Fatalf("stream %d: validation %+v, want one subject", c.stream, c.val)
		}
		var test string
		if c.stream > 0 {
			r, err := readFold(foldPath(out, int(c.stream)-1))
			if err != nil {
				t.Fatal(err)
			}
			test = r.TestSubjects[0]
		}
		if c.val.Subjects[0] == test {
			t.Errorf("stream %d: the test subject %s is the validation subject", c.stream, test)
		}
		for _, x := range c.x {
			switch s := subjectOf[key(x)]; s {
			case "":
				t.Fatalf("stream %d: Fit got a row that is not a prepared row", c.stream)
			case test:
				t.Errorf("stream %d: Fit got a row of test subject %s", c.stream, s)
			case c.val.Subjects[0]:
				t.Errorf("stream %d: Fit trains on validation subject %s", c.stream, s)
			}
		}
		for _, x := range c.val.X {
			if s := subjectOf[key(x)]; s != c.val.Subjects[0] {
				t.Errorf("stream %d: validation row of subject %q, want %s", c.stream, s, c.val.Subjects[0])
			}
		}
	}
	if len(seeds) != len(spy.seen) {
		t.Errorf("members share seeds: %d distinct (stream, seed) pairs for %d fits", len(seeds), len(spy.seen))
	}
}

// TestPerDataset: a composite manifest gets per-dataset scores whose counts
// add up to the pooled n, in metrics.json and the report.
func TestPerDataset(t *testing.T) {
	dir := t.TempDir()
	subj, ds := SynthMEGC2019(3)
	man, err := WriteSynth(dir, SynthOptions{Seed: 3, Subjects: subj[:20], Datasets: ds[6:26]})
	if err != nil {
		t.Fatal(err)
	}
	fs, _ := testFamilies()
	out := t.TempDir()
	res, err := Run(context.Background(), RunOptions{Manifest: man, Protocol: ProtocolKFold, Folds: 4, Out: out, Config: testConfig(), Families: fs, NoFinal: true, Bootstrap: -1})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Report
	if len(r.PerDataset) != 2 || r.PerDataset["smic"].N == 0 || r.PerDataset["casme2"].N == 0 {
		t.Fatalf("per dataset %+v, want smic and casme2", r.PerDataset)
	}
	if n := r.PerDataset["smic"].N + r.PerDataset["casme2"].N; n != r.N {
		t.Errorf("per-dataset n add up to %d, pooled %d", n, r.N)
	}
	b, _ := os.ReadFile(filepath.Join(out, "metrics.json"))
	if !strings.Contains(string(b), `"per_dataset"`) {
		t.Errorf("metrics.json lacks per_dataset:\n%s", b)
	}
}

// TestSource: a flow model's file says whether it learnt from flow
// images (which tell analyze then re-creates from its own flow) or frames.
func TestSource(t *testing.T) {
	img := dataset.Sample{Flow: "a.png"}
	fr := dataset.Sample{Frames: "clip"}
	for _, c := range []struct {
		kind model.Kind
		rows []dataset.Sample
		want string
	}{
		{model.KindFlow, []dataset.Sample{img, img}, model.SourceFlowImages},
		{model.KindFlow, []dataset.Sample{fr}, model.SourceFrames},
		{model.KindFlow, []dataset.Sample{img, fr}, ""},
		{model.KindImage, []dataset.Sample{{Image: "x.png"}}, ""},
	} {
		ld := &Loaded{Data: &Data{Kind: c.kind, Samples: c.rows}}
		if got := ld.source(); got != c.want {
			t.Errorf("%s rows %+v: source %q, want %q", c.kind, c.rows, got, c.want)
		}
	}
}
