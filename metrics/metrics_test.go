package metrics

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

// handConfusion is the hand-computed case: rows are truth, columns prediction;
// class "c" has samples but is never predicted, class "d" has neither.
//
//	    a  b  c  d
//	a   5  1  0  0
//	b   2  3  0  0
//	c   1  2  0  0
//	d   0  0  0  0
func handConfusion(t *testing.T) *Confusion {
	cm, err := NewConfusion([]string{"a", "b", "c", "d"})
	if err != nil {
		t.Fatal(err)
	}
	rows := [][]int{{5, 1, 0, 0}, {2, 3, 0, 0}, {1, 2, 0, 0}, {0, 0, 0, 0}}
	for i, row := range rows {
		for j, n := range row {
			for ; n > 0; n-- {
				if err := cm.Add(i, j); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return cm
}

func TestConfusionKnownAnswer(t *testing.T) {
	cm := handConfusion(t)
	// a: TP 5, FP 2+1=3, FN 1 → F1 10/14, P 5/8, R 5/6
	// b: TP 3, FP 1+2=3, FN 2 → F1 6/11,  P 3/6, R 3/5
	// c: TP 0, FP 0,     FN 3 → F1 0,     P 0,   R 0
	// d: no samples, no predictions → left out of UF1 and UAR
	wantUF1 := (10.0/14 + 6.0/11 + 0) / 3
	wantUAR := (5.0/6 + 3.0/5 + 0) / 3
	if got := cm.UF1(); !near(got, wantUF1) {
		t.Errorf("UF1 = %v, want %v", got, wantUF1)
	}
	if got := cm.UAR(); !near(got, wantUAR) {
		t.Errorf("UAR = %v, want %v", got, wantUAR)
	}
	if got := cm.Accuracy(); !near(got, 8.0/14) {
		t.Errorf("accuracy = %v, want 8/14", got)
	}
	want := []ClassScore{
		{Class: "a", Precision: 5.0 / 8, Recall: 5.0 / 6, F1: 10.0 / 14, Support: 6, TP: 5, FP: 3, FN: 1},
		{Class: "b", Precision: 3.0 / 6, Recall: 3.0 / 5, F1: 6.0 / 11, Support: 5, TP: 3, FP: 3, FN: 2},
		{Class: "c", Support: 3, FN: 3},
		{Class: "d"},
	}
	got := cm.PerClass()
	for i := range want {
		g, w := got[i], want[i]
		if g.Class != w.Class || g.Support != w.Support || g.TP != w.TP || g.FP != w.FP || g.FN != w.FN ||
			!near(g.Precision, w.Precision) || !near(g.Recall, w.Recall) || !near(g.F1, w.F1) {
			t.Errorf("class %s: got %+v, want %+v", w.Class, g, w)
		}
	}
}

func TestPoolingIsNotFoldAveraging(t *testing.T) {
	// Two folds whose union is the hand-computed matrix; pooled UF1 must equal
	// the matrix's UF1, which differs from the mean of the folds' UF1s.
	classes := []string{"a", "b", "c", "d"}
	f1, _ := NewConfusion(classes)
	f2, _ := NewConfusion(classes)
	all := handConfusion(t)
	for i := 0; i < 4; i++ {
		for j := 0; j < 4; j++ {
			n := all.Count(i, j)
			for k := 0; k < n; k++ {
				if (i+j+k)%2 == 0 {
					f1.Add(i, j)
				} else {
					f2.Add(i, j)
				}
			}
		}
	}
	ev, _ := NewEvaluation("loso", classes)
	addFold := func(cm *Confusion, subj string) {
		var truth, pred []int
		var ss []string
		for i := 0; i < 4; i++ {
			for j := 0; j < 4; j++ {
				for k := 0; k < cm.Count(i, j); k++ {
					truth, pred, ss = append(truth, i), append(pred, j), append(ss, subj)
				}
			}
		}
		if err := ev.AddFold([]string{subj}, truth, pred, ss); err != nil {
			t.Fatal(err)
		}
	}
	addFold(f1, "s1")
	addFold(f2, "s2")
	if got, want := ev.Pooled().UF1(), all.UF1(); !near(got, want) {
		t.Fatalf("pooled UF1 = %v, want %v", got, want)
	}
	if mean := (f1.UF1() + f2.UF1()) / 2; near(mean, all.UF1()) {
		t.Fatalf("test is vacuous: fold mean equals pooled (%v)", mean)
	}
	if !reflect.DeepEqual(ev.Pooled().Matrix(), all.Matrix()) {
		t.Fatal("pooled matrix differs")
	}
}

func TestConfusionErrors(t *testing.T) {
	if _, err := NewConfusion(nil); err == nil {
		t.Error("no classes accepted")
	}
	if _, err := NewConfusion([]string{"a", "a"}); err == nil {
		t.Error("duplicate class accepted")
	}
	cm, _ := NewConfusion([]string{"a", "b"})
	if err := cm.Add(2, 0); err == nil {
		t.Error("out of range truth accepted")
	}
	if err := cm.AddLabel("a", "zzz"); err == nil {
		t.Error("unknown label accepted")
	}
	other, _ := NewConfusion([]string{"b", "a"})
	if err := cm.Merge(other); err == nil {
		t.Error("merge of differently ordered classes accepted")
	}
}

func TestEmptyConfusionIsZeroNotNaN(t *testing.T) {
	cm, _ := NewConfusion([]string{"a", "b"})
	for _, v := range []float64{cm.UF1(), cm.UAR(), cm.Accuracy()} {
		if v != 0 {
			t.Errorf("empty metric = %v", v)
		}
	}
}

func TestAUDetection(t *testing.T) {
	d := NewAUDetection([]int{1, 4, 12, 25})
	// frames: truth sets vs predicted sets
	d.AddSets([]int{1, 4}, []int{1})      // AU1 TP, AU4 FN
	d.AddSets([]int{4, 12}, []int{4, 12}) // AU4 TP, AU12 TP
	d.AddSets([]int{}, []int{12, 99})     // AU12 FP (99 untracked)
	if err := d.AddPresence([]bool{true, false, false, false}, []bool{false, false, false, false}); err != nil {
		t.Fatal(err) // AU1 FN
	}
	if err := d.AddPresence([]bool{true}, []bool{true}); err == nil {
		t.Error("wrong length accepted")
	}
	// AU1: TP1 FN1 → F1 2/3; AU4: TP1 FN1 → 2/3; AU12: TP1 FP1 → 2/3; AU25: undefined.
	per := d.PerAU()
	for i, want := range []float64{2.0 / 3, 2.0 / 3, 2.0 / 3, 0} {
		if !near(per[i].F1, want) {
			t.Errorf("AU%d F1 = %v, want %v", per[i].AU, per[i].F1, want)
		}
	}
	if per[2].Precision != 0.5 || per[2].Recall != 1 || per[0].Support != 2 {
		t.Errorf("AU12/AU1 scores = %+v %+v", per[2], per[0])
	}
	if got := d.MeanF1(); !near(got, 2.0/3) {
		t.Errorf("mean F1 = %v, want 2/3 (AU25 left out)", got)
	}
	// 3 TP, 1 FP (AU12), 2 FN (AU1, AU4); AU99 is not tracked.
	if p, r := d.Pooled(); !near(p, 3.0/4) || !near(r, 3.0/5) {
		t.Errorf("pooled precision %v recall %v, want 3/4 and 3/5", p, r)
	}
}

func TestIoU(t *testing.T) {
	cases := []struct {
		a, b Interval
		want float64
	}{
		{Interval{10, 20}, Interval{10, 20}, 1},
		{Interval{10, 20}, Interval{12, 22}, 9.0 / 13},
		{Interval{10, 19}, Interval{20, 29}, 0},
		{Interval{0, 9}, Interval{5, 14}, 5.0 / 15},
		{Interval{5, 4}, Interval{5, 4}, 0}, // empty
	}
	for _, c := range cases {
		if got := IoU(c.a, c.b); !near(got, c.want) {
			t.Errorf("IoU(%v,%v) = %v, want %v", c.a, c.b, got, c.want)
		}
		if IoU(c.a, c.b) != IoU(c.b, c.a) {
			t.Errorf("IoU not symmetric for %v %v", c.a, c.b)
		}
	}
}

func TestSpottingHandDrawn(t *testing.T) {
	// Video 1 (frames):
	//   truth    [10..20]            [50..60]
	//   spotted    [12..22]       [45..55]          [100..110]
	// [12,22] vs [10,20]: 9/13 ≥ .5 → TP. [45,55] vs [50,60]: 6/16 < .5 → FP.
	// [100,110] → FP. [50,60] unmatched → FN.
	// Video 2: one truth, two spots on it (one-to-one: one TP, one FP).
	//   truth [0..9]; spotted [0..9], [1..9] (IoU .9)
	// Video 3: nothing spotted, one truth → FN.
	var s Spotting
	s.AddVideo([]Interval{{10, 20}, {50, 60}}, []Interval{{12, 22}, {45, 55}, {100, 110}})
	s.AddVideo([]Interval{{0, 9}}, []Interval{{0, 9}, {1, 9}})
	s.AddVideo([]Interval{{30, 40}}, nil)
	if s != (Spotting{TP: 2, FP: 3, FN: 2}) {
		t.Fatalf("counts = %+v, want TP 2 FP 3 FN 2", s)
	}
	if !near(s.F1(), 4.0/9) || !near(s.Precision(), 2.0/5) || !near(s.Recall(), 2.0/4) {
		t.Errorf("F1 %v P %v R %v", s.F1(), s.Precision(), s.Recall())
	}
}

func TestMatchIntervalsIsMaximumNotGreedy(t *testing.T) {
	// S1 fits both truths (IoU 2/3 each); S2 fits only G1 (IoU .9).
	// Taking spots in order, a greedy matcher gives S1→G1 and leaves S2
	// unmatched; the maximum matching is S1→G2, S2→G1.
	truth := []Interval{{0, 9}, {4, 13}}
	spots := []Interval{{2, 11}, {0, 8}}
	tp, fp, fn := MatchIntervals(truth, spots, SpotThreshold)
	if tp != 2 || fp != 0 || fn != 0 {
		t.Fatalf("tp fp fn = %d %d %d, want 2 0 0", tp, fp, fn)
	}
}

// synthetic returns n predictions over 3 classes, right about 70% of the time.
func synthetic(n int, seed uint64) (truth, pred []int) {
	r := rand.New(rand.NewPCG(seed, 1))
	for i := 0; i < n; i++ {
		t := r.IntN(3)
		p := t
		if r.Float64() < 0.3 {
			p = (t + 1 + r.IntN(2)) % 3
		}
		truth, pred = append(truth, t), append(pred, p)
	}
	return truth, pred
}

func TestBootstrapNarrowsWithN(t *testing.T) {
	prev := math.Inf(1)
	for _, n := range []int{40, 400, 4000} {
		truth, pred := synthetic(n, 7)
		f1, uar, err := BootstrapCI(truth, pred, 3, BootstrapOptions{Reps: 400, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		cm, _ := NewConfusion([]string{"0", "1", "2"})
		for i := range truth {
			cm.Add(truth[i], pred[i])
		}
		if !(f1.Lo <= cm.UF1() && cm.UF1() <= f1.Hi) || !(uar.Lo <= cm.UAR() && cm.UAR() <= uar.Hi) {
			t.Errorf("n=%d: point estimates %v %v outside %+v %+v", n, cm.UF1(), cm.UAR(), f1, uar)
		}
		w := f1.Hi - f1.Lo
		if w >= prev*0.6 { // width shrinks like 1/sqrt(n): ~0.32 per 10x
			t.Errorf("n=%d: UF1 interval width %v did not narrow enough from %v", n, w, prev)
		}
		if f1.Level != 0.95 {
			t.Errorf("level = %v", f1.Level)
		}
		prev = w
	}
}

func TestBootstrapDeterministicAndGrouped(t *testing.T) {
	truth, pred := synthetic(300, 11)
	a, _, _ := BootstrapCI(truth, pred, 3, BootstrapOptions{Reps: 200, Seed: 5})
	b, _, _ := BootstrapCI(truth, pred, 3, BootstrapOptions{Reps: 200, Seed: 5})
	if a != b {
		t.Fatalf("same seed, different intervals %+v %+v", a, b)
	}
	// Groups where each subject is all right or all wrong: resampling
	// subjects must give a wider interval than resampling samples.
	groups := make([]string, len(truth))
	p2 := make([]int, len(truth))
	for i := range truth {
		g := i / 30
		groups[i] = fmt.Sprint("s", g)
		p2[i] = truth[i]
		if g%3 == 0 {
			p2[i] = (truth[i] + 1) % 3
		}
	}
	flat, _, _ := BootstrapCI(truth, p2, 3, BootstrapOptions{Reps: 300, Seed: 1})
	grp, _, _ := BootstrapCI(truth, p2, 3, BootstrapOptions{Reps: 300, Seed: 1, Groups: groups})
	if grp.Hi-grp.Lo <= flat.Hi-flat.Lo {
		t.Errorf("grouped width %v not wider than flat %v", grp.Hi-grp.Lo, flat.Hi-flat.Lo)
	}
	if _, _, err := BootstrapCI(truth, pred[:5], 3, BootstrapOptions{}); err == nil {
		t.Error("length mismatch accepted")
	}
	if _, _, err := BootstrapCI([]int{0}, []int{7}, 3, BootstrapOptions{}); err == nil {
		t.Error("class index out of range accepted")
	}
}

func TestReportJSON(t *testing.T) {
	ev, _ := NewEvaluation("loso", []string{"negative", "positive", "surprise"})
	if err := ev.AddFold([]string{"sub01"}, []int{0, 0, 1}, []int{0, 1, 1}, []string{"sub01", "sub01", "sub01"}); err != nil {
		t.Fatal(err)
	}
	if err := ev.AddFold([]string{"sub02"}, []int{2, 0}, []int{2, 0}, []string{"sub02", "sub02"}); err != nil {
		t.Fatal(err)
	}
	r, err := ev.Report(1.5, 100, 1)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "metrics.json")
	if err := WriteJSON(path, r); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"protocol", "classes", "n", "uf1", "uar", "accuracy", "per_class", "confusion", "folds", "seconds", "uf1_ci", "uar_ci"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("metrics.json lacks %q", k)
		}
	}
	pc := raw["per_class"].(map[string]any)["negative"].(map[string]any)
	for _, k := range []string{"f1", "recall", "precision", "support"} {
		if _, ok := pc[k]; !ok {
			t.Errorf("per_class entry lacks %q", k)
		}
	}
	fold := raw["folds"].([]any)[0].(map[string]any)
	for _, k := range []string{"test_subjects", "n", "accuracy"} {
		if _, ok := fold[k]; !ok {
			t.Errorf("fold entry lacks %q", k)
		}
	}
	back, err := ReadJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.N != 5 || !near(back.Accuracy, 4.0/5) || back.Folds[0].N != 3 || !near(back.Folds[0].Accuracy, 2.0/3) ||
		!reflect.DeepEqual(back.Confusion, [][]int{{2, 1, 0}, {0, 1, 0}, {0, 0, 1}}) {
		t.Errorf("read back %+v", back)
	}
	// negative: TP2 FP0 FN1 → F1 4/5; positive: TP1 FP1 → 2/3; surprise 1.
	if want := (4.0/5 + 2.0/3 + 1) / 3; !near(back.UF1, want) {
		t.Errorf("uf1 = %v, want %v", back.UF1, want)
	}
}

func ExampleConfusion_UF1() {
	cm, _ := NewConfusion([]string{"negative", "positive", "surprise"})
	for _, p := range [][2]string{{"negative", "negative"}, {"negative", "positive"}, {"positive", "positive"}, {"surprise", "negative"}} {
		cm.AddLabel(p[0], p[1])
	}
	// surprise is never predicted: its F1 and recall are 0 and pull the means down.
	fmt.Printf("UF1 %.4f UAR %.4f accuracy %.2f\n", cm.UF1(), cm.UAR(), cm.Accuracy())
	// Output: UF1 0.3889 UAR 0.5000 accuracy 0.50
}

func ExampleSpotting() {
	var s Spotting
	s.AddVideo([]Interval{{Onset: 10, Offset: 20}}, []Interval{{Onset: 12, Offset: 22}, {Onset: 40, Offset: 45}})
	fmt.Printf("TP %d FP %d FN %d F1 %.3f\n", s.TP, s.FP, s.FN, s.F1())
	// Output: TP 1 FP 1 FN 0 F1 0.667
}

func BenchmarkBootstrapCI(b *testing.B) {
	truth, pred := synthetic(442, 1)
	for b.Loop() {
		BootstrapCI(truth, pred, 3, BootstrapOptions{Reps: 1000, Seed: 1})
	}
}

func TestPerDataset(t *testing.T) {
	ev, _ := NewEvaluation("loso", []string{"negative", "positive", "surprise"})
	// casme2: 2 right of 2; samm: 1 right of 3, surprise never predicted.
	err := ev.AddFoldTagged([]string{"casme2_sub01", "samm_006"},
		[]int{0, 1, 0, 2, 2}, []int{0, 1, 0, 0, 1},
		[]string{"casme2_sub01", "casme2_sub01", "samm_006", "samm_006", "samm_006"},
		[]string{"casme2", "casme2", "samm", "samm", "samm"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := ev.Report(0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	c, s := r.PerDataset["casme2"], r.PerDataset["samm"]
	if c.N != 2 || c.Accuracy != 1 || c.UF1 != 1 || c.UAR != 1 {
		t.Errorf("casme2 = %+v", c)
	}
	// samm: negative TP1 FP1 → F1 2/3; positive FP1 → F1 0; surprise FN2 → F1 0.
	// UAR over classes with samples: negative 1, surprise 0 → 0.5.
	if s.N != 3 || !near(s.Accuracy, 1.0/3) || !near(s.UF1, (2.0/3)/3) || !near(s.UAR, 0.5) {
		t.Errorf("samm = %+v", s)
	}
	if err := ev.AddFoldTagged(nil, []int{0}, []int{0}, []string{"x"}, []string{"a", "b"}); err == nil {
		t.Error("tag count mismatch accepted")
	}
	plain, _ := NewEvaluation("loso", []string{"a", "b"})
	plain.AddFold([]string{"s"}, []int{0}, []int{0}, []string{"s"})
	if r, _ := plain.Report(0, 0, 0); r.PerDataset != nil {
		t.Errorf("untagged evaluation has per_dataset %v", r.PerDataset)
	}
}

func TestMatchPairs(t *testing.T) {
	truth := []Interval{{0, 10}, {20, 30}, {40, 50}}
	// Spot 0 overlaps truths 0 and 1 (a greedy match could take truth 1
	// and leave spot 1 without a partner); spot 2 overlaps nothing.
	spotted := []Interval{{5, 24}, {22, 31}, {60, 70}, {1, 11}}
	got := MatchPairs(truth, spotted, 0.3)
	want := [][2]int{{0, 3}, {1, 1}}
	if len(got) != len(want) {
		t.Fatalf("pairs %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("pairs %v, want %v", got, want)
		}
	}
	tp, fp, fn := MatchIntervals(truth, spotted, 0.3)
	if tp != 2 || fp != 2 || fn != 1 {
		t.Errorf("counts %d %d %d", tp, fp, fn)
	}
}
