package train

import (
	"bytes"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/tell-project/tell/dataset"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/video"
)

// frameNumber matches the last run of digits in a frame file name.
var frameNumber = regexp.MustCompile(`(\d+)\D*$`)

// frameInput reads the onset and apex frames of a frames row and feeds
// their bytes to h (the cache key).
func frameInput(s *dataset.Sample, h hash.Hash, maxPixels int) (onset, apex *raster.Gray, err error) {
	apexRef := s.Apex
	if apexRef == "" || apexRef == "/" {
		apexRef = midFrame(s.Onset, s.Offset)
	}
	var grays [2]*raster.Gray
	for i, ref := range []string{s.Onset, apexRef} {
		path, err := dataset.ResolveFrame(s.Frames, ref)
		if err != nil {
			return nil, nil, err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, err
		}
		h.Write(raw)
		img, _, err := video.DecodeImage(bytes.NewReader(raw), maxPixels)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		grays[i] = raster.FromImage(img)
	}
	if grays[0].W != grays[1].W || grays[0].H != grays[1].H {
		return nil, nil, fmt.Errorf("onset %dx%d and apex %dx%d differ in size", grays[0].W, grays[0].H, grays[1].W, grays[1].H)
	}
	return grays[0], grays[1], nil
}

// midFrame is the apex of rows without one (SMIC; CASME II's "/"): the
// middle of onset..offset, given as frame numbers or numbered file names.
func midFrame(onset, offset string) string {
	num := func(s string) (int, bool) {
		s = s[:len(s)-len(filepath.Ext(s))]
		m := frameNumber.FindStringSubmatch(s)
		if m == nil {
			return 0, false
		}
		n, err := strconv.Atoi(m[1])
		return n, err == nil
	}
	a, ok1 := num(onset)
	b, ok2 := num(offset)
	if !ok1 || !ok2 || b < a {
		return ""
	}
	return strconv.Itoa((a + b) / 2)
}
