package train

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	_ "image/jpeg" // face crops and frames come as JPEG too
	_ "image/png"  // flow images are PNG
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/tell-project/tell/atomicfile"
	"github.com/tell-project/tell/dataset"
	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/parallel"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/video"
)

// prepVersion changes whenever the prepared representation changes, so old
// cache entries are never reused for a different meaning.
const prepVersion = "merclip-prep-2" // 2: JPEG decoded as libjpeg does (issue 12)

// PrepareOptions controls Prepare.
type PrepareOptions struct {
	Size    int    // output side in pixels (Config.Input.Size)
	Apex    bool   // add the apex frame as an appearance channel (Input.Apex)
	Workers int    // rows prepared at once; 0 means one per core
	Cache   string // cache folder; "" keeps everything in memory
	// Progress, when set, is told of each prepared row (step "prepare").
	Progress Progress
	// Align detects and aligns the face of frames and image rows (one
	// alignment per clip, from the onset frame); rows where no face is found
	// are taken as given, as crops.
	Align bool
	// LandmarkModel is dlib's 68-point model file ("" finds it as
	// face.ResolveModelPath does).
	LandmarkModel string
	// Face is how faces are found for alignment (face.FindAuto by
	// default: face crops too; FindFull takes every image as a crop).
	Face face.FindMode
	// MaxPixels is the pixel budget of one image (default
	// video.DefaultMaxPixels): rows with larger images fail before decoding.
	MaxPixels int
}

// RowError is one manifest row that could not be prepared.
type RowError struct {
	Line   int    // line in the manifest (0 when built in memory)
	Sample string // sample id
	Err    error
}

func (e RowError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d (sample %q): %v", e.Line, e.Sample, e.Err)
	}
	return fmt.Sprintf("sample %q: %v", e.Sample, e.Err)
}

// Data is a prepared manifest: one tensor per usable row, in manifest order.
type Data struct {
	Kind    model.Kind
	Layout  model.Layout
	Samples []dataset.Sample
	X       [][]float32 // Layout.Len() values each
	// Static holds each row's static face (appearance channels of one
	// frame) for LocalStaticFaceMix; nil entries when every channel is motion.
	Static [][]float32
	// Errors lists the rows left out, with the reason.
	Errors []RowError
	// Cached counts rows served from the cache.
	Cached int
	// Aligned and Unaligned count the frames and image rows prepared in this
	// call whose face was, or was not, found and aligned.
	Aligned, Unaligned int
	// AlignedCrops counts the Aligned rows whose face only a padded rescan
	// or a fit in the whole frame found (face crops).
	AlignedCrops int
	// AlignError says why alignment could not run at all (no landmark
	// model); rows were then taken as given.
	AlignError string
}

// KindOf decides what a manifest trains: flow when any row has flow or
// frames, image when rows carry only images.
func KindOf(samples []dataset.Sample) model.Kind {
	for i := range samples {
		if samples[i].Flow != "" || samples[i].Frames != "" {
			return model.KindFlow
		}
	}
	return model.KindImage
}

// Prepare turns every row of samples into a model input of the given kind.
// Rows are prepared in parallel; each result is cached under the hash of its
// input files and options, written atomically, so a killed run resumes where
// it stopped. A row that fails is recorded in Data.Errors and the rest go on.
func Prepare(ctx context.Context, samples []dataset.Sample, kind model.Kind, opt PrepareOptions) (*Data, error) {
	if opt.Size <= 0 {
		return nil, fmt.Errorf("train: prepare: size %d", opt.Size)
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	if opt.Cache != "" {
		if err := os.MkdirAll(opt.Cache, 0o755); err != nil {
			return nil, fmt.Errorf("train: prepare: %w", err)
		}
	}
	l := model.LayoutOf(kind, opt.Size, opt.Apex && kind == model.KindFlow)
	type result struct {
		x, static []float32
		cached    bool
		aligned   alignState
		err       error
	}
	var al *model.Aligner
	if opt.Align {
		al = model.NewAligner(opt.LandmarkModel, opt.Face)
	}
	res := make([]result, len(samples))
	var next, done int
	var mu sync.Mutex
	// A row that panics stops the others taking rows; Wait raises its
	// panic here (package parallel).
	var g parallel.Group
	for w := 0; w < workers; w++ {
		g.Go(func() {
			ended := false
			defer func() {
				if !ended {
					mu.Lock()
					next = len(samples)
					mu.Unlock()
				}
			}()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(samples) || ctx.Err() != nil {
					ended = true
					return
				}
				r := &res[i]
				r.x, r.static, r.cached, r.aligned, r.err = prepareRow(ctx, &samples[i], kind, l, opt, al)
				if opt.Progress != nil {
					mu.Lock()
					done++
					opt.Progress("prepare", done, len(samples))
					mu.Unlock()
				}
			}
		})
	}
	g.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("train: prepare: %w", err)
	}
	d := &Data{Kind: kind, Layout: l}
	if al != nil && al.Err() != nil {
		d.AlignError = al.Err().Error()
	}
	for i, r := range res {
		if r.err != nil {
			d.Errors = append(d.Errors, RowError{Line: samples[i].Line, Sample: samples[i].ID, Err: r.err})
			continue
		}
		if r.cached {
			d.Cached++
		}
		switch r.aligned {
		case alignFound:
			d.Aligned++
		case alignCrop:
			d.Aligned++
			d.AlignedCrops++
		case alignMissed:
			d.Unaligned++
		}
		d.Samples = append(d.Samples, samples[i])
		d.X = append(d.X, r.x)
		d.Static = append(d.Static, r.static)
	}
	return d, nil
}

