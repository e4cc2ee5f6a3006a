package face

import (
	"math"

	"github.com/tell-project/tell/raster"
)

// Default aligned face sizes: 128 for motion and AU work, 224 for networks.
const (
	AlignSize    = 128
	AlignSizeNet = 224
)

// meanShape is dlib's 68-point mean shape (the initial shape of
// shape_predictor_68_face_landmarks.dat), in units of the detection box.
// It is left-right symmetric about x = 0.5.
var meanShape = [NumLandmarks]Point{
	{0.0294, 0.3219}, {0.0326, 0.4464}, {0.0459, 0.5704}, {0.0718, 0.6920},
	{0.1203, 0.8050}, {0.1947, 0.9029}, {0.2858, 0.9846}, {0.3863, 1.0502},
	{0.5000, 1.0697}, {0.6137, 1.0502}, {0.7142, 0.9846}, {0.8053, 0.9029},
	{0.8797, 0.8050}, {0.9282, 0.6920}, {0.9541, 0.5704}, {0.9674, 0.4464},
	{0.9706, 0.3219}, {0.1192, 0.2309}, {0.1775, 0.1784}, {0.2598, 0.1627},
	{0.3451, 0.1749}, {0.4249, 0.2081}, {0.5751, 0.2081}, {0.6550, 0.1749},
	{0.7402, 0.1627}, {0.8225, 0.1784}, {0.8809, 0.2309}, {0.5000, 0.3055},
	{0.5000, 0.3857}, {0.5000, 0.4652}, {0.5000, 0.5470}, {0.4045, 0.6023},
	{0.4504, 0.6192}, {0.5000, 0.6337}, {0.5497, 0.6192}, {0.5955, 0.6023},
	{0.2139, 0.3156}, {0.2647, 0.2863}, {0.3259, 0.2872}, {0.3794, 0.3276},
	{0.3221, 0.3378}, {0.2612, 0.3370}, {0.6207, 0.3276}, {0.6742, 0.2872},
	{0.7353, 0.2863}, {0.7862, 0.3156}, {0.7388, 0.3370}, {0.6780, 0.3378},
	{0.3171, 0.7511}, {0.3844, 0.7242}, {0.4525, 0.7103}, {0.5000, 0.7220},
	{0.5475, 0.7103}, {0.6156, 0.7242}, {0.6829, 0.7511}, {0.6178, 0.8169},
	{0.5516, 0.8460}, {0.5000, 0.8515}, {0.4484, 0.8460}, {0.3823, 0.8169},
	{0.3452, 0.7547}, {0.4519, 0.7499}, {0.5000, 0.7550}, {0.5481, 0.7499},
	{0.6548, 0.7547}, {0.5490, 0.7857}, {0.5000, 0.7916}, {0.4510, 0.7857},
}

// rigidPoints are the landmarks Align fits: the eye corners and the nose,
// which expressions move least, so that brow and mouth motion survives
// alignment instead of being fitted away.
var rigidPoints = []int{27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 39, 42, 45}

// templateScale and templateCentre place the mean shape in the aligned
// square: the face (brows to chin, 0.91 box units tall) fills 82% of it.
const templateScale = 0.9

var templateCentre = Point{0.5, 0.615}

// Template returns the canonical 68 points in a size×size aligned image.
func Template(size int) Shape {
	var s Shape
	n := float64(size)
	for i, p := range meanShape {
		s[i] = Point{
			((p.X-templateCentre.X)*templateScale + 0.5) * n,
			((p.Y-templateCentre.Y)*templateScale + 0.5) * n,
		}
	}
	return s
}

// Transform is a 2-D affine map p ↦ (A·x + B·y + Tx, C·x + D·y + Ty). The
// transforms Align returns are similarities (A = D, B = −C).
type Transform struct{ A, B, C, D, Tx, Ty float64 }

