// Package gaze estimates where a face looks, in OpenFace's terms: for each
// eye a unit gaze vector in camera coordinates (x right, y down, z away
// from the camera; looking into the camera is about (0, 0, −1)), and the
// two gaze angles of their mean.
//
// The pupils come from MediaPipe's iris landmark model (human-models 3.0.4
// models/iris.json, pinned as models.Iris) run by package tfjs on a 64×64
// crop of each eye, levelled along the eye corners of dlib's 68 landmarks;
// the eye on the image's right is mirrored first (the model reads the
// other; its eye contour fits dlib's eye points better that way). The
// geometry is a model eye in the head: the head pose from the 68 landmarks
// (face.EstimatePose, mean 3-D face), the eyeball's centre of rotation
// EyeDepth millimetres behind the mean of the eye's six landmarks in the
// head's frame, and the visible pupil on a sphere of PupilRadius around
// it. The ray from the camera through the pupil meets that sphere; the gaze
// runs from the centre to that point.
//
// Limits: one mean eye for everyone (no per-person calibration of the
// angle between the visual and optical axes, about 5°, nor of eyeball
// size), and a guessed focal length (face.DefaultCamera) unless one is
// given; the accuracy was measured on synthetic renders (gaze_test.go and
// docs/measured.md), not on a gaze data set. Closed eyes still give a
// gaze (the model finds an iris under the lid). A Net is not safe for
// concurrent use (Clone gives another sharing the weights).
package gaze

import (
	"errors"
	"fmt"
	"math"

	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/models"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/tfjs"
)

// Eye model, millimetres, in the head's frame (face.MeanFace3D()'s).
const (
	// EyeDepth is how far behind the mean of an eye's six landmarks (on
	// the lids, which rest on the cornea) the eyeball turns: the corneal
	// apex is about 13 mm in front of the centre of rotation, the lid
	// margins a few millimetres behind the apex.
	EyeDepth = 10.0
	// PupilRadius is the distance from the centre of rotation to the
	// pupil as seen through the cornea (the entrance pupil, about 3 mm
	// behind the corneal apex).
	PupilRadius = 10.5
)

// CropSize is the side of the iris model's input.
const CropSize = 64

// cropScale is the crop's side in eye widths (corner to corner), as
// MediaPipe frames the eye for this model.
const cropScale = 2.3

// The iris model's outputs are 71 eye-contour points then 5 iris points
// (centre first), each x, y, z in crop pixels, from two heads on a common
// trunk. Only the iris points are read: the Net runs the model pruned to
// irisNode, the iris head's last layer (tfjs.Model.Prune; the contour head
// is 7% of the model's products), whose values are the same.
const (
	irisNode   = "StatefulPartitionedCall/model/conv_iris/BiasAdd"
	numOut     = 3 * 5
	irisCentre = 0
)

// Eye points of dlib's 68: outer and inner corner of each eye, the six
// points of each, the subject's right eye (image left) first.
var eyeCorners = [2][2]int{{36, 39}, {45, 42}}

// Result is the gaze of one face.
type Result struct {
	// Gaze holds OpenFace's gaze_0 and gaze_1: unit vectors in camera
	// coordinates for the eye leftmost in the image (0) and the other (1).
	Gaze [2][3]float64
	// Angle is OpenFace's gaze_angle_x and gaze_angle_y in radians: the
	// mean of the two vectors as atan2(x, −z) and atan2(y, −z) (positive
	// x: towards the image's right; positive y: down).
	Angle [2]float64
	// Pupil is each eye's pupil centre in image pixels, in Gaze's order.
	Pupil [2][2]float64
	// IrisRadius is each eye's iris radius in image pixels.
	IrisRadius [2]float64
	// Pose is the head pose the gaze was found with: face.EstimatePose
	// of the 68 landmarks seen by the camera given to Estimate (a caller
	// that also writes the pose need not estimate it again).
	Pose face.Pose
}

