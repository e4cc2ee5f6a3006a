package cnn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/tell-project/tell/nn"
)

// trunk is STSTNet's feature extractor as one fused layer:
//
//	conv 3×3 (padding 1) → ReLU → BatchNorm → max-pool 3×3 stride 3
//	padding 1 → average pool 2×2 stride 2
//
// It computes exactly what nn.Conv2d, nn.ReLU, nn.BatchNorm and two
// nn.Pool2d compute in sequence (TestTrunkMatchesLayers), in fewer passes
// over memory: the activations stay channel-major ([C, B·H·W], the GEMM's
// output layout), the ReLU and the batch statistics share one pass, the
// max-pool reads the ReLU output directly (BatchNorm is monotone per
// channel, so its arg-max is the ReLU output's arg-max, or arg-min when γ<0)
// and the backward pass touches only the max-pool's winners before one dense
// pass. The input needs no gradient (a first layer).
type trunk struct {
	in, out int
	conv    *nn.Param // weight [out, in, 3, 3]
	bias    *nn.Param
	bn      *nn.BatchNorm
	useBN   bool

	b, h, w   int // batch and input size of the last Forward
	mh, mw    int // max-pool output size
	ah, aw    int // average-pool output size
	cols, r   []float32
	mean, inv []float32 // per channel: statistics used by the last Forward
	arg       []int32   // [out, B, mh, mw]: index into r's row of each max
	dz        []float32
	y         *nn.Tensor
	training  bool
}

// newTrunk returns the fused layer; its parameters are named conv.weight,
// conv.bias, bn.weight, bn.bias (and bn.running_mean, bn.running_var),
// initialised as nn.NewConv2d and nn.NewBatchNorm do.
func newTrunk(in, out int, batchNorm bool, rng *rand.Rand) *trunk {
	c := nn.NewConv2d("conv", in, out, 3, 1, 1, rng)
	t := &trunk{in: in, out: out, conv: c.W, bias: c.B, useBN: batchNorm, bn: nn.NewBatchNorm("bn", out)}
	t.mean, t.inv = make([]float32, out), make([]float32, out)
	return t
}

func (t *trunk) params() []*nn.Param {
	ps := []*nn.Param{t.conv, t.bias}
	if t.useBN {
		ps = append(ps, t.bn.Params()...)
	}
	return ps
}

func poolOut(n, k, s, p int) int { return (n+2*p-k)/s + 1 }

// outShape returns the output's channels, height and width for an h×w input.
func (t *trunk) outShape(h, w int) (int, int, int) {
	return t.out, poolOut(poolOut(h, 3, 3, 1), 2, 2, 0), poolOut(poolOut(w, 3, 3, 1), 2, 2, 0)
}

