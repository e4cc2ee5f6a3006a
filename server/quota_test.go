package server

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/face/facetest"
	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/queue"
)

// pngHeaderOf is pngHeader with a bit depth and colour type (6: RGBA).
func pngHeaderOf(w, h uint32, depth, colorType byte) []byte {
	ihdr := make([]byte, 17)
	copy(ihdr, "IHDR")
	binary.BigEndian.PutUint32(ihdr[4:], w)
	binary.BigEndian.PutUint32(ihdr[8:], h)
	ihdr[12], ihdr[13] = depth, colorType
	out := []byte("\x89PNG\r\n\x1a\n")
	out = binary.BigEndian.AppendUint32(out, 13)
	out = append(out, ihdr...)
	out = binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(ihdr))
	return append(out, make([]byte, 64)...)
}

func postPNG(t *testing.T, base, key string, data []byte) (int, http.Header, map[string]any) {
	t.Helper()
	body, ct := multipartBody(t, "file", "a.png", data)
	var hdr []string
	if key != "" {
		hdr = bearer(key)
	}
	return doHdr(t, "POST", base+"/v1/analyze", ct, body, hdr...)
}

// TestBearerAnyCase: the auth scheme's case does not matter.
func TestBearerAnyCase(t *testing.T) {
	_, base, alice, _ := keyedServer(t, Config{Analysis: newFake().analysis()})
	for _, h := range []string{"Bearer " + alice, "bearer " + alice, "BEARER " + alice, "  Bearer   " + alice + " "} {
		if code, _ := do(t, "GET", base+"/v1/jobs", "", nil, "Authorization", h); code != 200 {
			t.Errorf("%q: %d", h, code)
		}
	}
	for _, h := range []string{"Basic " + alice, alice, "Bearer", "Bearertell_x"} {
		if code, _ := do(t, "GET", base+"/v1/jobs", "", nil, "Authorization", h); code != 401 {
			t.Errorf("%q: %d, want 401", h, code)
		}
	}
}

// TestReadRateLimit: GET routes have their own bucket per client.
func TestReadRateLimit(t *testing.T) {
	_, ts := newTestServer(t, Config{Analysis: newFake().analysis(), Rate: 1, ReadRate: 1})
	var codes []int
	for range 3 {
		code, _ := do(t, "GET", ts.URL+"/v1/jobs", "", nil)
		codes = append(codes, code)
	}
	if fmt.Sprint(codes) != "[200 200 429]" {
		t.Errorf("GET codes %v, want [200 200 429]", codes)
	}
}

// TestLimiterBounded: past the bound on clients kept, a new client costs
// one eviction, not a scan of every client; idle buckets are forgotten.
func TestLimiterBounded(t *testing.T) {
	l := newLimiter(1, 2)
	now := time.Unix(0, 0)
	for i := range 3 * maxLimiterClients {
		l.allow(fmt.Sprint("client", i), now)
	}
	if len(l.keys) > maxLimiterClients || l.lru.Len() != len(l.keys) {
		t.Fatalf("%d buckets kept (list %d), bound %d", len(l.keys), l.lru.Len(), maxLimiterClients)
	}
	if l.examined != 2*maxLimiterClients {
		t.Fatalf("%d buckets examined for %d evictions", l.examined, 2*maxLimiterClients)
	}
	// A client at its limit stays limited while it is kept.
	l.allow("busy", now)
	l.allow("busy", now)
	if ok, _ := l.allow("busy", now); ok {
		t.Fatal("a third request in a burst of 2 was allowed")
	}
	// A minute later every bucket is idle: one request forgets them all
	// once, and then each request examines none.
	later := now.Add(2 * time.Minute)
	l.allow("new", later)
	before := l.examined
	for i := range 1000 {
		l.allow(fmt.Sprint("more", i), later)
	}
	if len(l.keys) != 1001 || l.examined != before {
		t.Fatalf("%d kept, %d examined after the sweep", len(l.keys), l.examined-before)
	}
}

// TestUnreadableFrameIs403: a frame that cannot be opened when the budget
// reads it is "not found or not allowed" (403), with no server path.
func TestUnreadableFrameIs403(t *testing.T) {
	dir := t.TempDir()
	gone := filepath.Join(dir, "f0002.png")
	_, err := Budget{}.withDefaults().checkFrames([]string{gone}, 30, func(p string) string { return "clip/" + filepath.Base(p) })
	if budgetStatus(err) != http.StatusForbidden || strings.Contains(err.Error(), dir) {
		t.Fatalf("missing frame: %d %v", budgetStatus(err), err)
	}
}

