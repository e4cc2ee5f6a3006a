package face

import (
	"image"
	"image/color"

	"github.com/tell-project/tell/raster"
)

// GrayDlib converts img to grey the way dlib's load_image does for an
// unsigned-char image: grey pixels are kept, colour pixels become the integer
// mean (R+G+B)/3 of their 8-bit channels. Landmarks computed on this image
// match dlib's bit for bit; raster.FromImage's BT.601 luma differs by up to a
// grey level, which moves a few tree decisions and the points by a fraction
// of a pixel.
func GrayDlib(img image.Image) *raster.Gray {
	b := img.Bounds()
	g := raster.NewGray(b.Dx(), b.Dy())
	switch src := img.(type) {
	case *image.Gray:
		for y := 0; y < g.H; y++ {
			row := src.Pix[(y)*src.Stride : y*src.Stride+g.W]
			out := g.Pix[y*g.Stride : y*g.Stride+g.W]
			for x, v := range row {
				out[x] = float32(v)
			}
		}
	case *image.NRGBA:
		for y := 0; y < g.H; y++ {
			row := src.Pix[y*src.Stride : y*src.Stride+4*g.W]
			out := g.Pix[y*g.Stride : y*g.Stride+g.W]
			for x := range out {
				out[x] = float32((uint32(row[4*x]) + uint32(row[4*x+1]) + uint32(row[4*x+2])) / 3)
			}
		}
	case *image.RGBA:
		for y := 0; y < g.H; y++ {
			row := src.Pix[y*src.Stride : y*src.Stride+4*g.W]
			out := g.Pix[y*g.Stride : y*g.Stride+g.W]
			for x := range out {
				out[x] = float32((uint32(row[4*x]) + uint32(row[4*x+1]) + uint32(row[4*x+2])) / 3)
			}
		}
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
