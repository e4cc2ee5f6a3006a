// Package batch is the batch client (`tell batch`): it submits many clips
// to tell serve through its NATS API (server.NATSClient), which admits
// them as it admits uploads (the key's quotas, the budgets) under the
// owner its NATS credentials name, and collects each analysis into a
// folder as it finishes, resumably. A rerun skips clips whose result
// folder exists, awaits jobs already submitted (their keys come from the
// clip's content) and submits the rest; finished jobs are removed once
// collected.
//
// Limits: an item's content is hashed on every run (the job's key), so a
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
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tell-project/tell/dataset"
	"github.com/tell-project/tell/queue"
	"github.com/tell-project/tell/server"
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
	// ID is the job's key, from the input's content, kind and FPS: the
	// server names the job from it and the owner, so that a rerun finds
	// the job it submitted before.
	ID string
}

// Client is what a batch needs of tell serve: server.NATSClient.
type Client interface {
	Find(ctx context.Context, key string) (server.NATSJob, error)
	Submit(ctx context.Context, key, name, kind string, fps float64, r io.Reader) (server.NATSJob, error)
	Get(ctx context.Context, id string) (server.NATSJob, error)
	Output(ctx context.Context, id, name string, w io.Writer) error
	Delete(ctx context.Context, id string) error
	Watch(fn func(id, state string)) (stop func(), err error)
}

// Options configure Run.
type Options struct {
	Out string // results folder, one folder per item (must exist)
	// MaxPending bounds the jobs submitted and not yet collected (≥ 1).
	MaxPending int
	// Poll is how often jobs whose end was not announced are looked at
	// (default 2 s): announcements may be lost.
	Poll time.Duration
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

// Load lists the inputs of the manifest when one is given (FromManifest),
// else those under dir (FromFolder); no input at all is an error.
func Load(manifest, dir string, fps float64) ([]*Item, error) {
	from, load := dir, FromFolder
	if manifest != "" {
		from, load = manifest, FromManifest
	}
	items, err := load(from, fps)
	if err == nil && len(items) == 0 {
		err = fmt.Errorf("%s: nothing to analyse", from)
	}
	return items, err
}

// FromManifest reads the inputs of a manifest CSV: a "sample" column (the
// result folder's name) and one of "video", "image" or "frames" (a folder
// of frame images) per row; an "fps" column gives a clip's frame rate,
// and fps (> 0) a folder's whose row has none (a folder without a rate,
// nor an fps.txt, is refused). Rows that name the same input share one item and
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
		// A row's fps is its clip's rate (a video's must agree with its
		// own); fps is a folder's when its row gives none.
		rowFPS, err := (&dataset.Sample{FPS: field(rec, "fps")}).Rate()
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: column \"fps\": %w", path, line, err)
		}
		if st, err := os.Stat(p); rowFPS == 0 && err == nil && (st.IsDir() || kind == "frames") {
			rowFPS = fps
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
		// Files only (images, videos, GIFs): their own rates.
		it, err := NewItem(strings.TrimSuffix(filepath.ToSlash(rel), filepath.Ext(rel)), p, "", 0)
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
		// A folder has no rate of its own: the one given, else its
		// fps.txt (which the job's tar does not carry); none is refused
		// here, before anything is submitted.
		if it.FPS == 0 {
			side, ok, err := video.FolderRate(path)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, fmt.Errorf("%s: a folder of frames has no rate of its own: give an fps column, --fps F, or a file %s in the folder", path, video.RateFile)
			}
			it.FPS = side
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

// Run submits items through c and collects their results into
// opt.Out/NAME/ (the job's outputs and job.json: id, input, state, error,
// attempts and result), a temporary folder renamed when complete. Items
// with the same content are one job. A submission the server refuses for
// now (429: the key's quota, a full queue) waits as long as it says and
// tries again. It returns when every item is collected, or with ctx's
// error and the counts so far when ctx ends (submitted jobs keep running;
// a rerun collects them).
func Run(ctx context.Context, c Client, items []*Item, opt Options) (Result, error) {
	if opt.MaxPending < 1 {
		return Result{}, fmt.Errorf("batch: max pending %d: want at least 1", opt.MaxPending)
	}
	if opt.Poll <= 0 {
		opt.Poll = 2 * time.Second
	}
	b := &run{c: c, out: opt.Out, byID: map[string]*Item{}, ended: make(chan string, 64)}
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
	stop, err := c.Watch(func(id, state string) {
		if !queue.Terminal(state) {
			return
		}
		select {
		case b.ended <- id:
		default: // the poll finds it
		}
	})
	if err != nil {
		return res, err
	}
	defer stop()
	poll := time.NewTicker(opt.Poll)
	defer poll.Stop()
	next := 0
	for next < len(todo) || res.Pending > 0 {
		for res.Pending < opt.MaxPending && next < len(todo) {
			it := todo[next]
			j, err := b.submit(ctx, it)
			if err != nil {
				return res, fmt.Errorf("%s: %w", it.Name, err)
			}
			next++
			b.mu.Lock()
			b.byID[j.ID] = it
			b.mu.Unlock()
			res.Pending++
			if queue.Terminal(j.State) {
				// Finished before this run watched it (a rerun).
				b.notice(j.ID)
			}
		}
		var ids []string
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case id := <-b.ended:
			ids = []string{id}
		case <-poll.C:
			b.mu.Lock()
			for id := range b.byID {
				ids = append(ids, id)
			}
			b.mu.Unlock()
			sort.Strings(ids)
		}
		for _, id := range ids {
			b.mu.Lock()
			it, ok := b.byID[id]
			b.mu.Unlock()
			if !ok {
				continue // not ours, or a repeated notice
			}
			j, err := c.Get(ctx, id)
			if err != nil {
				if errors.Is(err, server.ErrNoJob) {
					return res, fmt.Errorf("%s: job %s is gone from the server before it was collected", it.Name, id)
				}
				return res, fmt.Errorf("%s: %w", it.Name, err)
			}
			if !queue.Terminal(j.State) {
				continue
			}
			if err := b.collect(ctx, it, j); err != nil {
				return res, fmt.Errorf("%s: collecting the result: %w", it.Name, err)
			}
			b.mu.Lock()
			delete(b.byID, id)
			b.mu.Unlock()
			res.Pending--
			res.Done++
			if j.State != queue.StateDone {
				res.Failed++
			}
			progress(res.Done, res.Total)
		}
	}
	return res, nil
}

