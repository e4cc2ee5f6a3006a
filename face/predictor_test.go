package face

import (
	"bufio"
	"fmt"
	"image"
	_ "image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tell-project/tell/models"
	"github.com/tell-project/tell/raster"
)

var (
	modelOnce sync.Once
	modelPred *Predictor
	modelErr  error
)

// testPredictor loads the Debian model once per test binary, or skips.
func testPredictor(t testing.TB) *Predictor {
	t.Helper()
	path, err := ResolveModelPath("")
	if err != nil {
		if models.Required() {
			t.Fatal(err)
		}
		t.Skipf("skipping: %v", err)
	}
	modelOnce.Do(func() { modelPred, modelErr = LoadPredictor(path) })
	if modelErr != nil {
		t.Fatal(modelErr)
	}
	return modelPred
}

// golden is one dlib reference: image, box and dlib's 68 integer points.
type golden struct {
	name  string
	image string
	box   Rect
	pts   [NumLandmarks][2]int
}

func readGolden(t *testing.T, path string) golden {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g := golden{name: strings.TrimSuffix(filepath.Base(path), ".txt")}
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# image "):
			g.image = filepath.Join("testdata", strings.TrimPrefix(line, "# image "))
		case strings.HasPrefix(line, "box "):
			if _, err := fmt.Sscanf(line, "box %d %d %d %d", &g.box.X, &g.box.Y, &g.box.W, &g.box.H); err != nil {
				t.Fatalf("%s: %q: %v", path, line, err)
			}
		default:
			var i, x, y int
			if _, err := fmt.Sscanf(line, "%d %d %d", &i, &x, &y); err != nil || i != n || i >= NumLandmarks {
				t.Fatalf("%s: bad line %q", path, line)
			}
			g.pts[i] = [2]int{x, y}
			n++
		}
	}
	if n != NumLandmarks || g.image == "" {
		t.Fatalf("%s: %d points, image %q", path, n, g.image)
	}
	return g
}

func loadGray(t testing.TB, path string) *raster.Gray {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return raster.FromImage(img)
}

// TestPredictMatchesDlib compares against dlib's own output (golden/*.txt,
// made by testdata/golden.sh): every point within 0.5 px of dlib's rounded
// integer point, and the rounded points equal.
func TestPredictMatchesDlib(t *testing.T) {
	p := testPredictor(t)
	files, err := filepath.Glob("testdata/golden/*.txt")
	if err != nil || len(files) < 8 {
		t.Fatalf("golden files: %v, %v", files, err)
	}
	for _, file := range files {
		g := readGolden(t, file)
		t.Run(g.name, func(t *testing.T) {
			img := loadGray(t, g.image)
			s := p.Predict(img, g.box)
			worst := 0.0
			for i, pt := range s {
				dx := math.Abs(pt.X - float64(g.pts[i][0]))
				dy := math.Abs(pt.Y - float64(g.pts[i][1]))
				worst = math.Max(worst, math.Max(dx, dy))
				if dx > 0.5+1e-3 || dy > 0.5+1e-3 {
					t.Errorf("point %d = (%.3f, %.3f), dlib (%d, %d)", i, pt.X, pt.Y, g.pts[i][0], g.pts[i][1])
				}
				if rx, ry := math.Floor(pt.X+0.5), math.Floor(pt.Y+0.5); rx != float64(g.pts[i][0]) || ry != float64(g.pts[i][1]) {
					t.Errorf("point %d rounds to (%v, %v), dlib (%d, %d)", i, rx, ry, g.pts[i][0], g.pts[i][1])
				}
			}
			t.Logf("worst |Go - dlib| = %.3f px", worst)
		})
	}
}

func BenchmarkLoadPredictor(b *testing.B) {
	path, err := ResolveModelPath("")
	if err != nil {
		if models.Required() {
			b.Fatal(err)
		}
		b.Skipf("skipping: %v", err)
	}
	for b.Loop() {
		if _, err := LoadPredictor(path); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPredict(b *testing.B) {
	p := testPredictor(b)
	img := loadGray(b, "../portrait/astronaut.png")
	box := Rect{179, 83, 88, 88}
	c := cpuTime()
	for b.Loop() {
		p.Predict(img, box)
	}
	reportCPU(b, c)
}

// TestPredictConcurrent: one Predictor shared by goroutines gives every
// goroutine the sequential answer (run with -race to check for data races).
func TestPredictConcurrent(t *testing.T) {
	p := testPredictor(t)
	img := loadGray(t, "../portrait/astronaut.png")
	boxes := []Rect{{179, 83, 88, 88}, {170, 75, 105, 105}, {185, 90, 80, 80}}
	want := make([]Shape, len(boxes))
	for i, b := range boxes {
		want[i] = p.Predict(img, b)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 6; k++ {
				i := (g + k) % len(boxes)
				if got := p.Predict(img, boxes[i]); got != want[i] {
					errs <- fmt.Sprintf("goroutine %d box %v differs", g, boxes[i])
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestAddLeavesAVX: the vector sum of leaves gives the scalar one bit for
// bit (each coordinate's additions in tree order).
func TestAddLeavesAVX(t *testing.T) {
	if !haveAVX {
		t.Skip("no AVX")
	}
	const dim = 2 * NumLandmarks
	leaves := make([]float32, 40*dim)
	for i := range leaves {
		leaves[i] = float32(math.Sin(float64(i)*0.37)) * float32(1+i%7) / 3
	}
	for _, n := range []int{1, 2, 7, 40} {
		offs := make([]int32, n)
		for i := range offs {
			offs[i] = int32(((i * 17) % 40) * dim)
		}
		var a, b [dim]float32
		for i := range a {
			a[i] = float32(i) * 0.013
			b[i] = a[i]
		}
		c := b
		addLeavesGo(&a, leaves, offs)
		addLeavesAVX(&b[0], &leaves[0], &offs[0], n)
		if a != b {
			t.Fatalf("%d trees: the vector sum differs from the scalar one", n)
		}
		if haveAVX512 {
			addLeavesAVX512(&c[0], &leaves[0], &offs[0], n)
			if a != c {
				t.Fatalf("%d trees: the 512-bit sum differs from the scalar one", n)
			}
		}
	}
}
