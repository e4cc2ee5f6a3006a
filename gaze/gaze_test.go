package gaze_test

import (
	"math"
	"sort"
	"testing"

	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/face/facetest"
	"github.com/tell-project/tell/gaze"
	"github.com/tell-project/tell/models"
	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/raster"
)

func loadNet(t testing.TB) *gaze.Net {
	t.Helper()
	n, err := gaze.Load(models.Root(""))
	if err != nil {
		if models.Required() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return n
}

func landmarker(t testing.TB) *face.Finder {
	t.Helper()
	pred, err := face.LoadPredictor(facetest.ModelPath(t))
	if err != nil {
		t.Fatal(err)
	}
	det, err := face.NewDetector()
	if err != nil {
		t.Fatal(err)
	}
	return face.NewFinder(det, pred, face.FindDetect)
}

func landmarks(t testing.TB, f *face.Finder, img *raster.RGB) [68][2]float32 {
	t.Helper()
	fd, ok := f.Find(img.Gray())
	if !ok {
		t.Fatal("no face")
	}
	var lm [68][2]float32
	for i, p := range fd.Shape {
		lm[i] = [2]float32{float32(p.X), float32(p.Y)}
	}
	return lm
}

// astronaut2x is the portrait enlarged twice (bilinear), so that its eyes
// are about 40 pixels wide, as in a 720p video of a face at arm's length.
func astronaut2x(t testing.TB) *raster.RGB {
	img, err := portrait.Astronaut()
	if err != nil {
		t.Fatal(err)
	}
	src := raster.RGBFromImage(img)
	out := raster.NewRGB(2*src.W, 2*src.H)
	for y := 0; y < out.H; y++ {
		sy := math.Max(0, (float64(y)+0.5)/2-0.5)
		y0 := min(int(sy), src.H-1)
		y1, fy := min(y0+1, src.H-1), sy-float64(int(sy))
		for x := 0; x < out.W; x++ {
			sx := math.Max(0, (float64(x)+0.5)/2-0.5)
			x0 := min(int(sx), src.W-1)
			x1, fx := min(x0+1, src.W-1), sx-float64(int(sx))
			for c := 0; c < 3; c++ {
				a := float64(src.Pix[y0*src.Stride+3*x0+c])*(1-fx) + float64(src.Pix[y0*src.Stride+3*x1+c])*fx
				b := float64(src.Pix[y1*src.Stride+3*x0+c])*(1-fx) + float64(src.Pix[y1*src.Stride+3*x1+c])*fx
				out.Pix[y*out.Stride+3*x+c] = uint8(a*(1-fy) + b*fy + 0.5)
			}
		}
	}
	return out
}

func angleDeg(a, b [3]float64) float64 {
	d := (a[0]*b[0] + a[1]*b[1] + a[2]*b[2]) / (math.Sqrt(a[0]*a[0]+a[1]*a[1]+a[2]*a[2]) * math.Sqrt(b[0]*b[0]+b[1]*b[1]+b[2]*b[2]))
	return math.Acos(math.Max(-1, math.Min(1, d))) * 180 / math.Pi
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) == 0 {
		return math.NaN()
	}
	return s[len(s)/2]
}

// TestKnownGaze: on renders of the astronaut portrait whose eyes were
// replaced by a ray-traced model eye looking in a known direction (yaw
// −25…25°, pitch −15…10° from the gaze into the camera; render_test.go),
// the whole path — dlib landmarks found on the render, the iris model,
// the eye geometry — follows the truth: gaze_angle_x within 4° (median),
// slopes of estimated on true gaze_angle_x and gaze_angle_y between 0.6
// and 1.5, and gaze_angle_y within 4° (median) once its constant offset
// is removed. That offset is the error of the head's pitch from the
// 68-point pose with the mean 3-D face (the eyeball's centre lies 10 mm
// behind the lids, so a pitch error of δ moves the gaze by about δ); it is
// logged, not bounded. Three model eyes are rendered: the estimator's own
// proportions and two others (iris plane 1 mm nearer or farther, sclera
// and depth changed), so a result does not rest on the renderer sharing
// the estimator's numbers.
func TestKnownGaze(t *testing.T) {
	net := loadNet(t)
	find := landmarker(t)
	img := astronaut2x(t)
	lm := landmarks(t, find, img)
	cam := face.DefaultCamera(img.W, img.H)
	for _, m := range []eyeModel{{12, 10.5, 10}, {12.5, 11.5, 12}, {11.5, 9.5, 8}} {
		r, err := newRenderer(img, lm, m)
		if err != nil {
			t.Fatal(err)
		}
		var errs, tx, ty, gx, gy []float64
		for _, pitch := range []float64{-15, 0, 10} {
			for _, yaw := range []float64{-25, -15, -5, 0, 5, 15, 25} {
				truth := [2][3]float64{r.turn(0, yaw, pitch), r.turn(1, yaw, pitch)}
				ren := r.render(truth)
				got, err := net.Estimate(gaze.Image{RGB: ren}, &lm, cam)
				if err != nil {
					t.Fatal(err)
				}
				// gaze_0 is the eye leftmost in the image: the subject's
				// right eye (renderer's eye 0) for this upright face.
				for k := range truth {
					errs = append(errs, angleDeg(got.Gaze[k], truth[k]))
				}
				ta := gaze.Angles(truth[0], truth[1])
				tx, ty = append(tx, deg(ta[0])), append(ty, deg(ta[1]))
				gx, gy = append(gx, deg(got.Angle[0])), append(gy, deg(got.Angle[1]))
			}
		}
		sx, _ := fit(tx, gx)
		sy, oy := fit(ty, gy)
		ex, ey := make([]float64, len(tx)), make([]float64, len(ty))
		off := 0.0
		for i := range ty {
			off += (gy[i] - ty[i]) / float64(len(ty))
		}
		for i := range tx {
			ex[i] = math.Abs(gx[i] - tx[i])
		}
		for i := range ty {
			ey[i] = math.Abs(gy[i] - ty[i] - off)
		}
		t.Logf("model eye sclera %.1f mm, iris plane %.1f mm, depth %.0f mm: |Δ gaze_angle_x| median %.1f° (slope %.2f); gaze_angle_y offset %+.1f°, then |Δ| median %.1f° (slope %.2f, intercept %+.1f°); vector error median %.1f°",
			m.scleraR, m.irisDist, m.depth, median(ex), sx, off, median(ey), sy, oy, median(errs))
		if median(ex) > 4 {
			t.Errorf("gaze_angle_x error median %.1f° over 4°", median(ex))
		}
		if median(ey) > 4 {
			t.Errorf("gaze_angle_y error median %.1f° over 4° after its offset", median(ey))
		}
		if sx < 0.6 || sx > 1.5 || sy < 0.6 || sy > 1.5 {
			t.Errorf("slopes on the truth: x %.2f, y %.2f", sx, sy)
		}
	}
}