// Apply maps a point.
func (t Transform) Apply(p Point) Point {
	return Point{t.A*p.X + t.B*p.Y + t.Tx, t.C*p.X + t.D*p.Y + t.Ty}
}

// ApplyShape maps every point of a shape.
func (t Transform) ApplyShape(s Shape) Shape {
	for i, p := range s {
		s[i] = t.Apply(p)
	}
	return s
}

// Scale is the transform's scale factor (for a similarity).
func (t Transform) Scale() float64 { return math.Sqrt(math.Abs(t.A*t.D - t.B*t.C)) }

// Inverse returns the inverse map (the identity for a singular transform).
func (t Transform) Inverse() Transform {
	det := t.A*t.D - t.B*t.C
	if det == 0 {
		return Transform{A: 1, D: 1}
	}
	a, b, c, d := t.D/det, -t.B/det, -t.C/det, t.A/det
	return Transform{A: a, B: b, C: c, D: d, Tx: -(a*t.Tx + b*t.Ty), Ty: -(c*t.Tx + d*t.Ty)}
}

// FitSimilarity returns the least-squares similarity (rotation, uniform
// scale, translation; no reflection) taking from[i] onto to[i] for the
// given indices (all points when idx is nil), by Umeyama's closed form.
func FitSimilarity(from, to *Shape, idx []int) Transform {
	if idx == nil {
		idx = make([]int, NumLandmarks)
		for i := range idx {
			idx[i] = i
		}
	}
	n := float64(len(idx))
	var mf, mt Point
	for _, i := range idx {
		mf.X += from[i].X
		mf.Y += from[i].Y
		mt.X += to[i].X
		mt.Y += to[i].Y
	}
	mf.X, mf.Y, mt.X, mt.Y = mf.X/n, mf.Y/n, mt.X/n, mt.Y/n
	var sf, a, b float64
	for _, i := range idx {
		fx, fy := from[i].X-mf.X, from[i].Y-mf.Y
		tx, ty := to[i].X-mt.X, to[i].Y-mt.Y
		sf += fx*fx + fy*fy
		a += fx*tx + fy*ty
		b += fx*ty - fy*tx
	}
	if sf == 0 {
		return Transform{A: 1, D: 1, Tx: mt.X - mf.X, Ty: mt.Y - mf.Y}
	}
	a, b = a/sf, b/sf
	return Transform{A: a, B: -b, C: b, D: a, Tx: mt.X - (a*mf.X - b*mf.Y), Ty: mt.Y - (b*mf.X + a*mf.Y)}
}

// Align warps the face with landmarks s to a size×size image in which the
// rigid points (rigidPoints) sit as close as a similarity allows to the
// canonical Template. The returned Transform maps original-image
// coordinates to aligned ones; its Inverse maps results back to the frame.
// Pixels are sampled bilinearly with replicated borders.
func Align(img *raster.Gray, s Shape, size int) (*raster.Gray, Transform) {
	out := raster.NewGray(size, size)
	t := AlignInto(out, img, s)
	return out, t
}

// AlignInto is Align writing into dst (its size is the aligned size), for
// reusing one buffer across frames.
func AlignInto(dst, img *raster.Gray, s Shape) Transform {
	tpl := Template(dst.W)
	t := FitSimilarity(&s, &tpl, rigidPoints)
	Warp(dst, img, t.Inverse())
	return t
}

// Warp fills dst by sampling src at inv(x, y) for every dst pixel, with
// bilinear interpolation and replicated borders.
func Warp(dst, src *raster.Gray, inv Transform) {
	for y := 0; y < dst.H; y++ {
		row := dst.Pix[y*dst.Stride : y*dst.Stride+dst.W]
		fy := float64(y)
		// Walk along the row incrementally: the source step per pixel is (A, C).
		sx := inv.B*fy + inv.Tx
		sy := inv.D*fy + inv.Ty
		for x := range row {
			row[x] = src.Bilinear(float32(sx), float32(sy))
			sx += inv.A
			sy += inv.C
		}
	}
}
