package train

import (
	"fmt"
	"sync"

	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/raster"
)

// aligner finds a face (face.Finder: detection, padded rescan, and for
// face crops a fit in the whole frame) and aligns it (face.Align: similarity
// on the eye corners and nose to a canonical template) so that regions mean
// the same thing in every sample. It loads the landmark model once, on
// first use, and is safe for concurrent use.
type aligner struct {
	modelPath string
	mode      face.FindMode
	once      sync.Once
	finder    *face.Finder
	err       error // the detector or the landmark model could not be loaded
}

// find returns the face finder, loading the landmark model once.
func (a *aligner) find() (*face.Finder, error) {
	a.once.Do(func() {
		det, err := face.NewDetector()
		if err != nil {
			a.err = err
			return
		}
		path, err := face.ResolveModelPath(a.modelPath)
		if err != nil {
			a.err = err
			return
		}
		pred, err := face.LoadPredictor(path)
		if err != nil {
			a.err = err
			return
		}
		a.finder = face.NewFinder(det, pred, a.mode)
	})
	return a.finder, a.err
}

// alignSize is the side of aligned crops, before flow and resizing to the
// model's input: face.AlignSize (128) is the size tell's motion work uses.
const alignSize = face.AlignSize

// align finds the face in ref and returns ref and the others warped by the
// same transform (one alignment per clip, so that the flow between them is
// the face's own motion). path is face.PathNone when no face was found; the
// images are then returned as given.
func (a *aligner) align(ref *raster.Gray, others ...*raster.Gray) (out []*raster.Gray, path face.Path, err error) {
	fd, err := a.find()
	if err != nil {
		return nil, face.PathNone, fmt.Errorf("face alignment: %w", err)
	}
	found, ok := fd.Find(ref)
	if !ok {
		return append([]*raster.Gray{ref}, others...), face.PathNone, nil
	}
	dst := raster.NewGray(alignSize, alignSize)
	t := face.AlignInto(dst, ref, found.Shape)
	out = append(out, dst)
	inv := t.Inverse()
	for _, o := range others {
		d := raster.NewGray(alignSize, alignSize)
		face.Warp(d, o, inv)
		out = append(out, d)
	}
	return out, found.Path, nil
}

// alignOrKeep aligns when it can and otherwise returns the images as given;
// it never fails a row (a missing landmark model is reported once, through
// Data.AlignError).
func (a *aligner) alignOrKeep(ref *raster.Gray, others ...*raster.Gray) ([]*raster.Gray, alignState) {
	out, path, err := a.align(ref, others...)
	switch {
	case err != nil || path == face.PathNone:
		return append([]*raster.Gray{ref}, others...), alignMissed
	case path != face.PathDetected:
		return out, alignCrop
	}
	return out, alignFound
}
