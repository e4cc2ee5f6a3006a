package synth

import (
	"fmt"
	"math"
	"slices"

	"github.com/tell-project/tell/face"
)

// Neutralising a portrait.
//
// The astronaut smiles broadly (lips parted over the teeth, corners pulled up
// and out, lower lids pushed up by the cheeks), so a clip that starts from
// her portrait starts from AU6+12+25, not from a neutral face. Neutralize
// bends a portrait towards neutral with rules written from facial
// anthropometry, not from package au or synth's AU fields:
//
//   - lips: where the inner lips are apart, the upper lip is brought down and
//     the lower lip up to meet on the line midway (the teeth disappear); the
//     skin above and below follows with a Gaussian falloff (σ 0.2 IOD);
//   - mouth corners: a relaxed mouth is about 0.83 times as wide as the
//     distance between the pupils (Farkas' norms: cheilion–cheilion ≈ 50 mm,
//     pupil distance ≈ 60 mm), and its corners lie on the line where the lips
//     meet; corners wider or higher are moved there, never outwards or up;
//   - lower lids: a relaxed palpebral fissure is about 0.16 IOD high (≈ 10 mm
//     of ≈ 60 mm); a narrower eye has its lower lid lowered to that;
//   - everything else (face contour, brows, nose, upper lids, eye corners,
//     the middle of the lips, a ring around the face) is pinned, and a
//     thin-plate spline through the moved and pinned points bends the skin
//     between them (cheeks, nasolabial region) smoothly.
//
// The landmarks of the neutral face are the portrait's landmarks carried
// through the same maps. The result is checked by eye (TELL_SYNTH_PNG, see
// the tests) and by measurement (landmarks re-detected on the neutral image).

// NeutralInfo reports what Neutralize moved, in source pixels.
type NeutralInfo struct {
	// LipGap is the largest opening between the inner lips that was closed.
	LipGap float64
	// Corner is how far each mouth corner moved (subject's right, left):
	// along the eye line (positive towards the image's right) and down.
	Corner [2][2]float64
	// Lid is how far each lower lid was lowered (right, left).
	Lid [2]float64
	IOD float64
}

func (n NeutralInfo) String() string {
	return fmt.Sprintf("lip gap closed %.1f px; corners moved (%.1f, %.1f) and (%.1f, %.1f) px; lower lids lowered %.1f and %.1f px (IOD %.1f px)",
		n.LipGap, n.Corner[0][0], n.Corner[0][1], n.Corner[1][0], n.Corner[1][1], n.Lid[0], n.Lid[1], n.IOD)
}

// Anthropometric targets of a relaxed face, in IOD units.
const (
	neutralMouthWidth = 0.83 // cheilion–cheilion / pupil distance
	neutralFissure    = 0.16 // palpebral fissure height / pupil distance
	lipFalloff        = 0.2  // σ of the skin following the lips when they close
	cheekFollow       = 0.5  // share of the corner's move the cheeks follow
	neutralUpperLip   = 0.13 // upper lip's red part / pupil distance
)

// curve is a polyline y(x) through points sorted by x, in face-axis pixels.
type curve [][2]float64

func (c curve) at(x float64) float64 {
	if x <= c[0][0] {
		return c[0][1]
	}
	for i := 1; i < len(c); i++ {
		if x <= c[i][0] {
			a, b := c[i-1], c[i]
			if b[0] == a[0] {
				return b[1]
			}
			return a[1] + (b[1]-a[1])*(x-a[0])/(b[0]-a[0])
		}
	}
	return c[len(c)-1][1]
}

// axes converts between image pixels and face-axis pixels: x along the eye
// line, y perpendicular (down), origin at the eyes' midpoint, unscaled.
type axes struct {
	ox, oy float64
	ex, ey [2]float64
	iod    float64
}

func axesOf(lm *[68][2]float32) axes {
	ff := frameOf(lm)
	l, r := face.EyeCentres(lm)
	return axes{ox: (l[0] + r[0]) / 2, oy: (l[1] + r[1]) / 2, ex: ff.ex, ey: ff.ey, iod: ff.iod}
}

