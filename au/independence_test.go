package au

import (
	"fmt"
	"math"
	"testing"

	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/synth"
)

// TestGeneratorIndependence measures how far each synthetic generator's
// landmark movements are from this package's AU basis (restricted to the
// 68 landmarks the generators report): the cosine between an AU's movement
// and the span of the same AU's basis columns (right and left), and the
// share of the movement no combination of basis columns explains
// (least-squares residual).
//
// The Basis generator was written from the same table and must sit close
// to the basis: clips from it show only that the estimator undoes it. The
// Muscle generator must not: if someone rebuilt it from the basis, its
// residual would collapse and this test would fail.
func TestGeneratorIndependence(t *testing.T) {
	img, err := portrait.Astronaut()
	if err != nil {
		t.Fatal(err)
	}
	face := synth.NewFace(img, synth.AstronautLandmarks())
	comp := buildBasis()
	const n = 68
	cols := make([][]float64, len(comp))
	for i, c := range comp {
		cols[i] = c.v[:2*n]
	}
	stats := map[synth.Model][2]float64{}
	for _, model := range []synth.Model{synth.Basis, synth.Muscle} {
		var sumCos, sumRes float64
		k := 0
		for _, a := range synth.MuscleAUs() {
			cfg := synth.Config{Model: model, Seed: 1, Codes: []string{fmt.Sprintf("%dD", a)}, Kind: "macro",
				Noise: -1, Head: -1, Illum: -1, FPS: 30, MacroAmp: [2]float64{4, 4}}
			clips, err := synth.Plan(face, cfg, 1)
			if err != nil {
				t.Fatal(err)
			}
			c := clips[0]
			l0, l1 := c.Landmarks(0), c.Landmarks(c.Events[0].Apex)
			d := faceDisplacement(l0, l1)
			var own [][]float64
			for _, col := range comp {
				if col.au == a {
					own = append(own, col.v[:2*n])
				}
			}
			ownRes := residual(d, own)
			cos := math.Sqrt(math.Max(0, 1-ownRes*ownRes))
			res := residual(d, cols)
			t.Logf("%-6s AU%-2d cos with its own basis columns %.2f, unexplained by the whole basis %.2f", model, a, cos, res)
			sumCos += cos
			sumRes += res
			k++
		}
		stats[model] = [2]float64{sumCos / float64(k), sumRes / float64(k)}
		t.Logf("%-6s mean cos %.2f, mean unexplained %.2f", model, sumCos/float64(k), sumRes/float64(k))
	}
	b, m := stats[synth.Basis], stats[synth.Muscle]
	if b[1] > 0.35 {
		t.Errorf("the Basis generator leaves %.2f unexplained: it is no longer the basis' twin, rename it", b[1])
	}
	if m[1] < 0.3 || m[1] < 1.5*b[1] {
		t.Errorf("the Muscle generator leaves only %.2f unexplained (Basis %.2f): it moves landmarks the basis' way", m[1], b[1])
	}
}

// faceDisplacement is l1-l0 in face axes (x along the eyes), scaled to an
// inter-ocular distance of 100, as the estimator sees it.
func faceDisplacement(l0, l1 [68][2]float32) []float64 {
	l, r := face.EyeCentres(&l0)
	dx, dy := r[0]-l[0], r[1]-l[1]
	iod := math.Hypot(dx, dy)
	ex := [2]float64{dx / iod, dy / iod}
	ey := [2]float64{-ex[1], ex[0]}
	out := make([]float64, 2*68)
	for i := range l0 {
		ux, uy := float64(l1[i][0]-l0[i][0]), float64(l1[i][1]-l0[i][1])
		out[2*i] = (ux*ex[0] + uy*ex[1]) * 100 / iod
		out[2*i+1] = (ux*ey[0] + uy*ey[1]) * 100 / iod
	}
	return out
}

// residual is |d - B c| / |d| for the least-squares c (ridge 1e-6).
func residual(d []float64, cols [][]float64) float64 {
	k := len(cols)
	A := make([][]float64, k)
	rhs := make([]float64, k)
	for i := range cols {
		A[i] = make([]float64, k)
		for j := range cols {
			A[i][j] = dot(cols[i], cols[j])
		}
		A[i][i] += 1e-6
		rhs[i] = dot(cols[i], d)
	}
	c := gauss(A, rhs)
	var r2, d2 float64
	for x := range d {
		v := d[x]
		for i := range cols {
			v -= c[i] * cols[i][x]
		}
		r2 += v * v
		d2 += d[x] * d[x]
	}
	return math.Sqrt(r2 / d2)
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// gauss solves A x = b by elimination with partial pivoting.
func gauss(A [][]float64, b []float64) []float64 {
	n := len(b)
	for k := 0; k < n; k++ {
		p := k
		for i := k + 1; i < n; i++ {
			if math.Abs(A[i][k]) > math.Abs(A[p][k]) {
				p = i
			}
		}
		A[k], A[p] = A[p], A[k]
		b[k], b[p] = b[p], b[k]
		for i := k + 1; i < n; i++ {
			f := A[i][k] / A[k][k]
			for j := k; j < n; j++ {
				A[i][j] -= f * A[k][j]
			}
			b[i] -= f * b[k]
		}
	}
	x := make([]float64, n)
	for k := n - 1; k >= 0; k-- {
		s := b[k]
		for j := k + 1; j < n; j++ {
			s -= A[k][j] * x[j]
		}
		x[k] = s / A[k][k]
	}
	return x
}