// forward maps x [B, in, H, W] to the pooled features [B, out, ah, aw].
func (t *trunk) forward(x *nn.Tensor) (*nn.Tensor, error) {
	if len(x.Shape) != 4 || x.Shape[1] != t.in || x.Shape[2] < 3 || x.Shape[3] < 3 {
		return nil, fmt.Errorf("cnn: input shape %v, want [B %d H W] with H, W ≥ 3", x.Shape, t.in)
	}
	B, H, W := x.Shape[0], x.Shape[2], x.Shape[3]
	t.b, t.h, t.w = B, H, W
	hw := H * W
	n := B * hw
	if t.training && t.useBN && n < 2 {
		return nil, fmt.Errorf("cnn: BatchNorm training needs more than one value per channel")
	}
	kk := t.in * 9
	t.cols = grow(t.cols, kk*n)
	for b := 0; b < B; b++ {
		im2col3(t.cols, n, b*hw, x.Data[b*t.in*hw:(b+1)*t.in*hw], t.in, H, W)
	}
	t.r = grow(t.r, t.out*n)
	nn.Gemm(false, false, t.out, n, kk, 1, t.conv.Data, kk, t.cols, n, 0, t.r, n)
	// Bias and ReLU, with the batch statistics of the result in the same pass.
	for c := 0; c < t.out; c++ {
		s, s2 := reluStats(t.r[c*n:(c+1)*n], t.bias.Data[c])
		switch {
		case !t.useBN:
			t.mean[c], t.inv[c] = 0, 1
		case t.training:
			mean := s / float64(n)
			v := math.Max(s2/float64(n)-mean*mean, 0)
			t.mean[c], t.inv[c] = float32(mean), float32(1/math.Sqrt(v+float64(t.bn.Eps)))
			m := float64(t.bn.Momentum)
			t.bn.RunMean[c] = float32((1-m)*float64(t.bn.RunMean[c]) + m*mean)
			t.bn.RunVar[c] = float32((1-m)*float64(t.bn.RunVar[c]) + m*v*float64(n)/float64(n-1))
		default:
			t.mean[c] = t.bn.RunMean[c]
			t.inv[c] = float32(1 / math.Sqrt(float64(t.bn.RunVar[c])+float64(t.bn.Eps)))
		}
	}
	// Max-pool 3×3 stride 3 padding 1 over BN(r) = γ·(r−μ)·inv + β: the
	// winner is r's arg-max for γ ≥ 0 and arg-min for γ < 0 (first on ties,
	// as PyTorch); then the 2×2 average pool of the winners' values.
	mh, mw := poolOut(H, 3, 3, 1), poolOut(W, 3, 3, 1)
	ah, aw := poolOut(mh, 2, 2, 0), poolOut(mw, 2, 2, 0)
	if ah < 1 || aw < 1 {
		return nil, fmt.Errorf("cnn: input %dx%d too small for the pools", H, W)
	}
	t.mh, t.mw, t.ah, t.aw = mh, mw, ah, aw
	if cap(t.arg) < t.out*B*mh*mw {
		t.arg = make([]int32, t.out*B*mh*mw)
	}
	t.arg = t.arg[:t.out*B*mh*mw]
	y := nn.Ensure(&t.y, B, t.out, ah, aw)
	clear(y.Data)
	for c := 0; c < t.out; c++ {
		g, beta := float32(1), float32(0)
		if t.useBN {
			g, beta = t.bn.G.Data[c], t.bn.B.Data[c]
		}
		// mode: +1 arg-max, −1 arg-min, 0 (γ = 0: every value is β) first.
		mode := float32(1)
		if g < 0 {
			mode = -1
		} else if g == 0 {
			mode = 0
		}
		mu, inv := t.mean[c], t.inv[c]
		for b := 0; b < B; b++ {
			img := t.r[c*n+b*hw : c*n+(b+1)*hw]
			arg := t.arg[(c*B+b)*mh*mw : (c*B+b+1)*mh*mw]
			out := y.Data[(b*t.out+c)*ah*aw : (b*t.out+c+1)*ah*aw]
			for oy := 0; oy < mh; oy++ {
				y0, y1 := max(3*oy-1, 0), min(3*oy+2, H)
				for ox := 0; ox < mw; ox++ {
					x0, x1 := max(3*ox-1, 0), min(3*ox+2, W)
					var at int
					var best float32
					if y1-y0 == 3 && x1-x0 == 3 && mode > 0 {
						at, best = argmax3x3(img, y0*W+x0, W)
					} else {
						at = y0*W + x0
						best = img[at]
						for iy := y0; iy < y1; iy++ {
							for ix := x0; ix < x1; ix++ {
								v := img[iy*W+ix]
								if mode*v > mode*best {
									best, at = v, iy*W+ix
								}
							}
						}
					}
					arg[oy*mw+ox] = int32(at)
					if py, px := oy/2, ox/2; py < ah && px < aw {
						out[py*aw+px] += 0.25 * (g*(best-mu)*inv + beta)
					}
				}
			}
		}
	}
	return y, nil
}

// backwardParams accumulates the parameter gradients from dy [B, out, ah, aw].
func (t *trunk) backwardParams(dy *nn.Tensor) {
	B, H, W := t.b, t.h, t.w
	hw := H * W
	n := B * hw
	mh, mw, ah, aw := t.mh, t.mw, t.ah, t.aw
	t.dz = grow(t.dz, t.out*n)
	nf := float32(n)
	for c := 0; c < t.out; c++ {
		r := t.r[c*n : (c+1)*n]
		dz := t.dz[c*n : (c+1)*n]
		mu, inv := t.mean[c], t.inv[c]
		// The average pool spreads dy/4 over its window; the max-pool sends
		// each window's share to its winner. Σdu and Σdu·x̂ come from the
		// winners alone.
		var sdu, sduh float64
		for b := 0; b < B; b++ {
			arg := t.arg[(c*B+b)*mh*mw : (c*B+b+1)*mh*mw]
			d := dy.Data[(b*t.out+c)*ah*aw : (b*t.out+c+1)*ah*aw]
			for oy := 0; oy < 2*ah; oy++ {
				for ox := 0; ox < 2*aw; ox++ {
					g := 0.25 * d[(oy/2)*aw+ox/2]
					i := b*hw + int(arg[oy*mw+ox])
					sdu += float64(g)
					sduh += float64(g) * float64((r[i]-mu)*inv)
				}
			}
		}
		// dz = mask·(k·(n·du − Σdu − x̂·Σdu·x̂)): the part without du is
		// dense (k0 + k1·r where the ReLU passed), then the winners' k·n·du.
		g, k := float32(1), float32(1)
		var k0, k1 float32
		switch {
		case !t.useBN:
		case !t.training:
			g = t.bn.G.Data[c]
			k = g * inv
		default:
			g = t.bn.G.Data[c]
			k = g * inv / nf
			sh := float32(sduh)
			k0 = -k * (float32(sdu) - mu*inv*sh)
			k1 = -k * inv * sh
			k *= nf
		}
		if t.useBN {
			t.bn.G.Grad[c] += float32(sduh)
			t.bn.B.Grad[c] += float32(sdu)
		}
		denseGrad(dz, r, k0, k1)
		for b := 0; b < B; b++ {
			arg := t.arg[(c*B+b)*mh*mw : (c*B+b+1)*mh*mw]
			d := dy.Data[(b*t.out+c)*ah*aw : (b*t.out+c+1)*ah*aw]
			for oy := 0; oy < 2*ah; oy++ {
				for ox := 0; ox < 2*aw; ox++ {
					if i := b*hw + int(arg[oy*mw+ox]); r[i] > 0 {
						dz[i] += k * 0.25 * d[(oy/2)*aw+ox/2]
					}
				}
			}
		}
		t.bias.Grad[c] += rowSum(dz)
	}
	kk := t.in * 9
	nn.Gemm(false, true, t.out, kk, n, 1, t.dz, n, t.cols, n, 1, t.conv.Grad, kk)
}