func (a axes) toFace(x, y float64) (float64, float64) {
	dx, dy := x-a.ox, y-a.oy
	return dx*a.ex[0] + dy*a.ex[1], dx*a.ey[0] + dy*a.ey[1]
}

func (a axes) toImage(X, Y float64) (float64, float64) {
	return a.ox + X*a.ex[0] + Y*a.ey[0], a.oy + X*a.ex[1] + Y*a.ey[1]
}

// lipClosure maps the closed-mouth picture back to the portrait: above the
// meeting line the portrait is sampled up(x) higher, below it down(x)
// lower, with the offset fading with distance from the line. The meeting
// line is the landmarks' midline between the inner lips, so that a gap
// that reaches higher at the corners (a smile's) closes onto a level line.
type lipClosure struct {
	ax       axes
	meet     curve // where the lips meet, face axes
	up, down curve // the gap's extent above and below the line (≥ 0)
	x0       float64
	x1       float64
	sigma    float64
}

func newLipClosure(f *Face, ax axes) lipClosure {
	lm := &f.LM
	pt := func(i int) [2]float64 {
		X, Y := ax.toFace(float64(lm[i][0]), float64(lm[i][1]))
		return [2]float64{X, Y}
	}
	upper := curve{pt(60), pt(61), pt(62), pt(63), pt(64)}
	lower := curve{pt(60), pt(67), pt(66), pt(65), pt(64)}
	// dlib's inner-lip points are sparse and sit on the lips, while a
	// parted smile's gap keeps nearly its full height until close to the
	// corners (a crescent), which straight lines from the inner corners to
	// points 61/63 miss. So the gap is the largest of: those lines; a
	// superellipse (1-|t|³)^(1/3) through the middle gap, reaching 5 px
	// beyond the inner corners; and the dark pixels (the mouth's corners,
	// where the cheeks' inside shows) found along each column from the
	// meeting line. Teeth are left to the first two: their highlights look
	// like the lips' own.
	x0, x1 := upper[0][0]-5, upper[len(upper)-1][0]+5
	xm := (x0 + x1) / 2
	hMid := math.Max(0, (lower.at(xm)-upper.at(xm))/2)
	lc := lipClosure{ax: ax, x0: x0, x1: x1, sigma: lipFalloff * ax.iod}
	dark := func(X, Y float64) bool {
		x, y := ax.toImage(X, Y)
		r := float64(cubic(f.R, f.W, f.H, x, y))
		g := float64(cubic(f.G, f.W, f.H, x, y))
		b := float64(cubic(f.B, f.W, f.H, x, y))
		return 0.299*r+0.587*g+0.114*b < 115
	}
	const step = 0.5
	reach := 0.2 * ax.iod
	n := int((x1 - x0) / step)
	tops, bots, mids := make([]float64, n+1), make([]float64, n+1), make([]float64, n+1)
	for k := range tops {
		X := x0 + float64(k)*step
		u, l := upper.at(X), lower.at(X)
		m := (u + l) / 2
		t := math.Abs(X-xm) / (xm - x0)
		h := math.Max((l-u)/2, hMid*math.Cbrt(math.Max(0, 1-t*t*t)))
		top, bot := m-h, m+h
		// A closed mouth's lips meet on a dark line too: dark runs count
		// only when the landmarks say the lips are apart.
		for _, dir := range []float64{-1, 1} {
			if hMid < 0.5 {
				break
			}
			// The dark run nearest the meeting line (within 2 px of it).
			var y0 float64
			found := false
			for d := 0.0; d <= 2; d += step {
				if dark(X, m+dir*d) {
					y0, found = m+dir*d, true
					break
				}
			}
			if !found {
				continue
			}
			for dark(X, y0+dir*step) && math.Abs(y0+dir*step-m) < reach {
				y0 += dir * step
			}
			if dir < 0 {
				top = math.Min(top, y0-0.5)
			} else {
				bot = math.Max(bot, y0+0.5)
			}
		}
		tops[k], bots[k], mids[k] = top, bot, m
	}
	// The gap's edges are lip contours: smooth them along the mouth.
	tops, bots, mids = smoothRun(tops, 5, 5), smoothRun(bots, 5, 5), smoothRun(mids, 1, 5)
	// Closing stops without a seam: the gap fades to zero over the last
	// 2 px at each end.
	for k := range tops {
		X := x0 + float64(k)*step
		m := mids[k]
		w := math.Min(1, math.Min(X-x0, x1-X)/2)
		w = w * w * (3 - 2*w)
		lc.meet = append(lc.meet, [2]float64{X, m})
		lc.up = append(lc.up, [2]float64{X, w * math.Max(0, m-tops[k])})
		lc.down = append(lc.down, [2]float64{X, w * math.Max(0, bots[k]-m)})
	}
	return lc
}