// alignState records what alignment did for one row.
type alignState int8

const (
	alignNone   alignState = iota // not asked for, flow image, or from the cache
	alignFound                    // face found and aligned
	alignCrop                     // face found in a face crop (padded rescan, whole frame) and aligned
	alignMissed                   // no face (or no landmark model): taken as given
)

func prepareRow(ctx context.Context, s *dataset.Sample, kind model.Kind, l model.Layout, opt PrepareOptions, al *model.Aligner) (x, static []float32, cached bool, as alignState, err error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%d|%d|align=%v\x00", prepVersion, kind, l.H, l.Channels, al != nil)
	if al != nil {
		// Which faces are found, and where their landmarks fall, changes
		// what an aligned row holds.
		fmt.Fprintf(h, "%s|%v\x00", face.FinderVersion, al.Mode())
	}
	var raw, apexRaw []byte
	var onset, apex *raster.Gray
	src := s.Image
	switch {
	case kind == model.KindFlow && s.Flow != "":
		src = s.Flow
		if l.Channels == 4 && s.Image != "" {
			// The row's image is its apex frame (a face crop, as the flow
			// releases ship it): the appearance channel.
			if apexRaw, err = os.ReadFile(s.Image); err != nil {
				return nil, nil, false, alignNone, err
			}
			fmt.Fprintf(h, "apex\x00")
			h.Write(apexRaw)
		}
	case kind == model.KindFlow && s.Frames != "":
		fmt.Fprintf(h, "frames\x00")
		if onset, apex, err = frameInput(s, h, opt.MaxPixels); err != nil {
			return nil, nil, false, alignNone, fmt.Errorf("frames %s: %w", s.Frames, err)
		}
		src = ""
	case kind == model.KindFlow:
		return nil, nil, false, alignNone, errors.New("no flow or frames in a flow manifest (an image-only row cannot train a flow model)")
	case s.Image == "":
		return nil, nil, false, alignNone, errors.New("no image")
	}
	if src != "" {
		if raw, err = os.ReadFile(src); err != nil {
			return nil, nil, false, alignNone, err
		}
		h.Write(raw)
	}
	key := hex.EncodeToString(h.Sum(nil))
	var path string
	if opt.Cache != "" {
		path = filepath.Join(opt.Cache, key[:2], key+".bin")
		if x, static, err := readPrepared(path, l); err == nil {
			return x, static, true, alignNone, nil
		}
	}
	switch {
	case onset != nil:
		var path face.Path
		if x, static, path, err = model.FramesInput(ctx, al, onset, apex, l); err != nil {
			return nil, nil, false, alignNone, fmt.Errorf("frames %s: %w", s.Frames, err)
		}
		if al != nil {
			as = alignStateOf(path)
		}
	case kind == model.KindFlow:
		img, _, err := video.DecodeImage(bytes.NewReader(raw), opt.MaxPixels)
		if err != nil {
			return nil, nil, false, alignNone, fmt.Errorf("%s: %w", src, err)
		}
		if x, err = model.FlowImageInput(img, l); err != nil {
			return nil, nil, false, alignNone, fmt.Errorf("%s: %w", src, err)
		}
		if l.Channels == 4 {
			static = make([]float32, l.StaticLen()) // no onset face in a flow row: zero
		}
		if apexRaw != nil {
			a, _, err := video.DecodeImage(bytes.NewReader(apexRaw), opt.MaxPixels)
			if err != nil {
				return nil, nil, false, alignNone, fmt.Errorf("%s: %w", s.Image, err)
			}
			plane := l.H * l.W
			copy(x[3*plane:], model.GreyInput(raster.FromImage(a), model.Layout{Frames: 1, Channels: 1, H: l.H, W: l.W}))
		}
	default:
		img, _, err := video.DecodeImage(bytes.NewReader(raw), opt.MaxPixels)
		if err != nil {
			return nil, nil, false, alignNone, fmt.Errorf("%s: %w", src, err)
		}
		g := raster.FromImage(img)
		if al != nil {
			var imgs []*raster.Gray
			imgs, as = alignOrKeep(al, g)
			g = imgs[0]
		}
		x = model.GreyInput(g, l)
		static = x // a still image is its own static face
	}
	if path != "" {
		if err := writePrepared(path, x, static); err != nil {
			return nil, nil, false, alignNone, err
		}
	}
	return x, static, false, as, nil
}

