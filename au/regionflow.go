package au

import (
	"context"
	"fmt"
	"math"

	"github.com/tell-project/tell/flow"
	"github.com/tell-project/tell/raster"
)

// FlowSize is the side, in pixels, of the aligned face crop on which the
// dense-flow evidence is computed: 96 px puts 40 px between the eyes. At
// 64 px the flow of the lip corners was too smoothed to tell AU20 from
// its look-alikes on the development clips; at 96 px it separates them.
const FlowSize = 96

// flowRadius is the radius (crop px at FlowSize) of the disc around each
// tracked point over which the dense flow and strain are averaged: about
// 0.08 IOD, the scale of the LK windows.
const flowRadius = 3

// regionFlow measures the AUs a second time, from dense TV-L1 optical flow
// between the aligned neutral crop and the aligned current crop: each
// point's displacement is the mean flow over a small disc around it (its
// landmark-defined region), the rigid part left after alignment is removed
// by a similarity fitted on the stable points, and the displacements go
// through the same AU basis and non-negative solver as the LK geometry.
// Each AU also gets the mean optical strain over its points' discs.
type regionFlow struct {
	size     int
	tv       *flow.TVL1
	ref, cur *raster.Gray
	fld      *flow.Field
	strain   []float32
	centre   [2]float64 // reference face centre, frame px
	step     float64    // reference frame px per crop px
	pos      [][2]float64
	disc     [][]int32 // per point: pixel indices of its disc
	sol      *solver
	resid, w []float64
	m        Measurement // flow-only AU estimate of the last computation
	auStrain []float32   // per AU: mean optical strain over its points' discs
	ps       []float64   // per point: mean strain over its disc
	auPts    [][]int     // per AU: the points of its movement, both sides
	refMean  float32
	refStd   float32
	src, dst [][2]float64
	wts      []float64
	axes     []float64 // sample's per-column x, per-column y, then per-row (x, y) offsets
	args     cropArgs  // sample's row arguments to its kernel
}

// newRegionFlow prepares the flow measurer for a reference frame whose
// face geometry e already holds.
func newRegionFlow(e *Estimator, ref *raster.Gray, size int) (*regionFlow, error) {
	p := flow.Fast()
	p.Workers = 1 // pairs are tiny; a single goroutine wastes nothing on sync
	tv, err := flow.NewTVL1(p)
	if err != nil {
		return nil, fmt.Errorf("au: flow: %w", err)
	}
	rf := &regionFlow{size: size, tv: tv, ref: raster.NewGray(size, size), cur: raster.NewGray(size, size), fld: flow.NewField(size, size), strain: make([]float32, size*size)}
	for _, i := range []int{36, 39, 42, 45, 48, 54} {
		rf.centre[0] += e.refPts[i][0] / 6
		rf.centre[1] += e.refPts[i][1] / 6
	}
	rf.step = 2.4 * e.iod / float64(size)
	rf.sample(e, ref, similarity{a: 1})
	rf.refMean, rf.refStd = meanStd(rf.ref.Pix)
	rf.pos = make([][2]float64, numPoints)
	rf.disc = make([][]int32, numPoints)
	for i, p := range e.refPts {
		dx, dy := p[0]-rf.centre[0], p[1]-rf.centre[1]
		u := (dx*e.ex[0]+dy*e.ex[1])/rf.step + float64(size)/2 - 0.5
		v := (dx*e.ey[0]+dy*e.ey[1])/rf.step + float64(size)/2 - 0.5
		rf.pos[i] = [2]float64{u, v}
		cu, cv := int(math.Round(u)), int(math.Round(v))
		for y := cv - flowRadius; y <= cv+flowRadius; y++ {
			for x := cu - flowRadius; x <= cu+flowRadius; x++ {
				if x < 1 || y < 1 || x >= size-1 || y >= size-1 {
					continue
				}
				if (x-cu)*(x-cu)+(y-cv)*(y-cv) <= flowRadius*flowRadius+1 {
					rf.disc[i] = append(rf.disc[i], int32(y*size+x))
				}
			}
		}
	}
	rf.sol = newSolver(buildBasis())
	rf.resid = make([]float64, 2*numPoints)
	rf.w = make([]float64, 2*numPoints)
	rf.ps = make([]float64, numPoints)
	rf.m = newMeasurement()
	rf.auStrain = make([]float32, NumAUs)
	rf.auPts = make([][]int, NumAUs)
	for k, a := range aus {
		d := auMoves[a]
		seen := map[int]bool{}
		for _, mv := range d.moves {
			for _, p := range []int{mv.pt, mirror[mv.pt]} {
				if (p == mv.pt || d.lateral) && !seen[p] {
					seen[p] = true
					rf.auPts[k] = append(rf.auPts[k], p)
				}
			}
		}
	}
	return rf, nil
}

func meanStd(v []float32) (float32, float32) {
	var s, s2 float64
	for _, x := range v {
		s += float64(x)
		s2 += float64(x) * float64(x)
	}
	n := float64(len(v))
	m := s / n
	return float32(m), float32(math.Sqrt(math.Max(0, s2/n-m*m)))
}