// offset is how far (face-axis px, along y) the portrait is sampled from the
// closed picture's point (X, Y).
func (lc *lipClosure) offset(X, Y float64) float64 {
	if X <= lc.x0 || X >= lc.x1 {
		return 0
	}
	d := (Y - lc.meet.at(X)) / lc.sigma
	g := math.Exp(-d * d / 2)
	if d < 0 {
		return -lc.up.at(X) * g
	}
	return lc.down.at(X) * g
}

// toPortrait maps a point of the closed picture (image px) to the portrait.
func (lc *lipClosure) toPortrait(x, y float64) (float64, float64) {
	X, Y := lc.ax.toFace(x, y)
	return lc.ax.toImage(X, Y+lc.offset(X, Y))
}

// fromPortrait is the inverse of toPortrait for a portrait point off the
// gap; points inside the gap (the teeth) go to the meeting line.
func (lc *lipClosure) fromPortrait(x, y float64) (float64, float64) {
	X, Y := lc.ax.toFace(x, y)
	if X > lc.x0 && X < lc.x1 {
		m := lc.meet.at(X)
		if Y >= m-lc.up.at(X) && Y <= m+lc.down.at(X) {
			return lc.ax.toImage(X, m)
		}
	}
	// Y = K + offset(K): fixed point, contracting since the offset's slope
	// is below gap/σ·0.61 < 1.
	K := Y
	for i := 0; i < 50; i++ {
		next := Y - lc.offset(X, K)
		if math.Abs(next-K) < 1e-6 {
			K = next
			break
		}
		K = next
	}
	return lc.ax.toImage(X, K)
}

