package synth

import (
	"context"
	"encoding/csv"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tell-project/tell/facs"
	"github.com/tell-project/tell/portrait"

	"github.com/tell-project/tell/raster"
)

// still is a muscle-model config with a still camera, no noise and no
// lighting change, so that only the expression moves.
func still(codes ...string) Config {
	return Config{Model: Muscle, Seed: 1, Codes: codes, Kind: "macro", MacroAmp: [2]float64{4, 4},
		Noise: -1, Head: -1, Illum: -1, FPS: 30}
}

// TestMuscleDirections: each AU moves its landmarks the way FACS
// describes the movement, in image coordinates (y down).
func TestMuscleDirections(t *testing.T) {
	f := testFace(t)
	type want struct {
		pt     int
		dx, dy int // expected sign; 0 = don't care
	}
	tests := []struct {
		code string
		want []want
	}{
		{"1", []want{{21, 0, -1}, {22, 0, -1}}},   // inner brows up
		{"2", []want{{18, 0, -1}, {25, 0, -1}}},   // outer brows up
		{"4", []want{{19, 1, 1}, {24, -1, 1}}},    // brows down and together
		{"5", []want{{37, 0, -1}, {44, 0, -1}}},   // upper lids up
		{"6", []want{{41, 0, -1}, {46, 0, -1}}},   // cheeks push the lower lids up
		{"7", []want{{41, 0, -1}, {46, 0, -1}}},   // lower lids up
		{"9", []want{{31, 0, -1}, {35, 0, -1}}},   // nose wings up
		{"10", []want{{50, 0, -1}, {52, 0, -1}}},  // upper lip up
		{"12", []want{{48, -1, -1}, {54, 1, -1}}}, // corners up and out
		{"14", []want{{48, -1, 0}, {54, 1, 0}}},   // corners drawn back
		{"15", []want{{48, 0, 1}, {54, 0, 1}}},    // corners down
		{"16", []want{{57, 0, 1}}},                // lower lip down
		{"17", []want{{8, 0, -1}}},                // chin up
		{"20", []want{{48, -1, 0}, {54, 1, 0}}},   // corners sideways
		{"23", []want{{48, 1, 0}, {54, -1, 0}}},   // lips narrowed
		{"25", []want{{66, 0, 1}, {62, 0, -1}}},   // lips part
		{"26", []want{{8, 0, 1}, {57, 0, 1}}},     // jaw drops
		{"R12", []want{{48, -1, -1}}},             // subject's right = image left
	}
	for _, tc := range tests {
		clips, err := Plan(f, still(tc.code+"E"), 1)
		if err != nil {
			t.Fatal(err)
		}
		c := clips[0]
		e := c.Events[0]
		l0, l1 := c.Landmarks(0), c.Landmarks(e.Apex)
		for _, w := range tc.want {
			dx, dy := l1[w.pt][0]-l0[w.pt][0], l1[w.pt][1]-l0[w.pt][1]
			if w.dx != 0 && float32(w.dx)*dx < 0.2 || w.dy != 0 && float32(w.dy)*dy < 0.2 {
				t.Errorf("AU%s: landmark %d moved (%.2f, %.2f), want signs (%d, %d) and ≥ 0.2 px", tc.code, w.pt, dx, dy, w.dx, w.dy)
			}
		}
		if tc.code == "R12" {
			if d := l1[54][1] - l0[54][1]; math.Abs(float64(d)) > 0.05 {
				t.Errorf("R12 moved the subject's left corner by %.2f px", d)
			}
		}
	}
}

// TestMuscleAmplitude: an event's largest skin displacement is the drawn
// amplitude, and micro-expressions stay within the real range (0.1–1 px
// by default).
func TestMuscleAmplitude(t *testing.T) {
	f := testFace(t)
	clips, err := Plan(f, Config{Model: Muscle, Seed: 11, Kind: "micro", Width: 640, Height: 480, Scale: 1.25, FPS: 200}, 12)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range clips {
		e := c.Events[0]
		if e.mus.amp < defaultMicroAmp[0] || e.mus.amp > defaultMicroAmp[1] {
			t.Errorf("%s: amplitude %.3f px outside %v", c.Name, e.mus.amp, defaultMicroAmp)
		}
		// The largest field displacement over the event, in output px.
		var peak float64
		fl := newLayerField(c.mf.w * c.mf.h)
		for t := e.Onset; t <= e.Offset; t++ {
			c.muscleField(t, &fl)
			for i := range fl.ux {
				peak = math.Max(peak, math.Hypot(float64(fl.ux[i]), float64(fl.uy[i])))
				peak = math.Max(peak, math.Hypot(float64(fl.lx[i]), float64(fl.ly[i])))
			}
		}
		peak *= c.cfg.Scale
		if math.Abs(peak-e.mus.amp) > 0.1*e.mus.amp {
			t.Errorf("%s: largest displacement %.3f px, want the drawn %.3f", c.Name, peak, e.mus.amp)
		}
	}
}

