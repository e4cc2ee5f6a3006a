package gaze_test

import (
	"fmt"
	"math"
	"sort"

	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/raster"
)

// A renderer of eyes looking in a known direction, built apart from the
// estimator: it shares only the head pose (face.EstimatePose) with it. It
// replaces the eye openings of a real photograph with a ray-traced model
// eye: a sclera sphere of radius scleraR, a flat iris disc of radius 6 mm
// (pupil 2 mm) at irisDist from the centre, perpendicular to the gaze; the
// eyeball's centre lies on the camera ray through the photograph's own
// iris (found as the centroid of the eye opening's dark pixels, not by the
// iris model), depth mm behind the eye's lid points, so that the gaze
// "into the camera" reproduces the photograph.

type eyeModel struct {
	scleraR, irisDist, depth float64
}

// renderer holds one photograph and the geometry of its two eyes.
type renderer struct {
	img    *raster.RGB
	cam    face.Camera
	lm     [68][2]float32
	m      eyeModel
	centre [2][3]float64 // eyeball centres, camera mm, subject's right eye first
	rest   [2][3]float64 // gaze into the camera of each eye
	sclera [3]float64    // colours sampled from the photograph
	iris   [3]float64
}

var eyePts = [2][6]int{{36, 37, 38, 39, 40, 41}, {42, 43, 44, 45, 46, 47}}

func newRenderer(img *raster.RGB, lm [68][2]float32, m eyeModel) (*renderer, error) {
	r := &renderer{img: img, cam: face.DefaultCamera(img.W, img.H), lm: lm, m: m}
	var s face.Shape
	for i, p := range lm {
		s[i] = face.Point{X: float64(p[0]), Y: float64(p[1])}
	}
	pose, err := face.EstimatePose(&s, r.cam)
	if err != nil {
		return nil, err
	}
	R := pose.Rotation()
	var dark, bright [][3]float64
	for k := range r.centre {
		// The photograph's iris: centroid of the darkest 25% of the eye
		// opening's pixels.
		var px [][3]float64 // x, y, grey
		x0, y0, x1, y1 := r.openingBounds(k)
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				if r.inOpening(k, float64(x)+0.5, float64(y)+0.5) {
					p := img.Pix[y*img.Stride+3*x:]
					px = append(px, [3]float64{float64(x) + 0.5, float64(y) + 0.5, (float64(p[0]) + float64(p[1]) + float64(p[2])) / 3})
				}
			}
		}
		if len(px) < 8 {
			return nil, fmt.Errorf("eye %d: opening of %d pixels", k, len(px))
		}
		sort.Slice(px, func(i, j int) bool { return px[i][2] < px[j][2] })
		var u, v float64
		q := len(px) / 4
		for _, p := range px[:q] {
			u += p[0] / float64(q)
			v += p[1] / float64(q)
			c := img.Pix[int(p[1])*img.Stride+3*int(p[0]):]
			dark = append(dark, [3]float64{float64(c[0]), float64(c[1]), float64(c[2])})
		}
		for _, p := range px[len(px)*4/5:] {
			c := img.Pix[int(p[1])*img.Stride+3*int(p[0]):]
			bright = append(bright, [3]float64{float64(c[0]), float64(c[1]), float64(c[2])})
		}
		// Depth of the lid points in the camera frame.
		var mz float64
		for _, i := range eyePts[k] {
			mm := face.MeanFace3D()[i]
			mz += (R[2][0]*mm[0] + R[2][1]*mm[1] + R[2][2]*mm[2] + pose.Tz) / 6
		}
		z := mz + m.depth
		ray := [3]float64{(u - r.cam.Cx) / r.cam.Fx, (v - r.cam.Cy) / r.cam.Fy, 1}
		// The iris centre sits irisDist in front of the centre along the
		// gaze into the camera; place the centre on the ray through the
		// photograph's iris at depth z (the iris then projects onto it).
		r.centre[k] = [3]float64{ray[0] * z, ray[1] * z, z}
		n := norm(r.centre[k])
		r.rest[k] = [3]float64{-r.centre[k][0] / n, -r.centre[k][1] / n, -r.centre[k][2] / n}
	}
	r.iris = meanColour(dark)
	r.sclera = meanColour(bright)
	return r, nil
}

func meanColour(cs [][3]float64) [3]float64 {
	var m [3]float64
	for _, c := range cs {
		for i := range m {
			m[i] += c[i] / float64(len(cs))
		}
	}
	return m
}

func norm(v [3]float64) float64 { return math.Sqrt(v[0]*v[0] + v[1]*v[1] + v[2]*v[2]) }

// openingBounds is the pixel box of eye k's lid polygon.
func (r *renderer) openingBounds(k int) (x0, y0, x1, y1 int) {
	x0, y0, x1, y1 = r.img.W, r.img.H, 0, 0
	for _, i := range eyePts[k] {
		x0 = min(x0, int(r.lm[i][0]))
		y0 = min(y0, int(r.lm[i][1]))
		x1 = max(x1, int(r.lm[i][0])+1)
		y1 = max(y1, int(r.lm[i][1])+1)
	}
	return max(x0, 0), max(y0, 0), min(x1, r.img.W-1), min(y1, r.img.H-1)
}

