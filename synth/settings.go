package synth

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/video"
)

// Settings are the parts of a Config that a command line gives as text
// (tell synth, tell bench au): Apply checks and converts them, its errors
// naming the flags, and Face loads the face they name.
type Settings struct {
	Generator string // --generator: muscle or basis (ParseModel)
	Size      string // --size: WxH, at least 32x32
	// MicroAmp and MacroAmp are --micro-amp and --macro-amp: LO,HI output
	// pixels of the muscle generator ("": its defaults).
	MicroAmp, MacroAmp string
	Codes              string // --codes: comma-separated FACS codes
	// Image and Landmarks are --image and --landmarks: another face and
	// a CSV of its 68 "x,y" points (default: the astronaut).
	Image, Landmarks string
}

// Apply sets c's model, size, amplitudes and codes from the settings, and
// Long from its Duration.
func (s Settings) Apply(c *Config) error {
	w, h, ok := cutPair(s.Size, "x")
	c.Width, c.Height = int(w), int(h)
	if !ok || float64(c.Width) != w || float64(c.Height) != h || c.Width < 32 || c.Height < 32 {
		return fmt.Errorf("--size %q: want WxH, at least 32x32", s.Size)
	}
	model, err := ParseModel(s.Generator)
	if err != nil {
		return fmt.Errorf("--generator: %w", err)
	}
	c.Model = model
	for _, a := range []struct {
		flag, val string
		dst       *[2]float64
	}{{"--micro-amp", s.MicroAmp, &c.MicroAmp}, {"--macro-amp", s.MacroAmp, &c.MacroAmp}} {
		if a.val == "" {
			continue
		}
		if model != Muscle {
			return fmt.Errorf("%s needs --generator muscle", a.flag)
		}
		lo, hi, ok := cutPair(a.val, ",")
		if *a.dst = [2]float64{lo, hi}; !ok || !(lo > 0 && hi >= lo && hi <= math.MaxFloat64) {
			return fmt.Errorf("%s %q: want LO,HI in output pixels, 0 < LO <= HI", a.flag, a.val)
		}
	}
	if s.Codes != "" {
		c.Codes = strings.Split(s.Codes, ",")
	}
	// A duration (--long) makes long clips; without one, --events means
	// nothing.
	if c.Long = c.Duration > 0; !c.Long {
		c.Duration, c.Events = 0, 0
	}
	if s.Image != "" && s.Landmarks == "" {
		return errors.New("--image needs --landmarks (68 x,y lines)")
	}
	return nil
}

// cutPair parses "A<sep>B" as two numbers, the whole text (Sscanf would
// take "640x480junk" or "1,2,3" and drop the rest without a word).
func cutPair(text, sep string) (a, b float64, ok bool) {
	as, bs, found := strings.Cut(text, sep)
	a, errA := strconv.ParseFloat(strings.TrimSpace(as), 64)
	b, errB := strconv.ParseFloat(strings.TrimSpace(bs), 64)
	return a, b, found && errA == nil && errB == nil
}

// Face is the astronaut with its measured landmarks, or Image with the
// landmarks of the Landmarks CSV.
func (s Settings) Face() (*Face, error) {
	if s.Image == "" {
		img, err := portrait.Astronaut()
		if err != nil {
			return nil, err
		}
		return NewFace(img, AstronautLandmarks()), nil
	}
	img, err := video.ReadImage(s.Image)
	if err != nil {
		return nil, fmt.Errorf("--image: %w", err)
	}
	lm, err := ReadLandmarks(s.Landmarks)
	if err != nil {
		return nil, err
	}
	return NewFace(img, lm), nil
}
