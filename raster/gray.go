package raster

import (
	"image"
	"image/color"
)

// FromImage converts an image to grey: tell's one grey conversion, the one
// dlib's load_image makes, so that landmarks computed on it are dlib's own.
// Grey pixels are kept; a colour pixel becomes the integer mean
// (R+G+B)/3 of its 8-bit channels (alpha ignored, as dlib ignores it).
//
// A *image.YCbCr (what image/jpeg returns for colour JPEGs) is first turned
// into RGB as libjpeg does by default, which is how dlib reads a JPEG:
// chroma planes upsampled with libjpeg's "fancy" triangle filter (4:2:2,
// 4:2:0, 4:4:0; plain replication for 4:1:1 and 4:1:0 and for chroma
// planes at most two samples wide), then libjpeg's fixed-point YCbCr→RGB.
// The samples must be libjpeg's too: Go's image/jpeg's inverse DCT rounds
// differently, by one or two grey levels on about 1–2% of the pixels, so
// tell decodes JPEGs with jpegdec.DecodeLibjpeg (video.DecodeImage), whose
// output this conversion turns into exactly dlib's grey.
func FromImage(img image.Image) *Gray {
	b := img.Bounds()
	g := NewGray(b.Dx(), b.Dy())
	switch src := img.(type) {
	case *image.Gray:
		for y := 0; y < g.H; y++ {
			row := src.Pix[y*src.Stride : y*src.Stride+g.W]
			out := g.Pix[y*g.Stride : y*g.Stride+g.W]
			for x, v := range row {
				out[x] = float32(v)
			}
		}
	case *image.RGBA:
		meanRows(g, src.Pix, src.Stride)
	case *image.NRGBA:
		meanRows(g, src.Pix, src.Stride)
	case *image.YCbCr:
		if src.Rect.Min != (image.Point{}) {
			// A sub-image: its chroma grid need not start on a sample;
			// take the nearest chroma sample per pixel.
			for y := 0; y < g.H; y++ {
				out := g.Pix[y*g.Stride : y*g.Stride+g.W]
				for x := range out {
					c := src.YCbCrAt(b.Min.X+x, b.Min.Y+y)
					out[x] = yccMean(c.Y, c.Cb, c.Cr)
				}
			}
			break
		}
		fromYCbCr(g, src)
	default:
		for y := 0; y < g.H; y++ {
			out := g.Pix[y*g.Stride : y*g.Stride+g.W]
			for x := range out {
				c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				out[x] = float32((uint32(c.R) + uint32(c.G) + uint32(c.B)) / 3)
			}
		}
	}
	return g
}

// meanRows fills g from 4-byte-per-pixel rows (RGBA or NRGBA; the colour
// channels of an opaque image are the same in both).
func meanRows(g *Gray, pix []uint8, stride int) {
	for y := 0; y < g.H; y++ {
		row := pix[y*stride : y*stride+4*g.W]
		out := g.Pix[y*g.Stride : y*g.Stride+g.W]
		for x := range out {
			out[x] = float32((uint32(row[4*x]) + uint32(row[4*x+1]) + uint32(row[4*x+2])) / 3)
		}
	}
}

// libjpeg's YCbCr→RGB tables (jdcolor.c, build_ycc_rgb_table): 16-bit
// fixed point, indexed by the 8-bit chroma value.
var yccTables = func() (t struct{ crR, cbB, crG, cbG [256]int32 }) {
	const scale = 16
	fix := func(x float64) int32 { return int32(x*(1<<scale) + 0.5) }
	for i := range 256 {
		x := int32(i - 128)
		t.crR[i] = (fix(1.40200)*x + 1<<(scale-1)) >> scale
		t.cbB[i] = (fix(1.77200)*x + 1<<(scale-1)) >> scale
		t.crG[i] = -fix(0.71414) * x
		t.cbG[i] = -fix(0.34414)*x + 1<<(scale-1)
	}
	return t
}()

func clamp8(v int32) uint32 { return uint32(min(max(v, 0), 255)) }

// yccRGB is one YCbCr sample after libjpeg's conversion.
func yccRGB(y, cb, cr uint8) (r, g, b uint32) {
	t := &yccTables
	yy := int32(y)
	return clamp8(yy + t.crR[cr]), clamp8(yy + (t.cbG[cb]+t.crG[cr])>>16), clamp8(yy + t.cbB[cb])
}

// yccMean is dlib's grey of one YCbCr sample after libjpeg's conversion.
func yccMean(y, cb, cr uint8) float32 {
	r, g, b := yccRGB(y, cb, cr)
	return float32((r + g + b) / 3)
}

// fromYCbCr converts src into g (same size) through libjpeg's upsampling
// and colour conversion.
func fromYCbCr(g *Gray, src *image.YCbCr) {
	t := &yccTables
	ycbcrRows(src, func(y int, ys, cbs, crs []uint8) {
		out := g.Pix[y*g.Stride : y*g.Stride+len(ys)]
		for x, yv := range ys {
			yy, cb, cr := int32(yv), cbs[x], crs[x]
			out[x] = float32((clamp8(yy+t.crR[cr]) + clamp8(yy+(t.cbG[cb]+t.crG[cr])>>16) + clamp8(yy+t.cbB[cb])) / 3)
		}
	})
}

