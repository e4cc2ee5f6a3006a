package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Conv2d is a 2-D convolution over x [B, Cin, H, W] (NCHW) with a square
// kernel, stride and zero padding, computed as im2col + one GEMM for the
// whole batch. Parameters: NAME.weight [Cout, Cin, K, K], NAME.bias [Cout]
// (PyTorch's layout and initialisation).
type Conv2d struct {
	In, Out, K, Stride, Pad int
	W, B                    *Param

	x      *Tensor
	ho, wo int
	cols   []float32 // [Cin·K·K, B·Ho·Wo]
	dcols  []float32
	tmp    []float32 // [Cout, B·Ho·Wo]
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
func (c *Conv2d) OutSize(n int) int { return outSize(n, c.K, c.Stride, c.Pad) }

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
	n := B * hw
	c.cols = growF(c.cols, kk*n)
	c.tmp = growF(c.tmp, c.Out*n)
	parallelFor(B, kk*hw, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			c.im2col(c.cols, n, b*hw, x.Data[b*c.In*H*W:(b+1)*c.In*H*W], H, W)
		}
	})
	Gemm(false, false, c.Out, n, kk, 1, c.W.Data, kk, c.cols, n, 0, c.tmp, n)
	y := Ensure(&c.y, B, c.Out, ho, wo)
	for b := 0; b < B; b++ {
		for o := 0; o < c.Out; o++ {
			dst := y.Data[(b*c.Out+o)*hw : (b*c.Out+o+1)*hw]
			src := c.tmp[o*n+b*hw : o*n+(b+1)*hw]
			bias := c.B.Data[o]
			for i, v := range src {
				dst[i] = v + bias
			}
		}
	}
	return y, nil
}

// im2col writes cols[(ci·K+ky)·K+kx][off + oy·Wo+ox] = x[ci][oy·S+ky−P][ox·S+kx−P]
// for one sample (cols rows are n long).
func (c *Conv2d) im2col(cols []float32, n, off int, x []float32, H, W int) {
	for ci := 0; ci < c.In; ci++ {
		for ky := 0; ky < c.K; ky++ {
			for kx := 0; kx < c.K; kx++ {
				dst := cols[((ci*c.K+ky)*c.K+kx)*n+off:][:c.ho*c.wo]
				for oy := 0; oy < c.ho; oy++ {
					iy := oy*c.Stride + ky - c.Pad
					row := dst[oy*c.wo : (oy+1)*c.wo]
					if iy < 0 || iy >= H {
						clear(row)
						continue
					}
					src := x[(ci*H+iy)*W:]
					for ox := range row {
						ix := ox*c.Stride + kx - c.Pad
						if ix >= 0 && ix < W {
							row[ox] = src[ix]
						} else {
							row[ox] = 0
						}
					}
				}
			}
		}
	}
}

// BackwardParams accumulates only dW and db from dy [B, Cout, Ho, Wo], for
// a first layer whose input needs no gradient.
func (c *Conv2d) BackwardParams(dy *Tensor) { c.accumulate(dy) }

// accumulate adds dW and db and leaves dy in c.tmp as [Cout, B·Ho·Wo].
func (c *Conv2d) accumulate(dy *Tensor) {
	B := c.x.Shape[0]
	kk := c.In * c.K * c.K
	hw := c.ho * c.wo
	n := B * hw
	// dy as [Cout, B·Ho·Wo], the layout of the forward GEMM's output.
	for b := 0; b < B; b++ {
		for o := 0; o < c.Out; o++ {
			copy(c.tmp[o*n+b*hw:o*n+(b+1)*hw], dy.Data[(b*c.Out+o)*hw:(b*c.Out+o+1)*hw])
		}
	}
	Gemm(false, true, c.Out, kk, n, 1, c.tmp, n, c.cols, n, 1, c.W.Grad, kk)
	for o := 0; o < c.Out; o++ {
		var s float32
		for _, v := range c.tmp[o*n : (o+1)*n] {
			s += v
		}
		c.B.Grad[o] += s
	}
}

