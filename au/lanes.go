package au

import (
	"math"
	"slices"

	"github.com/tell-project/tell/raster"
)

// Tracking points eight at a time. trackPoint's sums run one after the
// other over a window (each waits for the last addition), so one point
// leaves the CPU's adders idle most of the time. A laneGroup tracks up to
// eight points whose templates share a radius side by side: their windows
// are stored interleaved (element i of lane l at 8·i+l) and the sums run
// in vector lanes, each lane doing exactly trackPoint's float32 operations
// in trackPoint's order, so every point ends where trackPoint would put it
// (TestTrackLanesSameBits).

// lanes is the number of points a laneGroup tracks at once.
const lanes = 8

// laneGroup holds up to eight points' templates at one pyramid level,
// interleaved; unused lanes hold zeros and are never active.
type laneGroup struct {
	pts       []int // the points (indices), one per lane in use
	r         int
	t, gx, gy []float32 // interleaved: element i of lane l at lanes·i+l
	t2        [lanes]float32
	h00       [lanes]float32
	h01       [lanes]float32
	h11       [lanes]float32
}

// groupTemplates sorts the usable templates of tpl into groups of at most
// eight with one radius, in point order within a radius.
func groupTemplates(tpl []template) []laneGroup {
	var radii []int
	for i := range tpl {
		if tpl[i].ok && !slices.Contains(radii, tpl[i].r) {
			radii = append(radii, tpl[i].r)
		}
	}
	var out []laneGroup
	for _, r := range radii {
		var g *laneGroup
		for i := range tpl {
			tp := &tpl[i]
			if !tp.ok || tp.r != r {
				continue
			}
			if g == nil || len(g.pts) == lanes {
				n := (2*r + 1) * (2*r + 1)
				out = append(out, laneGroup{r: r, t: make([]float32, lanes*n), gx: make([]float32, lanes*n), gy: make([]float32, lanes*n)})
				g = &out[len(out)-1]
			}
			l := len(g.pts)
			g.pts = append(g.pts, i)
			for k := range tp.t {
				g.t[lanes*k+l], g.gx[lanes*k+l], g.gy[lanes*k+l] = tp.t[k], tp.gx[k], tp.gy[k]
			}
			g.t2[l], g.h00[l], g.h01[l], g.h11[l] = tp.t2, tp.h00, tp.h01, tp.h11
		}
	}
	return out
}

// sampleLane is sampleWindow writing lane l of the interleaved buf.
func sampleLane(g *raster.Gray, qx, qy float32, r int, buf []float32, l int) bool {
	base, w, ok := windowAt(g, qx, qy, r)
	if !ok {
		return false
	}
	n := 2*r + 1
	if sampleRows(g.Pix, base, g.Stride, n, &w, buf, l) {
		return true
	}
	w00, w10, w01, w11 := w[0], w[1], w[2], w[3]
	i := l
	for y := 0; y < n; y++ {
		o := base + y*g.Stride
		r0 := g.Pix[o : o+n+1 : o+n+1]
		r1 := g.Pix[o+g.Stride : o+g.Stride+n+1 : o+g.Stride+n+1]
		for x := 0; x < n; x++ {
			buf[i] = w00*r0[x] + w10*r0[x+1] + w01*r1[x] + w11*r1[x+1]
			i += lanes
		}
	}
	return true
}

// laneSums holds one iteration's per-lane sums.
type laneSums struct {
	mean, inv, it2, bx, by, e2 [lanes]float32
}

// track runs trackPoint on every point of the group at once: q holds each
// lane's start and gets its end, res its normalised residual and ok
// whether it converged inside g (trackPoint's three results). buf is
// scratch of at least lanes·(2r+1)² floats.
func (lg *laneGroup) track(g *raster.Gray, q *[lanes][2]float32, res *[lanes]float32, ok *[lanes]bool, buf []float32) {
	r := lg.r
	m := (2*r + 1) * (2*r + 1)
	buf = buf[:lanes*m]
	var active [lanes]bool
	var rms [lanes]float32
	live := len(lg.pts)
	for l := range lg.pts {
		active[l] = true
	}
	var s laneSums
	for it := 0; it < 12 && live > 0; it++ {
		for l := range lg.pts {
			if active[l] && !sampleLane(g, q[l][0], q[l][1], r, buf, l) {
				active[l], res[l], ok[l] = false, 1, false
				live--
			}
		}
		if live == 0 {
			break
		}
		laneMean(buf, m, &s.mean)
		for l := range s.mean {
			s.mean[l] /= float32(m)
		}
		laneDot(buf, lg.t, m, &s.mean, &s.it2)
		for l := range s.inv {
			gain := float32(1)
			if it2, t2 := s.it2[l], lg.t2[l]; it2 > 0 && t2 > 0 {
				gain = it2 / t2
			}
			s.inv[l] = 1 / gain
		}
		laneResid(buf, lg.t, lg.gx, lg.gy, m, &s)
		for l := range lg.pts {
			if !active[l] {
				continue
			}
			bx, by := s.bx[l], s.by[l]
			rms[l] = float32(math.Sqrt(float64(s.e2[l] / (lg.t2[l] + 1e-6))))
			dx := lg.h00[l]*bx + lg.h01[l]*by
			dy := lg.h01[l]*bx + lg.h11[l]*by
			q[l][0] -= dx
			q[l][1] -= dy
			switch {
			case dx*dx+dy*dy < 1e-4:
				active[l], res[l], ok[l] = false, rms[l], true
				live--
			case dx*dx+dy*dy > 100:
				active[l], res[l], ok[l] = false, 1, false
				live--
			}
		}
	}
	for l := range lg.pts {
		if active[l] {
			res[l], ok[l] = rms[l], true
		}
	}
}

// laneMeanGo sets sum[l] to the sum of lane l of b's first m elements, in
// element order (laneMean's reference).
func laneMeanGo(b []float32, m int, sum *[lanes]float32) {
	var s [lanes]float32
	for i := 0; i < m; i++ {
		v := b[lanes*i : lanes*i+lanes : lanes*i+lanes]
		for l := range s {
			s[l] += v[l]
		}
	}
	*sum = s
}

// laneDotGo sets it2[l] to Σ (b−mean)·t over lane l (laneDot's reference).
func laneDotGo(b, t []float32, m int, mean, it2 *[lanes]float32) {
	var s [lanes]float32
	for i := 0; i < m; i++ {
		v := b[lanes*i : lanes*i+lanes : lanes*i+lanes]
		tt := t[lanes*i : lanes*i+lanes : lanes*i+lanes]
		for l := range s {
			s[l] += (v[l] - mean[l]) * tt[l]
		}
	}
	*it2 = s
}

// laneResidGo sets s.bx, s.by and s.e2 from the residuals
// e = (b−mean)·inv − t (laneResid's reference).
func laneResidGo(b, t, gx, gy []float32, m int, s *laneSums) {
	var bx, by, e2 [lanes]float32
	for i := 0; i < m; i++ {
		k := lanes * i
		v, tt := b[k:k+lanes:k+lanes], t[k:k+lanes:k+lanes]
		x, y := gx[k:k+lanes:k+lanes], gy[k:k+lanes:k+lanes]
		for l := range bx {
			e := (v[l]-s.mean[l])*s.inv[l] - tt[l]
			bx[l] += x[l] * e
			by[l] += y[l] * e
			e2[l] += e * e
		}
	}
	s.bx, s.by, s.e2 = bx, by, e2
}