// ycbcrRows calls row for each pixel row of src (Rect.Min must be 0,0) with
// its luma and its chroma upsampled as libjpeg does by default: "fancy"
// triangle filters for 2× factors (jdsample.c: h2v1, h2v2, h1v2) on planes
// wider than two samples, replication otherwise. The slices are reused.
func ycbcrRows(src *image.YCbCr, row func(y int, ys, cbs, crs []uint8)) {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	if w == 0 || h == 0 {
		return
	}
	fx, fy := 1, 1
	switch src.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		fx = 2
	case image.YCbCrSubsampleRatio420:
		fx, fy = 2, 2
	case image.YCbCrSubsampleRatio440:
		fy = 2
	case image.YCbCrSubsampleRatio411:
		fx = 4
	case image.YCbCrSubsampleRatio410:
		fx, fy = 4, 2
	}
	cw, ch := (w+fx-1)/fx, (h+fy-1)/fy
	fancy := cw > 2 && (fx == 2 && fy <= 2 || fx == 1 && fy == 2)
	cbRow := make([]uint8, cw*fx)
	crRow := make([]uint8, cw*fx)
	cbVert := make([]int32, cw)
	crVert := make([]int32, cw)
	crow := func(plane []uint8, cy int) []uint8 {
		cy = min(max(cy, 0), ch-1) // libjpeg replicates the edge rows
		o := cy * src.CStride
		return plane[o : o+cw]
	}
	for y := 0; y < h; y++ {
		cy := y / fy
		switch {
		case fancy && fy == 2:
			// Nearer chroma row weighs 3/4, the further (above for the
			// first output row of the pair, below for the second) 1/4;
			// kept ×4 for the horizontal pass.
			other := cy - 1
			if y%2 == 1 {
				other = cy + 1
			}
			near, far := crow(src.Cb, cy), crow(src.Cb, other)
			for i := range cbVert {
				cbVert[i] = 3*int32(near[i]) + int32(far[i])
			}
			near, far = crow(src.Cr, cy), crow(src.Cr, other)
			for i := range crVert {
				crVert[i] = 3*int32(near[i]) + int32(far[i])
			}
			if fx == 2 {
				h2v2Row(cbRow, cbVert)
				h2v2Row(crRow, crVert)
			} else { // 4:4:0: h1v2_fancy_upsample
				bias := int32(1)
				if y%2 == 1 {
					bias = 2
				}
				for i := range cw {
					cbRow[i] = uint8((cbVert[i] + bias) >> 2)
					crRow[i] = uint8((crVert[i] + bias) >> 2)
				}
			}
		case fancy:
			h2v1Row(cbRow, crow(src.Cb, cy))
			h2v1Row(crRow, crow(src.Cr, cy))
		default:
			cb, cr := crow(src.Cb, cy), crow(src.Cr, cy)
			for i := range cw * fx {
				cbRow[i], crRow[i] = cb[i/fx], cr[i/fx]
			}
		}
		o := y * src.YStride
		row(y, src.Y[o:o+w], cbRow[:w], crRow[:w])
	}
}

// h2v1Row is libjpeg's h2v1_fancy_upsample of one row: each output sample
// is 3/4 of the nearer input sample and 1/4 of the further one, rounded
// alternately down and up; the end samples are copied.
func h2v1Row(out, in []uint8) {
	n := len(in)
	out[0] = in[0]
	out[1] = uint8((3*int32(in[0]) + int32(in[1]) + 2) >> 2)
	for i := 1; i < n-1; i++ {
		v := 3 * int32(in[i])
		out[2*i] = uint8((v + int32(in[i-1]) + 1) >> 2)
		out[2*i+1] = uint8((v + int32(in[i+1]) + 2) >> 2)
	}
	v := 3 * int32(in[n-1])
	out[2*n-2] = uint8((v + int32(in[n-2]) + 1) >> 2)
	out[2*n-1] = in[n-1]
}

// h2v2Row is the horizontal half of libjpeg's h2v2_fancy_upsample: sums
// holds 3·nearer row + further row per chroma column; outputs are the
// triangle filter's (3·this + neighbour) / 16 with its biases 8 and 7.
func h2v2Row(out []uint8, sums []int32) {
	n := len(sums)
	out[0] = uint8((sums[0]*4 + 8) >> 4)
	out[1] = uint8((sums[0]*3 + sums[1] + 7) >> 4)
	for i := 1; i < n-1; i++ {
		out[2*i] = uint8((sums[i]*3 + sums[i-1] + 8) >> 4)
		out[2*i+1] = uint8((sums[i]*3 + sums[i+1] + 7) >> 4)
	}
	out[2*n-2] = uint8((sums[n-1]*3 + sums[n-2] + 8) >> 4)
	out[2*n-1] = uint8((sums[n-1]*4 + 7) >> 4)
}
