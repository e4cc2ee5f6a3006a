package face

import (
	"errors"
	"fmt"
	"math"
)

// Camera is a pinhole camera: focal lengths and principal point in pixels.
type Camera struct{ Fx, Fy, Cx, Cy float64 }

// DefaultCamera is the camera OpenFace assumes when it is given no
// calibration: a focal length of 500 px at 640×480, scaled with the frame
// size (the mean of the width and height ratios), and the principal point at
// the frame's centre. Head poses from it are comparable with OpenFace's
// defaults; absolute distances are only as right as that guess.
func DefaultCamera(width, height int) Camera {
	fx := 500 * float64(width) / 640
	fy := 500 * float64(height) / 480
	f := (fx + fy) / 2
	return Camera{Fx: f, Fy: f, Cx: float64(width) / 2, Cy: float64(height) / 2}
}

// Pose is a head pose in OpenFace's units and conventions: the translation
// of MeanFace3D's origin from the camera in millimetres (x right, y down, z
// away from the camera) and the rotation in radians as Euler angles with
// R = Rx·Ry·Rz (Rx pitch, Ry yaw, Rz roll), R taking model coordinates to
// camera coordinates.
type Pose struct {
	Tx, Ty, Tz float64
	Rx, Ry, Rz float64
}

// MeanFace3D returns the 68-point 3D mean face EstimatePose fits, in
// dlib's (iBUG) order, in millimetres, in OpenFace's model frame (x to the
// image right, y down, z away from the camera, origin at the points'
// centroid; meanface.go says where it comes from), as an array: the
// caller's copy.
func MeanFace3D() [NumLandmarks][3]float64 { return meanFace3D }

// posePoints are the landmarks EstimatePose fits: the nose (27–35) and the
// eyes (36–47). The jaw line is a silhouette whose 3D points slide round
// the face as the head turns, and the brows and mouth move with
// expressions; the nose and eye corners are the most rigid points.
var posePoints = []int{27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47}

// ErrPose is returned (wrapped) when no plausible pose fits the landmarks.
var ErrPose = errors.New("face: no head pose fits the landmarks")

// EstimatePose fits meanFace3D's posePoints to the landmarks s seen by cam:
// a scaled-orthographic start, then Levenberg–Marquardt on the perspective
// reprojection error. The face's own shape is not fitted (the mean face
// stands for everyone), so yaw and pitch carry errors of a few degrees for
// faces far from the mean, and Tz scales with the assumed focal length.
func EstimatePose(s *Shape, cam Camera) (Pose, error) {
	if cam.Fx <= 0 || cam.Fy <= 0 {
		return Pose{}, fmt.Errorf("%w: focal length %v×%v", ErrPose, cam.Fx, cam.Fy)
	}
	n := len(posePoints)
	// Normalised image coordinates: the problem becomes a unit camera.
	obs := make([][2]float64, n)
	mdl := make([][3]float64, n)
	for k, i := range posePoints {
		if math.IsNaN(s[i].X) || math.IsNaN(s[i].Y) {
			return Pose{}, fmt.Errorf("%w: landmark %d is NaN", ErrPose, i)
		}
		obs[k] = [2]float64{(s[i].X - cam.Cx) / cam.Fx, (s[i].Y - cam.Cy) / cam.Fy}
		mdl[k] = meanFace3D[i]
	}
	R, t, ok := orthoStart(obs, mdl)
	if !ok {
		return Pose{}, fmt.Errorf("%w: degenerate landmarks", ErrPose)
	}
	R, t = refinePose(obs, mdl, R, t)
	if !(t[2] > 0) || math.IsNaN(t[0]+t[1]) {
		return Pose{}, fmt.Errorf("%w: the face would be behind the camera", ErrPose)
	}
	rx, ry, rz := EulerXYZ(R)
	return Pose{Tx: t[0], Ty: t[1], Tz: t[2], Rx: rx, Ry: ry, Rz: rz}, nil
}

// Rotation returns the pose's rotation matrix Rx·Ry·Rz.
func (p Pose) Rotation() [3][3]float64 { return RotationXYZ(p.Rx, p.Ry, p.Rz) }

// Project maps a model point (MeanFace3D coordinates, mm) to pixels.
func (p Pose) Project(cam Camera, x [3]float64) Point {
	R := p.Rotation()
	var c [3]float64
	for i := range c {
		c[i] = R[i][0]*x[0] + R[i][1]*x[1] + R[i][2]*x[2]
	}
	c[0] += p.Tx
	c[1] += p.Ty
	c[2] += p.Tz
	return Point{cam.Fx*c[0]/c[2] + cam.Cx, cam.Fy*c[1]/c[2] + cam.Cy}
}

// RotationXYZ returns Rx(a)·Ry(b)·Rz(c).
func RotationXYZ(a, b, c float64) [3][3]float64 {
	sa, ca := math.Sincos(a)
	sb, cb := math.Sincos(b)
	sc, cc := math.Sincos(c)
	return [3][3]float64{
		{cb * cc, -cb * sc, sb},
		{ca*sc + sa*sb*cc, ca*cc - sa*sb*sc, -sa * cb},
		{sa*sc - ca*sb*cc, sa*cc + ca*sb*sc, ca * cb},
	}
}

