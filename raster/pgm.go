package raster

import (
	"fmt"
	"io"
)

// WritePGM writes g, rounded and clamped as Image does, to w as an 8-bit
// binary PGM (P5), which dlib's and OpenCV's tools read: the grey image a
// C++ peer can be run on.
func (g *Gray) WritePGM(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "P5\n%d %d\n255\n", g.W, g.H); err != nil {
		return err
	}
	_, err := w.Write(g.Image().Pix)
	return err
}
