package eval

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/tell-project/tell/appearance"
	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/flow"
	"github.com/tell-project/tell/models"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/video"
)

// TestFlow: a smooth pattern moved by one pixel to the right gives a flow
// of about one pixel to the right in the middle of the image, and a time.
func TestFlow(t *testing.T) {
	const w, h = 48, 40
	a, b := raster.NewGray(w, h), raster.NewGray(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			f := func(x float64) float32 {
				return float32(128 + 60*math.Sin(x/5)*math.Cos(float64(y)/6))
			}
			a.Pix[y*w+x], b.Pix[y*w+x] = f(float64(x)), f(float64(x-1))
		}
	}
	f, it, ms, err := Flow(t.Context(), flow.Default(), a, b)
	if err != nil {
		t.Fatal(err)
	}
	u, v := f.U[h/2*w+w/2], f.V[h/2*w+w/2]
	if math.Abs(float64(u)-1) > 0.2 || math.Abs(float64(v)) > 0.2 || it < 1 || ms < 0 {
		t.Errorf("flow (%.2f, %.2f), %d iterations, %.1f ms; want about (1, 0)", u, v, it, ms)
	}
}

// TestLandmarks: the timed predictor gives the same landmarks as one call.
func TestLandmarks(t *testing.T) {
	path, err := face.ResolveModelPath("")
	if err != nil {
		if models.Required() {
			t.Fatal(err)
		}
		t.Skipf("skipping: %v", err)
	}
	pred, err := face.LoadPredictor(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := video.ReadImage(filepath.Join("..", "portrait", "astronaut.png"))
	if err != nil {
		t.Fatal(err)
	}
	g := raster.FromImage(img)
	box := face.Rect{X: 150, Y: 60, W: 200, H: 200}
	s, us, err := Landmarks(t.Context(), pred, g, box, 3)
	if err != nil || us <= 0 {
		t.Fatal(us, err)
	}
	if want := pred.Predict(g, box); s != want {
		t.Errorf("timed landmarks differ from one call")
	}
}

// TestFER: the harness's probabilities are the net's own on the whole
// image; no image is an error.
func TestFER(t *testing.T) {
	n := loadNet(t, models.FaceAPI())
	path := filepath.Join("..", "portrait", "astronaut.png")
	var got []float32
	ms, err := FER(t.Context(), n, []string{path}, func(_ string, p appearance.Probs) { got = p[:] })
	if err != nil || ms <= 0 {
		t.Fatal(ms, err)
	}
	rgb, err := video.ReadRGB(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	want, err := n.Predict(rgb, n.WholeImage(rgb.W, rgb.H))
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("harness %v, net %v", got, want)
		}
	}
	if _, err := FER(t.Context(), n, nil, nil); err == nil {
		t.Error("no images accepted")
	}
}
