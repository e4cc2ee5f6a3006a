package train

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/tell-project/tell/atomicfile"
)

// SynthOptions describes a synthetic flow data set: 28×28-style flow images
// (u, v, strain as RGB) whose class shows as motion in a face region, blurred
// by per-subject differences (where the face sits, how strongly it moves,
// head motion) and noise. It stands in for licensed data sets in tests and
// timing runs; nothing about real faces is learned from it.
type SynthOptions struct {
	Size int   // image side (default 28)
	Seed int64 // same seed, same files
	// Subjects lists each subject's per-class sample counts, in the class
	// order of Classes. Use SynthSubjects or SynthMEGC2019 to fill it.
	Subjects [][]int
	// Noise is the standard deviation of the flow noise in pixels (default 0.25).
	Noise float64
	// ShuffleLabels permutes the labels across rows after generation: the
	// label-shuffled control, which no honest pipeline can learn.
	ShuffleLabels bool
	// Datasets optionally names a source data set per subject (column dataset).
	Datasets []string
}

// synthClasses are the classes of the synthetic sets (the MEGC2019 three),
// with the AU strings written for them.
var synthClasses = [...]struct{ Name, AUs string }{
	{"negative", "4+7"},
	{"positive", "6+12"},
	{"surprise", "1+2+25"},
}

// SynthSubjects gives n subjects with perClass samples of every class.
func SynthSubjects(n, perClass int) [][]int {
	s := make([][]int, n)
	for i := range s {
		s[i] = make([]int, len(synthClasses))
		for c := range s[i] {
			s[i][c] = perClass
		}
	}
	return s
}

// SynthMEGC2019 gives the shape of the MEGC2019 composite: 68 subjects
// (SMIC 16, CASME II 24, SAMM 28), 442 samples, negative 250, positive 109,
// surprise 83, dealt to subjects at random (every subject gets at least one).
func SynthMEGC2019(seed int64) (subjects [][]int, datasets []string) {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x4d454743))
	const nSubj = 68
	labels := make([]int, 0, 442)
	for c, n := range []int{250, 109, 83} {
		for i := 0; i < n; i++ {
			labels = append(labels, c)
		}
	}
	rng.Shuffle(len(labels), func(i, j int) { labels[i], labels[j] = labels[j], labels[i] })
	subjects = make([][]int, nSubj)
	for i := range subjects {
		subjects[i] = make([]int, 3)
	}
	for i, c := range labels {
		s := i
		if i >= nSubj {
			s = rng.IntN(nSubj)
		}
		subjects[s][c]++
	}
	for i := 0; i < nSubj; i++ {
		switch {
		case i < 16:
			datasets = append(datasets, "smic")
		case i < 40:
			datasets = append(datasets, "casme2")
		default:
			datasets = append(datasets, "samm")
		}
	}
	return subjects, datasets
}

