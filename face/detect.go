package face

import (
	_ "embed"
	"fmt"
	"math"
	"runtime"
	"sort"

	pigo "github.com/esimov/pigo/core"

	"github.com/tell-project/tell/parallel"
	"github.com/tell-project/tell/raster"
)

// facefinder is pigo v1.4.6's frontal-face cascade (cascade/facefinder in
// the module, MIT licence, Endre Simo; trained by N. Markuš for pico),
// embedded because a module's data files are not on disk at run time.
//
//go:embed facefinder
var facefinder []byte

// Detection is one detected face: its box (in the landmark predictor's box
// convention, see Detector) and the cascade's score (higher is surer;
// pigo scores of real faces are typically above 5).
type Detection struct {
	Box   Rect
	Score float32
}

// DetectorOptions tune the scan. Zero fields take the defaults.
type DetectorOptions struct {
	MinSize     int     // smallest face (pigo window side) scanned, pixels (default: shorter image side / 6, at least 24)
	MaxSize     int     // largest (default: the image's shorter side)
	ShiftFactor float64 // window step as a fraction of its size (default 0.1)
	ScaleFactor float64 // size ratio between scales (default 1.1)
	IoU         float64 // overlap above which raw hits merge (default 0.2)
	MinScore    float32 // weakest detection kept (default 5)
}

func (o DetectorOptions) withDefaults() DetectorOptions {
	if o.ShiftFactor <= 0 {
		o.ShiftFactor = 0.1
	}
	if o.ScaleFactor <= 1 {
		o.ScaleFactor = 1.1
	}
	if o.IoU <= 0 {
		o.IoU = 0.2
	}
	if o.MinScore == 0 {
		o.MinScore = 5
	}
	return o
}

// Detector finds frontal faces with pigo's pixel-intensity-comparison
// cascade. Boxes are converted from pigo's square (centre, side) to the
// tighter, lower box that dlib's HOG detector gives and that the landmark
// model was trained on (fitted on the astronaut portrait and its mirrored
// and rotated copies: dlib's box side is 0.82 of pigo's, its centre 0.14
// side lower). A Detector is immutable
// and safe for concurrent use.
type Detector struct {
	cascade *pigo.Pigo
	opt     DetectorOptions
}

// Box mapping from pigo's square to dlib's (see Detector).
const (
	pigoToDlibScale = 0.82
	pigoToDlibShift = 0.14
)

// NewDetector returns a detector with the default options.
func NewDetector() (*Detector, error) { return NewDetectorWith(DetectorOptions{}) }

// NewDetectorWith returns a detector with the given options.
func NewDetectorWith(opt DetectorOptions) (*Detector, error) {
	c, err := pigo.NewPigo().Unpack(facefinder)
	if err != nil {
		return nil, fmt.Errorf("face: unpack pigo cascade: %w", err)
	}
	return &Detector{cascade: c, opt: opt.withDefaults()}, nil
}

// scanMinWindow is the smallest window pigo scans after downsampling:
// Detect shrinks the image by an integer factor while the smallest face
// still spans this many pixels, which cuts the scan by the factor squared.
const scanMinWindow = 24

// Detect returns the faces in img, best score first.
func (d *Detector) Detect(img *raster.Gray) []Detection {
	minSize, maxSize := d.opt.MinSize, d.opt.MaxSize
	if minSize <= 0 {
		minSize = max(scanMinWindow, min(img.W, img.H)/6)
	}
	if maxSize <= 0 {
		maxSize = min(img.W, img.H)
	}
	k := max(1, minSize/scanMinWindow)
	w, h := img.W/k, img.H/k
	if w < 1 || h < 1 {
		return nil
	}
	buf := make([]uint8, w*h)
	if k == 1 {
		toBytes(buf, img, 0, 0, w, h)
	} else {
		shrinkBytes(buf, img, k, w, h)
	}
	return d.detectBytes(buf, w, h, minSize/k, maxSize/k, 0, 0, k)
}