func deg(r float64) float64 { return r * 180 / math.Pi }

// fit returns the least-squares slope and intercept of y on x.
func fit(x, y []float64) (slope, icept float64) {
	var mx, my float64
	for i := range x {
		mx += x[i] / float64(len(x))
		my += y[i] / float64(len(y))
	}
	var sxy, sxx float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
	}
	slope = sxy / sxx
	return slope, my - slope*mx
}

// TestFromPupilsGeometry: a pupil seen exactly where the eye's centre
// projects gives the gaze along the camera ray back to the camera; a pupil
// displaced sideways turns the gaze that way; a ray missing the sphere
// still gives a unit vector.
func TestFromPupilsGeometry(t *testing.T) {
	cam := face.DefaultCamera(640, 480)
	pose := face.Pose{Tz: 600}
	c := gaze.EyeCentres(pose)
	var pupil [2][2]float64
	for k := range c {
		pupil[k] = [2]float64{cam.Fx*c[k][0]/c[k][2] + cam.Cx, cam.Fy*c[k][1]/c[k][2] + cam.Cy}
	}
	g, err := gaze.FromPupils(pose, cam, pupil)
	if err != nil {
		t.Fatal(err)
	}
	for k := range g {
		n := math.Sqrt(c[k][0]*c[k][0] + c[k][1]*c[k][1] + c[k][2]*c[k][2])
		want := [3]float64{-c[k][0] / n, -c[k][1] / n, -c[k][2] / n}
		if e := angleDeg(g[k], want); e > 0.01 {
			t.Errorf("eye %d: %v, want %v (%.3f°)", k, g[k], want, e)
		}
	}
	// 5 mm sideways at 600 mm: asin(5/10.5) ≈ 28° towards +x (plus the
	// small angle of the centre's own offset).
	shift := cam.Fx * 5 / (c[0][2] - gaze.PupilRadius)
	p2 := pupil
	p2[0][0] += shift
	g2, _ := gaze.FromPupils(pose, cam, p2)
	a := gaze.Angles(g2[0], g2[0])
	if deg := a[0] * 180 / math.Pi; deg < 24 || deg > 34 {
		t.Errorf("pupil 5 mm right: gaze_angle_x %.1f°, want about 28°", deg)
	}
	p2[0][0] += 50 * shift // far off the eyeball
	g3, err := gaze.FromPupils(pose, cam, p2)
	if err != nil || math.Abs(math.Sqrt(g3[0][0]*g3[0][0]+g3[0][1]*g3[0][1]+g3[0][2]*g3[0][2])-1) > 1e-9 {
		t.Errorf("ray missing the eye: %v, %v", g3[0], err)
	}
}

func TestAngles(t *testing.T) {
	for _, c := range []struct {
		g    [3]float64
		x, y float64
	}{
		{[3]float64{0, 0, -1}, 0, 0},
		{[3]float64{1, 0, -1}, math.Pi / 4, 0},
		{[3]float64{0, -1, -1}, 0, -math.Pi / 4},
	} {
		a := gaze.Angles(c.g, c.g)
		if math.Abs(a[0]-c.x) > 1e-12 || math.Abs(a[1]-c.y) > 1e-12 {
			t.Errorf("Angles(%v) = %v, want %v %v", c.g, a, c.x, c.y)
		}
	}
}

func BenchmarkEstimate(b *testing.B) {
	net := loadNet(b)
	find := landmarker(b)
	img := astronaut2x(b)
	lm := landmarks(b, find, img)
	cam := face.DefaultCamera(img.W, img.H)
	for b.Loop() {
		if _, err := net.Estimate(gaze.Image{RGB: img}, &lm, cam); err != nil {
			b.Fatal(err)
		}
	}
}

// TestResultPose: Estimate's Pose is face.EstimatePose of the same
// landmarks and camera, to the bit (analyze writes it as frames.csv's pose
// instead of estimating it again).
func TestResultPose(t *testing.T) {
	net := loadNet(t)
	img := astronaut2x(t)
	lm := landmarks(t, landmarker(t), img)
	cam := face.DefaultCamera(img.W, img.H)
	got, err := net.Estimate(gaze.Image{RGB: img}, &lm, cam)
	if err != nil {
		t.Fatal(err)
	}
	var s face.Shape
	for i, p := range lm {
		s[i] = face.Point{X: float64(p[0]), Y: float64(p[1])}
	}
	want, err := face.EstimatePose(&s, cam)
	if err != nil {
		t.Fatal(err)
	}
	if got.Pose != want {
		t.Errorf("Result.Pose %+v, EstimatePose %+v", got.Pose, want)
	}
}
