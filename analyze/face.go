package analyze

import (
	"errors"
	"fmt"

	"github.com/tell-project/tell/blazeface"
	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/models"
	"github.com/tell-project/tell/profile"
	"github.com/tell-project/tell/raster"
)

// FaceLandmarker finds the main face with face.Finder (pigo's detector,
// a padded rescan and, for face crops, a fit in the whole frame) and places
// dlib's 68 landmarks with face's pure-Go predictor.
type FaceLandmarker struct {
	find *face.Finder
	pred *face.Predictor
}

// NewFaceLandmarker loads the dlib 68-point model (model "" looks in the
// usual places, see face.ResolveModelPath) and finds faces in FindAuto mode.
func NewFaceLandmarker(model string) (*FaceLandmarker, error) {
	return NewFaceLandmarkerMode(model, face.FindAuto)
}

// NewFaceLandmarkerMode is NewFaceLandmarker with a find mode (tell
// analyze --face auto|detect|full).
func NewFaceLandmarkerMode(model string, mode face.FindMode) (*FaceLandmarker, error) {
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
	return &FaceLandmarker{find: face.NewFinder(det, pred, mode), pred: pred}, nil
}

// Landmarks implements Landmarker.
func (l *FaceLandmarker) Landmarks(g *raster.Gray) ([68][2]float32, bool, error) {
	lm, _, _, ok, err := l.FindFace(g)
	return lm, ok, err
}

// LandmarksConfidence implements ConfidentLandmarker.
func (l *FaceLandmarker) LandmarksConfidence(g *raster.Gray) ([68][2]float32, float32, bool, error) {
	lm, conf, _, ok, err := l.FindFace(g)
	return lm, conf, ok, err
}

// FindFace implements PathLandmarker. The confidence is the detector's
// score q squashed into [0,1] as q/(q+10) (0.33 at pigo's default threshold
// of 5, 0.75 at 30): of the detection itself, or, for a face found in a
// crop (padded rescan, whole frame), of the detector's check of the fitted
// face; 0 for a --face full fit that failed its check.
func (l *FaceLandmarker) FindFace(g *raster.Gray) ([68][2]float32, float32, string, bool, error) {
	lm, conf, path, ok := l.findLane(g, nil, false, nil)
	return lm, conf, path, ok, nil
}

// FindFaceNear implements NearLandmarker with face.Finder.FindNear; the
// confidence is the detector's score squashed as in FindFace.
func (l *FaceLandmarker) FindFaceNear(g *raster.Gray, last *[68][2]float32) ([68][2]float32, float32, bool, error) {
	lm, conf, _, ok := l.findLane(g, last, true, nil)
	return lm, conf, ok, nil
}

// findLane implements laneFinder with face.Finder.FindWith.
func (l *FaceLandmarker) findLane(g *raster.Gray, near *[68][2]float32, nearOnly bool, lane *profile.Lane) ([68][2]float32, float32, string, bool) {
	var out [68][2]float32
	o := face.FindOptions{Lane: lane}
	if near != nil {
		s := shapeOf(near)
		o.Near = &s
	}
	if nearOnly && o.Near == nil {
		return out, 0, "", false
	}
	o.NearOnly = nearOnly
	f, ok := l.find.FindWith(g, o)
	if !ok {
		return out, 0, "", false
	}
	for i, p := range f.Shape {
		out[i] = [2]float32{float32(p.X), float32(p.Y)}
	}
	q := max(0, f.Score)
	return out, q / (q + 10), f.Path.String(), true
}

// NeutralShape implements NeutralShaper: the model's mean shape.
func (l *FaceLandmarker) NeutralShape() [68][2]float32 {
	var out [68][2]float32
	for i, p := range l.pred.MeanShape(face.Rect{X: 0, Y: 0, W: 200, H: 200}) {
		out[i] = [2]float32{float32(p.X), float32(p.Y)}
	}
	return out
}

// Faces returns a MultiFinder over the landmarker's Finder with BlazeFace
// from the models folder root, for Options.Faces. When BlazeFace is not
// installed it returns nil and a note saying so (one face is then
// followed, as before).
func (l *FaceLandmarker) Faces(root string) (*face.MultiFinder, string, error) {
	return l.facesWith(blazeface.Load(root, blazeface.Options{}))
}

// facesWith is Faces with BlazeFace's loading done: bf and err are
// blazeface.Load's results.
func (l *FaceLandmarker) facesWith(bf *blazeface.Detector, err error) (*face.MultiFinder, string, error) {
	if errors.Is(err, models.ErrNotInstalled) {
		return nil, "one face only: " + err.Error(), nil
	}
	if err != nil {
		return nil, "", err
	}
	return face.NewMultiFinder(l.find, bf), "", nil
}
