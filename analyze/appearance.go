package analyze

import (
	"errors"
	"math"

	"github.com/tell-project/tell/appearance"
	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/gaze"
	"github.com/tell-project/tell/models"
	"github.com/tell-project/tell/raster"
)

// ColorSource is a Source that also has the colour of the frame Next last
// returned (nil when it has none). The appearance nets read colour faces;
// from a grey-only source they get the grey frame in all three channels.
type ColorSource interface {
	Source
	RGB() *raster.RGB
	HasColor() bool // whether RGB gives colour at all
}

// AU references of events.json's au_reference.
const (
	auNeutralFrame = "neutral-frame"
	auNeutralImage = "neutral-image"
	auMeanShape    = "mean-shape"
)

// auReference says what this run measures AUs against.
func (r *run) auReference() string {
	switch {
	case !r.still:
		return auNeutralFrame
	case r.opt.Neutral != "":
		return auNeutralImage
	}
	return auMeanShape
}

// appearanceModel names the net for the outputs, "" without one.
func (r *run) appearanceModel() string {
	if r.opt.Appearance == nil {
		return ""
	}
	return r.opt.Appearance.Model.About
}

// appearanceNote records in events.json whether and how the appearance net
// is used.
func (r *run) appearanceNote(src Source) {
	if r.opt.Appearance == nil {
		why := r.opt.AppearanceNote
		if why == "" {
			why = "no appearance model given"
		}
		r.res.Notes = append(r.res.Notes, "appearance not used ("+why+"): emotions from the AU evidence alone")
		return
	}
	colour := "grey (the source has no colour)"
	if cs, ok := src.(ColorSource); ok && cs.HasColor() {
		colour = "colour"
	}
	r.res.Notes = append(r.res.Notes, "appearance: "+r.appearanceModel()+" on each tracked face in "+colour+
		"; per-frame probabilities in frames.csv (anger … neutral), fused with the AU evidence per event")
}

// readAppearance runs the appearance net on the face with landmarks lm in
// frame g, in colour when rgb (frameRGB) is set.
func (r *run) readAppearance(rgb *raster.RGB, g *raster.Gray, lm *[68][2]float32) (appearance.Probs, bool) {
	net := r.opt.Appearance
	if net == nil {
		return appearance.Probs{}, false
	}
	img := rgb
	if img == nil {
		img = r.greyRGB(g)
	}
	reg, _ := appearance.FaceRegion(net, lm, g.W, g.H)
	p, err := net.Predict(img, reg)
	if err != nil {
		if r.appErrs++; r.appErrs <= 3 {
			r.log.Warn("appearance net failed on a frame", "err", err)
		}
		return p, false
	}
	return p, true
}

// readGaze estimates the gaze of the face with landmarks lm in frame g, in
// colour when rgb (frameRGB) is set, with OpenFace's default camera.
func (r *run) readGaze(rgb *raster.RGB, g *raster.Gray, lm *[68][2]float32) (gaze.Result, bool) {
	if r.opt.Gaze == nil {
		return gaze.Result{}, false
	}
	img := gaze.Image{Gray: g}
	if rgb != nil {
		img = gaze.Image{RGB: rgb}
	}
	res, err := r.opt.Gaze.Estimate(img, lm, face.DefaultCamera(g.W, g.H))
	if err != nil {
		if !errors.Is(err, gaze.ErrSmall) {
			if r.gazeErrs++; r.gazeErrs <= 3 {
				r.log.Warn("gaze failed on a frame", "err", err)
			}
		}
		return res, false
	}
	return res, true
}

// greyRGB copies g into a reused RGB buffer, grey in every channel.
func (r *run) greyRGB(g *raster.Gray) *raster.RGB {
	if r.grey == nil || r.grey.W != g.W || r.grey.H != g.H {
		r.grey = raster.NewRGB(g.W, g.H)
	}
	for y := 0; y < g.H; y++ {
		row := g.Pix[y*g.Stride : y*g.Stride+g.W]
		o := r.grey.Pix[y*r.grey.Stride:]
		for x, v := range row {
			b := uint8(math.Round(float64(min(max(v, 0), 255))))
			o[3*x], o[3*x+1], o[3*x+2] = b, b, b
		}
	}
	return r.grey
}

// probsOrNil is the frame's appearance reading, nil when there is none.
func (f *frameRec) probsOrNil() *appearance.Probs {
	if !f.hasProbs {
		return nil
	}
	return &f.probs
}

// probsSlice is probsOrNil as a slice, for the timeline.
func (f *frameRec) probsSlice() []float32 {
	if !f.hasProbs {
		return nil
	}
	return f.probs[:]
}

// eventAppearance is the appearance evidence of an event: the mean reading
// over the apex frames (apex ± one frame at 30 fps, scaled with the rate,
// within the event) and, in a video, the mean reading over the same number
// of frames up to the onset (the face before it moved). A still has only
// the first.
func (r *faceRun) eventAppearance(on, apex, off int, still bool) (apexP, onsetP *appearance.Probs) {
	if r.opt.Appearance == nil || len(r.ring) == 0 {
		return nil, nil
	}
	k := max(1, int(math.Round(r.fps/30)))
	apexP = r.meanProbs(max(on, apex-k), min(off, apex+k))
	if !still && apexP != nil {
		oldest := max(0, r.seenFrames-len(r.ring))
		onsetP = r.meanProbs(max(oldest, on-k), on)
	}
	return apexP, onsetP
}

// meanProbs is the mean appearance reading of frames from..to in the
// window, nil when none of them has one.
func (r *faceRun) meanProbs(from, to int) *appearance.Probs {
	var sum appearance.Probs
	n := 0
	for f := from; f <= to; f++ {
		rec := &r.ring[f%len(r.ring)]
		if !rec.hasProbs {
			continue
		}
		for i, v := range rec.probs {
			sum[i] += v
		}
		n++
	}
	if n == 0 {
		return nil
	}
	for i := range sum {
		sum[i] /= float32(n)
	}
	return &sum
}

// LoadAppearance loads the appearance net called name ("faceapi", "human";
// "none" for none) from the models folder root. A model that is not
// installed is not an error: the net is nil and note says, in one line,
// which command installs it (tell then runs on the AU evidence alone). A
// model that is installed but damaged is an error.
func LoadAppearance(root, name string) (net *appearance.Net, note string, err error) {
	if name == "none" {
		return nil, "--appearance none", nil
	}
	m, err := models.ByName(name)
	if err != nil {
		return nil, "", err
	}
	net, err = appearance.Load(root, m)
	if errors.Is(err, models.ErrNotInstalled) {
		return nil, err.Error(), nil
	}
	return net, "", err
}
