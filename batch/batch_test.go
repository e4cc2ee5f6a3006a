package batch

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tell-project/tell/queue"
)

var pngHead = "\x89PNG\r\n\x1a\n"

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestItems: a folder lists its images and videos by content, not name;
// the job id follows the content, kind and frame rate; a manifest's rows
// resolve relative paths, share one item per input and check their fields.
func TestItems(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "in", "a.png"), pngHead+"one")
	write(t, filepath.Join(dir, "in", "sub", "b.dat"), "\x00\x00\x00\x20ftypisom....")
	write(t, filepath.Join(dir, "in", "notes.txt"), "not media")
	write(t, filepath.Join(dir, "in", "frames", "f001.png"), pngHead+"f1")
	items, err := FromFolder(filepath.Join(dir, "in"), 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, it := range items {
		names = append(names, it.Name+":"+it.Kind+":"+it.Ext)
	}
	if got := strings.Join(names, " "); got != "a:image:.png frames_f001:image:.png sub_b:video:.mp4" {
		t.Fatalf("folder items %s", got)
	}
	same, _ := NewItem("other", filepath.Join(dir, "in", "a.png"), "", 0)
	faster, _ := NewItem("a", filepath.Join(dir, "in", "a.png"), "", 25)
	if same.ID != items[0].ID || faster.ID == items[0].ID || !strings.HasPrefix(same.ID, "b") || len(same.ID) != 32 {
		t.Errorf("ids %s %s %s", items[0].ID, same.ID, faster.ID)
	}
	fr, err := NewItem("x/../y", filepath.Join(dir, "in", "frames"), "frames", 0)
	if err != nil || fr.Kind != "frames" || fr.Ext != ".tar" || len(fr.Files) != 1 || fr.Name != "x___y" {
		t.Errorf("frames item %+v, %v", fr, err)
	}
	man := filepath.Join(dir, "clips.csv")
	write(t, man, "sample,video,frames,fps\nfirst,in/sub/b.dat,,\nsecond,in/sub/b.dat,,\nf,,in/frames,12\n")
	items, err = FromManifest(man, 0)
	if err != nil || len(items) != 2 || items[0].Name != "first" || items[1].FPS != 12 || items[1].Kind != "frames" {
		t.Fatalf("manifest items %+v, %v", items, err)
	}
	for _, tc := range []struct{ csv, want string }{
		{"name,video\na,x\n", `no "sample" column`},
		{"sample,video\na,\n", "line 2: want a sample"},
		{"sample,frames,fps\na,in/frames,-1\n", `column "fps"`},
		{"sample,image\na,in/notes.txt\n", "not a PNG"},
		{"sample,image\na,missing.png\n", "missing.png"},
	} {
		write(t, man, tc.csv)
		if _, err := FromManifest(man, 0); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.csv, err, tc.want)
		}
	}
}

// TestRun submits two inputs (and a copy of one) to an embedded queue whose
// worker upper-cases its input, one of them failing; every result is
// collected once, with job.json; a second run finds everything collected
// and submits nothing.
func TestRun(t *testing.T) {
	e, err := queue.StartEmbedded(queue.EmbeddedOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Shutdown()
	nc, err := e.Connect("test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	q, err := queue.Open(ctx, nc, queue.Config{AckWait: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	go q.Work(ctx, queue.WorkerConfig{Handler: func(ctx context.Context, task *queue.Task) (json.RawMessage, error) {
		b, err := os.ReadFile(task.Input)
		if err != nil {
			return nil, err
		}
		if strings.Contains(string(b), "bad") {
			return nil, errors.New("planted failure")
		}
		return json.RawMessage(`{"n":1}`), os.WriteFile(filepath.Join(task.Out, "out.txt"), []byte(strings.ToUpper(string(b))), 0o644)
	}})
	dir := t.TempDir()
	write(t, filepath.Join(dir, "in", "good.png"), pngHead+"good")
	write(t, filepath.Join(dir, "in", "bad.png"), pngHead+"bad")
	write(t, filepath.Join(dir, "in", "copy.png"), pngHead+"good")
	items, err := FromFolder(filepath.Join(dir, "in"), 0)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	os.MkdirAll(out, 0o755)
	var calls [][2]int
	res, err := Run(ctx, q, items, Options{Out: out, Owner: "test", MaxPending: 1, Progress: func(d, n int) { calls = append(calls, [2]int{d, n}) }})
	if err != nil {
		t.Fatal(err)
	}
	if res != (Result{Total: 2, Done: 2, Failed: 1}) || len(calls) != 3 || calls[0] != [2]int{0, 2} || calls[2] != [2]int{2, 2} {
		t.Fatalf("result %+v, progress %v", res, calls)
	}
	got, _ := os.ReadFile(filepath.Join(out, "copy", "out.txt")) // "copy" sorts before "good": its name wins
	var rec struct{ State, Error string }
	b, _ := os.ReadFile(filepath.Join(out, "bad", "job.json"))
	json.Unmarshal(b, &rec)
	if !strings.HasSuffix(string(got), "GOOD") || rec.State != queue.StateFailed || !strings.Contains(rec.Error, "planted") {
		t.Errorf("copy/out.txt %q, bad/job.json %s", got, b)
	}
	if jobs, _ := q.Jobs(ctx); len(jobs) != 0 {
		t.Errorf("%d jobs left in the queue after collection", len(jobs))
	}
	res, err = Run(ctx, q, items, Options{Out: out, Owner: "test", MaxPending: 4})
	if err != nil || res != (Result{Total: 2, Done: 2}) {
		t.Errorf("second run %+v, %v", res, err)
	}
}