// Net runs the iris model on a face's two eyes.
type Net struct {
	model *tfjs.Model
	run   *tfjs.Runner
	in    []float32
	// Per crop column (u, sx) and row (v, sy) of the samples, the
	// products of toImage's rotation (see Pupils).
	cu, su, sv, cv [CropSize * maxSamples]float64
}

// maxSamples is the most samples per crop pixel and axis.
const maxSamples = 4

// Load reads the pinned iris model from the models folder root.
func Load(root string) (*Net, error) {
	path, err := models.Locate(root, models.Iris())
	if err != nil {
		return nil, err
	}
	m, err := tfjs.LoadGraphModel(path)
	if err != nil {
		return nil, err
	}
	return New(m)
}

// New returns a Net running m (the iris model's graph: models.Iris()).
func New(m *tfjs.Model) (*Net, error) {
	iris, err := m.Prune(irisNode)
	if err != nil {
		return nil, fmt.Errorf("gaze: not the pinned iris model: %w", err)
	}
	r, err := iris.NewRunner([]int{2, CropSize, CropSize, 3})
	if err != nil {
		return nil, fmt.Errorf("gaze: %w", err)
	}
	if s := r.OutputShapes(); len(s) != 1 || len(s[0]) != 4 || s[0][0] != 2 || s[0][3] != numOut {
		return nil, fmt.Errorf("gaze: iris model output shapes %v, want [2 1 1 %d]", s, numOut)
	}
	return &Net{model: m, run: r, in: make([]float32, 2*CropSize*CropSize*3)}, nil
}

// Clone returns another Net sharing the weights.
func (n *Net) Clone() (*Net, error) { return New(n.model) }

// Image is what the eyes are read from: RGB, or grey in all three channels.
type Image struct {
	RGB  *raster.RGB
	Gray *raster.Gray
}

// size is the image's width and height.
func (im Image) size() (int, int) {
	if im.RGB != nil {
		return im.RGB.W, im.RGB.H
	}
	return im.Gray.W, im.Gray.H
}

// byteFloat is float32(i) for each byte i: a load instead of a conversion
// per channel and tap, the same values.
var byteFloat = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i)
	}
	return t
}()

// sample adds the bilinear sample of the image at (x, y) (pixel centres
// at half integers, edges replicated), 0..1, to acc's three channels (a
// grey image's value to all three).
func (im Image) sample(x, y float64, acc *[3]float32) {
	x -= 0.5
	y -= 0.5
	w, h := im.size()
	x0f, y0f := math.Floor(x), math.Floor(y)
	fx, fy := float32(x-x0f), float32(y-y0f)
	x0, y0 := int(x0f), int(y0f)
	x1, y1 := min(max(x0+1, 0), w-1), min(max(y0+1, 0), h-1)
	x0, y0 = min(max(x0, 0), w-1), min(max(y0, 0), h-1)
	w00, w10 := (1-fx)*(1-fy), fx*(1-fy)
	w01, w11 := (1-fx)*fy, fx*fy
	const k = 1.0 / 255
	if im.RGB != nil {
		p := im.RGB.Pix
		r0, r1 := y0*im.RGB.Stride, y1*im.RGB.Stride
		a, b, c, d := p[r0+3*x0:r0+3*x0+3], p[r0+3*x1:r0+3*x1+3], p[r1+3*x0:r1+3*x0+3], p[r1+3*x1:r1+3*x1+3]
		f := &byteFloat
		for ch := range acc {
			acc[ch] += k * (w00*f[a[ch]] + w10*f[b[ch]] + w01*f[c[ch]] + w11*f[d[ch]])
		}
		return
	}
	p := im.Gray.Pix
	r0, r1 := y0*im.Gray.Stride, y1*im.Gray.Stride
	v := k * (w00*p[r0+x0] + w10*p[r0+x1] + w01*p[r1+x0] + w11*p[r1+x1])
	acc[0] += v
	acc[1] += v
	acc[2] += v
}

