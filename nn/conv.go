package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Conv2d is a 2-D convolution over x [B, Cin, H, W] (NCHW) with a square
// kernel, stride and zero padding, computed as im2col + GEMM. Parameters:
// NAME.weight [Cout, Cin, K, K], NAME.bias [Cout] (PyTorch's layout and
// initialisation).
type Conv2d struct {
	In, Out, K, Stride, Pad int
	W, B                    *Param

	x      *Tensor
	ho, wo int
	cols   []float32 // [B, Cin·K·K, Ho·Wo]
	dcols  []float32
	y, dx  *Tensor
}

// NewConv2d returns a convolution layer.
func NewConv2d(name string, in, out, k, stride, pad int, rng *rand.Rand) *Conv2d {
	c := &Conv2d{In: in, Out: out, K: k, Stride: stride, Pad: pad,
		W: NewParam(name+".weight", out, in, k, k), B: NewParam(name+".bias", out)}
	bound := 1 / math.Sqrt(float64(in*k*k))
	uniformInit(c.W.Data, bound, rng)
	uniformInit(c.B.Data, bound, rng)
	c.B.NoDecay = true
	return c
}

// Params returns weight and bias.
func (c *Conv2d) Params() []*Param { return []*Param{c.W, c.B} }

// OutSize returns the output height or width for an input of size n.
func (c *Conv2d) OutSize(n int) int { return (n+2*c.Pad-c.K)/c.Stride + 1 }

// Forward returns y [B, Cout, Ho, Wo].
func (c *Conv2d) Forward(x *Tensor) (*Tensor, error) {
	if len(x.Shape) != 4 || x.Shape[1] != c.In {
		return nil, fmt.Errorf("nn: conv2d %s: input shape %v, want [B %d H W]", c.W.Name, x.Shape, c.In)
	}
	B, H, W := x.Shape[0], x.Shape[2], x.Shape[3]
	ho, wo := c.OutSize(H), c.OutSize(W)
	if ho <= 0 || wo <= 0 {
		return nil, fmt.Errorf("nn: conv2d %s: input %dx%d smaller than kernel %d", c.W.Name, H, W, c.K)
	}
	c.x, c.ho, c.wo = x, ho, wo
	kk := c.In * c.K * c.K
	hw := ho * wo
	c.cols = growF(c.cols, B*kk*hw)
	y := Ensure(&c.y, B, c.Out, ho, wo)
	for b := 0; b < B; b++ {
		cols := c.cols[b*kk*hw : (b+1)*kk*hw]
		c.im2col(cols, x.Data[b*c.In*H*W:(b+1)*c.In*H*W], H, W)
		out := y.Data[b*c.Out*hw : (b+1)*c.Out*hw]
		for o := 0; o < c.Out; o++ {
			row := out[o*hw : (o+1)*hw]
			for i := range row {
				row[i] = c.B.Data[o]
			}
		}
		Gemm(false, false, c.Out, hw, kk, 1, c.W.Data, kk, cols, hw, 1, out, hw)
	}
	return y, nil
}

// im2col writes cols[(ci·K+ky)·K+kx][oy·Wo+ox] = x[ci][oy·S+ky−P][ox·S+kx−P].
func (c *Conv2d) im2col(cols, x []float32, H, W int) {
	hw := c.ho * c.wo
	for ci := 0; ci < c.In; ci++ {
		for ky := 0; ky < c.K; ky++ {
			for kx := 0; kx < c.K; kx++ {
				dst := cols[((ci*c.K+ky)*c.K+kx)*hw:][:hw]
				for oy := 0; oy < c.ho; oy++ {
					iy := oy*c.Stride + ky - c.Pad
					for ox := 0; ox < c.wo; ox++ {
						ix := ox*c.Stride + kx - c.Pad
						v := float32(0)
						if iy >= 0 && iy < H && ix >= 0 && ix < W {
							v = x[(ci*H+iy)*W+ix]
						}
						dst[oy*c.wo+ox] = v
					}
				}
			}
		}
	}
}