// WriteSynth writes the flow images and manifest.csv into dir and returns the
// manifest's path. Columns: sample, subject, label, dataset, flow, aus.
func WriteSynth(dir string, opt SynthOptions) (string, error) {
	if opt.Size <= 0 {
		opt.Size = 28
	}
	if opt.Noise == 0 {
		opt.Noise = 0.25
	}
	if err := os.MkdirAll(filepath.Join(dir, "flow"), 0o755); err != nil {
		return "", fmt.Errorf("train: synth: %w", err)
	}
	rng := rand.New(rand.NewPCG(uint64(opt.Seed), 0x73796e74))
	type row struct{ id, subj, label, ds, path, aus string }
	var rows []row
	n := opt.Size
	u := make([]float64, n*n)
	v := make([]float64, n*n)
	for si, counts := range opt.Subjects {
		subj := fmt.Sprintf("s%02d", si+1)
		ds := "synth"
		if si < len(opt.Datasets) {
			ds = opt.Datasets[si]
		}
		// Per-subject face placement, motion strength and head motion.
		dx, dy := rng.NormFloat64()*0.04, rng.NormFloat64()*0.04
		gain := 0.7 + 0.6*rng.Float64()
		for c, count := range counts {
			for k := 0; k < count; k++ {
				clear(u)
				clear(v)
				hu, hv := rng.NormFloat64()*0.15, rng.NormFloat64()*0.15
				amp := gain * (0.8 + 0.4*rng.Float64())
				synthMotion(u, v, n, c, dx+rng.NormFloat64()*0.02, dy+rng.NormFloat64()*0.02, amp)
				for i := range u {
					u[i] += hu + rng.NormFloat64()*opt.Noise
					v[i] += hv + rng.NormFloat64()*opt.Noise
				}
				id := fmt.Sprintf("%s_%d_%02d", subj, c, k)
				rel := filepath.Join("flow", id+".png")
				if err := writeFlowPNG(filepath.Join(dir, rel), u, v, n); err != nil {
					return "", err
				}
				rows = append(rows, row{id, subj, synthClasses[c].Name, ds, rel, synthClasses[c].AUs})
			}
		}
	}
	if opt.ShuffleLabels {
		perm := rng.Perm(len(rows))
		labels := make([]string, len(rows))
		for i, p := range perm {
			labels[i] = rows[p].label
		}
		for i := range rows {
			rows[i].label = labels[i]
		}
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"sample", "subject", "label", "dataset", "flow", "aus"})
	for _, r := range rows {
		w.Write([]string{r.id, r.subj, r.label, r.ds, r.path, r.aus})
	}
	w.Flush()
	path := filepath.Join(dir, "manifest.csv")
	if err := atomicfile.WriteFile(path, buf.Bytes()); err != nil {
		return "", err
	}
	return path, nil
}

// synthMotion adds the class's motion: Gaussian blobs of flow at face
// positions given as fractions of the image (eyes near 0.35, mouth near 0.75).
func synthMotion(u, v []float64, n, class int, dx, dy, amp float64) {
	blob := func(cx, cy, sigma, bu, bv float64) {
		cx, cy = (cx+dx)*float64(n), (cy+dy)*float64(n)
		s := sigma * float64(n)
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				d2 := (float64(x)-cx)*(float64(x)-cx) + (float64(y)-cy)*(float64(y)-cy)
				g := amp * math.Exp(-d2/(2*s*s))
				u[y*n+x] += g * bu
				v[y*n+x] += g * bv
			}
		}
	}
	switch class {
	case 0: // brows lowered and drawn together, lids tightened (AU4+7)
		blob(0.32, 0.25, 0.07, 0.8, 0.9)
		blob(0.68, 0.25, 0.07, -0.8, 0.9)
	case 1: // cheeks raised, lip corners pulled up and out (AU6+12)
		blob(0.3, 0.72, 0.07, -0.9, -0.8)
		blob(0.7, 0.72, 0.07, 0.9, -0.8)
	case 2: // brows raised, lips parted (AU1+2+25)
		blob(0.35, 0.2, 0.08, 0, -1.2)
		blob(0.65, 0.2, 0.08, 0, -1.2)
		blob(0.5, 0.85, 0.06, 0, 1.0)
	}
}

// writeFlowPNG stores u, v and the optical strain magnitude as RGB, each
// mapped linearly to 0..255 (u and v: 128 + 48·flow; strain: 255·min(1, 2ε)).
func writeFlowPNG(path string, u, v []float64, n int) error {
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	q := func(x float64) uint8 { return uint8(math.Max(0, math.Min(255, math.Round(x)))) }
	at := func(f []float64, x, y int) float64 {
		x = min(max(x, 0), n-1)
		y = min(max(y, 0), n-1)
		return f[y*n+x]
	}
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			ux := (at(u, x+1, y) - at(u, x-1, y)) / 2
			uy := (at(u, x, y+1) - at(u, x, y-1)) / 2
			vx := (at(v, x+1, y) - at(v, x-1, y)) / 2
			vy := (at(v, x, y+1) - at(v, x, y-1)) / 2
			strain := math.Sqrt(ux*ux + vy*vy + 0.5*(uy+vx)*(uy+vx))
			img.Set(x, y, color.RGBA{q(128 + 48*u[y*n+x]), q(128 + 48*v[y*n+x]), q(255 * math.Min(1, 2*strain)), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return fmt.Errorf("train: synth %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, buf.Bytes())
}