// cropRGB writes eye frame f's crop of colour image m into in (CropSize²
// pixels, three channels, 0..1) with ss×ss samples a pixel: Pupils' loop
// with samplePos and sample written out for colour, the same operations
// in the same order (so the same values), without a call, a clamp or a
// bounds check per sample where all four taps lie in the image.
func (n *Net) cropRGB(m *raster.RGB, f *eyeFrame, ss int, in []float32) {
	w, h, stride, pix := m.W, m.H, m.Stride, m.Pix
	inv := 1 / float32(ss*ss)
	bf := &byteFloat
	const k = 1.0 / 255
	for v := 0; v < CropSize; v++ {
		for u := 0; u < CropSize; u++ {
			var a0, a1, a2 float32
			for sy := v * ss; sy < (v+1)*ss; sy++ {
				sv, cv := n.sv[sy], n.cv[sy]
				for sx := u * ss; sx < (u+1)*ss; sx++ {
					x := f.cx + f.scale*(n.cu[sx]-sv) - 0.5
					y := f.cy + f.scale*(n.su[sx]+cv) - 0.5
					x0f, y0f := math.Floor(x), math.Floor(y)
					fx, fy := float32(x-x0f), float32(y-y0f)
					x0, y0 := int(x0f), int(y0f)
					x1, y1 := x0+1, y0+1
					if x0 < 0 || y0 < 0 || x1 >= w || y1 >= h {
						x1, y1 = min(max(x1, 0), w-1), min(max(y1, 0), h-1)
						x0, y0 = min(max(x0, 0), w-1), min(max(y0, 0), h-1)
					}
					w00, w10 := (1-fx)*(1-fy), fx*(1-fy)
					w01, w11 := (1-fx)*fy, fx*fy
					r0, r1 := y0*stride, y1*stride
					a := pix[r0+3*x0 : r0+3*x0+3 : r0+3*x0+3]
					b := pix[r0+3*x1 : r0+3*x1+3 : r0+3*x1+3]
					c := pix[r1+3*x0 : r1+3*x0+3 : r1+3*x0+3]
					d := pix[r1+3*x1 : r1+3*x1+3 : r1+3*x1+3]
					a0 += k * (w00*bf[a[0]] + w10*bf[b[0]] + w01*bf[c[0]] + w11*bf[d[0]])
					a1 += k * (w00*bf[a[1]] + w10*bf[b[1]] + w01*bf[c[1]] + w11*bf[d[1]])
					a2 += k * (w00*bf[a[2]] + w10*bf[b[2]] + w01*bf[c[2]] + w11*bf[d[2]])
				}
			}
			o := in[3*(v*CropSize+u) : 3*(v*CropSize+u)+3 : 3*(v*CropSize+u)+3]
			o[0], o[1], o[2] = a0*inv, a1*inv, a2*inv
		}
	}
}

// eyeFrame is the similarity from crop pixels to image pixels of one eye:
// image = centre + scale·(cos, sin; −sin, cos)·(crop − CropSize/2), with
// the crop's x mirrored first when flip.
type eyeFrame struct {
	cx, cy, scale, cos, sin float64
	flip                    bool
}

func (f eyeFrame) toImage(u, v float64) (float64, float64) {
	u -= CropSize / 2
	v -= CropSize / 2
	if f.flip {
		u = -u
	}
	return f.cx + f.scale*(f.cos*u-f.sin*v), f.cy + f.scale*(f.sin*u+f.cos*v)
}

// sampleTables fills toImage's products for ss samples per crop pixel and
// axis, once per sample column and row rather than per sample (see
// samplePos).
func (n *Net) sampleTables(f *eyeFrame, ss int) {
	for i := 0; i < CropSize*ss; i++ {
		t := float64(i/ss) + (float64(i%ss)+0.5)/float64(ss) - CropSize/2
		u := t
		if f.flip {
			u = -u
		}
		n.cu[i], n.su[i] = f.cos*u, f.sin*u
		n.sv[i], n.cv[i] = f.sin*t, f.cos*t
	}
}