// Backward accumulates dW, db from dy [B, Cout, Ho, Wo] and returns dx.
func (c *Conv2d) Backward(dy *Tensor) *Tensor {
	B, H, W := c.x.Shape[0], c.x.Shape[2], c.x.Shape[3]
	kk := c.In * c.K * c.K
	hw := c.ho * c.wo
	dx := Ensure(&c.dx, c.x.Shape...)
	clear(dx.Data)
	c.dcols = growF(c.dcols, kk*hw)
	for b := 0; b < B; b++ {
		d := dy.Data[b*c.Out*hw : (b+1)*c.Out*hw]
		cols := c.cols[b*kk*hw : (b+1)*kk*hw]
		Gemm(false, true, c.Out, kk, hw, 1, d, hw, cols, hw, 1, c.W.Grad, kk)
		for o := 0; o < c.Out; o++ {
			var s float32
			for _, v := range d[o*hw : (o+1)*hw] {
				s += v
			}
			c.B.Grad[o] += s
		}
		Gemm(true, false, kk, hw, c.Out, 1, c.W.Data, kk, d, hw, 0, c.dcols, hw)
		// col2im: scatter-add the column gradients back to the pixels.
		xd := dx.Data[b*c.In*H*W : (b+1)*c.In*H*W]
		for ci := 0; ci < c.In; ci++ {
			for ky := 0; ky < c.K; ky++ {
				for kx := 0; kx < c.K; kx++ {
					src := c.dcols[((ci*c.K+ky)*c.K+kx)*hw:][:hw]
					for oy := 0; oy < c.ho; oy++ {
						iy := oy*c.Stride + ky - c.Pad
						if iy < 0 || iy >= H {
							continue
						}
						for ox := 0; ox < c.wo; ox++ {
							ix := ox*c.Stride + kx - c.Pad
							if ix >= 0 && ix < W {
								xd[(ci*H+iy)*W+ix] += src[oy*c.wo+ox]
							}
						}
					}
				}
			}
		}
	}
	return dx
}

// Pool2d is max or average pooling over x [B, C, H, W] with a square window
// of size K and stride Stride (no padding; a partial last window is
// dropped, as PyTorch's default).
type Pool2d struct {
	K, Stride int
	Max       bool // false: average
	x         *Tensor
	arg       []int32
	y, dx     *Tensor
}

// Forward returns the pooled tensor [B, C, Ho, Wo].
func (p *Pool2d) Forward(x *Tensor) (*Tensor, error) {
	if len(x.Shape) != 4 || x.Shape[2] < p.K || x.Shape[3] < p.K || p.K <= 0 || p.Stride <= 0 {
		return nil, fmt.Errorf("nn: pool2d: input shape %v for window %d stride %d", x.Shape, p.K, p.Stride)
	}
	B, C, H, W := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	ho, wo := (H-p.K)/p.Stride+1, (W-p.K)/p.Stride+1
	y := Ensure(&p.y, B, C, ho, wo)
	if cap(p.arg) < len(y.Data) {
		p.arg = make([]int32, len(y.Data))
	}
	p.arg = p.arg[:len(y.Data)]
	inv := 1 / float32(p.K*p.K)
	for bc := 0; bc < B*C; bc++ {
		src := x.Data[bc*H*W : (bc+1)*H*W]
		for oy := 0; oy < ho; oy++ {
			for ox := 0; ox < wo; ox++ {
				best, at := float32(math.Inf(-1)), int32(0)
				var sum float32
				for ky := 0; ky < p.K; ky++ {
					for kx := 0; kx < p.K; kx++ {
						i := (oy*p.Stride+ky)*W + ox*p.Stride + kx
						v := src[i]
						sum += v
						if v > best {
							best, at = v, int32(i)
						}
					}
				}
				o := (bc*ho+oy)*wo + ox
				if p.Max {
					y.Data[o], p.arg[o] = best, at
				} else {
					y.Data[o] = sum * inv
				}
			}
		}
	}
	p.x = x
	return y, nil
}

// Backward routes dy to the maxima (max) or spreads it over the windows
// (average).
func (p *Pool2d) Backward(dy *Tensor) *Tensor {
	B, C, H, W := p.x.Shape[0], p.x.Shape[1], p.x.Shape[2], p.x.Shape[3]
	ho, wo := dy.Shape[2], dy.Shape[3]
	dx := Ensure(&p.dx, p.x.Shape...)
	clear(dx.Data)
	inv := 1 / float32(p.K*p.K)
	for bc := 0; bc < B*C; bc++ {
		d := dx.Data[bc*H*W : (bc+1)*H*W]
		for oy := 0; oy < ho; oy++ {
			for ox := 0; ox < wo; ox++ {
				o := (bc*ho+oy)*wo + ox
				if p.Max {
					d[p.arg[o]] += dy.Data[o]
					continue
				}
				g := dy.Data[o] * inv
				for ky := 0; ky < p.K; ky++ {
					for kx := 0; kx < p.K; kx++ {
						d[(oy*p.Stride+ky)*W+ox*p.Stride+kx] += g
					}
				}
			}
		}
	}
	return dx
}
