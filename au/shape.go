package au

import (
	"fmt"
	"math"

	"github.com/tell-project/tell/face"
)

// MeasureShape measures AUs from landmarks alone against a canonical
// neutral shape (for a single image, which has no neutral frame): the
// neutral shape is aligned to lm by a similarity on the stable points, and
// the landmarks' departures from it are decomposed on the AU basis. Identity
// differences from the canonical face read as weak AUs, so this is coarser
// than tracking against the person's own neutral frame.
func MeasureShape(lm, neutral [68][2]float32, m *Measurement) error {
	if m.Intensity == nil {
		*m = newMeasurement()
	}
	l, r := face.EyeCentres(&lm)
	iod := math.Hypot(r[0]-l[0], r[1]-l[1])
	if iod < 8 {
		return fmt.Errorf("au: face too small (eye distance %.1f px, need 8)", iod)
	}
	ex := [2]float64{(r[0] - l[0]) / iod, (r[1] - l[1]) / iod}
	ey := [2]float64{-ex[1], ex[0]}
	var src, dst [][2]float64
	var w []float64
	for _, i := range stablePoints {
		src = append(src, [2]float64{float64(neutral[i][0]), float64(neutral[i][1])})
		dst = append(dst, [2]float64{float64(lm[i][0]), float64(lm[i][1])})
		w = append(w, 1)
	}
	sim := robustSimilarity(src, dst, w, 0.02*iod)
	resid := make([]float64, 2*numPoints)
	wts := make([]float64, 2*numPoints)
	norm := 100 / iod
	var sum2 float64
	for i := 0; i < 68; i++ {
		nx, ny := sim.apply(float64(neutral[i][0]), float64(neutral[i][1]))
		dx, dy := float64(lm[i][0])-nx, float64(lm[i][1])-ny
		fx := (dx*ex[0] + dy*ex[1]) * norm
		fy := (dx*ey[0] + dy*ey[1]) * norm
		resid[2*i], resid[2*i+1] = fx, fy
		wts[2*i], wts[2*i+1] = 1, 1
		sum2 += fx*fx + fy*fy
		m.Landmarks[i] = lm[i]
	}
	m.Motion = float32(math.Sqrt(sum2 / 68))
	m.Confidence = 1
	m.Scale, m.Rotation, m.TX, m.TY = 1, 0, 0, 0
	newSolver(buildBasis()).solve(resid, wts, m)
	return nil
}
