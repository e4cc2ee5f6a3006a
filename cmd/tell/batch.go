package main

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/schollz/progressbar/v3"

	"github.com/tell-project/tell/queue"
	"github.com/tell-project/tell/server"
	"github.com/tell-project/tell/video"
)

func batchCommand() command {
	return command{
		name:    "batch",
		summary: "analyse many clips through the NATS queue, resumably",
		usage: `usage: tell batch (--manifest clips.csv | DIR) --nats URL --out DIR
                  [--owner NAME] [--max-pending N] [--fps F] [--quiet]

Submits every clip of a manifest (or every image and video of a folder,
recursively) to the NATS JetStream job queue that tell serve and tell
worker use, and collects each analysis into OUT/NAME/ (events.json,
frames.csv, report.html, job.json) as it finishes. Run it again after an
interruption: clips with a result folder are skipped, jobs already
submitted are awaited (their ids come from the clip's content), the rest
are submitted. Finished jobs are removed from the queue once collected.

The manifest needs a "sample" column (the result folder's name) and one
of "video" (as tell synth writes), "image" or "frames" (a folder of frame
images) per row; an "fps" column sets a folder's frame rate. Rows that
name the same input share one job and the first row's sample name.
Relative paths are relative to the manifest's folder.

Flags:
  --nats URL         the NATS server (tell serve --nats-listen's address)
  --out DIR          results folder (made if missing)
  --manifest FILE    the clips; or give a folder as the argument
  --owner NAME       owner of the jobs (default "batch"): tell serve shows
                     them to the API key of that name
  --max-pending N    jobs submitted and not yet collected (default 32)
  --fps F            frame rate of folders of frames (default 30)
  --quiet            no progress bar`,
		run: runBatch,
	}
}

// batchItem is one input of a batch.
type batchItem struct {
	name, path, kind, ext string
	fps                   float64
	files                 []string // frames of a folder
	id                    string
}

func runBatch(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet("batch")
	url := fs.String("nats", "", "")
	out := fs.String("out", "", "")
	manifest := fs.String("manifest", "", "")
	owner := fs.String("owner", "batch", "")
	maxPending := fs.Int("max-pending", 32, "")
	fps := fs.Float64("fps", 0, "")
	quiet := fs.Bool("quiet", false, "")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case *url == "":
		return usageErrorf("--nats URL is required")
	case *out == "":
		return usageErrorf("--out DIR is required")
	case (*manifest == "") == (len(pos) != 1):
		return usageErrorf("give --manifest FILE or one folder")
	case len(pos) > 1:
		return usageErrorf("unexpected argument %q", pos[1])
	case *maxPending < 1:
		return usageErrorf("--max-pending %d: want at least 1", *maxPending)
	case *fps < 0 || *fps > 10000:
		return usageErrorf("--fps %g: want 0 (default) to 10000", *fps)
	}
	var items []*batchItem
	if *manifest != "" {
		items, err = batchManifest(*manifest, *fps)
	} else {
		items, err = batchFolder(pos[0], *fps)
	}
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return errors.New("nothing to analyse")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	fc, err := connectQueue(ctx, env, *url, natsClientFlags{creds: new(string), ca: new(string)}, "tell batch", env.log)
	if err != nil {
		return err
	}
	defer fc.close()
	b := &batch{q: fc.q, out: *out, owner: *owner, env: env, byID: map[string]*batchItem{}, finished: make(chan queue.Job, 64)}
	return b.run(ctx, items, *maxPending, *quiet)
}

