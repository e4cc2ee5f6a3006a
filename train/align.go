package train

import (
	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/raster"
)

// alignState of a prepared row, from the path the aligner found the face
// by.
func alignStateOf(path face.Path) alignState {
	switch path {
	case face.PathNone:
		return alignMissed
	case face.PathDetected:
		return alignFound
	}
	return alignCrop
}

// alignOrKeep aligns when it can and otherwise returns the images as given;
// it never fails a row (a missing landmark model is reported once, through
// Data.AlignError).
func alignOrKeep(a *model.Aligner, ref *raster.Gray, others ...*raster.Gray) ([]*raster.Gray, alignState) {
	out, path, err := a.Align(ref, others...)
	if err != nil {
		return append([]*raster.Gray{ref}, others...), alignMissed
	}
	return out, alignStateOf(path)
}
