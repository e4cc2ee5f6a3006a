// Package appearance recognises facial expressions from how the face looks,
// with pretrained networks from npm run by package tfjs: face-api's
// expression net (models.FaceAPI) and human-models' FER2013 mini-Xception
// (models.Human). Both give seven probabilities, reported here in py-feat's
// names and order (labels).
//
// # What the networks see
//
// A Region of the image is resampled to the network's input; parts of the
// region outside the image are black. Preprocessing is the TensorFlow.js
// peer's (../shared/bench/tfjs/fer.js), so that a face crop given whole
// gets the peer's probabilities to float32 rounding:
//
//   - faceapi: the region (for a whole image: the image padded with black
//     to a centred square, as face-api's padToSquare does, the odd pixel
//     after) is resized bilinearly to 112×112 (TensorFlow's legacy
//     sampling, src = dst·in/out), then face-api's mean RGB is subtracted
//     and the result divided by 255 (inside the graph);
//   - human: RGB/255, resized bilinearly to 64×64 (a whole image is
//     stretched, not padded), grey = 0.2989R + 0.5870G + 0.1140B, then
//     (grey − 0.5)·2.
//
// For a face inside a larger frame, FaceRegion picks the region from the
// 68 landmarks: an axis-aligned square centred on the landmarks' bounding
// box, moved up by 10% of its height (the landmarks stop at the brows; face
// detectors' boxes, on which these nets were trained, include the
// forehead), side 1.25 × the box's larger side. When that square would
// cover most of the image (side ≥ 0.8 × the image's shorter side) the image
// is taken to be a face crop and is given whole, as the peer does.
//
// Limits: one face per call; no rotation to level the eyes (the peer does
// not rotate either); JPEG input decoded by Go's image/jpeg differs from the
// peer's jpeg-js by up to a few grey levels, so only PNG input is expected
// to match the peer to 1e-4. A Net is not safe for concurrent use (Clone
// gives another sharing the weights).
package appearance

import (
	"fmt"
	"math"
	"slices"

	"github.com/tell-project/tell/models"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/tfjs"
)

// labels are the classes, named and ordered as py-feat names its emotion
// columns.
var labels = [7]string{"anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral"}

// Labels returns the classes, named and ordered as py-feat names its
// emotion columns (Probs' order), in a new slice.
func Labels() []string { return slices.Clone(labels[:]) }

// Probs are class probabilities in Labels' order.
type Probs [7]float32

// Argmax returns the index of the most probable class.
func (p Probs) Argmax() int {
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return best
}

// Label returns the most probable class and its probability.
func (p Probs) Label() (string, float64) {
	i := p.Argmax()
	return labels[i], float64(p[i])
}

// Map returns the probabilities by label.
func (p Probs) Map() map[string]float64 {
	m := make(map[string]float64, len(p))
	for i, v := range p {
		m[labels[i]] = float64(v)
	}
	return m
}

// Region is the part of an image a net sees, in pixels; it may extend past
// the image (black there).
type Region struct{ X, Y, W, H int }

// Net is one loaded network with its input buffers.
type Net struct {
	Model models.Model
	m     *tfjs.Model
	r     *tfjs.Runner
	size  int
	grey  bool
	in    []float32 // network input
	rgb   []float32 // human: resized RGB before the grey conversion
	ty    []tfjs.Tap
	tx    []tfjs.Tap
	order [7]int // network output index of each label
}

// Load reads model m from the models folder root (see package models:
// files checked against their pins first) and prepares it for one face at
// a time.
func Load(root string, m models.Model) (*Net, error) {
	path, err := models.Locate(root, m)
	if err != nil {
		return nil, err
	}
	var tm *tfjs.Model
	switch m.Name {
	case models.FaceAPI().Name:
		tm, err = tfjs.LoadFaceExpressionNet(path)
	case models.Human().Name:
		tm, err = tfjs.LoadGraphModel(path)
	default:
		return nil, fmt.Errorf("appearance: no preprocessing known for model %q", m.Name)
	}
	if err != nil {
		return nil, err
	}
	return newNet(m, tm)
}

func newNet(m models.Model, tm *tfjs.Model) (*Net, error) {
	n := &Net{Model: m, m: tm}
	switch m.Name {
	case models.FaceAPI().Name:
		n.size = tfjs.FaceExpressionInput
		// face-api: neutral, happy, sad, angry, fearful, disgusted, surprised.
		n.order = [7]int{3, 5, 4, 1, 2, 6, 0}
	case models.Human().Name:
		n.size, n.grey = 64, true
		// human-models' emotion net: angry, disgust, fear, happy, sad,
		// surprise, neutral (labels' order already).
		n.order = [7]int{0, 1, 2, 3, 4, 5, 6}
		n.rgb = make([]float32, 64*64*3)
	}
	ch := 3
	if n.grey {
		ch = 1
	}
	r, err := tm.NewRunner([]int{1, n.size, n.size, ch})
	if err != nil {
		return nil, fmt.Errorf("appearance: %s: %w", m.Name, err)
	}
	if s := r.OutputShapes(); len(s) != 1 || len(s[0]) != 2 || s[0][1] != 7 {
		return nil, fmt.Errorf("appearance: %s: output shapes %v, want one [1 7]", m.Name, s)
	}
	n.r = r
	n.in = make([]float32, n.size*n.size*ch)
	n.ty, n.tx = make([]tfjs.Tap, n.size), make([]tfjs.Tap, n.size)
	return n, nil
}

// Clone returns another Net sharing the weights, for another goroutine.
func (n *Net) Clone() (*Net, error) { return newNet(n.Model, n.m) }

// Size is the side of the network's input in pixels.
func (n *Net) Size() int { return n.size }

