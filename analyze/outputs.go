package analyze

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tell-project/tell/appearance"
	"github.com/tell-project/tell/atomicfile"
	"github.com/tell-project/tell/au"
	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/frames"
	"github.com/tell-project/tell/gaze"
	"github.com/tell-project/tell/preview"
	"github.com/tell-project/tell/profile"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/report"
)

// outputFiles are the files a run writes into its output folder:
// preview.jpgs is the clip's frames for the viewer (package preview).
var outputFiles = []string{"frames.csv", "events.json", "report.html", preview.Name}

// ErrOutputExists is returned (wrapped) before a run starts when its output
// folder holds a finished run and Force is off, or holds files that tell
// did not write.
var ErrOutputExists = errors.New("output folder in use")

// ErrPartial is wrapped by the error of a run that stopped part-way and
// wrote its outputs marked "partial" (truncated video, unreadable frame,
// no face, cancellation). Callers that report a status map it to
// "partial", never to success.
var ErrPartial = errors.New("partial result")

// CheckOutput says whether a run may write to out: it may when out does not
// exist, is empty, or holds only an earlier run's outputs, and (unless
// force) that run is not complete. Nothing is changed.
func CheckOutput(out string, force bool) error {
	if out == "" {
		return fmt.Errorf("analyze: no output folder")
	}
	st, err := os.Stat(out)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("output folder %s: %w", out, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("%w: %s is a file, not a folder", ErrOutputExists, out)
	}
	ents, err := os.ReadDir(out)
	if err != nil {
		return fmt.Errorf("output folder %s: %w", out, err)
	}
	var foreign []string
	for _, e := range ents {
		if !slices.Contains(outputFiles, e.Name()) {
			foreign = append(foreign, e.Name())
		}
	}
	if len(foreign) > 0 {
		if len(foreign) > 3 {
			foreign = append(foreign[:3], fmt.Sprintf("and %d more", len(foreign)-3))
		}
		return fmt.Errorf("%w: %s holds files tell did not write (%s); choose a new or empty --out", ErrOutputExists, out, strings.Join(foreign, ", "))
	}
	if force {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(out, "events.json"))
	if err != nil {
		return nil // no finished run there
	}
	var prev struct {
		Input  string `json:"input"`
		Status string `json:"status"`
	}
	if json.Unmarshal(b, &prev) == nil && prev.Status == StatusComplete {
		return fmt.Errorf("%w: %s holds a finished analysis of %s; use --force to replace it, or choose another --out", ErrOutputExists, out, prev.Input)
	}
	return nil
}

// outputs is a run's output folder in the making: a fresh folder beside
// Out, swapped in by commit.
type outputs struct {
	final, tmp string
	csvFile    *os.File
	csv        *frames.Writer
	// The viewer's frames; nil once a preview error dropped it.
	prvFile *os.File
	prv     *preview.Writer
	row     frames.Row
	shape   face.Shape
	nApp    int // expression columns at the start of Extra
}

// extraColumns are tell's frames.csv columns after OpenFace's: with an
// appearance net, its seven expression probabilities named as py-feat names
// them (anger, disgust, fear, happiness, sadness, surprise, neutral; empty
// without a face); then per AU, the intensity measured from dense optical
// flow in its regions (0–5) and the mean optical strain there; empty where
// the flow was not computed.
func extraColumns(withAppearance bool) []string {
	var c []string
	if withAppearance {
		c = append(c, appearance.Labels()...)
	}
	for _, a := range au.AUs() {
		c = append(c, frames.AUName(a)+"_flow", frames.AUName(a)+"_strain")
	}
	return c
}

