package merclip

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // face crops and frames come as JPEG too
	_ "image/png"  // flow images are PNG
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/schollz/progressbar/v3"
	"github.com/tell-project/tell/dataset"
)

// Kind is what a model sees.
type Kind string

const (
	// KindFlow: optical flow u, v and optical strain (from `flow` images or
	// computed from `frames` onset→apex), optionally the apex frame.
	KindFlow Kind = "flow"
	// KindImage: one aligned grey face (still-image FER).
	KindImage Kind = "image"
)

// prepVersion changes whenever the prepared representation changes, so old
// cache entries are never reused for a different meaning.
const prepVersion = "merclip-prep-1"

// PrepareOptions controls Prepare.
type PrepareOptions struct {
	Size    int       // output side in pixels (Config.Input.Size)
	Apex    bool      // add the apex frame as an appearance channel (frames rows)
	Workers int       // rows prepared at once; 0 means one per core
	Cache   string    // cache folder; "" keeps everything in memory
	Bar     io.Writer // progress bar destination; nil for none
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
	Kind    Kind
	Layout  Layout
	Samples []dataset.Sample
	X       [][]float32 // Layout.Len() values each
	// Static holds each row's static face (appearance channels of one
	// frame) for LocalStaticFaceMix; nil entries when every channel is motion.
	Static [][]float32
	// Errors lists the rows left out, with the reason.
	Errors []RowError
	// Cached counts rows served from the cache.
	Cached int
}

// KindOf decides what a manifest trains: flow when any row has flow or
// frames, image when rows carry only images.
func KindOf(samples []dataset.Sample) Kind {
	for i := range samples {
		if samples[i].Flow != "" || samples[i].Frames != "" {
			return KindFlow
		}
	}
	return KindImage
}

// LayoutOf returns the tensor layout of a kind.
func LayoutOf(k Kind, size int, apex bool) Layout {
	if k == KindImage {
		return Layout{Frames: 1, Channels: 1, H: size, W: size, Motion: []bool{false}}
	}
	if apex {
		return Layout{Frames: 1, Channels: 4, H: size, W: size, Motion: []bool{true, true, true, false}}
	}
	return Layout{Frames: 1, Channels: 3, H: size, W: size, Motion: []bool{true, true, true}}
}

// Prepare turns every row of samples into a model input of the given kind.
// Rows are prepared in parallel; each result is cached under the hash of its
// input files and options, written atomically, so a killed run resumes where
// it stopped. A row that fails is recorded in Data.Errors and the rest go on.
func Prepare(ctx context.Context, samples []dataset.Sample, kind Kind, opt PrepareOptions) (*Data, error) {
	if opt.Size <= 0 {
		return nil, fmt.Errorf("merclip: prepare: size %d", opt.Size)
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	if opt.Cache != "" {
		if err := os.MkdirAll(opt.Cache, 0o755); err != nil {
			return nil, fmt.Errorf("merclip: prepare: %w", err)
		}
	}
	l := LayoutOf(kind, opt.Size, opt.Apex && kind == KindFlow)
	type result struct {
		x, static []float32
		cached    bool
		err       error
	}
	res := make([]result, len(samples))
	var bar *progressbar.ProgressBar
	if opt.Bar != nil {
		bar = progressbar.NewOptions(len(samples), progressbar.OptionSetWriter(opt.Bar),
			progressbar.OptionSetDescription("prepare"), progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(200e6),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(opt.Bar) }))
	}
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(samples) || ctx.Err() != nil {
					return
				}
				r := &res[i]
				r.x, r.static, r.cached, r.err = prepareRow(&samples[i], kind, l, opt)
				if bar != nil {
					bar.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("merclip: prepare: %w", err)
	}
	d := &Data{Kind: kind, Layout: l}
	for i, r := range res {
		if r.err != nil {
			d.Errors = append(d.Errors, RowError{Line: samples[i].Line, Sample: samples[i].ID, Err: r.err})
			continue
		}
		if r.cached {
			d.Cached++
		}
		d.Samples = append(d.Samples, samples[i])
		d.X = append(d.X, r.x)
		d.Static = append(d.Static, r.static)
	}
	return d, nil
}

