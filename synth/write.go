package synth

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tell-project/tell/atomicfile"
)

// WriteOptions controls Write.
type WriteOptions struct {
	// MP4 also encodes each clip as DIR/NAME.mp4 when ffmpeg is on PATH.
	MP4 bool
	// Progress, when set, is called after each clip.
	Progress func(done, total int)
}

// ManifestHeader is the header of manifest.csv: DESIGN.md's manifest columns
// plus synth's ground truth (kind, fps, frame count, event index).
var ManifestHeader = []string{"sample", "subject", "label", "dataset", "frames", "video", "onset", "apex", "offset", "aus", "emotion", "kind", "fps", "n_frames", "event"}

// Write renders clips into dir: DIR/NAME/img00000.png.. (frames),
// DIR/NAME/truth.csv (per-frame true AU intensities), DIR/NAME.mp4 (when
// asked and ffmpeg exists) and DIR/manifest.csv with one row per event.
// Every file is written to a temporary name and renamed, so an interrupted
// run leaves no half-written file under a final name.
func Write(ctx context.Context, dir string, clips []*Clip, opt WriteOptions) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	ffmpeg := ""
	if opt.MP4 {
		ffmpeg, _ = exec.LookPath("ffmpeg")
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
		if werr := writeCSV(partial, append([][]string{ManifestHeader}, rows...)); werr != nil {
			return fmt.Errorf("%w (and the finished clips could not be listed: %v)", err, werr)
		}
		return fmt.Errorf("%w (%d of %d clips finished, listed in %s)", err, done, len(clips), partial)
	}
	for i, c := range clips {
		if err := writeClip(ctx, filepath.Join(dir, c.Name), c); err != nil {
			return stop(i, err)
		}
		video := ""
		if ffmpeg != "" {
			video = c.Name + ".mp4"
			if err := encodeMP4(ctx, ffmpeg, filepath.Join(dir, c.Name), filepath.Join(dir, video), c.FPS); err != nil {
				return stop(i, err)
			}
		}
		for k, e := range c.Events {
			sample := c.Name
			if len(c.Events) > 1 {
				sample = fmt.Sprintf("%s_e%d", c.Name, k)
			}
			rows = append(rows, []string{
				sample, c.Subject, e.Label, "synth", c.Name, video,
				strconv.Itoa(e.Onset), strconv.Itoa(e.Apex), strconv.Itoa(e.Offset),
				e.AUString(), e.Label, e.Kind, strconv.FormatFloat(c.FPS, 'g', -1, 64),
				strconv.Itoa(c.Frames), strconv.Itoa(k),
			})
		}
		if opt.Progress != nil {
			opt.Progress(i+1, len(clips))
		}
	}
	return writeCSV(manifest, append([][]string{ManifestHeader}, rows...))
}

// PartialManifest is the manifest Write leaves, instead of manifest.csv,
// when it stops early: the clips that were finished.
const PartialManifest = "manifest.partial.csv"

func writeClip(ctx context.Context, dir string, c *Clip) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	var img *image.RGBA
	aus := AUs()
	truth := [][]string{append([]string{"frame", "label"}, auColumns(aus)...)}
	for t := 0; t < c.Frames; t++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		img = c.Frame(t, img)
		name := filepath.Join(dir, fmt.Sprintf("img%05d.png", t))
		if err := atomicfile.Write(name, func(f io.Writer) error { return enc.Encode(f, img) }); err != nil {
			return err
		}
		m, label := c.Truth(t)
		row := []string{strconv.Itoa(t), label}
		for _, a := range aus {
			row = append(row, strconv.FormatFloat(m[a], 'f', 4, 64))
		}
		truth = append(truth, row)
	}
	return writeCSV(filepath.Join(dir, "truth.csv"), truth)
}

func auColumns(aus []int) []string {
	out := make([]string, len(aus))
	for i, a := range aus {
		out[i] = fmt.Sprintf("AU%02d", a)
	}
	return out
}

func encodeMP4(ctx context.Context, ffmpeg, frames, out string, fps float64) error {
	tmp := strings.TrimSuffix(out, ".mp4") + ".tmp.mp4"
	cmd := exec.CommandContext(ctx, ffmpeg, "-y", "-loglevel", "error",
		"-framerate", strconv.FormatFloat(fps, 'g', -1, 64),
		"-i", filepath.Join(frames, "img%05d.png"),
		"-c:v", "libx264", "-preset", "veryfast", "-crf", "12", "-pix_fmt", "yuv420p", tmp)
	if msg, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("synth: ffmpeg encoding %s: %w: %s", out, err, strings.TrimSpace(string(msg)))
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	return nil
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
