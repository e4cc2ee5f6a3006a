package appearance

import (
	"bufio"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tell-project/tell/models"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/video"
)

// loadNet loads an installed model, skipping when it is not installed
// (failing instead under TELL_REQUIRE_MODELS).
func loadNet(t testing.TB, m models.Model) *Net {
	t.Helper()
	n, err := Load(models.Root(""), m)
	if errors.Is(err, models.ErrNotInstalled) && !models.Required() {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// peerOrder maps fer.js's printed order (angry disgust fear happy sad
// surprise neutral) to labels: the same order.
var peerOrder = [7]int{0, 1, 2, 3, 4, 5, 6}

func readGolden(t *testing.T, file string) map[string][7]float64 {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][7]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 8 {
			continue // the timing line
		}
		var p [7]float64
		for i := range p {
			v, err := strconv.ParseFloat(fs[1+i], 64)
			if err != nil {
				t.Fatal(err)
			}
			p[peerOrder[i]] = v
		}
		out[fs[0]] = p
	}
	return out
}

// TestGoldenAgainstTFJS: on every crop of the committed portrait (several
// framings, sizes, aspect ratios, grey and colour PNG, and JPEG decoded as
// the peer's jpeg-js decodes it) each of the seven
// probabilities is within 1e-4 of TensorFlow.js's (fer.js, WASM backend),
// the crop given whole as the peer gives it.
func TestGoldenAgainstTFJS(t *testing.T) {
	for _, m := range models.All() {
		t.Run(m.Name, func(t *testing.T) {
			n := loadNet(t, m)
			golden := readGolden(t, filepath.Join("testdata", "golden_"+m.Name+".txt"))
			if len(golden) < 10 {
				t.Fatalf("%d golden crops", len(golden))
			}
			worst := 0.0
			for file, want := range golden {
				rgb, err := video.ReadRGB(filepath.Join("..", file), 0)
				if err != nil {
					t.Fatal(err)
				}
				got, err := n.Predict(rgb, n.WholeImage(rgb.W, rgb.H))
				if err != nil {
					t.Fatal(err)
				}
				for i := range want {
					d := math.Abs(float64(got[i]) - want[i])
					worst = math.Max(worst, d)
					if d > 1e-4 {
						t.Errorf("%s: %s %.6f, TF.js %.6f", file, labels[i], got[i], want[i])
					}
				}
			}
			t.Logf("%d crops, max |Δp| %.2g (fer.js prints 6 decimals)", len(golden), worst)
		})
	}
}

func TestWholeImage(t *testing.T) {
	n := &Net{}
	for _, c := range []struct {
		w, h int
		want Region
	}{
		{100, 100, Region{0, 0, 100, 100}},
		{97, 130, Region{-16, 0, 130, 130}}, // diff 33: 17 appended, 16 before
		{200, 150, Region{0, -25, 200, 200}},
	} {
		if got := n.WholeImage(c.w, c.h); got != c.want {
			t.Errorf("%dx%d: %v, want %v", c.w, c.h, got, c.want)
		}
	}
	if got := (&Net{grey: true}).WholeImage(97, 130); got != (Region{0, 0, 97, 130}) {
		t.Errorf("human stretches: %v", got)
	}
}

func TestFaceRegion(t *testing.T) {
	var lm [68][2]float32
	for i := range lm { // a 100×100 landmark box at (300, 200)
		lm[i] = [2]float32{300 + float32(i%2)*100, 200 + float32(i/34)*100}
	}
	r, whole := FaceRegion(nil, &lm, 1280, 720)
	if whole || r != (Region{288, 178, 125, 125}) {
		t.Errorf("face in a frame: %v whole=%v", r, whole)
	}
	if _, whole := FaceRegion(nil, &lm, 150, 150); !whole {
		t.Error("face filling a crop not taken whole")
	}
}

func TestPredictAllocatesNothing(t *testing.T) {
	n := loadNet(t, models.FaceAPI())
	img := raster.NewRGB(200, 150)
	r := n.WholeImage(200, 150)
	if a := testing.AllocsPerRun(5, func() { n.Predict(img, r) }); a > 200 {
		// The SGEMM's worker bookkeeping (nn) allocates a little per call;
		// everything of this package is preallocated.
		t.Errorf("%v allocations per prediction", a)
	}
}

func BenchmarkFaceAPI(b *testing.B) { benchNet(b, models.FaceAPI()) }
func BenchmarkHuman(b *testing.B)   { benchNet(b, models.Human()) }

// benchNet times one face: resampling of a 224×224 crop plus the forward
// pass (what fer.js times as tfjs_<model>_ms).
func benchNet(b *testing.B, m models.Model) {
	n := loadNet(b, m)
	img := raster.NewRGB(224, 224)
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	r := n.WholeImage(224, 224)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := n.Predict(img, r); err != nil {
			b.Fatal(err)
		}
	}
}