// WholeImage is the region the TensorFlow.js peer gives the net when a
// w×h image is the face crop: face-api pads it to a centred square (the
// odd pixel of padding after the image, as Math.round puts it); human
// stretches the whole image.
func (n *Net) WholeImage(w, h int) Region {
	if n.grey || w == h {
		return Region{0, 0, w, h}
	}
	s := max(w, h)
	diff := s - min(w, h)
	before := diff - (diff+1)/2 // face-api appends round(diff/2), prepends the rest
	if w < h {
		return Region{-before, 0, s, s}
	}
	return Region{0, -before, s, s}
}

// FaceRegion returns the region for a face with 68 landmarks (iBUG order)
// in a w×h image, and whether the image is taken whole (see the package
// documentation); for a whole image it returns the region Net.WholeImage
// would (n may be nil when only the decision is wanted).
func FaceRegion(n *Net, lm *[68][2]float32, w, h int) (Region, bool) {
	x0, y0 := float32(math.Inf(1)), float32(math.Inf(1))
	x1, y1 := float32(math.Inf(-1)), float32(math.Inf(-1))
	for _, p := range lm {
		x0, x1 = min(x0, p[0]), max(x1, p[0])
		y0, y1 = min(y0, p[1]), max(y1, p[1])
	}
	bw, bh := float64(x1-x0), float64(y1-y0)
	side := 1.25 * math.Max(bw, bh)
	if side >= 0.8*float64(min(w, h)) || !(side > 0) {
		if n == nil {
			return Region{0, 0, w, h}, true
		}
		return n.WholeImage(w, h), true
	}
	cx, cy := float64(x0+x1)/2, float64(y0+y1)/2-0.1*bh
	s := int(math.Round(side))
	return Region{int(math.Round(cx - side/2)), int(math.Round(cy - side/2)), s, s}, false
}

// Predict runs the net on region r of img. It allocates nothing.
func (n *Net) Predict(img *raster.RGB, r Region) (Probs, error) {
	var p Probs
	if r.W < 1 || r.H < 1 || r.W > 1<<15 || r.H > 1<<15 {
		return p, fmt.Errorf("appearance: region %dx%d", r.W, r.H)
	}
	tfjs.ResizeTapsInto(n.ty, r.H, false, false)
	tfjs.ResizeTapsInto(n.tx, r.W, false, false)
	if n.grey {
		n.resample(img, r, n.rgb, true)
		for i := range n.in {
			// TF.js: mul(R, 0.2989) + mul(G, 0.5870) + mul(B, 0.1140),
			// then sub 0.5, mul 2, each rounded to float32.
			rr, gg, bb := n.rgb[3*i]*float32(0.2989), n.rgb[3*i+1]*float32(0.5870), n.rgb[3*i+2]*float32(0.1140)
			g := float32(rr+gg) + bb
			n.in[i] = float32(g-0.5) * 2
		}
	} else {
		n.resample(img, r, n.in, false)
	}
	out, err := n.r.Run(n.in)
	if err != nil {
		return p, err
	}
	for i, k := range n.order {
		p[i] = out[0][k]
	}
	return p, nil
}

// resample writes region r of img (0 outside the image), resized to
// size×size RGB, into dst with the taps in n.ty, n.tx (TensorFlow's legacy
// bilinear sampling). div255 divides each pixel by 255 before
// interpolating, as the human peer does.
func (n *Net) resample(img *raster.RGB, r Region, dst []float32, div255 bool) {
	tab := &byteFloat
	if div255 {
		tab = &byteFloat255
	}
	at := func(x, y, c int) float32 {
		if x < 0 || y < 0 || x >= img.W || y >= img.H {
			return 0
		}
		return tab[img.Pix[y*img.Stride+3*x+c]]
	}
	for oy, ty := range n.ty {
		y0, y1 := r.Y+ty.I0, r.Y+ty.I1
		row := dst[oy*n.size*3 : (oy+1)*n.size*3]
		rowsIn := y0 >= 0 && y1 >= 0 && y0 < img.H && y1 < img.H
		for ox, tx := range n.tx {
			x0, x1 := r.X+tx.I0, r.X+tx.I1
			if rowsIn && x0 >= 0 && x1 >= 0 && x0 < img.W && x1 < img.W {
				// All four taps in the image: the same sums without
				// a bounds test per value.
				p0, p1 := img.Pix[y0*img.Stride:], img.Pix[y1*img.Stride:]
				a, b := p0[3*x0:3*x0+3], p0[3*x1:3*x1+3]
				c, d := p1[3*x0:3*x0+3], p1[3*x1:3*x1+3]
				o := row[3*ox : 3*ox+3]
				for ch := range o {
					tl, tr := tab[a[ch]], tab[b[ch]]
					bl, br := tab[c[ch]], tab[d[ch]]
					top := tl + (tr-tl)*tx.F
					bot := bl + (br-bl)*tx.F
					o[ch] = top + (bot-top)*ty.F
				}
				continue
			}
			for c := 0; c < 3; c++ {
				tl, tr := at(x0, y0, c), at(x1, y0, c)
				bl, br := at(x0, y1, c), at(x1, y1, c)
				top := tl + (tr-tl)*tx.F
				bot := bl + (br-bl)*tx.F
				row[3*ox+c] = top + (bot-top)*ty.F
			}
		}
	}
}

// byteFloat is float32(i) and byteFloat255 float32(i)/255 for each byte
// i: resample's values, looked up instead of computed per tap.
var byteFloat, byteFloat255 = func() (t, t255 [256]float32) {
	for i := range t {
		t[i] = float32(i)
		t255[i] = float32(i) / 255
	}
	return t, t255
}()
