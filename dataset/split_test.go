package dataset

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestSubjectKey(t *testing.T) {
	same := [][]string{
		{"spNO.1", "spNo1", "SPNO 01", "spno.001"},
		{"sub01", "sub1", "Sub 1"},
		{"006", "6"},
		{"0", "00"},
	}
	for _, g := range same {
		for _, s := range g[1:] {
			if SubjectKey(s) != SubjectKey(g[0]) {
				t.Errorf("SubjectKey(%q)=%q differs from SubjectKey(%q)=%q", s, SubjectKey(s), g[0], SubjectKey(g[0]))
			}
		}
	}
	different := [][2]string{{"sub1", "sub10"}, {"sp1.2", "sp12"}, {"s1", "sub1"}, {"casme2_sub01", "samm_006"}, {"10", "1"}}
	for _, d := range different {
		if SubjectKey(d[0]) == SubjectKey(d[1]) {
			t.Errorf("SubjectKey(%q) == SubjectKey(%q) = %q", d[0], d[1], SubjectKey(d[0]))
		}
	}
}

// toy returns samples of nSubj subjects with perSubj samples each, labels
// cycling over classes with a per-subject skew.
func toy(nSubj, perSubj int, classes []string) []Sample {
	var out []Sample
	for s := 0; s < nSubj; s++ {
		for j := 0; j < perSubj; j++ {
			out = append(out, Sample{
				ID: fmt.Sprintf("s%02d_%02d", s, j), Subject: fmt.Sprintf("sub%02d", s),
				Label: classes[(s+j*j)%len(classes)], Image: fmt.Sprintf("/d/s%02d_%02d.png", s, j),
			})
		}
	}
	return out
}

// checkPartition verifies that every sample is tested exactly once and that
// no fold shares a subject between its sides.
func checkPartition(t *testing.T, samples []Sample, folds []Fold) {
	t.Helper()
	tested := make([]int, len(samples))
	for _, f := range folds {
		trainSubj := map[string]bool{}
		tr := f.Train()
		for i := 0; i < tr.Len(); i++ {
			trainSubj[SubjectKey(tr.Sample(i).Subject)] = true
		}
		te := f.Test()
		for i := 0; i < te.Len(); i++ {
			tested[te.Index(i)]++
			if trainSubj[SubjectKey(te.Sample(i).Subject)] {
				t.Fatalf("fold %d: subject %s on both sides", f.Index(), te.Sample(i).Subject)
			}
			if te.Sample(i).ID != samples[te.Index(i)].ID {
				t.Fatalf("fold %d: Index does not map back", f.Index())
			}
		}
		if tr.Len()+te.Len() != len(samples) {
			t.Fatalf("fold %d: %d+%d != %d", f.Index(), tr.Len(), te.Len(), len(samples))
		}
	}
	for i, n := range tested {
		if n != 1 {
			t.Fatalf("sample %s tested %d times", samples[i].ID, n)
		}
	}
}

func TestLOSO(t *testing.T) {
	samples := toy(5, 4, []string{"a", "b", "c"})
	// Spell one subject differently on one row: it must stay with its group.
	samples[3].Subject = "Sub 0"
	folds, err := LOSO(samples)
	if err != nil {
		t.Fatal(err)
	}
	if len(folds) != 5 {
		t.Fatalf("%d folds, want 5", len(folds))
	}
	checkPartition(t, samples, folds)
	if got := folds[0].TestSubjects(); !slices.Equal(got, []string{"Sub 0", "sub00"}) {
		t.Errorf("fold 0 test subjects = %v", got)
	}
	if got := folds[1].Train().LabelCounts(); got["a"]+got["b"]+got["c"] != 16 || folds[1].Test().Len() != 4 {
		t.Errorf("fold 1 train label counts = %v", got)
	}
	if _, err := LOSO(toy(1, 3, []string{"a"})); err == nil {
		t.Error("single subject accepted")
	}
}

