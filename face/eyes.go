package face

// eyePoints are the six landmarks round each eye in dlib's 68-point order:
// the subject's right eye (36–41, on the image's left) first.
var eyePoints = [2][6]int{{36, 37, 38, 39, 40, 41}, {42, 43, 44, 45, 46, 47}}

// EyeCentres returns the centres of the eyes of 68 landmarks in pixels:
// the mean of each eye's six points, the subject's right eye (36–41, on
// the image's left) first. The line between them is the face's x axis
// and their distance the inter-ocular distance (IOD) that AU intensities
// and the synthetic faces are measured in.
func EyeCentres(lm *[NumLandmarks][2]float32) (right, left [2]float64) {
	var c [2][2]float64
	for k, pts := range eyePoints {
		for _, i := range pts {
			c[k][0] += float64(lm[i][0]) / 6
			c[k][1] += float64(lm[i][1]) / 6
		}
	}
	return c[0], c[1]
}

// MeanEyeCentres3D returns the centres of the eyes' outlines on the 3D
// mean face (MeanFace3D, millimetres), the subject's right eye first, as
// EyeCentres does in the image.
func MeanEyeCentres3D() [2][3]float64 {
	var c [2][3]float64
	for k, pts := range eyePoints {
		for _, i := range pts {
			for j := range c[k] {
				c[k][j] += meanFace3D[i][j] / 6
			}
		}
	}
	return c
}