func prepareRow(s *dataset.Sample, kind Kind, l Layout, opt PrepareOptions) (x, static []float32, cached bool, err error) {
	var src string
	switch {
	case kind == KindFlow && s.Flow != "":
		src = s.Flow
	case kind == KindFlow && s.Frames != "":
		return nil, nil, false, fmt.Errorf("frames input (%s): computing flow from frames is not available in this build; give a precomputed flow image", s.Frames)
	case kind == KindFlow:
		return nil, nil, false, errors.New("no flow or frames in a flow manifest (an image-only row cannot train a flow model)")
	case s.Image != "":
		src = s.Image
	default:
		return nil, nil, false, errors.New("no image")
	}
	raw, err := os.ReadFile(src)
	if err != nil {
		return nil, nil, false, err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%d|%d\x00", prepVersion, kind, l.H, l.Channels)
	h.Write(raw)
	key := hex.EncodeToString(h.Sum(nil))
	var path string
	if opt.Cache != "" {
		path = filepath.Join(opt.Cache, key[:2], key+".bin")
		if x, static, err := readPrepared(path, l); err == nil {
			return x, static, true, nil
		}
	}
	img, _, err := image.Decode(bytes.NewReader(raw))
	if err != nil {
		return nil, nil, false, fmt.Errorf("%s: %w", src, err)
	}
	x = make([]float32, l.Len())
	if kind == KindFlow {
		decodeFlow(img, x, l.H, l.W)
	} else {
		decodeGrey(img, x, l.H, l.W)
		static = x // a still image is its own static face
	}
	if path != "" {
		if err := writePrepared(path, x, static); err != nil {
			return nil, nil, false, err
		}
	}
	return x, static, false, nil
}

// decodeFlow reads a flow image (u, v, strain as RGB, each 0..255) into
// x[3][h][w]: u and v centred, (value−127.5)/127.5, so that zero motion is
// zero as LocalStaticFaceMix assumes; strain value/255. The image is resized
// to h×w by bilinear sampling.
func decodeFlow(img image.Image, x []float32, h, w int) {
	plane := h * w
	sample(img, h, w, func(i int, r, g, b float32) {
		x[i] = (r - 127.5) / 127.5
		x[plane+i] = (g - 127.5) / 127.5
		x[2*plane+i] = b / 255
	})
}

// decodeGrey reads a face image as luma/255 into x[h][w].
func decodeGrey(img image.Image, x []float32, h, w int) {
	sample(img, h, w, func(i int, r, g, b float32) {
		x[i] = (0.299*r + 0.587*g + 0.114*b) / 255
	})
}

// sample resamples img to h×w (bilinear, pixel centres aligned) and calls
// put with each output pixel's 8-bit RGB.
func sample(img image.Image, h, w int, put func(i int, r, g, b float32)) {
	bnd := img.Bounds()
	iw, ih := bnd.Dx(), bnd.Dy()
	px := func(x, y int) (float32, float32, float32) {
		r, g, b, _ := img.At(bnd.Min.X+x, bnd.Min.Y+y).RGBA()
		return float32(r >> 8), float32(g >> 8), float32(b >> 8)
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if iw == w && ih == h {
				r, g, b := px(x, y)
				put(y*w+x, r, g, b)
				continue
			}
			fx := (float32(x)+0.5)*float32(iw)/float32(w) - 0.5
			fy := (float32(y)+0.5)*float32(ih)/float32(h) - 0.5
			x0, y0 := int(math.Floor(float64(fx))), int(math.Floor(float64(fy)))
			ax, ay := fx-float32(x0), fy-float32(y0)
			cl := func(v, n int) int { return min(max(v, 0), n-1) }
			var acc [3]float32
			for _, c := range [4]struct {
				dx, dy int
				wt     float32
			}{{0, 0, (1 - ax) * (1 - ay)}, {1, 0, ax * (1 - ay)}, {0, 1, (1 - ax) * ay}, {1, 1, ax * ay}} {
				r, g, b := px(cl(x0+c.dx, iw), cl(y0+c.dy, ih))
				acc[0] += c.wt * r
				acc[1] += c.wt * g
				acc[2] += c.wt * b
			}
			put(y*w+x, acc[0], acc[1], acc[2])
		}
	}
}

const prepMagic = "TELLPRP1"

// writePrepared stores x and static as: magic, uint32 len(x), uint32
// len(static), then little-endian float32 values; atomically.
func writePrepared(path string, x, static []float32) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("merclip: cache: %w", err)
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
	return writeFileAtomic(path, buf.Bytes())
}

func readPrepared(path string, l Layout) (x, static []float32, err error) {
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
