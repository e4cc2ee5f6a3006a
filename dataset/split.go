package dataset

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
)

// SubjectKey returns the form of a subject id used to decide whether two
// samples come from the same person: lower case, punctuation dropped,
// leading zeros of numbers dropped. "spNO.1", "spNo1" and "SPNO 01" share a
// key, as do "sub01" and "sub1": sheets and folders often spell one subject
// differently, and a split that trusted the spelling would leak.
func SubjectKey(id string) string {
	var b strings.Builder
	rs := []rune(strings.ToLower(id))
	lastDigit, sep := false, false
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case r >= '0' && r <= '9':
			if lastDigit && sep {
				b.WriteByte('_') // keep "1.2" apart from "12"
			}
			lastDigit, sep = true, false
			j := i
			for j < len(rs) && rs[j] >= '0' && rs[j] <= '9' {
				j++
			}
			num := strings.TrimLeft(string(rs[i:j]), "0")
			if num == "" {
				num = "0"
			}
			b.WriteString(num)
			i = j
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
			lastDigit, sep = false, false
			i++
		default:
			sep = true // punctuation and spaces do not tell subjects apart
			i++
		}
	}
	return b.String()
}

// TrainSet is the training side of a fold. Fitting code (normalisation
// statistics, class weights, augmentation sources such as the static faces
// of LocalStaticFaceMix) should take a TrainSet: a TestSet is a different
// type, so the test side cannot be passed in by accident.
type TrainSet struct{ side }

// TestSet is the test side of a fold: for prediction and scoring only.
type TestSet struct{ side }

// side is one side of a fold: samples and their positions in the input.
type side struct {
	samples []Sample
	index   []int
}

// Len returns the number of samples.
func (s side) Len() int { return len(s.samples) }

// Sample returns sample i (a copy).
func (s side) Sample(i int) Sample { return s.samples[i] }

// Index returns the position of sample i in the slice the split was made
// from, so callers can look up features they computed per sample.
func (s side) Index(i int) int { return s.index[i] }

// Samples returns a copy of the samples.
func (s side) Samples() []Sample { return slices.Clone(s.samples) }

// Indices returns a copy of the positions of the samples in the input.
func (s side) Indices() []int { return slices.Clone(s.index) }

// Labels returns the distinct labels on this side, sorted.
func (s side) Labels() []string {
	return distinct(s.samples, func(x *Sample) string { return x.Label })
}

// LabelCounts returns how many samples of each label this side holds
// (the input to class weights, which must come from the training side).
func (s side) LabelCounts() map[string]int {
	m := map[string]int{}
	for i := range s.samples {
		m[s.samples[i].Label]++
	}
	return m
}

// Subjects returns the distinct subjects on this side, sorted.
func (s side) Subjects() []string {
	return distinct(s.samples, func(x *Sample) string { return x.Subject })
}

// Fold is one train/test partition. It can only be built through the split
// functions, which check it for leaks.
type Fold struct {
	index int
	train TrainSet
	test  TestSet
}

// Index returns the fold's number, from 0.
func (f *Fold) Index() int { return f.index }

// Train returns the training side.
func (f *Fold) Train() TrainSet { return f.train }

// Test returns the test side.
func (f *Fold) Test() TestSet { return f.test }

// TestSubjects returns the subjects held out in this fold, sorted.
func (f *Fold) TestSubjects() []string { return f.test.Subjects() }

// LeakError reports samples that would be seen on both sides of a split.
type LeakError struct {
	Fold    int
	Reasons []string
}

func (e *LeakError) Error() string {
	return fmt.Sprintf("fold %d leaks test data into training: %s", e.Fold, strings.Join(e.Reasons, "; "))
}

// newFold builds fold number idx from the given positions in samples and
// refuses it if the sides share a subject, a sample id or an input file.
func newFold(idx int, samples []Sample, train, test []int) (Fold, error) {
	if len(train) == 0 || len(test) == 0 {
		return Fold{}, fmt.Errorf("fold %d: empty %s side", idx, map[bool]string{true: "training", false: "test"}[len(train) == 0])
	}
	f := Fold{index: idx}
	for _, i := range train {
		f.train.samples = append(f.train.samples, samples[i])
		f.train.index = append(f.train.index, i)
	}
	for _, i := range test {
		f.test.samples = append(f.test.samples, samples[i])
		f.test.index = append(f.test.index, i)
	}
	if err := CheckLeak(f.train.samples, f.test.samples); err != nil {
		var le *LeakError
		if errors.As(err, &le) {
			le.Fold = idx
		}
		return Fold{}, err
	}
	return f, nil
}

