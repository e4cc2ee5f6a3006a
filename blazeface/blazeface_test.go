package blazeface

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/tell-project/tell/models"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/video"
)

// loadDetector loads the pinned model, skipping when it is not installed
// (failing under TELL_REQUIRE_MODELS).
func loadDetector(t testing.TB, opt Options) *Detector {
	t.Helper()
	d, err := Load(models.Root(""), opt)
	if err != nil {
		if models.Required() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return d
}

type golden struct {
	Logits []float64            `json:"logits"`
	Regs   map[string][]float64 `json:"regs"`
	NMS    []struct {
		IoU      float64 `json:"iou"`
		MinScore float32 `json:"min_score"`
		Keep     []int   `json:"keep"`
	} `json:"nms"`
}

func readGolden(t *testing.T) golden {
	b, err := os.ReadFile(filepath.Join("testdata", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Logits) != NumAnchors || len(g.Regs) < 32 || len(g.NMS) == 0 {
		t.Fatalf("golden.json: %d logits, %d regressions, %d NMS cases", len(g.Logits), len(g.Regs), len(g.NMS))
	}
	return g
}

// sceneInput is testdata/scene.png as the net's input, as golden.js makes
// it (RGB/127.5 − 1).
func sceneInput(t *testing.T) []float32 {
	rgb, err := video.ReadRGB(filepath.Join("testdata", "scene.png"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if rgb.W != Size || rgb.H != Size {
		t.Fatalf("scene.png is %dx%d", rgb.W, rgb.H)
	}
	in := make([]float32, Size*Size*3)
	for i := range in {
		in[i] = float32(rgb.Pix[i])/127.5 - 1
	}
	return in
}

// TestGoldenAgainstTFJS: on the composed scene the raw net agrees with
// TensorFlow.js (golden.js, WASM backend): every logit and the
// regressions of the 64 best anchors within 2e-3 (values of order 1–100),
// and non-max suppression of the decoded boxes keeps the same anchors in
// the same order as tf.image.nonMaxSuppression.
func TestGoldenAgainstTFJS(t *testing.T) {
	d := loadDetector(t, Options{})
	g := readGolden(t)
	logits := make([]float32, NumAnchors)
	regs := make([]float32, 16*NumAnchors)
	if err := d.Raw(sceneInput(t), logits, regs); err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	check := func(what string, got float32, want float64) {
		dv := math.Abs(float64(got) - want)
		worst = math.Max(worst, dv)
		if dv > 2e-3*math.Max(1, math.Abs(want)) {
			t.Errorf("%s: %.5f, TF.js %.5f", what, got, want)
		}
	}
	for i, want := range g.Logits {
		check("logit "+strconv.Itoa(i), logits[i], want)
	}
	for k, want := range g.Regs {
		i, err := strconv.Atoi(k)
		if err != nil || i < 0 || i >= NumAnchors || len(want) != 16 {
			t.Fatalf("golden regression %q", k)
		}
		for j, w := range want {
			check("regression "+k+"/"+strconv.Itoa(j), regs[16*i+j], w)
		}
	}
	t.Logf("max |Δ| %.2g over %d logits and %d regressions", worst, len(g.Logits), 16*len(g.Regs))

	anchors := Anchors(Size)
	boxes := make([]Box, NumAnchors)
	scores := make([]float32, NumAnchors)
	for i, a := range anchors {
		r := regs[16*i:]
		cx, cy := float64(a.X)+float64(r[0]), float64(a.Y)+float64(r[1])
		boxes[i] = Box{cx - float64(r[2])/2, cy - float64(r[3])/2, cx + float64(r[2])/2, cy + float64(r[3])/2}
		scores[i] = Sigmoid(logits[i])
	}
	for _, c := range g.NMS {
		got := NMS(boxes, scores, c.IoU, c.MinScore, 100)
		if !slices.Equal(got, c.Keep) {
			t.Errorf("NMS iou %.2f min %.2f: %v, TF.js %v", c.IoU, c.MinScore, got, c.Keep)
		}
	}
}

// TestDecodeScene: the faces Decode and NMS give on the scene lie on the
// composed faces (gen_test.go places them), with eyes above the mouth.
func TestDecodeScene(t *testing.T) {
	d := loadDetector(t, Options{})
	logits := make([]float32, NumAnchors)
	regs := make([]float32, 16*NumAnchors)
	if err := d.Raw(sceneInput(t), logits, regs); err != nil {
		t.Fatal(err)
	}
	faces := Decode(nil, logits, regs, Anchors(Size), 0.5)
	boxes := make([]Box, len(faces))
	scores := make([]float32, len(faces))
	for i, f := range faces {
		boxes[i], scores[i] = f.Box, f.Score
	}
	keep := NMS(boxes, scores, 0.3, 0.5, 0)
	// Face centres of the placed portraits (face centre of the portrait
	// about (225,130), scaled into each disc).
	want := [][2]float64{{70, 70}, {190, 60}, {70, 190}}
	found := make([]bool, len(want))
	for _, k := range keep {
		f := faces[k]
		cx, cy := (f.Box.X0+f.Box.X1)/2, (f.Box.Y0+f.Box.Y1)/2
		hit := false
		for j, w := range want {
			if math.Hypot(cx-w[0], cy-w[1]) < 0.3*f.Box.W() {
				found[j], hit = true, true
			}
		}
		if !hit {
			t.Errorf("face at (%.0f,%.0f) side %.0f is none of the placed ones", cx, cy, f.Box.W())
		}
		if f.Keypoints[RightEye][1] >= f.Keypoints[Mouth][1] || f.Keypoints[LeftEye][1] >= f.Keypoints[Mouth][1] {
			t.Errorf("face at (%.0f,%.0f): eyes %v %v not above the mouth %v", cx, cy, f.Keypoints[RightEye], f.Keypoints[LeftEye], f.Keypoints[Mouth])
		}
		// The subject's right eye is on the image's left.
		if f.Keypoints[RightEye][0] >= f.Keypoints[LeftEye][0] {
			t.Errorf("face at (%.0f,%.0f): right eye %v not left of the left eye %v", cx, cy, f.Keypoints[RightEye], f.Keypoints[LeftEye])
		}
	}
	for j, ok := range found {
		if !ok {
			t.Errorf("placed face %d at %v not found", j, want[j])
		}
	}
}

func TestAnchors(t *testing.T) {
	a := Anchors(Size)
	if len(a) != NumAnchors {
		t.Fatalf("%d anchors", len(a))
	}
	for i, c := range []struct {
		i    int
		x, y float32
	}{
		{0, 8, 8}, {1, 8, 8}, {2, 24, 8}, {31, 248, 8}, {32, 8, 24}, {511, 248, 248},
		{512, 16, 16}, {517, 16, 16}, {518, 48, 16}, {895, 240, 240},
	} {
		if a[c.i] != (Anchor{c.x, c.y}) {
			t.Errorf("case %d: anchor %d = %v, want (%v,%v)", i, c.i, a[c.i], c.x, c.y)
		}
	}
}

func TestIoU(t *testing.T) {
	for _, c := range []struct {
		a, b Box
		want float64
	}{
		{Box{0, 0, 10, 10}, Box{0, 0, 10, 10}, 1},
		{Box{0, 0, 10, 10}, Box{5, 0, 15, 10}, 50.0 / 150},
		{Box{0, 0, 10, 10}, Box{10, 10, 20, 20}, 0},
		{Box{10, 10, 0, 0}, Box{0, 0, 10, 10}, 1}, // corners in any order
		{Box{0, 0, 0, 10}, Box{0, 0, 10, 10}, 0},  // empty box
		{Box{0, 0, 10, 10}, Box{2, 2, 4, 4}, 4.0 / 100},
	} {
		if got := IoU(c.a, c.b); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("IoU(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

// TestNMSRules: ties go to the lower index, overlap at exactly the
// threshold suppresses (TensorFlow's ≥), scores at the threshold are out,
// and max bounds the count.
func TestNMSRules(t *testing.T) {
	b := []Box{{0, 0, 10, 10}, {0, 0, 10, 10}, {5, 0, 15, 10}, {100, 100, 110, 110}, {200, 200, 210, 210}}
	s := []float32{0.9, 0.9, 0.95, 0.5, 0.3}
	if got := NMS(b, s, 0.5, 0.3, 0); !slices.Equal(got, []int{2, 0, 3}) {
		t.Errorf("NMS = %v, want [2 0 3]", got)
	}
	// IoU of boxes 0 and 2 is 1/3: at a threshold of exactly 1/3 it
	// suppresses.
	if got := NMS(b[:3], s[:3], 50.0/150, 0, 0); !slices.Equal(got, []int{2}) {
		t.Errorf("NMS at IoU = threshold: %v, want [2]", got)
	}
	if got := NMS(b, s, 0.5, 0.3, 2); !slices.Equal(got, []int{2, 0}) {
		t.Errorf("NMS max 2: %v", got)
	}
}

// TestDetectPlacesFaces: Detect on a large image (the scene enlarged 5
// times into a 1600×1400 frame at an offset) finds the composed faces,
// including the 13-pixel one now 65 pixels, at their places in the frame:
// the scaling, tiling and mapping back are right.
func TestDetectPlacesFaces(t *testing.T) {
	d := loadDetector(t, Options{})
	s := scene(t)
	const k, ox, oy = 5, 170, 90
	big := raster.NewRGB(1600, 1400)
	for y := 0; y < Size*k; y++ {
		for x := 0; x < Size*k; x++ {
			copy(big.Pix[(y+oy)*big.Stride+3*(x+ox):], s.Pix[(y/k)*s.Stride+3*(x/k):(y/k)*s.Stride+3*(x/k)+3])
		}
	}
	faces, err := d.DetectRGB(big)
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]float64{{70, 70}, {190, 60}, {70, 190}, {190, 190}}
	for j, w := range want {
		x, y := ox+k*w[0], oy+k*w[1]
		ok := false
		for _, f := range faces {
			cx, cy := (f.Box.X0+f.Box.X1)/2, (f.Box.Y0+f.Box.Y1)/2
			if math.Hypot(cx-x, cy-y) < 0.3*f.Box.W() {
				ok = true
			}
		}
		if !ok {
			t.Errorf("face %d at (%.0f,%.0f) not found among %d", j, x, y, len(faces))
		}
	}
	if len(faces) > len(want) {
		t.Errorf("%d faces, %d placed", len(faces), len(want))
	}
}

func TestAreaTaps(t *testing.T) {
	for _, c := range [][2]int{{10, 3}, {7, 7}, {3, 10}, {1920, 256}, {5, 1}} {
		taps := areaTaps(c[0], c[1])
		if len(taps) != c[1] {
			t.Fatalf("%v: %d outputs", c, len(taps))
		}
		cover := make([]float64, c[0])
		for _, ts := range taps {
			sum := 0.0
			for _, tp := range ts {
				if tp.i < 0 || tp.i >= c[0] {
					t.Fatalf("%v: tap %d out of range", c, tp.i)
				}
				sum += float64(tp.w)
				cover[tp.i] += float64(tp.w)
			}
			if math.Abs(sum-1) > 1e-5 {
				t.Errorf("%v: weights sum to %v", c, sum)
			}
		}
		if c[0] >= c[1] { // shrinking: every input pixel counts equally
			for i, v := range cover {
				if want := float64(c[1]) / float64(c[0]); math.Abs(v-want) > 1e-5 {
					t.Errorf("%v: input %d weighs %v, want %v", c, i, v, want)
				}
			}
		}
	}
}

func TestTileStarts(t *testing.T) {
	for _, c := range []struct {
		n    int
		want []int
	}{{100, []int{0}}, {256, []int{0}}, {257, []int{0, 1}}, {512, []int{0, 192, 256}}, {700, []int{0, 192, 384, 444}}} {
		if got := tileStarts(c.n); !slices.Equal(got, c.want) {
			t.Errorf("tileStarts(%d) = %v, want %v", c.n, got, c.want)
		}
	}
}

func BenchmarkRaw(b *testing.B) {
	d := loadDetector(b, Options{})
	in := make([]float32, Size*Size*3)
	logits := make([]float32, NumAnchors)
	regs := make([]float32, 16*NumAnchors)
	for b.Loop() {
		if err := d.Raw(in, logits, regs); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDetect640x480(b *testing.B) {
	d := loadDetector(b, Options{})
	img := raster.NewRGB(640, 480)
	for b.Loop() {
		if _, err := d.DetectRGB(img); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDetectCoarse: DetectRGBCoarse and DetectGrayCoarse give what a
// detector whose MinFace leaves only the coarsest scale gives, on the
// enlarged scene of TestDetectPlacesFaces (four scales at the default
// MinFace), and find its larger faces.
func TestDetectCoarse(t *testing.T) {
	d := loadDetector(t, Options{})
	const w, h = 1600, 1400
	one := loadDetector(t, Options{MinFace: minNetFace * w / Size})
	if n, n1 := len(d.Scales(w, h)), len(one.Scales(w, h)); n < 2 || n1 != 1 {
		t.Fatalf("scales: %d and %d, want several and one", n, n1)
	}
	s := scene(t)
	const k, ox, oy = 5, 170, 90
	big := raster.NewRGB(w, h)
	for y := 0; y < Size*k; y++ {
		for x := 0; x < Size*k; x++ {
			copy(big.Pix[(y+oy)*big.Stride+3*(x+ox):], s.Pix[(y/k)*s.Stride+3*(x/k):(y/k)*s.Stride+3*(x/k)+3])
		}
	}
	for _, c := range []struct {
		name         string
		coarse, want func() ([]Face, error)
	}{
		{"rgb", func() ([]Face, error) { return d.DetectRGBCoarse(big) }, func() ([]Face, error) { return one.DetectRGB(big) }},
		{"gray", func() ([]Face, error) { return d.DetectGrayCoarse(big.Gray()) }, func() ([]Face, error) { return one.DetectGray(big.Gray()) }},
	} {
		got, err := c.coarse()
		if err != nil {
			t.Fatal(err)
		}
		want, err := c.want()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: coarse %v, want %v", c.name, got, want)
		}
	}
}
