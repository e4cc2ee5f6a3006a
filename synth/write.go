package synth

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/tell-project/tell/atomicfile"
)

// WriteOptions controls Write.
type WriteOptions struct {
	// MP4 also encodes each clip as DIR/NAME.mp4 when ffmpeg is on PATH.
	MP4 bool
	// NoFrames skips the PNG frames: MP4 only (ffmpeg required), for demos
	// and for videos too long to keep as images.
	NoFrames bool
	// Progress, when set, is called after each clip.
	Progress func(done, total int)
}

// FirstFrame is the number of a clip's first frame in everything Write
// writes (PNG names, truth.csv, the manifest): 1, as tell analyze numbers
// frames.csv (OpenFace's convention). Clip and Event count from 0.
const FirstFrame = 1

// manifestHeader is the header of manifest.csv: docs/manifest.md's columns
// plus synth's ground truth (kind, fps, frame count, event index).
var manifestHeader = []string{"sample", "subject", "label", "dataset", "frames", "video", "onset", "apex", "offset", "aus", "emotion", "kind", "fps", "n_frames", "event"}

// Write renders clips into dir: DIR/NAME/img00001.png.. (frames, unless
// NoFrames, with DIR/NAME/fps.txt giving the folder its rate),
// DIR/NAME/truth.csv (per-frame true AU intensities),
// DIR/NAME.mp4 (when asked and ffmpeg exists) and DIR/manifest.csv with one
// row per event. Frames are numbered from FirstFrame everywhere. Every file
// is written to a temporary name and renamed, so an interrupted run leaves
// no half-written file under a final name. Frames render on all CPUs.
func Write(ctx context.Context, dir string, clips []*Clip, opt WriteOptions) error {
	ffmpeg := ""
	if opt.MP4 || opt.NoFrames {
		ffmpeg, _ = exec.LookPath("ffmpeg")
	}
	if opt.NoFrames && ffmpeg == "" {
		return fmt.Errorf("synth: no frames and no MP4: ffmpeg is not on PATH (install it with: sudo apt-get install ffmpeg)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	// A manifest left by an earlier run would describe clips this run is
	// overwriting; it is rewritten at the end.
	manifest := filepath.Join(dir, "manifest.csv")
	partial := filepath.Join(dir, PartialManifest)
	for _, p := range []string{manifest, partial} {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("synth: %w", err)
		}
	}
	var rows [][]string
	// stop keeps the finished clips usable when a clip fails or the run is
	// interrupted: they are listed in manifest.partial.csv, never in a
	// manifest.csv that would look complete.
	stop := func(done int, err error) error {
		if ctx.Err() != nil {
			err = fmt.Errorf("synth: interrupted: %w", ctx.Err())
		}
		if len(rows) == 0 {
			return fmt.Errorf("%w (no clip finished)", err)
		}
		if werr := writeCSV(partial, append([][]string{manifestHeader}, rows...)); werr != nil {
			return fmt.Errorf("%w (and the finished clips could not be listed: %v)", err, werr)
		}
		return fmt.Errorf("%w (%d of %d clips finished, listed in %s)", err, done, len(clips), partial)
	}
	for i, c := range clips {
		video, frames := "", c.Name
		mp4 := ""
		if ffmpeg != "" {
			video = c.Name + ".mp4"
			mp4 = filepath.Join(dir, video)
		}
		if opt.NoFrames {
			frames = ""
		}
		if err := writeClip(ctx, filepath.Join(dir, c.Name), c, !opt.NoFrames, ffmpeg, mp4); err != nil {
			return stop(i, err)
		}
		for k, e := range c.Events {
			sample := c.Name
			if len(c.Events) > 1 {
				sample = fmt.Sprintf("%s_e%d", c.Name, k)
			}
			rows = append(rows, []string{
				sample, c.Subject, e.Label, "synth", frames, video,
				strconv.Itoa(e.Onset + FirstFrame), strconv.Itoa(e.Apex + FirstFrame), strconv.Itoa(e.Offset + FirstFrame),
				e.AUString(), e.Label, e.Kind, strconv.FormatFloat(c.FPS, 'g', -1, 64),
				strconv.Itoa(c.Frames), strconv.Itoa(k),
			})
		}
		if opt.Progress != nil {
			opt.Progress(i+1, len(clips))
		}
	}
	return writeCSV(manifest, append([][]string{manifestHeader}, rows...))
}

// PartialManifest is the manifest Write leaves, instead of manifest.csv,
// when it stops early: the clips that were finished.
const PartialManifest = "manifest.partial.csv"

// writeClip writes one clip's truth.csv and, as asked, its PNG frames and
// its MP4 (frames piped to ffmpeg as raw RGBA, encoded as they render).
func writeClip(ctx context.Context, dir string, c *Clip, pngs bool, ffmpeg, mp4 string) (err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	var enc *mp4Encoder
	if mp4 != "" {
		if enc, err = startMP4(ctx, ffmpeg, mp4, c); err != nil {
			return err
		}
		defer func() {
			if err != nil {
				enc.abort()
			}
		}()
	}
	aus := AUs()
	truth := [][]string{append([]string{"frame", "label"}, auColumns(aus)...)}
	pngEnc := png.Encoder{CompressionLevel: png.BestSpeed}
	workers := max(1, runtime.GOMAXPROCS(0))
	imgs := make([]*image.RGBA, workers)
	errs := make([]error, workers)
	for t0 := 0; t0 < c.Frames; t0 += workers {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(workers, c.Frames-t0)
		var wg sync.WaitGroup
		for k := 0; k < n; k++ {
			wg.Add(1)
			go func(k int) {
				defer wg.Done()
				t := t0 + k
				imgs[k] = c.Frame(t, imgs[k])
				errs[k] = nil
				if pngs {
					name := filepath.Join(dir, fmt.Sprintf("img%05d.png", t+FirstFrame))
					errs[k] = atomicfile.Write(name, func(f io.Writer) error { return pngEnc.Encode(f, imgs[k]) })
				}
			}(k)
		}
		wg.Wait()
		for k := 0; k < n; k++ {
			if errs[k] != nil {
				return errs[k]
			}
			if enc != nil {
				if err := enc.write(imgs[k]); err != nil {
					return err
				}
			}
			t := t0 + k
			m, label := c.Truth(t)
			row := []string{strconv.Itoa(t + FirstFrame), label}
			for _, a := range aus {
				row = append(row, strconv.FormatFloat(m[a], 'f', 4, 64))
			}
			truth = append(truth, row)
		}
	}
	if enc != nil {
		if err := enc.finish(); err != nil {
			return err
		}
	}
	if pngs {
		// A folder of frames has no rate of its own: its fps.txt gives
		// it (the sidecar tell analyze reads, video.RateFile).
		rate := strconv.FormatFloat(c.FPS, 'g', -1, 64) + "\n"
		if err := atomicfile.Write(filepath.Join(dir, "fps.txt"), func(f io.Writer) error { _, err := io.WriteString(f, rate); return err }); err != nil {
			return err
		}
	}
	return writeCSV(filepath.Join(dir, "truth.csv"), truth)
}

// mp4Encoder is an ffmpeg process encoding raw RGBA frames from its stdin
// into a temporary file renamed to out by finish.
type mp4Encoder struct {
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	stderr   bytes.Buffer
	tmp, out string
}

func startMP4(ctx context.Context, ffmpeg, out string, c *Clip) (*mp4Encoder, error) {
	e := &mp4Encoder{tmp: strings.TrimSuffix(out, ".mp4") + ".tmp.mp4", out: out}
	e.cmd = exec.CommandContext(ctx, ffmpeg, "-y", "-nostdin", "-loglevel", "error",
		"-f", "rawvideo", "-pix_fmt", "rgba", "-s", fmt.Sprintf("%dx%d", c.W, c.H),
		"-framerate", strconv.FormatFloat(c.FPS, 'g', -1, 64), "-i", "pipe:0",
		"-c:v", "libx264", "-preset", "veryfast", "-crf", "12", "-pix_fmt", "yuv420p",
		"-movflags", "+faststart", "-f", "mp4", e.tmp)
	e.cmd.Stderr = &e.stderr
	var err error
	if e.stdin, err = e.cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("synth: ffmpeg: %w", err)
	}
	if err := e.cmd.Start(); err != nil {
		return nil, fmt.Errorf("synth: starting ffmpeg for %s: %w", out, err)
	}
	return e, nil
}