// CheckLeak returns a *LeakError when train and test share a subject (by
// SubjectKey), a sample id, or an input (the same flow or image file, or the
// same frames folder and onset/offset).
func CheckLeak(train, test []Sample) error {
	subj := map[string]string{}
	ids := map[string]bool{}
	inputs := map[string]bool{}
	for i := range train {
		s := &train[i]
		subj[SubjectKey(s.Subject)] = s.Subject
		ids[s.ID] = true
		for _, k := range inputKeys(s) {
			inputs[k] = true
		}
	}
	var reasons []string
	seen := map[string]bool{}
	note := func(r string) {
		if !seen[r] && len(reasons) < 20 {
			seen[r] = true
			reasons = append(reasons, r)
		}
	}
	for i := range test {
		s := &test[i]
		if t, ok := subj[SubjectKey(s.Subject)]; ok {
			if t == s.Subject {
				note(fmt.Sprintf("subject %q on both sides", s.Subject))
			} else {
				note(fmt.Sprintf("subject %q (test) is %q (training)", s.Subject, t))
			}
		}
		if ids[s.ID] {
			note(fmt.Sprintf("sample %q on both sides", s.ID))
		}
		for _, k := range inputKeys(s) {
			if inputs[k] {
				note(fmt.Sprintf("sample %q uses input %s that a training sample also uses", s.ID, k))
			}
		}
	}
	if len(reasons) > 0 {
		return &LeakError{Reasons: reasons}
	}
	return nil
}

func inputKeys(s *Sample) []string {
	var k []string
	if s.Flow != "" {
		k = append(k, "flow "+filepath.Clean(s.Flow))
	}
	if s.Image != "" {
		k = append(k, "image "+filepath.Clean(s.Image))
	}
	if s.Frames != "" {
		k = append(k, fmt.Sprintf("frames %s [%s..%s]", filepath.Clean(s.Frames), s.Onset, s.Offset))
	}
	return k
}

// group is the samples of one subject (by SubjectKey).
type group struct {
	key     string
	members []int
}

// groupBySubject groups sample positions by SubjectKey, groups sorted by key.
func groupBySubject(samples []Sample) ([]group, error) {
	at := map[string]int{}
	var gs []group
	for i := range samples {
		if samples[i].Subject == "" {
			return nil, fmt.Errorf("sample %q (line %d) has no subject", samples[i].ID, samples[i].Line)
		}
		k := SubjectKey(samples[i].Subject)
		j, ok := at[k]
		if !ok {
			j = len(gs)
			at[k] = j
			gs = append(gs, group{key: k})
		}
		gs[j].members = append(gs[j].members, i)
	}
	slices.SortFunc(gs, func(a, b group) int { return cmp.Compare(a.key, b.key) })
	return gs, nil
}

// LOSO returns one fold per subject: the subject's samples are the test
// side, every other sample the training side.
func LOSO(samples []Sample) ([]Fold, error) {
	gs, err := groupBySubject(samples)
	if err != nil {
		return nil, fmt.Errorf("loso: %w", err)
	}
	if len(gs) < 2 {
		return nil, fmt.Errorf("loso: need at least 2 subjects, have %d", len(gs))
	}
	folds := make([]Fold, 0, len(gs))
	for gi, g := range gs {
		var train []int
		for gj, h := range gs {
			if gj != gi {
				train = append(train, h.members...)
			}
		}
		slices.Sort(train)
		f, err := newFold(gi, samples, train, g.members)
		if err != nil {
			return nil, fmt.Errorf("loso: %w", err)
		}
		folds = append(folds, f)
	}
	return folds, nil
}

