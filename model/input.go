package model

import (
	"context"
	"fmt"
	"image"

	"github.com/tell-project/tell/flow"
	"github.com/tell-project/tell/raster"
)

// resizeGray resamples g to w×h with bilinear sampling at pixel centres
// (box-averaging first when shrinking by more than 2, to avoid aliasing).
func resizeGray(g *raster.Gray, w, h int) *raster.Gray {
	for g.W >= 2*w && g.H >= 2*h {
		g = halve(g)
	}
	out := raster.NewGray(w, h)
	sx, sy := float32(g.W)/float32(w), float32(g.H)/float32(h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			out.Pix[y*w+x] = g.Bilinear((float32(x)+0.5)*sx-0.5, (float32(y)+0.5)*sy-0.5)
		}
	}
	return out
}

func halve(g *raster.Gray) *raster.Gray {
	w, h := g.W/2, g.H/2
	out := raster.NewGray(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := 2*y*g.Stride + 2*x
			out.Pix[y*w+x] = 0.25 * (g.Pix[i] + g.Pix[i+1] + g.Pix[i+g.Stride] + g.Pix[i+g.Stride+1])
		}
	}
	return out
}

// FlowFromFrames computes TV-L1 flow and optical strain from onset to apex
// on a work size of 4× the output (at least 64 px), then averages down to
// l.H×l.W: x gets u, v (pixels of the output grid) and strain; with an apex
// channel, x's fourth channel is the apex frame and static the onset frame
// (a static face for LocalStaticFaceMix), both luma/255.
func FlowFromFrames(ctx context.Context, onset, apex *raster.Gray, l Layout) (x, static []float32, err error) {
	work := max(4*l.W, 64)
	a, b := resizeGray(onset, work, work), resizeGray(apex, work, work)
	p := flow.Default()
	p.Workers = 1 // callers prepare rows in parallel
	tv, err := flow.NewTVL1(p)
	if err != nil {
		return nil, nil, err
	}
	defer tv.Close()
	f, err := tv.Compute(ctx, a, b)
	if err != nil {
		return nil, nil, err
	}
	strain := flow.Strain(f)
	x = make([]float32, l.Len())
	plane := l.H * l.W
	scale := float32(l.W) / float32(work)
	down := func(src []float32, dst []float32, mul float32) {
		g := &raster.Gray{W: work, H: work, Stride: work, Pix: src}
		r := resizeGray(g, l.W, l.H)
		for i, v := range r.Pix {
			dst[i] = v * mul
		}
	}
	down(f.U, x[:plane], scale)
	down(f.V, x[plane:2*plane], scale)
	down(strain, x[2*plane:3*plane], 1)
	if l.Channels == 4 {
		r := resizeGray(apex, l.W, l.H)
		for i, v := range r.Pix {
			x[3*plane+i] = v / 255
		}
		static = make([]float32, l.StaticLen())
		o := resizeGray(onset, l.W, l.H)
		for i, v := range o.Pix {
			static[3*plane+i] = v / 255
		}
	}
	return x, static, nil
}

// FlowImageInput decodes a flow image with flow.DecodeImage (u, v in
// [−1,1] with 0 at mid grey, strain in [0,1]) and resamples it to the layout;
// an apex channel, which a flow image lacks, stays zero.
func FlowImageInput(img image.Image, l Layout) ([]float32, error) {
	f, strain, err := flow.DecodeImage(img, 0)
	if err != nil {
		return nil, err
	}
	x := make([]float32, l.Len())
	plane := l.H * l.W
	for c, ch := range [3][]float32{f.U, f.V, strain} {
		r := resizeGray(&raster.Gray{W: f.W, H: f.H, Stride: f.W, Pix: ch}, l.W, l.H)
		copy(x[c*plane:(c+1)*plane], r.Pix)
	}
	return x, nil
}

// GreyInput resizes a grey face to the layout and scales it to 0..1.
func GreyInput(g *raster.Gray, l Layout) []float32 {
	r := resizeGray(g, l.W, l.H)
	x := make([]float32, l.Len())
	for i, v := range r.Pix {
		x[i] = v / 255
	}
	return x
}

// AsFlowImage re-encodes a flow input (u, v, strain planes, as
// FlowFromFrames makes them) the way the STSTNet/HTNet releases store
// flow: each channel min-max normalised to 8 bits (flow.EncodeImage with
// scale 0), then read back as tell prepare reads a flow row
// (FlowImageInput). A model trained on such images sees tell's own flow in
// the units it learnt; an apex channel is kept as it is.
func AsFlowImage(x []float32, l Layout) ([]float32, error) {
	if len(x) != l.Len() || l.Channels < 3 {
		return nil, fmt.Errorf("model: flow input of %d values for a %dx%dx%d layout", len(x), l.Channels, l.H, l.W)
	}
	plane := l.H * l.W
	f := &flow.Field{W: l.W, H: l.H, U: x[:plane], V: x[plane : 2*plane]}
	img, err := flow.EncodeImage(f, x[2*plane:3*plane], 0)
	if err != nil {
		return nil, err
	}
	y, err := FlowImageInput(img, l)
	if err != nil {
		return nil, err
	}
	copy(y[3*plane:], x[3*plane:])
	return y, nil
}