// batchManifest reads the inputs of a manifest CSV.
func batchManifest(path string, fps float64) ([]*batchItem, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	if _, ok := col["sample"]; !ok {
		return nil, fmt.Errorf("%s: no \"sample\" column", path)
	}
	field := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	dir := filepath.Dir(path)
	seen := map[string]bool{}
	var items []*batchItem
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		name := field(rec, "sample")
		var p, kind string
		for _, c := range []string{"video", "image", "frames"} {
			if v := field(rec, c); v != "" {
				p, kind = v, c
				break
			}
		}
		if name == "" || p == "" {
			return nil, fmt.Errorf("%s: line %d: want a sample and one of video, image, frames", path, line)
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if seen[p] {
			continue
		}
		seen[p] = true
		rowFPS := fps
		if v := field(rec, "fps"); v != "" && fps == 0 {
			if rowFPS, err = strconv.ParseFloat(v, 64); err != nil || rowFPS <= 0 {
				return nil, fmt.Errorf("%s: line %d: column \"fps\": %q", path, line, v)
			}
		}
		it, err := newBatchItem(name, p, kind, rowFPS)
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", path, line, err)
		}
		items = append(items, it)
	}
	return items, nil
}

// batchFolder lists the images and videos under dir, recursively.
func batchFolder(dir string, fps float64) ([]*batchItem, error) {
	var items []*batchItem
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !d.Type().IsRegular() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		head := make([]byte, 512)
		n, _ := io.ReadFull(f, head)
		f.Close()
		if ext, _ := server.Sniff(head[:n]); ext == "" {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		it, err := newBatchItem(strings.TrimSuffix(filepath.ToSlash(rel), filepath.Ext(rel)), p, "", fps)
		if err != nil {
			return err
		}
		items = append(items, it)
		return nil
	})
	return items, err
}

// newBatchItem checks an input and names its job by its content, so that
// a rerun finds the job it submitted before.
func newBatchItem(name, path, kind string, fps float64) (*batchItem, error) {
	clean := strings.NewReplacer("/", "_", "\\", "_", "..", "_").Replace(name)
	it := &batchItem{name: clean, path: path, fps: fps}
	h := sha256.New()
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() || kind == "frames" {
		files, err := video.FrameFiles(path)
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("%s: no PNG, JPEG or BMP frames", path)
		}
		it.kind, it.ext, it.files = "frames", ".tar", files
		for _, f := range files {
			fmt.Fprintf(h, "%s\x00", filepath.Base(f))
			if err := hashFile(h, f); err != nil {
				return nil, err
			}
		}
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		head := make([]byte, 512)
		n, _ := io.ReadFull(f, head)
		f.Close()
		ext, k := server.Sniff(head[:n])
		if ext == "" {
			return nil, fmt.Errorf("%s: not a PNG, JPEG or BMP image nor a known video", path)
		}
		it.kind, it.ext = k, ext
		if err := hashFile(h, path); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(h, "\x00%s\x00%g", it.kind, it.fps)
	it.id = "b" + hex.EncodeToString(h.Sum(nil))[:31]
	return it, nil
}

func hashFile(h io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(h, f)
	return err
}

// batch submits items and collects their results.
type batch struct {
	q        *queue.Queue
	out      string
	owner    string
	env      *environment
	mu       sync.Mutex
	byID     map[string]*batchItem
	finished chan queue.Job
}

