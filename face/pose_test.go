package face

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestEulerRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 1000; i++ {
		a, b, c := (rng.Float64()*2-1)*3, (rng.Float64()*2-1)*1.5, (rng.Float64()*2-1)*3
		R := RotationXYZ(a, b, c)
		// Orthonormal with determinant 1.
		RRt := mulMat(R, [3][3]float64{{R[0][0], R[1][0], R[2][0]}, {R[0][1], R[1][1], R[2][1]}, {R[0][2], R[1][2], R[2][2]}})
		for p := 0; p < 3; p++ {
			for q := 0; q < 3; q++ {
				want := 0.0
				if p == q {
					want = 1
				}
				if math.Abs(RRt[p][q]-want) > 1e-12 {
					t.Fatalf("R·Rᵀ[%d][%d] = %v", p, q, RRt[p][q])
				}
			}
		}
		a2, b2, c2 := EulerXYZ(R)
		if math.Abs(a2-a) > 1e-9 || math.Abs(b2-b) > 1e-9 || math.Abs(c2-c) > 1e-9 {
			t.Fatalf("EulerXYZ(RotationXYZ(%v, %v, %v)) = %v, %v, %v", a, b, c, a2, b2, c2)
		}
	}
	// The convention itself: a pure yaw turns the model's x axis towards -z
	// (R = Rx·Ry·Rz; Ry(b) = [[cos b, 0, sin b], [0, 1, 0], [-sin b, 0, cos b]]).
	R := RotationXYZ(0, 0.3, 0)
	if math.Abs(R[2][0]+math.Sin(0.3)) > 1e-12 || math.Abs(R[0][2]-math.Sin(0.3)) > 1e-12 {
		t.Fatalf("Ry(0.3) = %v", R)
	}
}

func TestMeanFace3D(t *testing.T) {
	var c [3]float64
	for _, p := range meanFace3D {
		for j := range c {
			c[j] += p[j] / NumLandmarks
		}
	}
	for j, v := range c {
		if math.Abs(v) > 0.01 {
			t.Errorf("centroid[%d] = %v, want 0", j, v)
		}
	}
	d := func(i, j int) float64 {
		a, b := meanFace3D[i], meanFace3D[j]
		return math.Sqrt((a[0]-b[0])*(a[0]-b[0]) + (a[1]-b[1])*(a[1]-b[1]) + (a[2]-b[2])*(a[2]-b[2]))
	}
	// Adult anthropometry (Farkas): biocular width ex–ex ≈ 85–95 mm,
	// intercanthal en–en ≈ 30–36 mm, mouth width ch–ch ≈ 48–56 mm,
	// nasion to menton ≈ 110–130 mm. The nose tip is in front of the eyes
	// (negative z is towards the camera).
	for _, c := range []struct {
		name     string
		i, j     int
		min, max float64
	}{
		{"biocular ex-ex", 36, 45, 85, 95},
		{"intercanthal en-en", 39, 42, 30, 40},
		{"mouth ch-ch", 48, 54, 45, 60},
		{"nasion-menton", 27, 8, 110, 130},
	} {
		if v := d(c.i, c.j); v < c.min || v > c.max {
			t.Errorf("%s = %.1f mm, want %v–%v", c.name, v, c.min, c.max)
		}
	}
	if meanFace3D[30][2] > meanFace3D[36][2]-25 {
		t.Errorf("nose tip z %.1f not well in front of the outer eye corner's %.1f", meanFace3D[30][2], meanFace3D[36][2])
	}
	// Left and right mirror each other (x → −x) within a millimetre.
	pairs := [][2]int{{36, 45}, {39, 42}, {31, 35}, {48, 54}, {17, 26}, {0, 16}, {4, 12}}
	for _, p := range pairs {
		a, b := meanFace3D[p[0]], meanFace3D[p[1]]
		if math.Abs(a[0]+b[0]) > 1 || math.Abs(a[1]-b[1]) > 1 || math.Abs(a[2]-b[2]) > 1 {
			t.Errorf("points %d and %d are not mirror images: %v %v", p[0], p[1], a, b)
		}
	}
}

// project renders MeanFace3D at a pose with cam, plus Gaussian noise.
func project(p Pose, cam Camera, noise float64, rng *rand.Rand) Shape {
	var s Shape
	for i, x := range meanFace3D {
		s[i] = p.Project(cam, x)
		if noise > 0 {
			s[i].X += rng.NormFloat64() * noise
			s[i].Y += rng.NormFloat64() * noise
		}
	}
	return s
}