func TestKFoldStratifiedAndGrouped(t *testing.T) {
	classes := []string{"neg", "pos", "sur"}
	samples := toy(24, 7, classes)
	folds, err := KFold(samples, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(folds) != 4 {
		t.Fatalf("%d folds", len(folds))
	}
	checkPartition(t, samples, folds)
	// Stratification: each fold's share of each class stays near the overall share.
	total := map[string]int{}
	for _, s := range samples {
		total[s.Label]++
	}
	for _, f := range folds {
		te := f.Test()
		cnt := map[string]int{}
		for i := 0; i < te.Len(); i++ {
			cnt[te.Sample(i).Label]++
		}
		for _, c := range classes {
			share := float64(cnt[c]) / float64(total[c])
			if math.Abs(share-0.25) > 0.12 {
				t.Errorf("fold %d holds %.2f of class %s, want about 0.25", f.Index(), share, c)
			}
		}
	}
	again, _ := KFold(samples, 4, 1)
	for i := range folds {
		if !slices.Equal(folds[i].Test().Indices(), again[i].Test().Indices()) {
			t.Fatal("same seed gave different folds")
		}
	}
	if _, err := KFold(samples, 25, 1); err == nil || !strings.Contains(err.Error(), "only 24 subjects") {
		t.Errorf("k > subjects: err = %v", err)
	}
	if _, err := KFold(samples, 1, 1); err == nil {
		t.Error("k=1 accepted")
	}
}

func TestHoldout(t *testing.T) {
	samples := toy(10, 5, []string{"a", "b"})
	f, err := Holdout(samples, 0.2, 9)
	if err != nil {
		t.Fatal(err)
	}
	checkPartition(t, append([]Sample(nil), samples...), []Fold{f, complement(t, samples, f)})
	if n := f.Test().Len(); n != 10 {
		t.Errorf("test side has %d samples, want 10 (2 of 10 subjects)", n)
	}
	if _, err := Holdout(samples, 1, 9); err == nil {
		t.Error("fraction 1 accepted")
	}
}

// complement returns the fold with sides swapped, so that checkPartition
// can check a single holdout fold.
func complement(t *testing.T, samples []Sample, f Fold) Fold {
	g, err := newFold(1, samples, f.Test().Indices(), f.Train().Indices())
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestPlantedLeaksAreRefused(t *testing.T) {
	samples := toy(4, 3, []string{"a", "b"})
	train := []int{0, 1, 2, 3, 4, 5}  // sub00, sub01
	test := []int{6, 7, 8, 9, 10, 11} // sub02, sub03
	if _, err := newFold(0, samples, train, test); err != nil {
		t.Fatalf("clean fold refused: %v", err)
	}
	cases := []struct {
		name  string
		plant func(s []Sample)
		want  string
	}{
		{"same subject", func(s []Sample) { s[7].Subject = "sub00" }, `subject "sub00" on both sides`},
		{"subject spelled differently", func(s []Sample) { s[7].Subject = "SUB-0" }, `subject "SUB-0" (test) is "sub00" (training)`},
		{"same sample id", func(s []Sample) { s[9].ID = s[1].ID }, "on both sides"},
		{"same image file", func(s []Sample) { s[10].Image = s[2].Image + "/." }, "uses input image"},
		{"same frames span", func(s []Sample) {
			s[0].Frames, s[0].Onset, s[0].Offset = "/d/clip", "1", "9"
			s[11].Frames, s[11].Onset, s[11].Offset = "/d/clip/", "1", "9"
		}, "uses input frames"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := slices.Clone(samples)
			c.plant(s)
			_, err := newFold(3, s, train, test)
			var le *LeakError
			if !errors.As(err, &le) {
				t.Fatalf("leak not refused: err = %v", err)
			}
			if le.Fold != 3 || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q lacks %q", err, c.want)
			}
		})
	}
}

func TestSidesAreCopies(t *testing.T) {
	samples := toy(3, 2, []string{"a"})
	folds, _ := LOSO(samples)
	tr := folds[0].Train()
	got := tr.Samples()
	got[0].Label = "changed"
	if tr.Sample(0).Label == "changed" || samples[tr.Index(0)].Label == "changed" {
		t.Fatal("Samples() aliases the fold's storage")
	}
}

func ExampleLOSO() {
	samples := []Sample{
		{ID: "a", Subject: "sub01", Label: "negative", Image: "a.png"},
		{ID: "b", Subject: "sub01", Label: "positive", Image: "b.png"},
		{ID: "c", Subject: "sub02", Label: "negative", Image: "c.png"},
		{ID: "d", Subject: "sub03", Label: "surprise", Image: "d.png"},
	}
	folds, err := LOSO(samples)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range folds {
		// Fit normalisation, class weights, augmentation on f.Train() only.
		fmt.Println(f.TestSubjects(), "train", f.Train().Len(), "test", f.Test().Len())
	}
	// Output:
	// [sub01] train 2 test 2
	// [sub02] train 3 test 1
	// [sub03] train 3 test 1
}
