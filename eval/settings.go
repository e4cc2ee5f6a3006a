package eval

import (
	"errors"
	"fmt"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/appearance"
	"github.com/tell-project/tell/models"
)

// AppearanceSettings are tell eval's words for an evaluation of a
// pretrained appearance net: Validate checks them, its errors naming the
// flags, and Options loads what they name.
type AppearanceSettings struct {
	Net       string // --appearance: faceapi or human (models.ByName)
	Models    string // --models: the pretrained models' folder (models.Root)
	Face      string // --face: FaceFull or FaceAuto
	Landmarks string // --landmarks: dlib's model for FaceAuto ("": Debian's)
}

// Validate checks the net's name and the face mode.
func (s AppearanceSettings) Validate() error {
	if _, err := models.ByName(s.Net); err != nil {
		return fmt.Errorf("--appearance: %w", err)
	}
	switch s.Face {
	case FaceFull, FaceAuto:
		return nil
	case "whole":
		return errors.New("--face whole is now called full, as in tell analyze")
	}
	return fmt.Errorf("--face %q: want full or auto", s.Face)
}

// Options loads the net and, for FaceAuto, the landmarker, into the
// options of an evaluation (the caller sets the manifest, the output
// folder and the rest), and returns the net's model.
func (s AppearanceSettings) Options() (AppearanceOptions, models.Model, error) {
	m, err := models.ByName(s.Net)
	if err != nil {
		return AppearanceOptions{}, m, err
	}
	net, err := appearance.Load(models.Root(s.Models), m)
	if err != nil {
		return AppearanceOptions{}, m, err
	}
	opt := AppearanceOptions{Net: net, Face: s.Face, Seed: 1}
	if s.Face == FaceAuto {
		lm, err := analyze.NewFaceLandmarker(s.Landmarks)
		if err != nil {
			return AppearanceOptions{}, m, err
		}
		opt.Landmarks = lm.Landmarks
	}
	return opt, m, nil
}