// run is one Run's state.
type run struct {
	c     Client
	out   string
	mu    sync.Mutex
	byID  map[string]*Item // pending jobs, by the server's id
	ended chan string      // ids announced as ended
}

func (b *run) notice(id string) {
	select {
	case b.ended <- id:
	default:
	}
}

// submit submits an item unless the server holds its job already; a
// refusal for now (429) waits its Retry-After and tries again.
func (b *run) submit(ctx context.Context, it *Item) (server.NATSJob, error) {
	for {
		if j, err := b.c.Find(ctx, it.ID); err == nil {
			return j, nil
		} else if !errors.Is(err, server.ErrNoJob) {
			return server.NATSJob{}, err
		}
		j, err := b.submitOnce(ctx, it)
		var re *server.RemoteError
		if !errors.As(err, &re) || re.Status != http.StatusTooManyRequests {
			return j, err
		}
		t := time.NewTimer(max(re.Retry, 100*time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return server.NATSJob{}, ctx.Err()
		case <-t.C:
		}
	}
}

func (b *run) submitOnce(ctx context.Context, it *Item) (server.NATSJob, error) {
	var r io.Reader
	if it.Kind == "frames" {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(queue.Tar(pw, it.Files)) }()
		defer pr.Close()
		r = pr
	} else {
		f, err := os.Open(it.Path)
		if err != nil {
			return server.NATSJob{}, err
		}
		defer f.Close()
		r = f
	}
	return b.c.Submit(ctx, it.ID, filepath.Base(it.Path), it.Kind, it.FPS, r)
}

// collect writes a finished job's outputs and record into OUT/NAME/ (a
// temporary folder renamed when complete) and removes the job.
func (b *run) collect(ctx context.Context, it *Item, j server.NATSJob) error {
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
		f, err := os.Create(filepath.Join(tmp, n))
		if err != nil {
			return err
		}
		err = b.c.Output(ctx, j.ID, n, f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
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
		Result   *server.Summary `json:"result,omitempty"`
	}{j.ID, it.Path, j.State, j.Error, j.Attempts, j.Result}, "", "  ")
	if err := os.WriteFile(filepath.Join(tmp, "job.json"), append(rec, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(b.out, it.Name)); err != nil {
		return err
	}
	if err := b.c.Delete(ctx, j.ID); err != nil && !errors.Is(err, server.ErrNoJob) {
		return err
	}
	return nil
}
