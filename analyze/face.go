package analyze

import (
	"fmt"

	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/raster"
)

// FaceLandmarker finds the most confident face with face's pigo detector
// and places dlib's 68 landmarks in it with face's pure-Go predictor.
type FaceLandmarker struct {
	det  *face.Detector
	pred *face.Predictor
}

// NewFaceLandmarker loads the dlib 68-point model (model "" looks in the
// usual places, see face.ResolveModelPath).
func NewFaceLandmarker(model string) (*FaceLandmarker, error) {
	path, err := face.ResolveModelPath(model)
	if err != nil {
		return nil, err
	}
	pred, err := face.LoadPredictor(path)
	if err != nil {
		return nil, err
	}
	det, err := face.NewDetector()
	if err != nil {
		return nil, fmt.Errorf("face detector: %w", err)
	}
	return &FaceLandmarker{det: det, pred: pred}, nil
}

// Landmarks implements Landmarker.
func (l *FaceLandmarker) Landmarks(g *raster.Gray) ([68][2]float32, bool, error) {
	lm, _, ok, err := l.LandmarksConfidence(g)
	return lm, ok, err
}

// LandmarksConfidence implements ConfidentLandmarker: the confidence is
// the detection score q of the face squashed into [0,1] as q/(q+10) (0.33
// at pigo's default threshold of 5, 0.75 at 30).
func (l *FaceLandmarker) LandmarksConfidence(g *raster.Gray) ([68][2]float32, float32, bool, error) {
	var out [68][2]float32
	ds := l.det.Detect(g)
	if len(ds) == 0 {
		return out, 0, false, nil
	}
	best := ds[0]
	for _, d := range ds[1:] {
		if d.Score > best.Score {
			best = d
		}
	}
	s := l.pred.Predict(g, best.Box)
	for i, p := range s {
		out[i] = [2]float32{float32(p.X), float32(p.Y)}
	}
	return out, max(0, best.Score) / (max(0, best.Score) + 10), true, nil
}

// NeutralShape implements NeutralShaper: the model's mean shape.
func (l *FaceLandmarker) NeutralShape() [68][2]float32 {
	var out [68][2]float32
	for i, p := range l.pred.MeanShape(face.Rect{X: 0, Y: 0, W: 200, H: 200}) {
		out[i] = [2]float32{float32(p.X), float32(p.Y)}
	}
	return out
}