// Neutralize returns a neutral version of f (see the comment above) and
// what it moved. A face that is already neutral by these rules comes back
// unchanged.
func Neutralize(f *Face) (*Face, NeutralInfo, error) {
	ax := axesOf(&f.LM)
	info := NeutralInfo{IOD: ax.iod}
	lc := newLipClosure(f, ax)
	for k := range lc.up {
		info.LipGap = math.Max(info.LipGap, lc.up[k][1]+lc.down[k][1])
	}
	// Landmarks in the closed picture.
	var closed [68][2]float64
	for i, p := range f.LM {
		closed[i][0], closed[i][1] = lc.fromPortrait(float64(p[0]), float64(p[1]))
	}
	face := func(i int) (float64, float64) { return ax.toFace(closed[i][0], closed[i][1]) }

	// Control points: neutral position → closed-picture position.
	var src, dst [][2]float64
	move := func(i int, X, Y float64) {
		x, y := ax.toImage(X, Y)
		src = append(src, [2]float64{x, y})
		dst = append(dst, closed[i])
	}
	// addMove moves a skin point that is not a landmark, face axes.
	addMove := func(X, Y, nX, nY float64) {
		x, y := ax.toImage(X, Y)
		nx, ny := ax.toImage(nX, nY)
		src = append(src, [2]float64{nx, ny})
		dst = append(dst, [2]float64{x, y})
	}
	pin := func(i int) {
		src = append(src, closed[i])
		dst = append(dst, closed[i])
	}
	for _, i := range []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
		17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35,
		36, 37, 38, 39, 42, 43, 44, 45} {
		pin(i)
	}
	// Mouth: narrower about its centre and brought down to the lips'
	// meeting line at the corners; every mouth point moves with it, so the
	// lips keep their thickness and the lip line straightens.
	rX, rY := face(48)
	lX, lY := face(54)
	midX := (rX + lX) / 2
	sx := math.Min(1, neutralMouthWidth*ax.iod/(lX-rX))
	meetY := lc.meet.at(midX)
	tr, tl := math.Max(rY, meetY), math.Max(lY, meetY) // corners never go up
	newMeet := func(X float64) float64 {
		t := (X - (midX + sx*(rX-midX))) / (sx * (lX - rX))
		t = math.Min(1, math.Max(0, t))
		// Corners at tr, tl, the middle where the lips meet now; a parabola
		// through the three.
		a := (1-t)*tr + t*tl
		return a + (meetY-(tr+tl)/2)*4*t*(1-t)
	}
	// A smile stretches the upper lip thin; relaxed, its red part is about
	// neutralUpperLip high (Farkas: labrale superius–stomion ≈ 8 mm of a
	// ≈ 60 mm pupil distance). A thinner upper lip is thickened upwards,
	// most in the middle, not at all at the corners.
	_, topY := face(51)
	thick := math.Max(0, neutralUpperLip*ax.iod-(meetY-topY))
	for i := 48; i < 68; i++ {
		X, Y := face(i)
		nX := midX + sx*(X-midX)
		nY := Y + newMeet(nX) - lc.meet.at(X)
		if i >= 49 && i <= 53 {
			t := (X - midX) / ((lX - rX) / 2)
			nY -= thick * math.Max(0, 1-t*t)
		}
		move(i, nX, nY)
	}
	info.Corner[0] = [2]float64{sx*(rX-midX) + midX - rX, tr - rY}
	info.Corner[1] = [2]float64{sx*(lX-midX) + midX - lX, tl - lY}
	// Cheeks: the skin a smile pushes up and out (the apple of the cheek
	// under the eye, the nasolabial region beside the nose wing) comes down
	// and in with the corner, by cheekFollow of its move.
	for k, c := range []struct {
		lid          [2]int
		wing, corner int
	}{{[2]int{40, 41}, 31, 48}, {[2]int{46, 47}, 35, 54}} {
		d := info.Corner[k]
		l0X, l0Y := face(c.lid[0])
		l1X, l1Y := face(c.lid[1])
		cX, cY := (l0X+l1X)/2, (l0Y+l1Y)/2+0.35*ax.iod
		addMove(cX, cY, cX+cheekFollow*d[0]/2, cY+cheekFollow*d[1])
		wX, wY := face(c.wing)
		kX, kY := face(c.corner)
		nX, nY := (wX+kX)/2+0.1*ax.iod*(kX-midX)/math.Abs(kX-midX), (wY+kY)/2
		addMove(nX, nY, nX+cheekFollow*d[0], nY+cheekFollow*d[1])
	}
	// Lower lids: down to a relaxed fissure height.
	for k, e := range []struct{ up, low [2]int }{{[2]int{37, 38}, [2]int{41, 40}}, {[2]int{43, 44}, [2]int{47, 46}}} {
		_, u0 := face(e.up[0])
		_, u1 := face(e.up[1])
		_, l0 := face(e.low[0])
		_, l1 := face(e.low[1])
		gap := (l0 + l1 - u0 - u1) / 2
		d := math.Max(0, neutralFissure*ax.iod-gap)
		info.Lid[k] = d
		for _, i := range e.low {
			X, Y := face(i)
			move(i, X, Y+d)
		}
	}
	// A ring around the face, pinned, so that the bending stays local.
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range f.LM {
		minX, maxX = math.Min(minX, float64(p[0])), math.Max(maxX, float64(p[0]))
		minY, maxY = math.Min(minY, float64(p[1])), math.Max(maxY, float64(p[1]))
	}
	m := 0.5 * ax.iod
	x0, y0, x1, y1 := minX-m, minY-m, maxX+m, maxY+m
	for k := 0; k < 8; k++ {
		t := float64(k) / 8
		// Each side from one corner to just before the next.
		for _, p := range [][2]float64{{x0 + t*(x1-x0), y0}, {x1, y0 + t*(y1-y0)}, {x1 - t*(x1-x0), y1}, {x0, y1 - t*(y1-y0)}} {
			src = append(src, p)
			dst = append(dst, p)
		}
	}
	sp, err := fitTPS(src, dst)
	if err != nil {
		return nil, info, err
	}
	// Render: neutral pixel → closed picture (spline) → portrait (lips).
	out := &Face{W: f.W, H: f.H, R: append([]float32(nil), f.R...), G: append([]float32(nil), f.G...), B: append([]float32(nil), f.B...)}
	planes := [3][]float32{f.R, f.G, f.B}
	dsts := [3][]float32{out.R, out.G, out.B}
	bx0, by0 := max(0, int(x0)), max(0, int(y0))
	bx1, by1 := min(f.W, int(x1)+1), min(f.H, int(y1)+1)
	for y := by0; y < by1; y++ {
		for x := bx0; x < bx1; x++ {
			kx, ky := sp.at(float64(x), float64(y))
			sx, sy := lc.toPortrait(kx, ky)
			for c := 0; c < 3; c++ {
				dsts[c][y*f.W+x] = cubic(planes[c], f.W, f.H, sx, sy)
			}
		}
	}
	// Landmarks: invert the spline from the closed-picture positions.
	for i := range f.LM {
		x, y := invert2(sp.at, closed[i][0], closed[i][1])
		out.LM[i] = [2]float32{float32(x), float32(y)}
	}
	return out, info, nil
}

