package batch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/queue"
	"github.com/tell-project/tell/server"
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
	// A folder of frames needs a rate: given, or its fps.txt.
	if _, err := NewItem("x", filepath.Join(dir, "in", "frames"), "frames", 0); err == nil || !strings.Contains(err.Error(), "no rate of its own") {
		t.Errorf("a folder without a rate: %v", err)
	}
	fr, err := NewItem("x/../y", filepath.Join(dir, "in", "frames"), "frames", 200)
	if err != nil || fr.Kind != "frames" || fr.Ext != ".tar" || len(fr.Files) != 1 || fr.Name != "x___y" || fr.FPS != 200 {
		t.Errorf("frames item %+v, %v", fr, err)
	}
	write(t, filepath.Join(dir, "in", "frames", "fps.txt"), "100\n")
	if side, err := NewItem("x", filepath.Join(dir, "in", "frames"), "frames", 0); err != nil || side.FPS != 100 {
		t.Errorf("a folder with fps.txt: %+v, %v", side, err)
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

// grey8 is a valid 8×8 grey PNG of one value.
func grey8(t *testing.T, v uint8) string {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = v
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// stand-in analysis: events.json says how bright the input's first pixel
// is; a black input fails.
func standIn(ctx context.Context, in server.Input, opt analyze.Options) (*analyze.Result, error) {
	f, err := os.Open(in.Path)
	if err != nil {
		return nil, err
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	v := img.(*image.Gray).Pix[0]
	if v == 0 {
		return nil, errors.New("planted failure")
	}
	res := &analyze.Result{Input: in.Name, Status: analyze.StatusComplete, Frames: int(v), Events: []analyze.Event{}}
	b, _ := json.Marshal(res)
	return res, os.WriteFile(filepath.Join(opt.Out, "events.json"), b, 0o644)
}

// fleet starts tell serve's server (with the stand-in analysis) on an
// embedded queue and answers its NATS API; the client is the anonymous
// owner's (a NATS server without users).
func fleet(t *testing.T, cfg server.Config) (*queue.Queue, *server.NATSClient) {
	t.Helper()
	e, err := queue.StartEmbedded(queue.EmbeddedOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Shutdown)
	nc, err := e.Connect("test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	q, err := queue.Open(context.Background(), nc, queue.Config{AckWait: 2 * time.Second, Manage: true})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Queue, cfg.Workdir, cfg.Rate = q, t.TempDir(), -1
	cfg.Analysis = &server.Analysis{Analyze: standIn, Landmarker: func() (analyze.Landmarker, error) { return nil, nil }}
	s, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.ServeNATS(nc, false); err != nil {
		t.Fatal(err)
	}
	return q, server.NewNATSClient(nc, "")
}

// TestRun submits two inputs (and a copy of one) through tell serve's
// NATS API, one of them failing; every result is collected once, with
// job.json; a second run finds everything collected and submits nothing.
func TestRun(t *testing.T) {
	q, c := fleet(t, server.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "in", "good.png"), grey8(t, 7))
	write(t, filepath.Join(dir, "in", "bad.png"), grey8(t, 0))
	write(t, filepath.Join(dir, "in", "copy.png"), grey8(t, 7))
	items, err := FromFolder(filepath.Join(dir, "in"), 0)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	os.MkdirAll(out, 0o755)
	var calls [][2]int
	res, err := Run(ctx, c, items, Options{Out: out, MaxPending: 1, Progress: func(d, n int) { calls = append(calls, [2]int{d, n}) }})
	if err != nil {
		t.Fatal(err)
	}
	if res != (Result{Total: 2, Done: 2, Failed: 1}) || len(calls) != 3 || calls[0] != [2]int{0, 2} || calls[2] != [2]int{2, 2} {
		t.Fatalf("result %+v, progress %v", res, calls)
	}
	got, _ := os.ReadFile(filepath.Join(out, "copy", "events.json")) // "copy" sorts before "good": its name wins
	var rec struct{ State, Error string }
	b, _ := os.ReadFile(filepath.Join(out, "bad", "job.json"))
	json.Unmarshal(b, &rec)
	if !strings.Contains(string(got), `"frames":7`) || rec.State != queue.StateFailed || !strings.Contains(rec.Error, "planted") {
		t.Errorf("copy/events.json %q, bad/job.json %s", got, b)
	}
	if jobs, _ := q.Jobs(ctx); len(jobs) != 0 {
		t.Errorf("%d jobs left in the queue after collection", len(jobs))
	}
	res, err = Run(ctx, c, items, Options{Out: out, MaxPending: 4})
	if err != nil || res != (Result{Total: 2, Done: 2}) {
		t.Errorf("second run %+v, %v", res, err)
	}
}

// TestRunWaitsForQuota: more pending jobs than the key may have waiting:
// the server refuses some for now (429), the batch waits and submits them
// again, and collects every one.
func TestRunWaitsForQuota(t *testing.T) {
	_, c := fleet(t, server.Config{KeyQueued: 1, KeyRunning: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	dir := t.TempDir()
	for i := range 3 {
		write(t, filepath.Join(dir, "in", fmt.Sprintf("f%d.png", i)), grey8(t, uint8(10+i)))
	}
	items, err := FromFolder(filepath.Join(dir, "in"), 0)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	os.MkdirAll(out, 0o755)
	res, err := Run(ctx, c, items, Options{Out: out, MaxPending: 3, Poll: 100 * time.Millisecond})
	if err != nil || res != (Result{Total: 3, Done: 3}) {
		t.Fatalf("%+v %v", res, err)
	}
	for i := range 3 {
		b, _ := os.ReadFile(filepath.Join(out, fmt.Sprintf("f%d", i), "events.json"))
		if !strings.Contains(string(b), fmt.Sprintf(`"frames":%d`, 10+i)) {
			t.Errorf("f%d: %s", i, b)
		}
	}
}
