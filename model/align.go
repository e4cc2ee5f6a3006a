package model

import (
	"context"
	"fmt"
	"sync"

	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/raster"
)

// Aligner finds a face (face.Finder: detection, padded rescan, and for
// face crops a fit in the whole frame) and aligns it (face.AlignInto:
// similarity on the eye corners and nose to a canonical template) so that
// regions mean the same thing in every sample. It loads the landmark model
// once, on first use, and is safe for concurrent use. tell prepare (frames
// and image rows) and tell analyze --model (an event's onset and apex
// frames) align with it, so the two give a model the same input.
type Aligner struct {
	modelPath string
	mode      face.FindMode
	once      sync.Once
	finder    *face.Finder
	err       error // the detector or the landmark model could not be loaded
}

// NewAligner returns an aligner that loads the landmark model at
// modelPath ("" for the default, face.ResolveModelPath) on first use and
// finds faces in mode.
func NewAligner(modelPath string, mode face.FindMode) *Aligner {
	return &Aligner{modelPath: modelPath, mode: mode}
}

// Mode is the aligner's face-finding mode.
func (a *Aligner) Mode() face.FindMode { return a.mode }

// Err is why the aligner cannot align at all (no landmark model), or nil;
// it loads the model if that has not happened yet.
func (a *Aligner) Err() error {
	_, err := a.find()
	return err
}

func (a *Aligner) find() (*face.Finder, error) {
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

// AlignSize is the side of aligned crops, before flow and resizing to the
// model's input: face.AlignSize (128), the size tell's motion work uses.
const AlignSize = face.AlignSize

// Align finds the face in ref and returns ref and the others warped by the
// same transform (one alignment per clip, so that the flow between them is
// the face's own motion). path is face.PathNone when no face was found;
// the images are then returned as given. An error means the aligner
// cannot run (Err).
func (a *Aligner) Align(ref *raster.Gray, others ...*raster.Gray) (out []*raster.Gray, path face.Path, err error) {
	fd, err := a.find()
	if err != nil {
		return append([]*raster.Gray{ref}, others...), face.PathNone, fmt.Errorf("face alignment: %w", err)
	}
	found, ok := fd.Find(ref)
	if !ok {
		return append([]*raster.Gray{ref}, others...), face.PathNone, nil
	}
	dst := raster.NewGray(AlignSize, AlignSize)
	t := face.AlignInto(dst, ref, found.Shape)
	out = append(out, dst)
	inv := t.Inverse()
	for _, o := range others {
		d := raster.NewGray(AlignSize, AlignSize)
		face.Warp(d, o, inv)
		out = append(out, d)
	}
	return out, found.Path, nil
}

// FramesInput is a frames row's input: the onset and apex frames aligned
// from the onset's face (when al is not nil; frames without a face are
// taken as given), then FlowFromFrames. It is the one path from two frames
// to a flow model's input: tell prepare uses it for frames rows and tell
// analyze --model for each event's onset and apex. path says how the face
// was found (face.PathNone: not aligned); err is about the flow, never
// about a missing face or landmark model (see Aligner.Err).
func FramesInput(ctx context.Context, al *Aligner, onset, apex *raster.Gray, l Layout) (x, static []float32, path face.Path, err error) {
	if al != nil {
		imgs, p, aerr := al.Align(onset, apex)
		if aerr == nil && p != face.PathNone {
			onset, apex, path = imgs[0], imgs[1], p
		}
	}
	x, static, err = FlowFromFrames(ctx, onset, apex, l)
	return x, static, path, err
}