func (b *batch) run(ctx context.Context, items []*batchItem, maxPending int, quiet bool) error {
	// The same content under two names is one job.
	uniq := map[string]bool{}
	var todo []*batchItem
	done := 0
	for _, it := range items {
		if uniq[it.id] {
			continue
		}
		uniq[it.id] = true
		if _, err := os.Stat(filepath.Join(b.out, it.name)); err == nil {
			done++ // collected by an earlier run
			continue
		}
		todo = append(todo, it)
	}
	total := done + len(todo)
	var bar *progressbar.ProgressBar
	if w := progressOut(b.env, quiet); w != nil {
		bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription("analysing"),
			progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish())
		bar.Set(done)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := b.q.Watch(wctx, func(ev queue.Event) {
		if ev.Deleted || ev.Caught || !queue.Terminal(ev.Job.State) {
			return
		}
		b.mu.Lock()
		_, ours := b.byID[ev.Job.ID]
		b.mu.Unlock()
		if ours {
			select {
			case b.finished <- ev.Job:
			case <-wctx.Done():
			}
		}
	}); err != nil {
		return err
	}
	pending, failed := 0, 0
	next := 0
	for next < len(todo) || pending > 0 {
		for pending < maxPending && next < len(todo) {
			it := todo[next]
			next++
			b.mu.Lock()
			b.byID[it.id] = it
			b.mu.Unlock()
			j, err := b.submit(ctx, it)
			if err != nil {
				return fmt.Errorf("%s: %w", it.name, err)
			}
			pending++
			if queue.Terminal(j.State) {
				// Finished before this run watched it (a rerun).
				go func() { b.finished <- j }()
			}
		}
		var j queue.Job
		select {
		case <-ctx.Done():
			fmt.Fprintf(b.env.stderr, "tell batch: interrupted; %d of %d collected, %d submitted jobs keep running: run again to collect them\n", done, total, pending)
			return ctx.Err()
		case j = <-b.finished:
		}
		b.mu.Lock()
		it, ok := b.byID[j.ID]
		delete(b.byID, j.ID)
		b.mu.Unlock()
		if !ok {
			continue // a duplicate notice
		}
		if err := b.collect(ctx, it, j); err != nil {
			return fmt.Errorf("%s: collecting the result: %w", it.name, err)
		}
		pending--
		done++
		if j.State != queue.StateDone {
			failed++
		}
		if bar != nil {
			bar.Set(done)
		}
	}
	if bar != nil {
		bar.Finish()
	}
	fmt.Fprintf(b.env.stdout, "tell batch: %d analysed, %d failed (see job.json in their folders), results in %s\n", done-failed, failed, b.out)
	if failed > 0 {
		return fmt.Errorf("%d of %d analyses failed", failed, done)
	}
	return nil
}

// submit queues an item unless the queue holds its job already.
func (b *batch) submit(ctx context.Context, it *batchItem) (queue.Job, error) {
	if j, err := b.q.Get(ctx, it.id); err == nil {
		return j, nil
	}
	var r io.Reader
	if it.kind == "frames" {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(queue.Tar(pw, it.files)) }()
		defer pr.Close()
		r = pr
	} else {
		f, err := os.Open(it.path)
		if err != nil {
			return queue.Job{}, err
		}
		defer f.Close()
		r = f
	}
	j, _, err := b.q.Submit(ctx, queue.Job{ID: it.id, Owner: b.owner, Name: filepath.Base(it.path), Kind: it.kind, Ext: it.ext, FPS: it.fps}, r)
	return j, err
}

// collect writes a finished job's outputs and record into OUT/NAME/ (a
// temporary folder renamed when complete) and removes the job.
func (b *batch) collect(ctx context.Context, it *batchItem, j queue.Job) error {
	tmp, err := os.MkdirTemp(b.out, "."+it.name+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	names := make([]string, 0, len(j.Outputs))
	for n := range j.Outputs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if n != filepath.Base(n) || strings.HasPrefix(n, ".") {
			continue
		}
		rd, _, err := b.q.Output(ctx, j, n)
		if err != nil {
			return err
		}
		f, err := os.Create(filepath.Join(tmp, n))
		if err == nil {
			_, err = io.Copy(f, rd)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		rd.Close()
		if err != nil {
			return err
		}
	}
	rec, _ := json.MarshalIndent(struct {
		ID       string          `json:"id"`
		Input    string          `json:"input"`
		State    string          `json:"state"`
		Error    string          `json:"error,omitempty"`
		Attempts int             `json:"attempts"`
		Result   json.RawMessage `json:"result,omitempty"`
	}{j.ID, it.path, j.State, j.Error, j.Attempts, j.Result}, "", "  ")
	if err := os.WriteFile(filepath.Join(tmp, "job.json"), append(rec, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(b.out, it.name)); err != nil {
		return err
	}
	if err := b.q.Delete(ctx, j.ID); err != nil && !errors.Is(err, queue.ErrNotFound) {
		return err
	}
	return nil
}