// samplePos is toImage at sample column sx and row sy of sampleTables:
// x = cx + scale·(cos·u − sin·v) and y = cy + scale·(sin·u + cos·v) from
// the same factors.
func (n *Net) samplePos(f *eyeFrame, sx, sy int) (x, y float64) {
	return f.cx + f.scale*(n.cu[sx]-n.sv[sy]), f.cy + f.scale*(n.su[sx]+n.cv[sy])
}

// frameOf frames eye k (0: the subject's right, image left) of lm.
func frameOf(lm *[68][2]float32, k int) eyeFrame {
	a, b := lm[eyeCorners[k][0]], lm[eyeCorners[k][1]]
	// Level along the line from the image-left corner to the image-right one.
	l, r := a, b
	if k == 1 {
		l, r = b, a
	}
	dx, dy := float64(r[0]-l[0]), float64(r[1]-l[1])
	w := math.Hypot(dx, dy)
	return eyeFrame{
		cx: float64(a[0]+b[0]) / 2, cy: float64(a[1]+b[1]) / 2,
		scale: cropScale * w / CropSize, cos: dx / w, sin: dy / w, flip: k == 1,
	}
}

// ErrSmall is returned when the eyes are too small to read (corners under
// minEyeWidth pixels apart).
var ErrSmall = errors.New("gaze: eyes too small")

// minEyeWidth is the smallest eye (corner to corner, pixels) read.
const minEyeWidth = 6

// Pupils runs the iris model on both eyes of the face with 68 landmarks lm
// and returns each eye's pupil centre and iris radius in image pixels, the
// subject's right eye (image left) first.
func (n *Net) Pupils(img Image, lm *[68][2]float32) (pupil [2][2]float64, radius [2]float64, err error) {
	var fr [2]eyeFrame
	for k := range fr {
		fr[k] = frameOf(lm, k)
		if fr[k].scale*CropSize/cropScale < minEyeWidth || math.IsNaN(fr[k].scale) {
			return pupil, radius, ErrSmall
		}
		// Samples per crop pixel and axis: enough that a large eye is
		// averaged, not aliased.
		ss := min(maxSamples, max(1, int(math.Ceil(fr[k].scale))))
		in := n.in[k*CropSize*CropSize*3 : (k+1)*CropSize*CropSize*3]
		inv := 1 / float32(ss*ss)
		f := &fr[k]
		n.sampleTables(f, ss)
		if img.RGB != nil {
			n.cropRGB(img.RGB, f, ss, in)
			continue
		}
		for v := 0; v < CropSize; v++ {
			for u := 0; u < CropSize; u++ {
				var acc [3]float32
				for sy := v * ss; sy < (v+1)*ss; sy++ {
					for sx := u * ss; sx < (u+1)*ss; sx++ {
						x, y := n.samplePos(f, sx, sy)
						img.sample(x, y, &acc)
					}
				}
				o := in[3*(v*CropSize+u):]
				o[0], o[1], o[2] = acc[0]*inv, acc[1]*inv, acc[2]*inv
			}
		}
	}
	out, err := n.run.Run(n.in)
	if err != nil {
		return pupil, radius, fmt.Errorf("gaze: %w", err)
	}
	for k := range fr {
		o := out[0][k*numOut : (k+1)*numOut]
		c := o[3*irisCentre:]
		pupil[k][0], pupil[k][1] = fr[k].toImage(float64(c[0]), float64(c[1]))
		// Iris radius: the mean distance of the four rim points from the
		// centre, in crop pixels, scaled.
		var r float64
		for j := 1; j <= 4; j++ {
			p := o[3*(irisCentre+j):]
			r += math.Hypot(float64(p[0]-c[0]), float64(p[1]-c[1])) / 4
		}
		radius[k] = r * fr[k].scale
	}
	return pupil, radius, nil
}