// inOpening reports whether (x, y) lies inside eye k's lid polygon (the
// six landmarks in order round the eye).
func (r *renderer) inOpening(k int, x, y float64) bool {
	in := false
	pts := eyePts[k]
	for i := range pts {
		a, b := r.lm[pts[i]], r.lm[pts[(i+1)%len(pts)]]
		ax, ay, bx, by := float64(a[0]), float64(a[1]), float64(b[0]), float64(b[1])
		if (ay > y) != (by > y) && x < (bx-ax)*(y-ay)/(by-ay)+ax {
			in = !in
		}
	}
	return in
}

// turn returns the rest gaze of eye k turned by yaw (about the camera's y
// axis, positive towards the image's right) and pitch (about its x axis,
// positive down), degrees.
func (r *renderer) turn(k int, yaw, pitch float64) [3]float64 {
	g := r.rest[k]
	sy, cy := math.Sincos(yaw * math.Pi / 180)
	g = [3]float64{cy*g[0] - sy*g[2], g[1], sy*g[0] + cy*g[2]}
	sp, cp := math.Sincos(pitch * math.Pi / 180)
	return [3]float64{g[0], cp*g[1] - sp*g[2], sp*g[1] + cp*g[2]}
}

// render returns the photograph with both eyes looking along gaze[k],
// 3×3 samples per pixel.
func (r *renderer) render(gaze [2][3]float64) *raster.RGB {
	out := &raster.RGB{W: r.img.W, H: r.img.H, Stride: r.img.Stride, Pix: append([]uint8(nil), r.img.Pix...)}
	for k := range gaze {
		x0, y0, x1, y1 := r.openingBounds(k)
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				var acc [3]float64
				n := 0
				for sy := 0; sy < 3; sy++ {
					for sx := 0; sx < 3; sx++ {
						px, py := float64(x)+(float64(sx)+0.5)/3, float64(y)+(float64(sy)+0.5)/3
						if !r.inOpening(k, px, py) {
							continue
						}
						c := r.shade(k, gaze[k], px, py)
						for i := range acc {
							acc[i] += c[i]
						}
						n++
					}
				}
				if n == 0 {
					continue
				}
				p := out.Pix[y*out.Stride+3*x:]
				a := float64(n) / 9
				for i := range acc {
					v := float64(p[i])*(1-a) + acc[i]/float64(n)*a
					p[i] = uint8(math.Min(255, math.Max(0, math.Round(v))))
				}
			}
		}
	}
	return out
}

// shade is the colour of the model eye k looking along g seen through
// pixel (x, y).
func (r *renderer) shade(k int, g [3]float64, x, y float64) [3]float64 {
	d := [3]float64{(x - r.cam.Cx) / r.cam.Fx, (y - r.cam.Cy) / r.cam.Fy, 1}
	dn := norm(d)
	for i := range d {
		d[i] /= dn
	}
	c := r.centre[k]
	// Iris plane: points p with (p − c)·g = irisDist.
	dg := d[0]*g[0] + d[1]*g[1] + d[2]*g[2]
	cg := c[0]*g[0] + c[1]*g[1] + c[2]*g[2]
	if dg < 0 { // the plane faces the camera
		t := (cg + r.m.irisDist) / dg
		var off [3]float64
		for i := range off {
			off[i] = t*d[i] - c[i] - r.m.irisDist*g[i]
		}
		if rho := norm(off); rho < 6 {
			if rho < 2 {
				return [3]float64{15, 12, 12}
			}
			// Radial fibres and a darker limbus.
			ang := math.Atan2(off[1], off[0])
			f := 0.85 + 0.15*math.Sin(23*ang) - 0.35*math.Max(0, rho-5)
			return [3]float64{r.iris[0] * f, r.iris[1] * f, r.iris[2] * f}
		}
	}
	// Sclera sphere, lit from the camera.
	dc := d[0]*c[0] + d[1]*c[1] + d[2]*c[2]
	disc := dc*dc - (norm(c)*norm(c) - r.m.scleraR*r.m.scleraR)
	if disc < 0 {
		return [3]float64{r.sclera[0] * 0.45, r.sclera[1] * 0.35, r.sclera[2] * 0.35}
	}
	t := dc - math.Sqrt(disc)
	var nrm [3]float64
	for i := range nrm {
		nrm[i] = (t*d[i] - c[i]) / r.m.scleraR
	}
	lit := 0.55 + 0.45*math.Max(0, -(nrm[0]*d[0]+nrm[1]*d[1]+nrm[2]*d[2]))
	return [3]float64{r.sclera[0] * lit, r.sclera[1] * lit, r.sclera[2] * lit}
}