// openOutputs creates the temporary output folder and starts frames.csv.
// It runs at the first frame, so that a run failing before it leaves no
// trace.
func (r *run) openOutputs() error {
	final := filepath.Clean(r.opt.Out)
	parent := filepath.Dir(final)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(final)+".tmp-")
	if err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	// MkdirTemp makes it private (0700); outputs are ordinary files.
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("output folder: %w", err)
	}
	f, err := os.Create(filepath.Join(tmp, "frames.csv"))
	if err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("output: %w", err)
	}
	o := &outputs{final: final, tmp: tmp, csvFile: f}
	extra := extraColumns(r.opt.Appearance != nil)
	o.csv, err = frames.NewWriter(f, frames.Layout{AUs: au.AUs(), Gaze: r.opt.Gaze != nil, Extra: extra})
	if err != nil {
		f.Close()
		os.RemoveAll(tmp)
		return fmt.Errorf("frames.csv: %w", err)
	}
	o.row.Extra = make([]float64, len(extra))
	if r.opt.Appearance != nil {
		o.nApp = len(appearance.Labels())
	}
	if pf, err := os.Create(filepath.Join(tmp, preview.Name)); err == nil {
		if pw, err := preview.NewWriter(pf, r.info.Frames, 0); err == nil {
			o.prvFile, o.prv = pf, pw
		} else {
			pf.Close()
		}
	}
	r.out = o
	return nil
}

// addPreview adds frame idx (g, colour c when the source delivered colour:
// previewRGB) to the viewer's preview, charging lane. A preview that fails
// is dropped with a log line: the analysis does not depend on it.
func (r *run) addPreview(lane *profile.Lane, idx int, g *raster.Gray, c *raster.RGB) {
	o := r.out
	if o == nil || o.prv == nil {
		r.previewStep.Store(-1)
		return
	}
	defer lane.Leave(lane.Enter(profile.Writing))
	if err := o.prv.Add(idx, g, c); err != nil {
		r.log.Warn("preview dropped", "err", err)
		o.dropPreview()
		r.previewStep.Store(-1)
		return
	}
	// The step is fixed at frame 0 (preview.Writer.Add).
	step := int32(o.prv.Every())
	if o.prv.Full() {
		step = -1
	}
	r.previewStep.Store(step)
}

// dropPreview removes a preview that could not be written.
func (o *outputs) dropPreview() {
	if o.prvFile != nil {
		o.prvFile.Close()
		os.Remove(o.prvFile.Name())
	}
	o.prv, o.prvFile = nil, nil
}

// closePreview finishes the preview (synced unless scratch).
func (o *outputs) closePreview(sync bool) error {
	if o.prv == nil {
		return nil
	}
	err := o.prv.Close()
	if err == nil && sync {
		err = o.prvFile.Sync()
	}
	if cerr := o.prvFile.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(o.prvFile.Name())
		return fmt.Errorf("%s: %w", preview.Name, err)
	}
	return nil
}