// reluStats replaces row by max(row+bias, 0) and returns the sum and the
// sum of squares of the result (float32 lanes over blocks, float64 across
// blocks).
func reluStats(row []float32, bias float32) (s, s2 float64) {
	const block = 1024
	for lo := 0; lo < len(row); lo += block {
		blk := row[lo:min(lo+block, len(row))]
		var a0, a1, a2, a3, q0, q1, q2, q3 float32
		i := 0
		for ; i+4 <= len(blk); i += 4 {
			v0, v1, v2, v3 := max(blk[i]+bias, 0), max(blk[i+1]+bias, 0), max(blk[i+2]+bias, 0), max(blk[i+3]+bias, 0)
			blk[i], blk[i+1], blk[i+2], blk[i+3] = v0, v1, v2, v3
			a0, a1, a2, a3 = a0+v0, a1+v1, a2+v2, a3+v3
			q0, q1, q2, q3 = q0+v0*v0, q1+v1*v1, q2+v2*v2, q3+v3*v3
		}
		for ; i < len(blk); i++ {
			v := max(blk[i]+bias, 0)
			blk[i] = v
			a0 += v
			q0 += v * v
		}
		s += float64(a0+a1) + float64(a2+a3)
		s2 += float64(q0+q1) + float64(q2+q3)
	}
	return s, s2
}

// argmax3x3 returns the index (first on ties, row by row) and value of the
// largest of the 3×3 window at index at of an image with row stride w.
func argmax3x3(img []float32, at, w int) (int, float32) {
	best, bi := img[at], at
	for dy := 0; dy < 3; dy++ {
		row := img[at+dy*w : at+dy*w+3]
		if v := row[0]; v > best {
			best, bi = v, at+dy*w
		}
		if v := row[1]; v > best {
			best, bi = v, at+dy*w+1
		}
		if v := row[2]; v > best {
			best, bi = v, at+dy*w+2
		}
	}
	return bi, best
}

// denseGrad writes dz = k0 + k1·r where r > 0 (the ReLU passed), else 0.
func denseGrad(dz, r []float32, k0, k1 float32) {
	for i, v := range r {
		if v > 0 {
			dz[i] = k0 + k1*v
		} else {
			dz[i] = 0
		}
	}
}

// rowSum returns Σ x (float32 lanes over blocks, float64 across blocks).
func rowSum(x []float32) float32 {
	const block = 1024
	var s float64
	for lo := 0; lo < len(x); lo += block {
		blk := x[lo:min(lo+block, len(x))]
		var a0, a1, a2, a3 float32
		i := 0
		for ; i+4 <= len(blk); i += 4 {
			a0, a1, a2, a3 = a0+blk[i], a1+blk[i+1], a2+blk[i+2], a3+blk[i+3]
		}
		for ; i < len(blk); i++ {
			a0 += blk[i]
		}
		s += float64(a0+a1) + float64(a2+a3)
	}
	return float32(s)
}

// im2col3 writes the 3×3, padding 1, stride 1 patches of one sample x
// [cin, H, W] into cols rows (each n long) from column off.
func im2col3(cols []float32, n, off int, x []float32, cin, H, W int) {
	hw := H * W
	for ci := 0; ci < cin; ci++ {
		src := x[ci*hw : (ci+1)*hw]
		for ky := 0; ky < 3; ky++ {
			for kx := 0; kx < 3; kx++ {
				dst := cols[((ci*3+ky)*3+kx)*n+off:][:hw]
				for oy := 0; oy < H; oy++ {
					iy := oy + ky - 1
					row := dst[oy*W : (oy+1)*W]
					if iy < 0 || iy >= H {
						clear(row)
						continue
					}
					s := src[iy*W : (iy+1)*W]
					switch kx {
					case 0:
						row[0] = 0
						copy(row[1:], s[:W-1])
					case 1:
						copy(row, s)
					case 2:
						copy(row, s[1:])
						row[W-1] = 0
					}
				}
			}
		}
	}
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}