// Backward accumulates dW, db from dy [B, Cout, Ho, Wo] and returns dx.
func (c *Conv2d) Backward(dy *Tensor) *Tensor {
	c.accumulate(dy)
	B, H, W := c.x.Shape[0], c.x.Shape[2], c.x.Shape[3]
	kk := c.In * c.K * c.K
	hw := c.ho * c.wo
	n := B * hw
	c.dcols = growF(c.dcols, kk*n)
	Gemm(true, false, kk, n, c.Out, 1, c.W.Data, kk, c.tmp, n, 0, c.dcols, n)
	dx := Ensure(&c.dx, c.x.Shape...)
	parallelFor(B, kk*hw, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			// col2im: scatter-add the column gradients back to the pixels.
			xd := dx.Data[b*c.In*H*W : (b+1)*c.In*H*W]
			clear(xd)
			for ci := 0; ci < c.In; ci++ {
				for ky := 0; ky < c.K; ky++ {
					for kx := 0; kx < c.K; kx++ {
						src := c.dcols[((ci*c.K+ky)*c.K+kx)*n+b*hw:][:hw]
						for oy := 0; oy < c.ho; oy++ {
							iy := oy*c.Stride + ky - c.Pad
							if iy < 0 || iy >= H {
								continue
							}
							dst := xd[(ci*H+iy)*W:]
							for ox := 0; ox < c.wo; ox++ {
								ix := ox*c.Stride + kx - c.Pad
								if ix >= 0 && ix < W {
									dst[ix] += src[oy*c.wo+ox]
								}
							}
						}
					}
				}
			}
		}
	})
	return dx
}

// Pool2d is max or average pooling over x [B, C, H, W] with a square window
// of size K, stride Stride and implicit zero padding Pad on every side (at
// most K/2, as PyTorch requires). A partial last window is dropped, as
// PyTorch's default (ceil_mode false). Max pooling never picks a padded
// position; average pooling counts padded positions as zeros in the window
// (PyTorch's count_include_pad=True).
type Pool2d struct {
	K, Stride, Pad int
	Max            bool // false: average
	x              *Tensor
	arg            []int32 // max: input index of each output; −1 for none
	y, dx          *Tensor
}

// OutSize returns the output height or width for an input of size n.
func (p *Pool2d) OutSize(n int) int { return outSize(n, p.K, p.Stride, p.Pad) }