// shrinkBytes averages k×k blocks of img into the w×h byte image dst.
func shrinkBytes(dst []uint8, img *raster.Gray, k, w, h int) {
	inv := 1 / float32(k*k)
	for y := 0; y < h; y++ {
		out := dst[y*w : y*w+w]
		for x := range out {
			var s float32
			for dy := 0; dy < k; dy++ {
				row := img.Pix[(y*k+dy)*img.Stride+x*k : (y*k+dy)*img.Stride+x*k+k]
				for _, v := range row {
					s += v
				}
			}
			v := s*inv + 0.5
			if v < 0 {
				v = 0
			} else if v > 255 {
				v = 255
			}
			out[x] = uint8(v)
		}
	}
}

// detectBytes scans a w×h byte image that is the original shrunk k times
// and offset by (ox, oy), and returns boxes in original coordinates.
func (d *Detector) detectBytes(pix []uint8, w, h, minSize, maxSize, ox, oy, k int) []Detection {
	if maxSize <= 0 || maxSize > min(w, h) {
		maxSize = min(w, h)
	}
	if minSize > maxSize {
		return nil
	}
	params := func(lo, hi int) pigo.CascadeParams {
		return pigo.CascadeParams{
			MinSize:     lo,
			MaxSize:     hi,
			ShiftFactor: d.opt.ShiftFactor,
			ScaleFactor: d.opt.ScaleFactor,
			ImageParams: pigo.ImageParams{Pixels: pix, Rows: h, Cols: w, Dim: w},
		}
	}
	var raw []pigo.Detection
	// The scan costs ∝ 1/size², so sizes up to √2·minSize are about half
	// the work: scan them and the rest in parallel when there is a spare
	// CPU and enough work to be worth a goroutine. The split falls on a
	// size of the single scan's own progression and the halves join small
	// sizes first, as the single scan lists them, so the detections (and
	// pigo's clustering of them, which depends on their order) are the
	// same at any GOMAXPROCS.
	split := nextScanSize(minSize, d.opt.ScaleFactor, float64(minSize)*math.Sqrt2)
	if runtime.GOMAXPROCS(0) > 1 && w*h >= 200*150 && split <= maxSize {
		// A panic in either half is raised here once both have ended.
		var large []pigo.Detection
		var g parallel.Group
		g.Go(func() { large = d.cascade.RunCascade(params(split, maxSize), 0) })
		g.Do(func() { raw = d.cascade.RunCascade(params(minSize, split-1), 0) })
		g.Wait()
		raw = append(raw, large...)
	} else {
		raw = d.cascade.RunCascade(params(minSize, maxSize), 0)
	}
	clusters := d.cascade.ClusterDetections(raw, d.opt.IoU)
	out := make([]Detection, 0, len(clusters))
	for _, c := range clusters {
		if c.Q < d.opt.MinScore {
			continue
		}
		// A shrunk pixel i covers original pixels k·i .. k·i+k−1.
		col := float64(c.Col*k) + float64(k-1)/2 + float64(ox)
		row := float64(c.Row*k) + float64(k-1)/2 + float64(oy)
		out = append(out, Detection{Box: pigoBox(col, row, float64(c.Scale*k)), Score: c.Q})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	return out
}

// nextScanSize returns the first window size of pigo's scan progression
// from minSize (RunCascade's rule: grow by the scale factor, at least 2
// pixels) that reaches at least above.
func nextScanSize(minSize int, factor, above float64) int {
	s := minSize
	for float64(s) < above {
		s = int(float64(s) + math.Max(2, float64(s)*factor-float64(s)))
	}
	return s
}

// pigoBox converts a pigo detection (centre col, row; side) to a Rect.
func pigoBox(col, row, side float64) Rect {
	s := side * pigoToDlibScale
	cx := col
	cy := row + side*pigoToDlibShift
	n := int(math.Round(s))
	return Rect{X: int(math.Round(cx - s/2)), Y: int(math.Round(cy - s/2)), W: n, H: n}
}

// toBytes converts the region (x0,y0,w,h) of img to 8-bit pixels in dst.
func toBytes(dst []uint8, img *raster.Gray, x0, y0, w, h int) {
	for y := 0; y < h; y++ {
		row := img.Pix[(y0+y)*img.Stride+x0 : (y0+y)*img.Stride+x0+w]
		out := dst[y*w : y*w+w]
		for x, v := range row {
			v += 0.5
			if v < 0 {
				v = 0
			} else if v > 255 {
				v = 255
			}
			out[x] = uint8(v)
		}
	}
}