// Estimate returns the gaze of the face with landmarks lm seen by cam.
func (n *Net) Estimate(img Image, lm *[68][2]float32, cam face.Camera) (Result, error) {
	var res Result
	pupil, radius, err := n.Pupils(img, lm)
	if err != nil {
		return res, err
	}
	var s face.Shape
	for i, p := range lm {
		s[i] = face.Point{X: float64(p[0]), Y: float64(p[1])}
	}
	pose, err := face.EstimatePose(&s, cam)
	if err != nil {
		return res, fmt.Errorf("gaze: %w", err)
	}
	g, err := FromPupils(pose, cam, pupil)
	if err != nil {
		return res, err
	}
	// The subject's right eye is the image's left unless the head is
	// turned past profile or mirrored; order by the pupils' x.
	i0, i1 := 0, 1
	if pupil[1][0] < pupil[0][0] {
		i0, i1 = 1, 0
	}
	res.Gaze = [2][3]float64{g[i0], g[i1]}
	res.Pupil = [2][2]float64{pupil[i0], pupil[i1]}
	res.IrisRadius = [2]float64{radius[i0], radius[i1]}
	res.Angle = Angles(res.Gaze[0], res.Gaze[1])
	res.Pose = pose
	return res, nil
}

// EyeCentres returns the eyeballs' centres of rotation in camera
// coordinates (mm) for a head pose: the subject's right eye first.
func EyeCentres(pose face.Pose) [2][3]float64 {
	R := pose.Rotation()
	var out [2][3]float64
	for k, m := range face.MeanEyeCentres3D() {
		m[2] += EyeDepth
		t := [3]float64{pose.Tx, pose.Ty, pose.Tz}
		for i := range out[k] {
			out[k][i] = R[i][0]*m[0] + R[i][1]*m[1] + R[i][2]*m[2] + t[i]
		}
	}
	return out
}

// FromPupils returns each eye's gaze vector (the subject's right eye
// first) for pupils at the given pixels of a head with the given pose: the
// camera ray through the pupil meets the pupil sphere (PupilRadius about
// the eye's centre) at its near side; a ray that misses it is taken at its
// closest approach, brought onto the sphere.
func FromPupils(pose face.Pose, cam face.Camera, pupil [2][2]float64) ([2][3]float64, error) {
	var out [2][3]float64
	c := EyeCentres(pose)
	for k := range out {
		d := [3]float64{(pupil[k][0] - cam.Cx) / cam.Fx, (pupil[k][1] - cam.Cy) / cam.Fy, 1}
		dn := math.Sqrt(d[0]*d[0] + d[1]*d[1] + d[2]*d[2])
		for i := range d {
			d[i] /= dn
		}
		// |t·d − C|² = R²: t² − 2t(d·C) + |C|² − R² = 0.
		dc := d[0]*c[k][0] + d[1]*c[k][1] + d[2]*c[k][2]
		cc := c[k][0]*c[k][0] + c[k][1]*c[k][1] + c[k][2]*c[k][2]
		disc := dc*dc - (cc - PupilRadius*PupilRadius)
		t := dc
		if disc > 0 {
			t = dc - math.Sqrt(disc)
		}
		var g [3]float64
		for i := range g {
			g[i] = t*d[i] - c[k][i]
		}
		gn := math.Sqrt(g[0]*g[0] + g[1]*g[1] + g[2]*g[2])
		if !(gn > 0) {
			return out, fmt.Errorf("gaze: degenerate eye geometry")
		}
		for i := range g {
			out[k][i] = g[i] / gn
		}
	}
	return out, nil
}

// Angles returns OpenFace's gaze_angle_x and gaze_angle_y of two gaze
// vectors: their mean's atan2(x, −z) and atan2(y, −z).
func Angles(g0, g1 [3]float64) [2]float64 {
	x, y, z := (g0[0]+g1[0])/2, (g0[1]+g1[1])/2, (g0[2]+g1[2])/2
	return [2]float64{math.Atan2(x, -z), math.Atan2(y, -z)}
}