// TestEstimatePoseSynthetic recovers known poses from projections of the
// model: exactly without noise, within a few degrees RMS with one pixel of
// landmark noise (the size of dlib's jitter) on faces 45–110 px between the
// outer eye corners. It checks the solver, not the model: the model made
// the landmarks.
func TestEstimatePoseSynthetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	cam := DefaultCamera(640, 480)
	deg := math.Pi / 180
	const n = 300
	for _, noise := range []float64{0, 1} {
		var worst, se [6]float64
		for i := 0; i < n; i++ {
			want := Pose{
				Tx: (rng.Float64()*2 - 1) * 100, Ty: (rng.Float64()*2 - 1) * 80, Tz: 400 + rng.Float64()*600,
				Rx: (rng.Float64()*2 - 1) * 30 * deg, Ry: (rng.Float64()*2 - 1) * 45 * deg, Rz: (rng.Float64()*2 - 1) * 30 * deg,
			}
			s := project(want, cam, noise, rng)
			got, err := EstimatePose(&s, cam)
			if err != nil {
				t.Fatalf("pose %+v: %v", want, err)
			}
			e := [6]float64{
				got.Rx - want.Rx, got.Ry - want.Ry, got.Rz - want.Rz,
				(got.Tx - want.Tx) / want.Tz, (got.Ty - want.Ty) / want.Tz, (got.Tz - want.Tz) / want.Tz,
			}
			for k := range e {
				worst[k] = math.Max(worst[k], math.Abs(e[k]))
				se[k] += e[k] * e[k] / n
			}
		}
		rms := func(k int) float64 { return math.Sqrt(se[k]) }
		t.Logf("noise %.0f px: RMS error Rx %.3f° Ry %.3f° Rz %.3f°, Tz %.2f%% of the distance; worst Rx %.3f° Ry %.3f° Rz %.3f°",
			noise, rms(0)/deg, rms(1)/deg, rms(2)/deg, 100*rms(5), worst[0]/deg, worst[1]/deg, worst[2]/deg)
		if noise == 0 {
			for k := 0; k < 3; k++ {
				if worst[k] > 0.01*deg || worst[3+k] > 1e-4 {
					t.Errorf("no noise: component %d off by %.4f° / %.2g of the distance", k, worst[k]/deg, worst[3+k])
				}
			}
			continue
		}
		for k := 0; k < 3; k++ {
			if rms(k) > 2.5*deg {
				t.Errorf("noise %v px: angle %d RMS error %.2f°, want ≤ 2.5°", noise, k, rms(k)/deg)
			}
		}
		if rms(5) > 0.08 {
			t.Errorf("noise %v px: Tz RMS error %.1f%% of the distance, want ≤ 8%%", noise, 100*rms(5))
		}
	}
}

// TestEstimatePosePortrait checks poses on dlib's own landmarks of the
// astronaut portrait (testdata/golden, made by dlib's C++): plausible for a
// near-frontal portrait, mirrored by the mirrored image (yaw and roll
// change sign) and turned by the image rotated 15° (roll changes by 15°).
// The landmarks come from dlib, not from the model, so these are checks on
// a real face.
func TestEstimatePosePortrait(t *testing.T) {
	cam := DefaultCamera(512, 512)
	pose := func(name string) Pose {
		g := readGolden(t, "testdata/golden/"+name+".txt")
		var s Shape
		for i, p := range g.pts {
			s[i] = Point{float64(p[0]), float64(p[1])}
		}
		p, err := EstimatePose(&s, cam)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	deg := math.Pi / 180
	orig, mir, rot := pose("astronaut"), pose("mirrored"), pose("rotated")
	for name, p := range map[string]Pose{"astronaut": orig, "mirrored": mir, "rotated": rot} {
		t.Logf("%-9s T (%.1f, %.1f, %.1f) mm  R (%.2f°, %.2f°, %.2f°)", name, p.Tx, p.Ty, p.Tz, p.Rx/deg, p.Ry/deg, p.Rz/deg)
	}
	// A face ~88 px wide in a 512 px frame at f = 500·512/... px is roughly
	// 0.7–1.5 m away; the portrait is near-frontal.
	if orig.Tz < 500 || orig.Tz > 1600 {
		t.Errorf("astronaut Tz = %.0f mm, want 500–1600", orig.Tz)
	}
	for _, a := range []float64{orig.Rx, orig.Ry, orig.Rz} {
		if math.Abs(a) > 25*deg {
			t.Errorf("astronaut pose %+v: not near-frontal", orig)
		}
	}
	check := func(what string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol {
			t.Errorf("%s = %.2f°, want %.2f° ± %.1f°", what, got/deg, want/deg, tol/deg)
		}
	}
	check("mirrored Ry", mir.Ry, -orig.Ry, 3*deg)
	check("mirrored Rz", mir.Rz, -orig.Rz, 2*deg)
	check("mirrored Rx", mir.Rx, orig.Rx, 3*deg)
	// The image content turned 15° anticlockwise on screen: roll −15°.
	check("rotated Rz − original Rz", rot.Rz-orig.Rz, -15*deg, 2*deg)
}

func ExampleEstimatePose() {
	cam := DefaultCamera(640, 480)
	want := Pose{Tz: 600, Ry: 0.2}
	var s Shape
	for i, x := range meanFace3D {
		s[i] = want.Project(cam, x)
	}
	got, err := EstimatePose(&s, cam)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("Tz %.0f mm, yaw %.2f rad\n", got.Tz, got.Ry)
	// Output: Tz 600 mm, yaw 0.20 rad
}

func BenchmarkEstimatePose(b *testing.B) {
	cam := DefaultCamera(640, 480)
	s := project(Pose{Tz: 700, Rx: 0.1, Ry: -0.2, Rz: 0.05}, cam, 0.5, rand.New(rand.NewPCG(5, 6)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EstimatePose(&s, cam); err != nil {
			b.Fatal(err)
		}
	}
}