// sample fills rf.cur (or rf.ref for the identity at construction) with
// the crop of frame under the head pose sim: the similarity alignment
// removes the head's rigid motion before the flow is computed.
func (rf *regionFlow) sample(e *Estimator, frame *raster.Gray, sim similarity) {
	dst := rf.cur
	if rf.refStd == 0 {
		dst = rf.ref
	}
	n := rf.size
	if len(rf.axes) != 4*n {
		// The offsets along the reference face axes of every column (ou·ex)
		// and row (ov·ey): fixed for the estimator, and the same products
		// the per-pixel sums below used to form.
		half := float64(n)/2 - 0.5
		rf.axes = make([]float64, 4*n)
		for i := 0; i < n; i++ {
			o := (float64(i) - half) * rf.step
			rf.axes[i], rf.axes[n+i] = o*e.ex[0], o*e.ex[1]
			rf.axes[2*n+2*i], rf.axes[2*n+2*i+1] = o*e.ey[0], o*e.ey[1]
		}
	}
	colx, coly, rows := rf.axes[:n], rf.axes[n:2*n], rf.axes[2*n:4*n]
	a := &rf.args
	asm := a.load(frame, sim, rf.centre[0], rf.centre[1])
	for v := 0; v < n; v++ {
		vy0, vy1 := rows[2*v], rows[2*v+1]
		out := dst.Pix[v*n : v*n+n]
		for u := 0; u < n; {
			if asm && n-u >= 4 {
				// Four pixels at a time while their taps lie inside the
				// frame (Crop's kernel, unrounded); the one that does
				// not, in Go below.
				a.vy0, a.vy1 = splat(vy0), splat(vy1)
				a.uxs, a.uys, a.dst32, a.n = &colx[u], &coly[u], &out[u], n-u
				flowRowAVX2(a)
				if u += a.done; u == n {
					break
				}
			}
			out[u] = headSample(frame, sim, rf.centre[0]+colx[u]+vy0, rf.centre[1]+coly[u]+vy1)
			u++
		}
	}
}

// measure computes the flow from the neutral crop to frame's crop under
// pose sim and fills rf.m and rf.auStrain.
func (rf *regionFlow) measure(e *Estimator, frame *raster.Gray, sim similarity) error {
	rf.sample(e, frame, sim)
	// Match the crop's brightness and contrast to the reference: TV-L1 has
	// no illumination term, and a lighting drift would otherwise read as
	// motion.
	m, sd := meanStd(rf.cur.Pix)
	if sd > 1e-3 && rf.refStd > 1e-3 {
		g := rf.refStd / sd
		for i, v := range rf.cur.Pix {
			rf.cur.Pix[i] = (v-m)*g + rf.refMean
		}
	}
	if err := rf.tv.ComputeInto(context.Background(), rf.ref, rf.cur, rf.fld); err != nil {
		return fmt.Errorf("au: flow: %w", err)
	}
	flow.StrainInto(rf.fld, rf.strain)
	// Mean flow and strain per point.
	flowAt := func(i int) (float64, float64, float64, bool) {
		d := rf.disc[i]
		if len(d) == 0 {
			return 0, 0, 0, false
		}
		var su, sv, ss float64
		for _, j := range d {
			su += float64(rf.fld.U[j])
			sv += float64(rf.fld.V[j])
			ss += float64(rf.strain[j])
		}
		n := float64(len(d))
		return su / n, sv / n, ss / n, true
	}
	// Whatever rigid motion the alignment left (the pose comes from the LK
	// fit) is removed by a similarity fitted on the stable points' flow.
	rf.src, rf.dst, rf.wts = rf.src[:0], rf.dst[:0], rf.wts[:0]
	for _, i := range stablePoints {
		if u, v, _, ok := flowAt(i); ok {
			p := rf.pos[i]
			rf.src = append(rf.src, p)
			rf.dst = append(rf.dst, [2]float64{p[0] + u, p[1] + v})
			rf.wts = append(rf.wts, 1)
		}
	}
	rig := similarity{a: 1}
	if len(rf.src) >= 3 {
		rig = robustSimilarity(rf.src, rf.dst, rf.wts, 0.05)
	}
	// Crop px to canonical px (IOD 100): the crop spans 2.4 IOD.
	k := 240 / float64(rf.size)
	for i := range rf.pos {
		u, v, s, ok := flowAt(i)
		if !ok {
			rf.resid[2*i], rf.resid[2*i+1], rf.w[2*i], rf.w[2*i+1] = 0, 0, 0, 0
			rf.ps[i] = 0
			continue
		}
		p := rf.pos[i]
		rx, ry := rig.apply(p[0], p[1])
		rf.resid[2*i] = (u - (rx - p[0])) * k
		rf.resid[2*i+1] = (v - (ry - p[1])) * k
		rf.w[2*i], rf.w[2*i+1] = 1, 1
		rf.ps[i] = s
	}
	rf.sol.solve(rf.resid, rf.w, &rf.m)
	for k, pts := range rf.auPts {
		var s float64
		for _, p := range pts {
			s += rf.ps[p]
		}
		rf.auStrain[k] = float32(s / float64(len(pts)))
	}
	return nil
}
