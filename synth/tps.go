package synth

import (
	"fmt"
	"math"
)

// tps is a 2-D thin-plate spline: the smoothest map (least bending energy)
// that takes each control point exactly to its target. It is how the
// neutral face is bent from the portrait: a few points are moved, many are
// pinned, and the skin between follows without folds.
type tps struct {
	c    [][2]float64 // control points (domain)
	w    [][2]float64 // radial weights per control point
	a    [3][2]float64
	norm float64 // radial distances are divided by it, for conditioning
}

// tpsU is the thin-plate radial kernel r² log r², on squared distance.
func tpsU(r2 float64) float64 {
	if r2 < 1e-12 {
		return 0
	}
	return r2 * math.Log(r2)
}

// fitTPS returns the spline with f(src[i]) = dst[i].
func fitTPS(src, dst [][2]float64) (*tps, error) {
	n := len(src)
	if n != len(dst) || n < 3 {
		return nil, fmt.Errorf("synth: thin-plate spline needs ≥ 3 matching point pairs, got %d and %d", len(src), len(dst))
	}
	var span float64
	for _, p := range src {
		span = math.Max(span, math.Max(math.Abs(p[0]-src[0][0]), math.Abs(p[1]-src[0][1])))
	}
	if span == 0 {
		span = 1
	}
	t := &tps{c: src, norm: span}
	// [K P; Pᵀ 0] [w; a] = [dst; 0]
	m := n + 3
	A := make([][]float64, m)
	for i := range A {
		A[i] = make([]float64, m+2)
	}
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			dx, dy := (src[i][0]-src[j][0])/span, (src[i][1]-src[j][1])/span
			A[i][j] = tpsU(dx*dx + dy*dy)
		}
		p := [3]float64{1, src[i][0] / span, src[i][1] / span}
		for k := 0; k < 3; k++ {
			A[i][n+k] = p[k]
			A[n+k][i] = p[k]
		}
		A[i][m] = dst[i][0]
		A[i][m+1] = dst[i][1]
	}
	if err := solveInPlace(A, m); err != nil {
		return nil, fmt.Errorf("synth: thin-plate spline: %w (repeated or collinear control points)", err)
	}
	t.w = make([][2]float64, n)
	for i := 0; i < n; i++ {
		t.w[i] = [2]float64{A[i][m], A[i][m+1]}
	}
	for k := 0; k < 3; k++ {
		t.a[k] = [2]float64{A[n+k][m], A[n+k][m+1]}
	}
	return t, nil
}

// at evaluates the spline at (x, y).
func (t *tps) at(x, y float64) (float64, float64) {
	xs, ys := x/t.norm, y/t.norm
	ox := t.a[0][0] + t.a[1][0]*xs + t.a[2][0]*ys
	oy := t.a[0][1] + t.a[1][1]*xs + t.a[2][1]*ys
	for i, c := range t.c {
		dx, dy := xs-c[0]/t.norm, ys-c[1]/t.norm
		u := tpsU(dx*dx + dy*dy)
		ox += t.w[i][0] * u
		oy += t.w[i][1] * u
	}
	return ox, oy
}

// solveInPlace solves the m×m system whose augmented columns m.. hold the
// right-hand sides, by Gaussian elimination with partial pivoting; the
// solutions replace the right-hand sides.
func solveInPlace(A [][]float64, m int) error {
	cols := len(A[0])
	for k := 0; k < m; k++ {
		p := k
		for i := k + 1; i < m; i++ {
			if math.Abs(A[i][k]) > math.Abs(A[p][k]) {
				p = i
			}
		}
		if math.Abs(A[p][k]) < 1e-12 {
			return fmt.Errorf("singular system at column %d", k)
		}
		A[k], A[p] = A[p], A[k]
		for i := k + 1; i < m; i++ {
			f := A[i][k] / A[k][k]
			if f == 0 {
				continue
			}
			for j := k; j < cols; j++ {
				A[i][j] -= f * A[k][j]
			}
		}
	}
	for k := m - 1; k >= 0; k-- {
		for j := m; j < cols; j++ {
			s := A[k][j]
			for i := k + 1; i < m; i++ {
				s -= A[k][i] * A[i][j]
			}
			A[k][j] = s / A[k][k]
		}
	}
	return nil
}