// TestMuscleTiming: micro-expressions last at most 0.5 s, onset < apex <
// offset, the truth is zero outside the event and names the event's AUs
// inside it, and frame 0 is at rest.
func TestMuscleTiming(t *testing.T) {
	f := testFace(t)
	clips, err := Plan(f, Config{Model: Muscle, Seed: 3}, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range clips {
		e := c.Events[0]
		dur := float64(e.Offset-e.Onset) / c.FPS
		if e.Kind == "micro" && dur > 0.5+2/c.FPS {
			t.Errorf("%s: micro-expression lasts %.3f s", c.Name, dur)
		}
		if e.Kind == "macro" && dur < 0.5 {
			t.Errorf("%s: macro-expression lasts only %.3f s", c.Name, dur)
		}
		if !(e.Onset < e.Apex && e.Apex <= e.ApexEnd && e.ApexEnd < e.Offset && e.Offset < c.Frames) {
			t.Errorf("%s: bad timing %+v in %d frames", c.Name, e, c.Frames)
		}
		if m, _ := c.Truth(0); m != nil {
			t.Errorf("%s: frame 0 is not at rest: %v", c.Name, m)
		}
		if m, _ := c.Truth(e.Offset + 1); m != nil {
			t.Errorf("%s: AUs after the offset: %v", c.Name, m)
		}
		m, label := c.Truth(e.Apex)
		if label != e.Label || len(m) == 0 {
			t.Errorf("%s: truth at apex %v %q", c.Name, m, label)
		}
		for a := range m {
			if !slices.ContainsFunc(e.AUs, func(x ActiveAU) bool { return x.AU == a }) {
				t.Errorf("%s: AU%d in the truth but not in the event %s", c.Name, a, e.AUString())
			}
		}
	}
}

// TestMuscleTextureMoves: with a still camera, the skin's texture moves
// with the landmarks: the colour at a landmark's position in the apex frame
// is the colour at its rest position in the first frame.
func TestMuscleTextureMoves(t *testing.T) {
	f := testFace(t)
	for _, code := range []string{"12E", "1+2E", "4E", "15+17D"} {
		cfg := still(code)
		cfg.Width, cfg.Height, cfg.Scale = 320, 320, 2.5
		clips, err := Plan(f, cfg, 1)
		if err != nil {
			t.Fatal(err)
		}
		c := clips[0]
		e := c.Events[0]
		a, b := c.Frame(0, nil), c.Frame(e.Apex, nil)
		l0, l1 := c.Landmarks(0), c.Landmarks(e.Apex)
		var sum, moved float64
		n := 0
		for i := 17; i < 68; i++ { // brows, nose, eyes, lips: textured
			if i >= 60 {
				continue // the inner lips sit on the lips' line
			}
			d := math.Hypot(float64(l1[i][0]-l0[i][0]), float64(l1[i][1]-l0[i][1]))
			if d < 1 {
				continue
			}
			va, vb := pixel(a, l0[i]), pixel(b, l1[i])
			sum += math.Abs(va - vb)
			moved += math.Abs(va - pixel(b, l0[i]))
			n++
		}
		if n == 0 {
			t.Fatalf("%s: no landmark moved 1 px", code)
		}
		if sum/float64(n) > 0.5*moved/float64(n) || sum/float64(n) > 6 {
			t.Errorf("%s: colour at the moved landmarks differs by %.1f grey levels on average (%.1f if they had not moved)", code, sum/float64(n), moved/float64(n))
		}
	}
}

// TestMuscleLipsPart: AU25 opens a gap showing the mouth's inside.
func TestMuscleLipsPart(t *testing.T) {
	f := testFace(t)
	cfg := still("25E")
	cfg.Width, cfg.Height, cfg.Scale, cfg.MacroAmp = 320, 320, 2.5, [2]float64{8, 8}
	clips, err := Plan(f, cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := clips[0]
	e := c.Events[0]
	l := c.Landmarks(e.Apex)
	mid := [2]float32{(l[62][0] + l[66][0]) / 2, (l[62][1] + l[66][1]) / 2}
	if d := l[66][1] - l[62][1]; d < 3 {
		t.Fatalf("lips apart by %.1f px, want ≥ 3", d)
	}
	img := c.Frame(e.Apex, nil)
	if v := pixel(img, mid); v > 70 {
		t.Errorf("between the parted lips: grey %.0f, want the mouth's dark inside", v)
	}
	if v := pixel(c.Frame(0, nil), mid); v < 100 {
		t.Errorf("at rest the lips' line is grey %.0f: the neutral mouth is not closed", v)
	}
}

// pixel is the grey value of img at p (bilinear).
func pixel(img *image.RGBA, p [2]float32) float64 {
	g := raster.FromImage(img)
	return float64(g.Bilinear(p[0], p[1]))
}

func BenchmarkMuscleFrame(b *testing.B) {
	f := testFace(b)
	clips, err := Plan(f, Config{Model: Muscle, Seed: 1, Width: 640, Height: 480, Scale: 1.25, Codes: []string{"1+2+12+25"}}, 1)
	if err != nil {
		b.Fatal(err)
	}
	c := clips[0]
	img := c.Frame(0, nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Frame(c.Events[0].Apex, img)
	}
}

// TestNeutralize: the astronaut's smile is undone by the anthropometric
// rules (lips closed, mouth no wider than 0.83 IOD, corners not above the
// lips' line, lower lids lowered), and neutralising the result again
// changes almost nothing.
func TestNeutralize(t *testing.T) {
	f := testFace(t)
	n, info, err := Neutralize(f)
	if err != nil {
		t.Fatal(err)
	}
	if info.LipGap < 4 {
		t.Errorf("closed a lip gap of %.1f px; the portrait's teeth show over ≈ 6 px", info.LipGap)
	}
	ax := axesOf(&n.LM)
	X48, Y48 := ax.toFace(float64(n.LM[48][0]), float64(n.LM[48][1]))
	X54, Y54 := ax.toFace(float64(n.LM[54][0]), float64(n.LM[54][1]))
	if w := (X54 - X48) / ax.iod; w > neutralMouthWidth+0.02 {
		t.Errorf("neutral mouth width %.2f IOD, want ≤ %.2f", w, neutralMouthWidth)
	}
	_, Y62 := ax.toFace(float64(n.LM[62][0]), float64(n.LM[62][1]))
	_, Y66 := ax.toFace(float64(n.LM[66][0]), float64(n.LM[66][1]))
	if g := Y66 - Y62; g > 1 {
		t.Errorf("inner lips %.1f px apart on the neutral face", g)
	}
	meet := (Y62 + Y66) / 2
	if Y48 < meet-1 || Y54 < meet-1 {
		t.Errorf("corners at %.1f and %.1f px, above the lips' line at %.1f", Y48, Y54, meet)
	}
	if info.Lid[0] <= 0 || info.Lid[1] <= 0 {
		t.Errorf("lower lids not lowered: %v", info.Lid)
	}
	// No teeth left: along the lips' line, no bright unsaturated pixels.
	for X := X48 + 4; X < X54-4; X++ {
		x, y := ax.toImage(X, meet)
		r, g := float64(cubic(n.R, n.W, n.H, x, y)), float64(cubic(n.G, n.W, n.H, x, y))
		if r > 200 && r-g < 0.12*r {
			t.Errorf("teeth-like pixel (%.0f, %.0f) on the closed lips at x=%.0f", r, g, x)
			break
		}
	}
	_, again, err := Neutralize(n)
	if err != nil {
		t.Fatal(err)
	}
	if again.LipGap > 1.5 || math.Abs(again.Corner[0][1]) > 0.5 || math.Abs(again.Corner[1][1]) > 0.5 ||
		math.Abs(again.Corner[0][0]) > 0.5 || math.Abs(again.Corner[1][0]) > 0.5 || again.Lid[0] > 0.5 || again.Lid[1] > 0.5 {
		t.Errorf("neutralising the neutral face moved it again: %v", again)
	}
}

// TestDrawAUs: the muscle model's combinations follow the co-occurrence
// tendencies and are not the emotion prototypes.
func TestDrawAUs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	protos := map[string]bool{}
	for _, p := range facs.Prototypes() {
		var s []string
		for n := range p.Code.Numbers() {
			s = append(s, fmt.Sprint(n))
		}
		slices.Sort(s)
		protos[strings.Join(s, "+")] = true
	}
	const n = 4000
	count := map[int]int{}
	pair := map[[2]int]int{}
	proto, single := 0, 0
	for i := 0; i < n; i++ {
		aus := drawAUs(rng)
		var s []string
		for _, a := range aus {
			count[a.AU]++
			s = append(s, fmt.Sprint(a.AU))
			if a.Intensity < 0.1 || a.Intensity > 1 {
				t.Fatalf("intensity %v outside the FACS range", a.Intensity)
			}
			for _, b := range aus {
				pair[[2]int{a.AU, b.AU}]++
			}
		}
		slices.Sort(s)
		if protos[strings.Join(s, "+")] {
			proto++
		}
		if len(aus) == 1 {
			single++
		}
		for _, c := range conflicts {
			if slices.ContainsFunc(aus, func(a ActiveAU) bool { return a.AU == c[0] }) && slices.ContainsFunc(aus, func(a ActiveAU) bool { return a.AU == c[1] }) {
				t.Fatalf("conflicting AUs %v together", c)
			}
		}
	}
	cond := func(a, b int) float64 { return float64(pair[[2]int{a, b}]) / float64(count[a]) }
	for _, c := range []struct {
		a, b int
		min  float64
	}{{2, 1, .7}, {6, 12, .7}, {26, 25, .7}, {4, 7, .25}} {
		if p := cond(c.a, c.b); p < c.min {
			t.Errorf("P(AU%d | AU%d) = %.2f, want ≥ %.2f", c.b, c.a, p, c.min)
		}
	}
	if f := float64(proto) / n; f > 0.1 {
		t.Errorf("%.0f%% of the draws are EMFACS prototypes, want few", 100*f)
	}
	if f := float64(single) / n; f < 0.15 {
		t.Errorf("%.0f%% single AUs, want a fair share", 100*f)
	}
	if count[4] < count[26] {
		t.Errorf("AU4 drawn %d times, AU26 %d: base rates not followed", count[4], count[26])
	}
}

// TestMuscleWrite: the muscle model's clips write like the others, with
// per-AU truth that follows each AU's own curve.
func TestMuscleWrite(t *testing.T) {
	clips, err := Plan(testFace(t), Config{Model: Muscle, Seed: 5, FPS: 30, Width: 96, Height: 96, Scale: 0.9}, 2)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Write(context.Background(), dir, clips, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, filepath.Join(dir, "manifest.csv"))
	if len(rows) != 3 || rows[1][2] != clips[0].Events[0].Label || !strings.HasPrefix(rows[1][2], "class ") {
		t.Fatalf("manifest %v", rows)
	}
	truth := readCSV(t, filepath.Join(dir, "clip000", "truth.csv"))
	if len(truth) != clips[0].Frames+1 {
		t.Fatalf("truth has %d rows for %d frames", len(truth)-1, clips[0].Frames)
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestParseModel(t *testing.T) {
	for in, want := range map[string]Model{"muscle": Muscle, "Muscle": Muscle, "basis": Basis, "": Basis} {
		if got, err := ParseModel(in); err != nil || got != want {
			t.Errorf("ParseModel(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseModel("blendshape"); err == nil {
		t.Error("unknown model accepted")
	}
	if _, err := Plan(testFace(t), Config{Model: "x"}, 1); err == nil {
		t.Error("Plan accepted an unknown model")
	}
	for _, r := range [][2]float64{{-1, 1}, {2, 1}, {math.NaN(), 1}, {0.1, 1e9}} {
		if _, err := Plan(testFace(t), Config{Model: Muscle, MicroAmp: r}, 1); err == nil {
			t.Errorf("amplitude range %v accepted", r)
		}
	}
	if _, err := Plan(testFace(t), Config{Model: Muscle, Codes: []string{"45"}}, 1); err == nil {
		t.Error("AU45 accepted by the muscle model")
	}
}

// ExamplePlan_muscle makes micro-expressions at real amplitudes with the
// generator that is independent of the AU estimator.
func ExamplePlan_muscle() {
	img, _ := portrait.Astronaut()
	face := NewFace(img, astronautLandmarks)
	clips, err := Plan(face, Config{Model: Muscle, Seed: 7, Kind: "micro", FPS: 200, Width: 640, Height: 480, Scale: 1.25}, 2)
	if err != nil {
		panic(err)
	}
	for _, c := range clips {
		e := c.Events[0]
		fmt.Printf("%s: %s (%s), frames %d-%d-%d, largest movement %.2f px\n", c.Name, e.AUString(), e.Label, e.Onset, e.Apex, e.Offset, e.Amplitude)
	}
	// Output:
	// clip000: R12C+25D (class I), frames 90-107-128, largest movement 0.55 px
	// clip001: 2A (class VII), frames 72-89-122, largest movement 0.31 px
}