// invert2 finds p with f(p) = (tx, ty) by Newton's method with a numerical
// Jacobian, starting at the target (the maps here are near the identity).
func invert2(f func(x, y float64) (float64, float64), tx, ty float64) (float64, float64) {
	x, y := tx, ty
	const h = 1e-3
	for it := 0; it < 30; it++ {
		fx, fy := f(x, y)
		rx, ry := fx-tx, fy-ty
		if rx*rx+ry*ry < 1e-12 {
			break
		}
		ax, ay := f(x+h, y)
		bx, by := f(x, y+h)
		j00, j10 := (ax-fx)/h, (ay-fy)/h
		j01, j11 := (bx-fx)/h, (by-fy)/h
		det := j00*j11 - j01*j10
		if math.Abs(det) < 1e-9 {
			break
		}
		x -= (j11*rx - j01*ry) / det
		y -= (-j10*rx + j00*ry) / det
	}
	return x, y
}

// cubic samples a plane at (x, y) with Catmull-Rom interpolation (sharper
// than bilinear, so that the neutral face is not softened), replicate
// padding, clamped to 0..255.
func cubic(p []float32, w, h int, x, y float64) float32 {
	xf, yf := math.Floor(x), math.Floor(y)
	ix, iy := int(xf), int(yf)
	tx, ty := x-xf, y-yf
	var wx, wy [4]float64
	catmullRom(tx, &wx)
	catmullRom(ty, &wy)
	var v float64
	for j := 0; j < 4; j++ {
		yy := min(max(iy+j-1, 0), h-1)
		var row float64
		for i := 0; i < 4; i++ {
			xx := min(max(ix+i-1, 0), w-1)
			row += wx[i] * float64(p[yy*w+xx])
		}
		v += wy[j] * row
	}
	return float32(math.Min(255, math.Max(0, v)))
}

func catmullRom(t float64, w *[4]float64) {
	t2, t3 := t*t, t*t*t
	w[0] = 0.5 * (-t3 + 2*t2 - t)
	w[1] = 0.5 * (3*t3 - 5*t2 + 2)
	w[2] = 0.5 * (-3*t3 + 4*t2 + t)
	w[3] = 0.5 * (t3 - t2)
}

// smoothRun is a running median of width med followed by a running mean of
// width mean (odd widths, shrinking at the ends).
func smoothRun(v []float64, med, mean int) []float64 {
	a := make([]float64, len(v))
	w := make([]float64, 0, med)
	for i := range v {
		w = w[:0]
		for j := max(0, i-med/2); j <= min(len(v)-1, i+med/2); j++ {
			w = append(w, v[j])
		}
		slices.Sort(w)
		a[i] = w[len(w)/2]
	}
	b := make([]float64, len(v))
	for i := range a {
		var s float64
		n := 0
		for j := max(0, i-mean/2); j <= min(len(a)-1, i+mean/2); j++ {
			s += a[j]
			n++
		}
		b[i] = s / float64(n)
	}
	return b
}