// writeRow appends frame idx of frame g to frames.csv, charging lane. A
// frame without a face has success 0 and zeros, as OpenFace writes it;
// conf is the detector's or tracker's confidence; probs the appearance
// net's reading and gz the gaze (nil: none).
func (r *faceRun) writeRow(lane *profile.Lane, idx int, ok bool, m *au.Measurement, g *raster.Gray, conf float32, probs *appearance.Probs, gz *gaze.Result) {
	o := r.out
	row := &o.row
	row.Frame, row.FaceID, row.Timestamp, row.Success = r.num(idx), r.id, r.info.Time(idx), ok
	row.Confidence = math.Round(float64(conf)*100) / 100
	row.Pose = frames.Pose{}
	row.Gaze = [8]float32{}
	if ok && gz != nil {
		// OpenFace's order: gaze_0 (the eye leftmost in the image), gaze_1,
		// the two angles.
		row.Gaze = [8]float32{float32(gz.Gaze[0][0]), float32(gz.Gaze[0][1]), float32(gz.Gaze[0][2]),
			float32(gz.Gaze[1][0]), float32(gz.Gaze[1][1]), float32(gz.Gaze[1][2]), float32(gz.Angle[0]), float32(gz.Angle[1])}
	}
	for k := range row.Extra {
		row.Extra[k] = math.NaN()
	}
	if ok {
		row.Landmarks = m.Landmarks
		row.Intensity, row.Present = m.Intensity, m.Present
		if gz != nil {
			// The gaze was found with this pose: the same landmarks and
			// camera (readGaze).
			p := gz.Pose
			row.Pose = frames.Pose{Tx: p.Tx, Ty: p.Ty, Tz: p.Tz, Rx: p.Rx, Ry: p.Ry, Rz: p.Rz}
		} else {
			o.shape = shapeOf(&m.Landmarks)
			prev := lane.Enter(profile.Pose)
			if p, err := face.EstimatePose(&o.shape, face.DefaultCamera(g.W, g.H)); err == nil {
				row.Pose = frames.Pose{Tx: p.Tx, Ty: p.Ty, Tz: p.Tz, Rx: p.Rx, Ry: p.Ry, Rz: p.Rz}
			}
			lane.Leave(prev)
		}
		if probs != nil && o.nApp > 0 {
			for i, p := range probs {
				row.Extra[i] = math.Round(float64(p)*1e4) / 1e4
			}
		}
		if m.FlowAge >= 0 && len(m.FlowIntensity) == au.NumAUs {
			for i := range au.NumAUs {
				row.Extra[o.nApp+2*i] = round3(float64(m.FlowIntensity[i]))
				row.Extra[o.nApp+2*i+1] = float64(m.Strain[i])
			}
		}
	}
	// A write error is sticky in the writer and reported by commit.
	_ = o.csv.Write(row)
}

// finish writes the outputs, marking them partial when runErr is set, and
// swaps them in for Out. Without a first frame there is nothing to write.
func (r *run) finish(runErr error) error {
	if r.overlay != nil {
		r.overlay.Close()
	}
	if r.out == nil {
		if runErr == nil {
			runErr = errors.New("no frames could be read")
		}
		return runErr
	}
	res := r.res
	res.Status = StatusComplete
	res.Seconds = round3(float64(res.Frames) / r.fps)
	switch n := len(r.info.Numbers); {
	case r.info.Times != nil && r.info.Duration > 0 && res.Frames == r.info.Frames:
		res.Seconds = round3(r.info.Duration) // a GIF's delays
	case n > 0 && res.Frames == n:
		res.Seconds = round3(float64(r.info.Numbers[n-1]-r.info.Numbers[0]+1) / r.fps)
	}
	if runErr != nil {
		res.Status = StatusPartial
		res.Error = runErr.Error()
	}
	if len(r.faces) > 0 && r.faces[0].nLost > 0 && res.Tracked > 0 {
		f0 := r.faces[0]
		note := fmt.Sprintf("no face tracked in %d stretch(es) of frames, %s in all", f0.nLost, plural(res.Frames-res.Tracked, "frame"))
		if len(f0.lost) > 0 {
			note += fmt.Sprintf("; first: frames %d–%d", r.num(f0.lost[0].from), r.num(f0.lost[0].to))
		}
		res.Notes = append(res.Notes, note)
	}
	if r.nearFinds > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("face found again near its last place %s (after a cut, head movement or a lost track), before any whole-frame search", plural(r.nearFinds, "time")))
	}
	if note := facePathNote(r.facePaths); note != "" {
		res.Notes = append(res.Notes, note)
	}
	r.rep.Status, r.rep.Error, r.rep.Notes, r.rep.Frames = res.Status, res.Error, res.Notes, res.Frames
	o := r.out
	var errs []error
	if err := o.csv.Flush(); err != nil {
		errs = append(errs, fmt.Errorf("frames.csv: %w", err))
	}
	if !r.opt.Scratch {
		if err := o.csvFile.Sync(); err != nil {
			errs = append(errs, fmt.Errorf("frames.csv: %w", err))
		}
	}
	if err := o.csvFile.Close(); err != nil {
		errs = append(errs, fmt.Errorf("frames.csv: %w", err))
	}
	if o.prv != nil && o.prv.Every() > 1 {
		res.Notes = append(res.Notes, fmt.Sprintf("the viewer's preview (%s) holds one frame in %d, within its size bound", preview.Name, o.prv.Every()))
	}
	if err := o.closePreview(!r.opt.Scratch); err != nil {
		r.log.Warn("preview dropped", "err", err)
	}
	if err := r.writeOutput(filepath.Join(o.tmp, "events.json"), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}); err != nil {
		errs = append(errs, err)
	}
	if err := r.writeOutput(filepath.Join(o.tmp, "report.html"), func(w io.Writer) error { return report.Write(w, r.rep) }); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		if err := o.commit(r.log.Warn); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		os.RemoveAll(o.tmp)
		if runErr != nil {
			errs = append([]error{runErr}, errs...)
		}
		return fmt.Errorf("writing the outputs: %w (%s left as it was)", errors.Join(errs...), o.final)
	}
	if runErr != nil {
		return fmt.Errorf("%w (partial outputs written to %s, marked \"partial\"): %w", runErr, o.final, ErrPartial)
	}
	return nil
}

