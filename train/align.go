package train

import (
	"fmt"
	"sync"

	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/raster"
)

// aligner detects a face and aligns it (face.Align: similarity on the eye
// corners and nose to a canonical template) so that regions mean the same
// thing in every sample. It loads the landmark model once, on first use, and
// is safe for concurrent use.
type aligner struct {
	modelPath        string
	detOnce, prdOnce sync.Once
	det              *face.Detector
	pred             *face.Predictor
	detErr, err      error // err: the landmark model could not be loaded
}

// detector returns the face detector (cheap; the cascade ships in pigo).
func (a *aligner) detector() (*face.Detector, error) {
	a.detOnce.Do(func() { a.det, a.detErr = face.NewDetector() })
	return a.det, a.detErr
}

// predictor loads the landmark model once, when a first face is found.
func (a *aligner) predictor() (*face.Predictor, error) {
	a.prdOnce.Do(func() {
		path, err := face.ResolveModelPath(a.modelPath)
		if err != nil {
			a.err = err
			return
		}
		a.pred, a.err = face.LoadPredictor(path)
	})
	return a.pred, a.err
}

// alignSize is the side of aligned crops, before flow and resizing to the
// model's input: face.AlignSize (128) is the size tell's motion work uses.
const alignSize = face.AlignSize

// align finds the best face in ref and returns ref and the others warped by
// the same transform (one alignment per clip, so that the flow between them
// is the face's own motion). found is false when no face was detected; the
// images are then returned as given (a crop such as CASME II's cropped set).
func (a *aligner) align(ref *raster.Gray, others ...*raster.Gray) (out []*raster.Gray, found bool, err error) {
	det, err := a.detector()
	if err != nil {
		return nil, false, fmt.Errorf("face alignment: %w", err)
	}
	dets := det.Detect(ref)
	if len(dets) == 0 {
		return append([]*raster.Gray{ref}, others...), false, nil
	}
	pred, err := a.predictor()
	if err != nil {
		return nil, false, fmt.Errorf("face alignment: %w", err)
	}
	shape := pred.Predict(ref, dets[0].Box)
	dst := raster.NewGray(alignSize, alignSize)
	t := face.AlignInto(dst, ref, shape)
	out = append(out, dst)
	inv := t.Inverse()
	for _, o := range others {
		d := raster.NewGray(alignSize, alignSize)
		face.Warp(d, o, inv)
		out = append(out, d)
	}
	return out, true, nil
}

// alignOrKeep aligns when it can and otherwise returns the images as given;
// it never fails a row (a missing landmark model is reported once, through
// Data.AlignError).
func (a *aligner) alignOrKeep(ref *raster.Gray, others ...*raster.Gray) ([]*raster.Gray, alignState) {
	out, found, err := a.align(ref, others...)
	if err != nil || !found {
		return append([]*raster.Gray{ref}, others...), alignMissed
	}
	return out, alignFound
}