// EulerXYZ inverts RotationXYZ: the angles (a, b, c) with R = Rx(a)·Ry(b)·Rz(c),
// b in [-π/2, π/2] (OpenFace's RotationMatrix2Euler).
func EulerXYZ(R [3][3]float64) (a, b, c float64) {
	b = math.Asin(math.Max(-1, math.Min(1, R[0][2])))
	a = math.Atan2(-R[1][2], R[2][2])
	c = math.Atan2(-R[0][1], R[0][0])
	return a, b, c
}

// orthoStart solves the scaled-orthographic (weak-perspective) pose: a
// least-squares affine map of the centred model onto the centred image,
// its two rows made orthonormal. The depth follows from the scale.
func orthoStart(obs [][2]float64, mdl [][3]float64) ([3][3]float64, [3]float64, bool) {
	n := float64(len(obs))
	var mo [2]float64
	var mm [3]float64
	for k := range obs {
		for j := 0; j < 2; j++ {
			mo[j] += obs[k][j] / n
		}
		for j := 0; j < 3; j++ {
			mm[j] += mdl[k][j] / n
		}
	}
	// Normal equations A (3×3) = Σ x xᵀ, B (2×3) = Σ u xᵀ.
	var A [3][3]float64
	var B [2][3]float64
	for k := range obs {
		x := [3]float64{mdl[k][0] - mm[0], mdl[k][1] - mm[1], mdl[k][2] - mm[2]}
		u := [2]float64{obs[k][0] - mo[0], obs[k][1] - mo[1]}
		for i := 0; i < 3; i++ {
			for j := 0; j < 3; j++ {
				A[i][j] += x[i] * x[j]
			}
			for j := 0; j < 2; j++ {
				B[j][i] += u[j] * x[i]
			}
		}
	}
	inv, ok := inverse3(A)
	if !ok {
		return [3][3]float64{}, [3]float64{}, false
	}
	var r [2][3]float64
	for j := 0; j < 2; j++ {
		for i := 0; i < 3; i++ {
			for k := 0; k < 3; k++ {
				r[j][i] += B[j][k] * inv[k][i]
			}
		}
	}
	n0, n1 := norm3(r[0]), norm3(r[1])
	if n0 == 0 || n1 == 0 {
		return [3][3]float64{}, [3]float64{}, false
	}
	scale := (n0 + n1) / 2
	r1 := scale3(r[0], 1/n0)
	r2 := scale3(r[1], 1/n1)
	// Orthonormalise symmetrically: split the error between the two rows.
	d := dot3(r1, r2)
	a := sub3(r1, scale3(r2, d/2))
	b := sub3(r2, scale3(r1, d/2))
	a, b = scale3(a, 1/norm3(a)), scale3(b, 1/norm3(b))
	c := cross3(a, b)
	R := [3][3]float64{a, b, c}
	tz := 1 / scale
	// The centroid of the model projects to the centroid of the image.
	rm := mulVec(R, mm)
	t := [3]float64{mo[0]*tz - rm[0], mo[1]*tz - rm[1], tz - rm[2]}
	return R, t, true
}

// refinePose minimises Σ |π(R x + t) − u|² over the rotation (updated by
// a small rotation on the left) and t, by Levenberg–Marquardt.
func refinePose(obs [][2]float64, mdl [][3]float64, R [3][3]float64, t [3]float64) ([3][3]float64, [3]float64) {
	cost := func(R [3][3]float64, t [3]float64) float64 {
		var e float64
		for k := range obs {
			c := add3(mulVec(R, mdl[k]), t)
			if c[2] <= 0 {
				return math.Inf(1)
			}
			dx, dy := c[0]/c[2]-obs[k][0], c[1]/c[2]-obs[k][1]
			e += dx*dx + dy*dy
		}
		return e
	}
	lambda := 1e-3
	cur := cost(R, t)
	for it := 0; it < 50 && !math.IsInf(cur, 1); it++ {
		var H [6][6]float64
		var g [6]float64
		for k := range obs {
			rx := mulVec(R, mdl[k])
			c := add3(rx, t)
			iz := 1 / c[2]
			res := [2]float64{c[0]*iz - obs[k][0], c[1]*iz - obs[k][1]}
			// d(proj)/dc
			dp := [2][3]float64{{iz, 0, -c[0] * iz * iz}, {0, iz, -c[1] * iz * iz}}
			// dc/dw = -[rx]×, dc/dt = I.
			sk := [3][3]float64{{0, rx[2], -rx[1]}, {-rx[2], 0, rx[0]}, {rx[1], -rx[0], 0}}
			var J [2][6]float64
			for r := 0; r < 2; r++ {
				for j := 0; j < 3; j++ {
					for m := 0; m < 3; m++ {
						J[r][j] += dp[r][m] * sk[m][j]
					}
					J[r][3+j] = dp[r][j]
				}
			}
			for r := 0; r < 2; r++ {
				for i := 0; i < 6; i++ {
					g[i] += J[r][i] * res[r]
					for j := 0; j < 6; j++ {
						H[i][j] += J[r][i] * J[r][j]
					}
				}
			}
		}
		improved := false
		for try := 0; try < 10; try++ {
			Hd := H
			for i := 0; i < 6; i++ {
				Hd[i][i] += lambda * (H[i][i] + 1e-12)
			}
			step, ok := solve6(Hd, g)
			if !ok {
				lambda *= 10
				continue
			}
			R2 := mulMat(rodrigues([3]float64{-step[0], -step[1], -step[2]}), R)
			t2 := [3]float64{t[0] - step[3], t[1] - step[4], t[2] - step[5]}
			if c2 := cost(R2, t2); c2 < cur {
				R, t, cur = R2, t2, c2
				lambda = math.Max(lambda/10, 1e-9)
				// Converged when the step is far below a micro-radian and a
				// micrometre.
				improved = math.Abs(step[0])+math.Abs(step[1])+math.Abs(step[2]) > 1e-10 ||
					math.Abs(step[3])+math.Abs(step[4])+math.Abs(step[5]) > 1e-7
				break
			}
			lambda *= 10
		}
		if !improved {
			break
		}
	}
	return R, t
}

