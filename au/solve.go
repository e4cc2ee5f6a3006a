package au

import (
	"math"
	"slices"
)

// solver decomposes residual displacements on the AU basis by
// non-negative least squares with a small ridge, by coordinate descent on
// the normal equations (the basis has a few dozen columns).
type solver struct {
	comp   []component
	gram   []float64 // K×K, for the weights in lastW
	lastW  []float64
	c, a   []float64
	lambda float64
	index  map[int]int // AU → position in AUs
}

func newSolver(comp []component) *solver {
	k := len(comp)
	s := &solver{comp: comp, gram: make([]float64, k*k), c: make([]float64, k), a: make([]float64, k), lambda: 0.05, index: map[int]int{}}
	for i, a := range aus {
		s.index[a] = i
	}
	return s
}

func (s *solver) setWeights(w []float64) {
	if s.lastW != nil && slices.Equal(s.lastW, w) {
		return
	}
	s.lastW = append(s.lastW[:0], w...)
	k := len(s.comp)
	for i := 0; i < k; i++ {
		for j := i; j < k; j++ {
			var g float64
			vi, vj := s.comp[i].v, s.comp[j].v
			for d := range vi {
				if vi[d] != 0 && vj[d] != 0 {
					g += w[d] * vi[d] * vj[d]
				}
			}
			if i == j {
				g += s.lambda
			}
			s.gram[i*k+j], s.gram[j*k+i] = g, g
		}
	}
}

// solve fits r (weights w) and writes intensities into m.
func (s *solver) solve(r, w []float64, m *Measurement) {
	s.setWeights(w)
	k := len(s.comp)
	for i, c := range s.comp {
		var v float64
		for d, b := range c.v {
			if b != 0 {
				v += w[d] * b * r[d]
			}
		}
		s.c[i] = v
		s.a[i] = 0
	}
	for sweep := 0; sweep < 40; sweep++ {
		var change float64
		for i := 0; i < k; i++ {
			g := s.c[i]
			row := s.gram[i*k : i*k+k]
			for j, aj := range s.a {
				if j != i {
					g -= row[j] * aj
				}
			}
			v := math.Max(0, g/row[i])
			change += math.Abs(v - s.a[i])
			s.a[i] = v
		}
		if change < 1e-4 {
			break
		}
	}
	// Energy of the AU reconstruction: ‖B·a‖² = aᵀ(G−λI)a. It is the motion
	// explained by AUs, far less noisy than the raw residual.
	var e2 float64
	for i := 0; i < k; i++ {
		row := s.gram[i*k : i*k+k]
		for j := 0; j < k; j++ {
			e2 += s.a[i] * row[j] * s.a[j]
		}
		e2 -= s.lambda * s.a[i] * s.a[i]
	}
	var nw float64
	for _, v := range w {
		nw += v
	}
	m.Expression = float32(math.Sqrt(math.Max(0, e2) / math.Max(1, nw/2)))
	for i := range m.Intensity {
		m.Right[i], m.Left[i] = 0, 0
	}
	for i, c := range s.comp {
		v := float32(math.Min(5, s.a[i]*IntensityPerPixel))
		j := s.index[c.au]
		switch c.side {
		case 0:
			m.Right[j], m.Left[j] = v, v
		case 1:
			m.Right[j] = v
		case 2:
			m.Left[j] = v
		}
	}
	for i := range m.Intensity {
		m.Intensity[i] = max(m.Right[i], m.Left[i])
		m.Present[i] = m.Intensity[i] >= PresenceThreshold
	}
}