func (e *mp4Encoder) write(img *image.RGBA) error {
	if _, err := e.stdin.Write(img.Pix); err != nil {
		return e.fail(err)
	}
	return nil
}

func (e *mp4Encoder) fail(err error) error {
	e.stdin.Close()
	werr := e.cmd.Wait()
	os.Remove(e.tmp)
	if werr != nil {
		err = werr
	}
	return fmt.Errorf("synth: ffmpeg encoding %s: %w: %s", e.out, err, strings.TrimSpace(e.stderr.String()))
}

func (e *mp4Encoder) finish() error {
	if err := e.stdin.Close(); err != nil {
		return e.fail(err)
	}
	if err := e.cmd.Wait(); err != nil {
		os.Remove(e.tmp)
		return fmt.Errorf("synth: ffmpeg encoding %s: %w: %s", e.out, err, strings.TrimSpace(e.stderr.String()))
	}
	if err := os.Rename(e.tmp, e.out); err != nil {
		os.Remove(e.tmp)
		return fmt.Errorf("synth: %w", err)
	}
	return nil
}

// abort stops ffmpeg and removes its half-written file.
func (e *mp4Encoder) abort() {
	e.stdin.Close()
	if e.cmd.Process != nil {
		e.cmd.Process.Kill()
	}
	e.cmd.Wait()
	os.Remove(e.tmp)
}

func auColumns(aus []int) []string {
	out := make([]string, len(aus))
	for i, a := range aus {
		out[i] = fmt.Sprintf("AU%02d", a)
	}
	return out
}

func writeCSV(path string, rows [][]string) error {
	return atomicfile.Write(path, func(f io.Writer) error {
		w := bufio.NewWriter(f)
		cw := csv.NewWriter(w)
		if err := cw.WriteAll(rows); err != nil {
			return err
		}
		return w.Flush()
	})
}

// ReadLandmarks reads 68 landmarks from a file of "x,y" lines (blank lines
// and lines starting with # are skipped).
func ReadLandmarks(path string) ([68][2]float32, error) {
	var lm [68][2]float32
	b, err := os.ReadFile(path)
	if err != nil {
		return lm, fmt.Errorf("landmarks: %w", err)
	}
	n := 0
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		xs, ys, ok := strings.Cut(line, ",")
		x, err1 := strconv.ParseFloat(strings.TrimSpace(xs), 32)
		y, err2 := strconv.ParseFloat(strings.TrimSpace(ys), 32)
		if !ok || err1 != nil || err2 != nil {
			return lm, fmt.Errorf("landmarks %s line %d: want \"x,y\", got %q", path, i+1, line)
		}
		if n == 68 {
			return lm, fmt.Errorf("landmarks %s line %d: more than 68 points", path, i+1)
		}
		lm[n] = [2]float32{float32(x), float32(y)}
		n++
	}
	if n != 68 {
		return lm, fmt.Errorf("landmarks %s: %d points, want 68", path, n)
	}
	return lm, nil
}