// KFold returns k folds in which every subject lies wholly in one test side,
// with class proportions kept as even across folds as whole subjects allow
// (the greedy scheme of scikit-learn's StratifiedGroupKFold). The seed
// breaks ties between equally spread subjects.
func KFold(samples []Sample, k int, seed uint64) ([]Fold, error) {
	gs, err := groupBySubject(samples)
	if err != nil {
		return nil, fmt.Errorf("kfold: %w", err)
	}
	if k < 2 {
		return nil, fmt.Errorf("kfold: need k >= 2, have %d", k)
	}
	if k > len(gs) {
		noun := "subjects"
		if len(gs) == 1 {
			noun = "subject"
		}
		return nil, fmt.Errorf("kfold: %d folds but only %d %s", k, len(gs), noun)
	}
	labels := distinct(samples, func(s *Sample) string { return s.Label })
	li := map[string]int{}
	for i, l := range labels {
		li[l] = i
	}
	nc := max(1, len(labels))
	total := make([]float64, nc)
	counts := make([][]float64, len(gs)) // per group, per class
	for gi, g := range gs {
		counts[gi] = make([]float64, nc)
		for _, i := range g.members {
			c := li[samples[i].Label] // unlabelled samples share class 0's slot
			counts[gi][c]++
			total[c]++
		}
	}
	order := make([]int, len(gs))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	spread := func(v []float64) float64 { return stddev(v) }
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(spread(counts[b]), spread(counts[a])) })

	foldCounts := make([][]float64, k)
	for f := range foldCounts {
		foldCounts[f] = make([]float64, nc)
	}
	foldSize := make([]int, k)
	assign := make([][]int, k)
	col := make([]float64, k)
	for _, gi := range order {
		best, bestEval := -1, math.Inf(1)
		for f := 0; f < k; f++ {
			// Spread of each class's share across folds if gi joined fold f.
			eval := 0.0
			for c := 0; c < nc; c++ {
				for g := 0; g < k; g++ {
					v := foldCounts[g][c]
					if g == f {
						v += counts[gi][c]
					}
					col[g] = v / math.Max(total[c], 1)
				}
				eval += stddev(col)
			}
			eval /= float64(nc)
			// An empty fold must be filled first, then prefer smaller folds on ties.
			if foldSize[f] == 0 {
				eval -= 1e9
			}
			if eval < bestEval-1e-12 || (math.Abs(eval-bestEval) <= 1e-12 && foldSize[f] < foldSize[best]) {
				best, bestEval = f, eval
			}
		}
		for c := 0; c < nc; c++ {
			foldCounts[best][c] += counts[gi][c]
		}
		foldSize[best] += len(gs[gi].members)
		assign[best] = append(assign[best], gi)
	}
	folds := make([]Fold, 0, k)
	for f := 0; f < k; f++ {
		inTest := make([]bool, len(samples))
		var test []int
		for _, gi := range assign[f] {
			test = append(test, gs[gi].members...)
			for _, i := range gs[gi].members {
				inTest[i] = true
			}
		}
		var train []int
		for i := range samples {
			if !inTest[i] {
				train = append(train, i)
			}
		}
		slices.Sort(test)
		fold, err := newFold(f, samples, train, test)
		if err != nil {
			return nil, fmt.Errorf("kfold: %w", err)
		}
		folds = append(folds, fold)
	}
	return folds, nil
}

// Holdout returns one fold whose test side is a random set of whole
// subjects holding about testFraction of the samples (at least one subject
// on each side).
func Holdout(samples []Sample, testFraction float64, seed uint64) (Fold, error) {
	if !(testFraction > 0 && testFraction < 1) {
		return Fold{}, fmt.Errorf("holdout: test fraction %v outside (0,1)", testFraction)
	}
	gs, err := groupBySubject(samples)
	if err != nil {
		return Fold{}, fmt.Errorf("holdout: %w", err)
	}
	if len(gs) < 2 {
		return Fold{}, fmt.Errorf("holdout: need at least 2 subjects, have %d", len(gs))
	}
	rng := rand.New(rand.NewPCG(seed, 0x401d))
	rng.Shuffle(len(gs), func(i, j int) { gs[i], gs[j] = gs[j], gs[i] })
	want := testFraction * float64(len(samples))
	var test, train []int
	for gi, g := range gs {
		// Take subjects into the test side until it holds the wanted share,
		// always leaving the last subject for training.
		if gi < len(gs)-1 && (len(test) == 0 || float64(len(test)) < want) {
			test = append(test, g.members...)
		} else {
			train = append(train, g.members...)
		}
	}
	slices.Sort(test)
	slices.Sort(train)
	f, err := newFold(0, samples, train, test)
	if err != nil {
		return Fold{}, fmt.Errorf("holdout: %w", err)
	}
	return f, nil
}

func stddev(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	mean := 0.0
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	ss := 0.0
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return math.Sqrt(ss / float64(len(v)))
}