func rodrigues(w [3]float64) [3][3]float64 {
	th := norm3(w)
	if th < 1e-15 {
		return [3][3]float64{{1, -w[2], w[1]}, {w[2], 1, -w[0]}, {-w[1], w[0], 1}}
	}
	k := scale3(w, 1/th)
	s, c := math.Sincos(th)
	v := 1 - c
	return [3][3]float64{
		{c + k[0]*k[0]*v, k[0]*k[1]*v - k[2]*s, k[0]*k[2]*v + k[1]*s},
		{k[1]*k[0]*v + k[2]*s, c + k[1]*k[1]*v, k[1]*k[2]*v - k[0]*s},
		{k[2]*k[0]*v - k[1]*s, k[2]*k[1]*v + k[0]*s, c + k[2]*k[2]*v},
	}
}

func solve6(A [6][6]float64, b [6]float64) ([6]float64, bool) {
	for c := 0; c < 6; c++ {
		p := c
		for r := c + 1; r < 6; r++ {
			if math.Abs(A[r][c]) > math.Abs(A[p][c]) {
				p = r
			}
		}
		if math.Abs(A[p][c]) < 1e-300 {
			return b, false
		}
		A[c], A[p] = A[p], A[c]
		b[c], b[p] = b[p], b[c]
		for r := c + 1; r < 6; r++ {
			f := A[r][c] / A[c][c]
			for k := c; k < 6; k++ {
				A[r][k] -= f * A[c][k]
			}
			b[r] -= f * b[c]
		}
	}
	var x [6]float64
	for r := 5; r >= 0; r-- {
		s := b[r]
		for k := r + 1; k < 6; k++ {
			s -= A[r][k] * x[k]
		}
		x[r] = s / A[r][r]
	}
	return x, true
}

func inverse3(m [3][3]float64) ([3][3]float64, bool) {
	det := m[0][0]*(m[1][1]*m[2][2]-m[1][2]*m[2][1]) - m[0][1]*(m[1][0]*m[2][2]-m[1][2]*m[2][0]) + m[0][2]*(m[1][0]*m[2][1]-m[1][1]*m[2][0])
	if math.Abs(det) < 1e-300 || math.IsNaN(det) {
		return m, false
	}
	var r [3][3]float64
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			a, b := m[(j+1)%3][(i+1)%3], m[(j+2)%3][(i+2)%3]
			c, d := m[(j+1)%3][(i+2)%3], m[(j+2)%3][(i+1)%3]
			r[i][j] = (a*b - c*d) / det
		}
	}
	return r, true
}

func mulVec(R [3][3]float64, x [3]float64) [3]float64 {
	return [3]float64{
		R[0][0]*x[0] + R[0][1]*x[1] + R[0][2]*x[2],
		R[1][0]*x[0] + R[1][1]*x[1] + R[1][2]*x[2],
		R[2][0]*x[0] + R[2][1]*x[1] + R[2][2]*x[2],
	}
}

func mulMat(a, b [3][3]float64) [3][3]float64 {
	var r [3][3]float64
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			r[i][j] = a[i][0]*b[0][j] + a[i][1]*b[1][j] + a[i][2]*b[2][j]
		}
	}
	return r
}

func add3(a, b [3]float64) [3]float64 { return [3]float64{a[0] + b[0], a[1] + b[1], a[2] + b[2]} }
func sub3(a, b [3]float64) [3]float64 { return [3]float64{a[0] - b[0], a[1] - b[1], a[2] - b[2]} }
func dot3(a, b [3]float64) float64    { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }
func norm3(a [3]float64) float64      { return math.Sqrt(dot3(a, a)) }
func scale3(a [3]float64, s float64) [3]float64 {
	return [3]float64{a[0] * s, a[1] * s, a[2] * s}
}
func cross3(a, b [3]float64) [3]float64 {
	return [3]float64{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}