// writeOutput writes one output file into the run's temporary folder
// through a buffer (the report's template writes in many small pieces):
// with atomicfile, or, for Options.Scratch, without its sync.
func (r *run) writeOutput(path string, write func(io.Writer) error) error {
	buffered := func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 64<<10)
		if err := write(bw); err != nil {
			return err
		}
		return bw.Flush()
	}
	if !r.opt.Scratch {
		return atomicfile.Write(path, buffered)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	err = buffered(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// commit replaces the final folder by the temporary one: the old folder
// (an earlier run's outputs, checked before the run) is moved aside,
// the new one renamed into place, then the old one removed. If the rename
// fails the old folder is put back.
func (o *outputs) commit(warn func(string, ...any)) error {
	old := ""
	if _, err := os.Lstat(o.final); err == nil {
		old = o.tmp + ".old"
		if err := os.Rename(o.final, old); err != nil {
			return fmt.Errorf("moving the earlier outputs aside: %w", err)
		}
	}
	if err := os.Rename(o.tmp, o.final); err != nil {
		if old != "" {
			os.Rename(old, o.final)
		}
		return fmt.Errorf("output folder: %w", err)
	}
	if old != "" {
		// Remove only what a run writes: a file someone put there during
		// the run keeps the old folder, and the warning says where.
		for _, name := range outputFiles {
			os.Remove(filepath.Join(old, name))
		}
		if err := os.Remove(old); err != nil {
			warn("the earlier outputs' folder was not empty and is kept", "path", old, "err", err)
		}
	}
	return nil
}

// plural is "1 frame", "2 frames".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// facePathNote says how faces were found when a plain detection did not
// find them: in a face crop (the face filled or overflowed the frame), or
// by a rescan of an ordinary frame; "" when a plain detection always did.
func facePathNote(paths map[facePath]int) string {
	if len(paths) == 0 {
		return ""
	}
	var crop, other []string
	for _, k := range slices.SortedFunc(maps.Keys(paths), func(a, b facePath) int { return strings.Compare(a.path, b.path) }) {
		part := fmt.Sprintf("%s %s", k.path, plural(paths[k], "time"))
		if k.fills {
			crop = append(crop, part)
		} else {
			other = append(other, part)
		}
	}
	var notes []string
	if len(crop) > 0 {
		notes = append(notes, "face found in a face crop (the face fills or overflows the frame; a plain scan did not find it): "+strings.Join(crop, ", "))
	}
	if len(other) > 0 {
		notes = append(notes, "face found where a plain scan missed it: "+strings.Join(other, ", "))
	}
	return strings.Join(notes, "; ") + "; frames.csv confidence is then the detector's check of the face fitted there"
}