// TestLandmarkModelPathHidden: a job failing for its landmark model says
// so without the model's path on the worker.
func TestLandmarkModelPathHidden(t *testing.T) {
	a := &Analysis{Analyze: newFake().run, Landmarker: func() (analyze.Landmarker, error) {
		return nil, errors.New("open /usr/share/dlib/shape_predictor_68_face_landmarks.dat: permission denied")
	}}
	_, err := a.Handle(context.Background(), &queue.Task{Job: queue.Job{Name: "a.png", Kind: "image"}, Input: writeFile(t, smallPNG(100)), Out: t.TempDir()})
	if err == nil || strings.Contains(err.Error(), "/usr/share") || !strings.Contains(err.Error(), "landmark model") {
		t.Fatalf("error %v", err)
	}
}

func writeFile(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "input.png")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestKeyQuotas: a key's waiting jobs are bounded (429 key_queue) while
// another key's go through; past its jobs in flight a key's jobs are held
// and run, in order, as its earlier ones finish.
func TestKeyQuotas(t *testing.T) {
	fake := newFake()
	s, base, alice, bob := keyedServer(t, Config{Analysis: fake.analysis(), Jobs: 2, KeyRunning: 1, KeyQueued: 3, Rate: -1})
	var ids []string
	for i := range 4 {
		code, _, m := postPNG(t, base, alice, smallPNG(100+i))
		if code != 202 {
			t.Fatalf("alice's job %d: %d %v", i, code, m)
		}
		ids = append(ids, m["id"].(string))
		if i == 0 {
			waitStateAuth(t, base, ids[0], alice, StateRunning)
		}
	}
	// One in flight (running), three waiting and held: the quota.
	code, hdr, m := postPNG(t, base, alice, smallPNG(200))
	if code != 429 || hdr.Get("Retry-After") == "" || !strings.Contains(m["error"].(string), "this key has 3 jobs waiting") {
		t.Fatalf("alice's fifth job: %d %v", code, m)
	}
	held := 0
	for _, id := range ids[1:] {
		_, st := do(t, "GET", base+"/v1/jobs/"+id, "", nil, bearer(alice)...)
		if st["status"] != StateQueued {
			t.Fatalf("alice's job %s: %v", id, st)
		}
		if st["held"] == true {
			held++
		}
	}
	if held != 3 {
		t.Fatalf("%d of alice's waiting jobs held, want 3 (one in flight at a time)", held)
	}
	// Bob's job runs on the second slot beside alice's.
	code, _, m = postPNG(t, base, bob, smallPNG(300))
	if code != 202 {
		t.Fatalf("bob: %d %v", code, m)
	}
	waitStateAuth(t, base, m["id"].(string), bob, StateRunning)
	for i := 0; fake.running.Load() != 2; i++ { // claimed a moment before it starts
		if i > 1000 {
			t.Fatalf("%d running, want alice's first and bob's", fake.running.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(fake.release)
	var finished []time.Time
	for _, id := range ids {
		st := waitStateAuth(t, base, id, alice, StateDone)
		f, _ := time.Parse(time.RFC3339Nano, st["finished"].(string))
		finished = append(finished, f)
	}
	for i := 1; i < len(finished); i++ {
		if finished[i].Before(finished[i-1]) {
			t.Errorf("alice's jobs finished out of order: %v", finished)
		}
	}
	if oc := s.index.owner("alice"); oc != (ownerCounts{}) {
		t.Errorf("alice's counts after all finished: %+v", oc)
	}
}

// TestKeyWorkPerHour: a key's pixel-frames in the last hour are bounded.
func TestKeyWorkPerHour(t *testing.T) {
	fake := newFake()
	close(fake.release)
	// Each smallPNG is 8×8 = 64 pixel-frames.
	_, base, alice, bob := keyedServer(t, Config{Analysis: fake.analysis(), Budget: Budget{JobWork: 100}, KeyWorkPerHour: 150, Rate: -1})
	for i := range 2 {
		if code, _, m := postPNG(t, base, alice, smallPNG(100+i)); code != 202 {
			t.Fatalf("alice's job %d: %d %v", i, code, m)
		}
	}
	code, hdr, m := postPNG(t, base, alice, smallPNG(200))
	if code != 429 || !strings.Contains(m["error"].(string), "in the last hour") {
		t.Fatalf("alice's third: %d %v", code, m)
	}
	if ra := hdr.Get("Retry-After"); ra < "3000" || len(ra) != 4 {
		t.Errorf("Retry-After %q, want about an hour", ra)
	}
	if code, _, m := postPNG(t, base, bob, smallPNG(300)); code != 202 {
		t.Fatalf("bob: %d %v", code, m)
	}
	// One job's budget: an image over it is refused whatever the quota.
	big := pngHeaderOf(11, 10, 8, 0)
	if code, _, m := postPNG(t, base, bob, big); code != 413 || !strings.Contains(m["error"].(string), "over the budget of one job") {
		t.Fatalf("110 pixel-frames over a budget of 100: %d %v", code, m)
	}
	if _, err := New(Config{Queue: s0(t), Workdir: t.TempDir(), Budget: Budget{JobWork: 100}, KeyWorkPerHour: 50}); err == nil {
		t.Error("a key quota below one job's budget was accepted")
	}
}

func s0(t *testing.T) *queue.Queue { _, q := startQueue(t, ""); return q }

// TestQuotaCharges: charges leave the hour in order; a refund takes one
// back; the wait is until enough has left.
func TestQuotaCharges(t *testing.T) {
	q := newQuotas(Config{MaxQueued: 10, KeyQueued: 10, KeyRunning: 10, KeyWorkPerHour: 100})
	t0 := time.Unix(0, 0)
	if _, _, ok := q.charge("k", 60, t0); !ok {
		t.Fatal("first")
	}
	refund, _, ok := q.charge("k", 30, t0.Add(10*time.Minute))
	if !ok {
		t.Fatal("second")
	}
	if _, wait, ok := q.charge("k", 50, t0.Add(20*time.Minute)); ok || wait != 40*time.Minute {
		t.Fatalf("third: ok=%v wait %v, want 40 min (the first charge leaves at 60)", ok, wait)
	}
	refund()
	if _, _, ok := q.charge("k", 40, t0.Add(20*time.Minute)); !ok {
		t.Fatal("after the refund 60+40 fits")
	}
	if _, _, ok := q.charge("k", 60, t0.Add(61*time.Minute)); !ok {
		t.Fatal("an hour later the first charge has left")
	}
}

// TestAdminKey: an admin key lists every key's jobs, with their owners,
// and cancels any; other keys still see only their own.
func TestAdminKey(t *testing.T) {
	fake := newFake()
	path := filepath.Join(t.TempDir(), "keys")
	alice, _ := AddKey(path, "alice")
	root, err := AddAdminKey(path, "root")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := LoadKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	if !keys.Admin("root") || keys.Admin("alice") {
		t.Fatal("admin flags")
	}
	_, ts := newTestServer(t, Config{Analysis: fake.analysis(), Keys: keys})
	code, _, m := postPNG(t, ts.URL, alice, smallPNG(100))
	if code != 202 {
		t.Fatal(code, m)
	}
	id := m["id"].(string)
	_, list := do(t, "GET", ts.URL+"/v1/jobs", "", nil, bearer(root)...)
	jobs := list["jobs"].([]any)
	if len(jobs) != 1 || jobs[0].(map[string]any)["owner"] != "alice" {
		t.Fatalf("admin list: %v", list)
	}
	if code, _ := do(t, "GET", ts.URL+"/v1/jobs/"+id, "", nil, bearer(root)...); code != 200 {
		t.Fatalf("admin status: %d", code)
	}
	if code, _ := do(t, "DELETE", ts.URL+"/v1/jobs/"+id, "", nil, bearer(root)...); code != 204 {
		t.Fatalf("admin cancel: %d", code)
	}
	if code, _ := do(t, "GET", ts.URL+"/v1/jobs/"+id, "", nil, bearer(alice)...); code != 404 {
		t.Fatalf("alice's cancelled job: %d", code)
	}
}

// TestMemoryBudgetRefuses: an image whose decoding needs more than the
// server's memory budget is refused from its header (413), counting its
// bytes: a 16-bit RGBA image of the same pixels needs more than an 8-bit
// grey one.
func TestMemoryBudgetRefuses(t *testing.T) {
	fake := newFake()
	close(fake.release)
	_, ts := newTestServer(t, Config{Analysis: fake.analysis(), Memory: NewMemory(220 << 20)})
	grey := pngHeaderOf(2000, 2000, 8, 0)    // 4 MP × (2×1 + 32) + 64 MiB ≈ 194 MiB
	rgba16 := pngHeaderOf(2000, 2000, 16, 6) // 4 MP × (2×8 + 32) + 64 MiB ≈ 247 MiB
	if code, _, m := postPNG(t, ts.URL, "", grey); code != 202 {
		t.Fatalf("grey: %d %v", code, m)
	}
	code, _, m := postPNG(t, ts.URL, "", rgba16)
	if code != 413 || !strings.Contains(m["error"].(string), "memory budget") {
		t.Fatalf("16-bit RGBA: %d %v", code, m)
	}
}

// TestMemoryReserve: reservations wait in order while the budget is
// held, one over the whole budget fails at once, a cancelled wait gives
// its turn to the next.
func TestMemoryReserve(t *testing.T) {
	m := NewMemory(100)
	ctx := context.Background()
	r1, err := m.Reserve(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Reserve(ctx, 101); !errors.Is(err, ErrOverMemory) {
		t.Fatalf("over the budget: %v", err)
	}
	order := make(chan int, 3)
	cctx, cancel := context.WithCancel(ctx)
	go func() {
		if _, err := m.Reserve(cctx, 50); err == nil {
			order <- 0
		} else {
			order <- -1
		}
	}()
	for m.waiting() != 1 {
		time.Sleep(time.Millisecond)
	}
	go func() {
		r, err := m.Reserve(ctx, 30) // fits now, but waits its turn
		if err == nil {
			order <- 2
			r()
		}
	}()
	for m.waiting() != 2 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if got := <-order; got != -1 {
		t.Fatalf("the cancelled wait: %d", got)
	}
	if got := <-order; got != 2 {
		t.Fatalf("the next in line: %d", got)
	}
	r1()
	if m.Used() != 0 {
		t.Fatalf("%d bytes still reserved", m.Used())
	}
}

func (m *Memory) waiting() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.waiters)
}

// TestIndexReset: after a broken watch the replay decides what the index
// holds; jobs it does not show are dropped; the index says it is broken
// until then.
func TestIndexReset(t *testing.T) {
	ix := newIndex()
	a := queue.Job{ID: "a", Owner: "k", State: StateQueued}
	b := queue.Job{ID: "b", Owner: "k", State: StateRunning}
	for _, ev := range []queue.Event{{Job: a, Initial: true}, {Job: b, Initial: true}, {Caught: true}} {
		ix.apply(ev)
	}
	if oc := ix.owner("k"); oc.queued != 1 || oc.running != 1 {
		t.Fatalf("counts %+v", oc)
	}
	ix.apply(queue.Event{Err: errors.New("closed")})
	if ix.broken() == nil {
		t.Fatal("not broken after an error")
	}
	b.State = StateDone
	for _, ev := range []queue.Event{{Reset: true}, {Job: b, Initial: true}, {Caught: true}} {
		ix.apply(ev)
	}
	if _, ok := ix.get("a"); ok || ix.total() != 1 || ix.broken() != nil {
		t.Fatalf("after the replay: total %d, broken %v", ix.total(), ix.broken())
	}
	if oc := ix.owner("k"); oc != (ownerCounts{}) || ix.count(StateDone) != 1 || ix.count(StateQueued) != 0 {
		t.Fatalf("counts after the replay: %+v", oc)
	}
}

// TestOverBudgetStops: a job that decodes past its budget (here: a
// record whose budget is smaller than its folder's frames, as a file
// that lied about its length would be) stops, fails "over budget", and
// its result says so.
func TestOverBudgetStops(t *testing.T) {
	facetest.ModelPath(t)
	dir := t.TempDir()
	img := portrait.AstronautPNG()
	for i := range 3 {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d.png", i)), img, 0o600)
	}
	e, err := Budget{}.check(context.Background(), dir, "frames", "clip", 30, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := &Analysis{}
	task := &queue.Task{Job: queue.Job{Name: "clip", Kind: "frames", FPS: 30, Work: e.Work * 2 / 3}, Input: dir, Out: filepath.Join(t.TempDir(), "out")}
	os.Mkdir(task.Out, 0o755)
	sum, err := a.Handle(context.Background(), task)
	if !errors.Is(err, ErrOverBudget) || !strings.HasPrefix(err.Error(), "over budget: stopped at frame 3") {
		t.Fatalf("error %v", err)
	}
	if !strings.Contains(string(sum), `"frames":2`) {
		t.Errorf("summary %s: want the two frames analysed", sum)
	}
	ev, _ := os.ReadFile(filepath.Join(task.Out, "events.json"))
	if !strings.Contains(string(ev), "over budget") || !strings.Contains(string(ev), `"status": "partial"`) {
		t.Errorf("events.json does not say why it stopped:\n%.400s", ev)
	}
}