// Forward returns the pooled tensor [B, C, Ho, Wo].
func (p *Pool2d) Forward(x *Tensor) (*Tensor, error) {
	if len(x.Shape) != 4 || p.K <= 0 || p.Stride <= 0 || p.Pad < 0 || 2*p.Pad > p.K ||
		x.Shape[2]+2*p.Pad < p.K || x.Shape[3]+2*p.Pad < p.K {
		return nil, fmt.Errorf("nn: pool2d: input shape %v for window %d stride %d padding %d", x.Shape, p.K, p.Stride, p.Pad)
	}
	B, C, H, W := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	ho, wo := p.OutSize(H), p.OutSize(W)
	y := Ensure(&p.y, B, C, ho, wo)
	if cap(p.arg) < len(y.Data) {
		p.arg = make([]int32, len(y.Data))
	}
	p.arg = p.arg[:len(y.Data)]
	inv := 1 / float32(p.K*p.K)
	for bc := 0; bc < B*C; bc++ {
		src := x.Data[bc*H*W : (bc+1)*H*W]
		for oy := 0; oy < ho; oy++ {
			y0 := oy*p.Stride - p.Pad
			for ox := 0; ox < wo; ox++ {
				x0 := ox*p.Stride - p.Pad
				best, at := float32(math.Inf(-1)), int32(-1)
				var sum float32
				for iy := max(y0, 0); iy < min(y0+p.K, H); iy++ {
					for ix := max(x0, 0); ix < min(x0+p.K, W); ix++ {
						i := iy*W + ix
						v := src[i]
						sum += v
						if v > best || at < 0 {
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
			y0 := oy*p.Stride - p.Pad
			for ox := 0; ox < wo; ox++ {
				o := (bc*ho+oy)*wo + ox
				if p.Max {
					if a := p.arg[o]; a >= 0 {
						d[a] += dy.Data[o]
					}
					continue
				}
				x0 := ox*p.Stride - p.Pad
				g := dy.Data[o] * inv
				for iy := max(y0, 0); iy < min(y0+p.K, H); iy++ {
					for ix := max(x0, 0); ix < min(x0+p.K, W); ix++ {
						d[iy*W+ix] += g
					}
				}
			}
		}
	}
	return dx
}

// DepthwiseConv2d convolves each channel of x [B, C, H, W] with its own
// square kernel (PyTorch's Conv2d with groups = in = out channels), with
// stride and zero padding. Parameters: NAME.weight [C, 1, K, K],
// NAME.bias [C] (PyTorch's layout and initialisation).
type DepthwiseConv2d struct {
	C, K, Stride, Pad int
	W, B              *Param

	x      *Tensor
	ho, wo int
	y, dx  *Tensor
}

// NewDepthwiseConv2d returns a depthwise convolution layer.
func NewDepthwiseConv2d(name string, c, k, stride, pad int, rng *rand.Rand) *DepthwiseConv2d {
	d := &DepthwiseConv2d{C: c, K: k, Stride: stride, Pad: pad,
		W: NewParam(name+".weight", c, 1, k, k), B: NewParam(name+".bias", c)}
	bound := 1 / math.Sqrt(float64(k*k))
	uniformInit(d.W.Data, bound, rng)
	uniformInit(d.B.Data, bound, rng)
	d.B.NoDecay = true
	return d
}

// Params returns weight and bias.
func (d *DepthwiseConv2d) Params() []*Param { return []*Param{d.W, d.B} }

// OutSize returns the output height or width for an input of size n.
func (d *DepthwiseConv2d) OutSize(n int) int { return outSize(n, d.K, d.Stride, d.Pad) }

// Forward returns y [B, C, Ho, Wo].
func (d *DepthwiseConv2d) Forward(x *Tensor) (*Tensor, error) {
	if len(x.Shape) != 4 || x.Shape[1] != d.C {
		return nil, fmt.Errorf("nn: depthwise conv2d %s: input shape %v, want [B %d H W]", d.W.Name, x.Shape, d.C)
	}
	B, C, H, W := x.Shape[0], d.C, x.Shape[2], x.Shape[3]
	ho, wo := d.OutSize(H), d.OutSize(W)
	if ho <= 0 || wo <= 0 {
		return nil, fmt.Errorf("nn: depthwise conv2d %s: input %dx%d smaller than kernel %d", d.W.Name, H, W, d.K)
	}
	d.x, d.ho, d.wo = x, ho, wo
	y := Ensure(&d.y, B, C, ho, wo)
	K, S, P := d.K, d.Stride, d.Pad
	for bc := 0; bc < B*C; bc++ {
		c := bc % C
		src := x.Data[bc*H*W : (bc+1)*H*W]
		w := d.W.Data[c*K*K : (c+1)*K*K]
		out := y.Data[bc*ho*wo : (bc+1)*ho*wo]
		for oy := 0; oy < ho; oy++ {
			for ox := 0; ox < wo; ox++ {
				s := d.B.Data[c]
				for ky := 0; ky < K; ky++ {
					iy := oy*S + ky - P
					if iy < 0 || iy >= H {
						continue
					}
					for kx := 0; kx < K; kx++ {
						ix := ox*S + kx - P
						if ix >= 0 && ix < W {
							s += w[ky*K+kx] * src[iy*W+ix]
						}
					}
				}
				out[oy*wo+ox] = s
			}
		}
	}
	return y, nil
}

// Backward accumulates dW, db from dy [B, C, Ho, Wo] and returns dx.
func (d *DepthwiseConv2d) Backward(dy *Tensor) *Tensor {
	B, C, H, W := d.x.Shape[0], d.C, d.x.Shape[2], d.x.Shape[3]
	K, S, P, ho, wo := d.K, d.Stride, d.Pad, d.ho, d.wo
	dx := Ensure(&d.dx, d.x.Shape...)
	clear(dx.Data)
	for bc := 0; bc < B*C; bc++ {
		c := bc % C
		src := d.x.Data[bc*H*W : (bc+1)*H*W]
		dsrc := dx.Data[bc*H*W : (bc+1)*H*W]
		w := d.W.Data[c*K*K : (c+1)*K*K]
		dw := d.W.Grad[c*K*K : (c+1)*K*K]
		g := dy.Data[bc*ho*wo : (bc+1)*ho*wo]
		var db float32
		for oy := 0; oy < ho; oy++ {
			for ox := 0; ox < wo; ox++ {
				v := g[oy*wo+ox]
				db += v
				for ky := 0; ky < K; ky++ {
					iy := oy*S + ky - P
					if iy < 0 || iy >= H {
						continue
					}
					for kx := 0; kx < K; kx++ {
						ix := ox*S + kx - P
						if ix >= 0 && ix < W {
							dw[ky*K+kx] += v * src[iy*W+ix]
							dsrc[iy*W+ix] += v * w[ky*K+kx]
						}
					}
				}
			}
		}
		d.B.Grad[c] += db
	}
	return dx
}

// outSize is the output height or width of a k×k window sliding with stride
// over n pixels padded by pad on each side (PyTorch's floor rule).
func outSize(n, k, stride, pad int) int { return (n+2*pad-k)/stride + 1 }
