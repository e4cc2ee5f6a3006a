package nn

import (
	"fmt"
	"math/rand/v2"
)

// PatchEmbed cuts images x [B, C, H, W] into non-overlapping P×P patches and
// projects each to D values: tokens [B, (H/P)·(W/P), D], row-major over
// patches. It equals Conv2d(C, D, P, stride P) followed by
// flatten(2).transpose(1, 2); the weight NAME.weight has PyTorch's conv
// shape [D, C, P, P].
type PatchEmbed struct {
	C, P, D int
	Proj    *Linear
	cols    *Tensor
}

// NewPatchEmbed returns a patch embedding initialised like PyTorch's Conv2d.
func NewPatchEmbed(name string, channels, patch, dim int, rng *rand.Rand) *PatchEmbed {
	l := NewLinear(name, channels*patch*patch, dim, true, rng)
	l.W.Shape = []int{dim, channels, patch, patch}
	return &PatchEmbed{C: channels, P: patch, D: dim, Proj: l}
}

// Params returns weight and bias.
func (pe *PatchEmbed) Params() []*Param { return pe.Proj.Params() }

// Forward returns the patch tokens; H and W must divide by P.
func (pe *PatchEmbed) Forward(x *Tensor) (*Tensor, error) {
	if len(x.Shape) != 4 || x.Shape[1] != pe.C || x.Shape[2]%pe.P != 0 || x.Shape[3]%pe.P != 0 {
		return nil, fmt.Errorf("nn: patch embed %s: input shape %v, want [B %d H W] with H, W multiples of %d", pe.Proj.W.Name, x.Shape, pe.C, pe.P)
	}
	B, C, H, W, P := x.Shape[0], pe.C, x.Shape[2], x.Shape[3], pe.P
	gh, gw := H/P, W/P
	k := C * P * P
	cols := Ensure(&pe.cols, B, gh*gw, k)
	for b := 0; b < B; b++ {
		for py := 0; py < gh; py++ {
			for px := 0; px < gw; px++ {
				dst := cols.Data[((b*gh+py)*gw+px)*k:]
				for c := 0; c < C; c++ {
					for ky := 0; ky < P; ky++ {
						src := x.Data[((b*C+c)*H+py*P+ky)*W+px*P:]
						copy(dst[(c*P+ky)*P:(c*P+ky)*P+P], src[:P])
					}
				}
			}
		}
	}
	return pe.Proj.Forward(cols), nil
}

// Backward accumulates the weight gradients from dtokens. The input image
// gets no gradient (it is data).
func (pe *PatchEmbed) Backward(dy *Tensor) { pe.Proj.BackwardParams(dy) }
