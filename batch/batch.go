// Package batch is the queue's batch client (`tell batch`): it submits
// many clips to the NATS JetStream job queue that tell serve and tell
// worker use and collects each analysis into a folder as it finishes,
// resumably. A rerun skips clips whose result folder exists, awaits jobs
// already submitted (their ids come from the clip's content) and submits
// the rest; finished jobs are removed from the queue once collected.
//
// Limits: an item's content is hashed on every run (the job id), so a
// rerun reads every input once more.
package batch

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

	"github.com/tell-project/tell/queue"
	"github.com/tell-project/tell/video"
)

// Item is one input of a batch.
type Item struct {
	Name  string  // the result folder's name under Options.Out
	Path  string  // the file or folder of frames
	Kind  string  // "image", "video" or "frames"
	Ext   string  // the extension the job's input is stored under
	FPS   float64 // frame rate of a folder of frames (0: the worker's default)
	Files []string
	// ID is the job's id, from the input's content, kind and FPS.
	ID string
}

// Options configure Run.
type Options struct {
	Out   string // results folder, one folder per item (must exist)
	Owner string // owner of the jobs
	// MaxPending bounds the jobs submitted and not yet collected (≥ 1).
	MaxPending int
	// Progress, when set, is called with the items collected so far (by
	// this run or an earlier one) and their total, first before any job
	// is submitted.
	Progress func(done, total int)
}

// Result counts what Run did.
type Result struct {
	Total   int // distinct items
	Done    int // collected, by this run or an earlier one
	Failed  int // collected in a state other than done (see their job.json)
	Pending int // submitted and not collected when Run stopped
}

// FromManifest reads the inputs of a manifest CSV: a "sample" column (the
// result folder's name) and one of "video", "image" or "frames" (a folder
// of frame images) per row; an "fps" column sets a folder's frame rate
// unless fps (> 0) does. Rows that name the same input share one item and
// the first row's name. Relative paths are relative to the manifest's
// folder.
func FromManifest(path string, fps float64) ([]*Item, error) {
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
	var items []*Item
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
		it, err := NewItem(name, p, kind, rowFPS)
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", path, line, err)
		}
		items = append(items, it)
	}
	return items, nil
}

// FromFolder lists the images and videos under dir, recursively, each
// named by its path under dir without the extension.
func FromFolder(dir string, fps float64) ([]*Item, error) {
	var items []*Item
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
		if ext, _ := video.Sniff(head[:n]); ext == "" {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		it, err := NewItem(strings.TrimSuffix(filepath.ToSlash(rel), filepath.Ext(rel)), p, "", fps)
		if err != nil {
			return err
		}
		items = append(items, it)
		return nil
	})
	return items, err
}

// NewItem checks an input (kind "frames" for a folder of frames, else
// found from the file's first bytes) and names its job by its content, so
// that a rerun finds the job it submitted before.
func NewItem(name, path, kind string, fps float64) (*Item, error) {
	clean := strings.NewReplacer("/", "_", "\\", "_", "..", "_").Replace(name)
	it := &Item{Name: clean, Path: path, FPS: fps}
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
		it.Kind, it.Ext, it.Files = "frames", ".tar", files
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
		ext, k := video.Sniff(head[:n])
		if ext == "" {
			return nil, fmt.Errorf("%s: not a PNG, JPEG or BMP image nor a known video", path)
		}
		it.Kind, it.Ext = k, ext
		if err := hashFile(h, path); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(h, "\x00%s\x00%g", it.Kind, it.FPS)
	it.ID = "b" + hex.EncodeToString(h.Sum(nil))[:31]
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

// Run submits items to q and collects their results into opt.Out/NAME/
// (the job's outputs and job.json: id, input, state, error, attempts and
// result), a temporary folder renamed when complete. Items with the same
// content are one job. It returns when every item is collected, or with
// ctx's error and the counts so far when ctx ends (submitted jobs keep
// running; a rerun collects them).
func Run(ctx context.Context, q *queue.Queue, items []*Item, opt Options) (Result, error) {
	if opt.MaxPending < 1 {
		return Result{}, fmt.Errorf("batch: max pending %d: want at least 1", opt.MaxPending)
	}
	b := &run{q: q, out: opt.Out, owner: opt.Owner, byID: map[string]*Item{}, finished: make(chan queue.Job, 64)}
	progress := opt.Progress
	if progress == nil {
		progress = func(int, int) {}
	}
	// The same content under two names is one job.
	uniq := map[string]bool{}
	var todo []*Item
	var res Result
	for _, it := range items {
		if uniq[it.ID] {
			continue
		}
		uniq[it.ID] = true
		if _, err := os.Stat(filepath.Join(b.out, it.Name)); err == nil {
			res.Done++ // collected by an earlier run
			continue
		}
		todo = append(todo, it)
	}
	res.Total = res.Done + len(todo)
	progress(res.Done, res.Total)
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
		return res, err
	}
	next := 0
	for next < len(todo) || res.Pending > 0 {
		for res.Pending < opt.MaxPending && next < len(todo) {
			it := todo[next]
			next++
			b.mu.Lock()
			b.byID[it.ID] = it
			b.mu.Unlock()
			j, err := b.submit(ctx, it)
			if err != nil {
				return res, fmt.Errorf("%s: %w", it.Name, err)
			}
			res.Pending++
			if queue.Terminal(j.State) {
				// Finished before this run watched it (a rerun).
				go func() { b.finished <- j }()
			}
		}
		var j queue.Job
		select {
		case <-ctx.Done():
			return res, ctx.Err()
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
			return res, fmt.Errorf("%s: collecting the result: %w", it.Name, err)
		}
		res.Pending--
		res.Done++
		if j.State != queue.StateDone {
			res.Failed++
		}
		progress(res.Done, res.Total)
	}
	return res, nil
}

// run is one Run's state.
type run struct {
	q        *queue.Queue
	out      string
	owner    string
	mu       sync.Mutex
	byID     map[string]*Item
	finished chan queue.Job
}

// submit queues an item unless the queue holds its job already.
func (b *run) submit(ctx context.Context, it *Item) (queue.Job, error) {
	if j, err := b.q.Get(ctx, it.ID); err == nil {
		return j, nil
	}
	var r io.Reader
	if it.Kind == "frames" {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(queue.Tar(pw, it.Files)) }()
		defer pr.Close()
		r = pr
	} else {
		f, err := os.Open(it.Path)
		if err != nil {
			return queue.Job{}, err
		}
		defer f.Close()
		r = f
	}
	j, _, err := b.q.Submit(ctx, queue.Job{ID: it.ID, Owner: b.owner, Name: filepath.Base(it.Path), Kind: it.Kind, Ext: it.Ext, FPS: it.FPS}, r)
	return j, err
}

// collect writes a finished job's outputs and record into OUT/NAME/ (a
// temporary folder renamed when complete) and removes the job.
func (b *run) collect(ctx context.Context, it *Item, j queue.Job) error {
	tmp, err := os.MkdirTemp(b.out, "."+it.Name+".tmp-")
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
	}{j.ID, it.Path, j.State, j.Error, j.Attempts, j.Result}, "", "  ")
	if err := os.WriteFile(filepath.Join(tmp, "job.json"), append(rec, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(b.out, it.Name)); err != nil {
		return err
	}
	if err := b.q.Delete(ctx, j.ID); err != nil && !errors.Is(err, queue.ErrNotFound) {
		return err
	}
	return nil
}
