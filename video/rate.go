package video

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The frame rates tell accepts: from time-lapse-free everyday video (a few
// frames per second) to the high-speed cameras of micro-expression datasets
// (CASME II and SAMM 200 fps, SMIC HS 100 fps; some 500 fps and more).
// Outside this range a rate is a mistake (a rate in frames per minute, a
// container's time base): the analysis's windows are sized from it.
const (
	MinFPS = 1
	MaxFPS = 1000
)

// RateFile is the sidecar that gives a folder of frames its rate: a text
// file of that name in the folder holding the frames per second ("200").
const RateFile = "fps.txt"

// ErrNoRate is returned (wrapped) when a folder of frames is opened without
// a frame rate: a folder has none of its own, and guessing one would put
// every time and every micro/macro decision off by the ratio.
var ErrNoRate = errors.New("no frame rate")

// ErrRateConflict is returned (wrapped) when a rate is given for a video
// or GIF whose own timing says otherwise.
var ErrRateConflict = errors.New("frame rate conflict")

// CheckFPS says whether fps is a rate tell accepts (MinFPS to MaxFPS).
func CheckFPS(fps float64) error {
	if !(fps >= MinFPS && fps <= MaxFPS) {
		return fmt.Errorf("frame rate %v: want %d to %d frames per second", fps, MinFPS, MaxFPS)
	}
	return nil
}

// FolderRate reads the rate of a folder of frames from its RateFile; ok is
// false when there is none. A RateFile that does not hold one plausible
// rate is an error naming it.
func FolderRate(dir string) (fps float64, ok bool, err error) {
	p := filepath.Join(dir, RateFile)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("video: %w", err)
	}
	if len(b) > 64 {
		return 0, false, fmt.Errorf("video: %s: want one number, the frames per second", p)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
	if err != nil {
		return 0, false, fmt.Errorf("video: %s: %q is not a number of frames per second", p, strings.TrimSpace(string(b)))
	}
	if err := CheckFPS(v); err != nil {
		return 0, false, fmt.Errorf("video: %s: %w", p, err)
	}
	return v, true, nil
}

// folderRate is the rate of a folder opened with Options opt: opt.FPS,
// else its RateFile. A RateFile that disagrees with opt.FPS is a conflict.
func folderRate(dir string, opt Options) (float64, error) {
	side, ok, err := FolderRate(dir)
	if err != nil {
		return 0, err
	}
	if ok {
		if err := checkGivenRate(dir, opt.FPS, side, "its "+RateFile+" says"); err != nil {
			return 0, err
		}
	}
	switch {
	case opt.FPS > 0:
		return opt.FPS, nil
	case ok:
		return side, nil
	}
	return 0, fmt.Errorf("video: folder %s: %w: a folder of frames has no rate of its own; give it (tell: --fps F, or a manifest's fps column) or write it in %s", dir, ErrNoRate, filepath.Join(dir, RateFile))
}

// sameRate reports rates equal to 0.1% (29.97 and 30000/1001 are one rate).
func sameRate(a, b float64) bool { return math.Abs(a-b) <= 1e-3*math.Max(a, b) }

// RateConflictError is a rate given for a source with timing of its own
// (a video's container rate, a GIF's delays, a folder's RateFile) that
// differs from it. It matches ErrRateConflict.
type RateConflictError struct {
	Path  string
	Own   float64 // the source's own rate
	Given float64 // the rate given
	What  string  // where Own comes from: "its container says"
}

func (e *RateConflictError) Error() string {
	return fmt.Sprintf("video: %s: %v: %s %.4g fps, and %v fps was given", e.Path, ErrRateConflict, e.What, e.Own, e.Given)
}

// Is makes errors.Is(err, ErrRateConflict) true.
func (e *RateConflictError) Is(target error) bool { return target == ErrRateConflict }

// checkGivenRate refuses a rate given for a source with timing of its own
// that differs from it.
func checkGivenRate(path string, given, own float64, what string) error {
	if given > 0 && !sameRate(given, own) {
		return &RateConflictError{Path: path, Own: own, Given: given, What: what}
	}
	return nil
}