const prepMagic = "TELLPRP1"

// writePrepared stores x and static as: magic, uint32 len(x), uint32
// len(static), then little-endian float32 values; atomically.
func writePrepared(path string, x, static []float32) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("train: cache: %w", err)
	}
	sameStatic := len(static) > 0 && &static[0] == &x[0]
	var buf bytes.Buffer
	buf.WriteString(prepMagic)
	ns := uint32(len(static))
	if sameStatic {
		ns = math.MaxUint32 // static is x itself
	}
	binary.Write(&buf, binary.LittleEndian, [2]uint32{uint32(len(x)), ns})
	binary.Write(&buf, binary.LittleEndian, x)
	if !sameStatic {
		binary.Write(&buf, binary.LittleEndian, static)
	}
	return atomicfile.WriteFile(path, buf.Bytes())
}

func readPrepared(path string, l model.Layout) (x, static []float32, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if len(b) < len(prepMagic)+8 || string(b[:len(prepMagic)]) != prepMagic {
		return nil, nil, fmt.Errorf("%s: not a prepared entry", path)
	}
	b = b[len(prepMagic):]
	nx := binary.LittleEndian.Uint32(b)
	ns := binary.LittleEndian.Uint32(b[4:])
	b = b[8:]
	want := int(nx)
	if ns != math.MaxUint32 {
		want += int(ns)
	}
	if int(nx) != l.Len() || len(b) != 4*want {
		return nil, nil, fmt.Errorf("%s: size mismatch", path)
	}
	vals := make([]float32, want)
	for i := range vals {
		vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	x = vals[:nx]
	if ns == math.MaxUint32 {
		static = x
	} else if ns > 0 {
		static = vals[nx:]
	}
	return x, static, nil
}

// ReadManifest reads a manifest for training or evaluation. Rows with
// problems (no subject, no label, duplicate id, ...) are returned as
// RowErrors and left out rather than failing the run; problems with the file
// as a whole (no header, required column missing) are an error.
func ReadManifest(path string) ([]dataset.Sample, []RowError, error) {
	m, err := dataset.ReadWith(path, dataset.Options{SkipFileCheck: true})
	var ve *dataset.ValidationError
	if err != nil && !errors.As(err, &ve) {
		return nil, nil, err
	}
	if m == nil {
		return nil, nil, err
	}
	bad := map[int][]string{}
	var fileProblems []string
	if ve != nil {
		for _, p := range ve.Problems {
			if p.Line <= 1 {
				fileProblems = append(fileProblems, p.String())
				continue
			}
			bad[p.Line] = append(bad[p.Line], p.String())
		}
	}
	if len(fileProblems) > 0 {
		return nil, nil, fmt.Errorf("%s: %s", path, strings.Join(fileProblems, "; "))
	}
	var keep []dataset.Sample
	var rowErrs []RowError
	for _, s := range m.Samples {
		if msgs, ok := bad[s.Line]; ok {
			rowErrs = append(rowErrs, RowError{Line: s.Line, Sample: s.ID, Err: errors.New(strings.Join(msgs, "; "))})
			delete(bad, s.Line)
			continue
		}
		keep = append(keep, s)
	}
	// Problems on lines that produced no sample (too few fields, broken quotes).
	lines := make([]int, 0, len(bad))
	for line := range bad {
		lines = append(lines, line)
	}
	sort.Ints(lines)
	for _, line := range lines {
		rowErrs = append(rowErrs, RowError{Line: line, Err: errors.New(strings.Join(bad[line], "; "))})
	}
	return keep, rowErrs, nil
}
