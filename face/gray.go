package face

import (
	"image"

	"github.com/tell-project/tell/raster"
)

// GrayDlib converts img to grey the way dlib's load_image does.
//
// Deprecated: raster.FromImage is that conversion (tell has one grey
// conversion on every path); call it instead.
func GrayDlib(img image.Image) *raster.Gray { return raster.FromImage(img) }
