package server

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tell-project/tell/queue"
)

// fleet is a server on an embedded NATS server with users: a worker, and
// batch users alice and bob; the HTTP keys have the same names.
type fleet struct {
	s          *Server
	base       string
	url        string
	creds      map[string]string // credentials file by user name
	httpKeys   map[string]string
	embedded   *queue.Embedded
	usersFile  string
	serverConn *nats.Conn
}

func newFleet(t *testing.T, cfg Config) *fleet {
	t.Helper()
	dir := t.TempDir()
	f := &fleet{creds: map[string]string{}, httpKeys: map[string]string{}, usersFile: filepath.Join(dir, "users.txt")}
	for _, u := range [][2]string{{queue.RoleWorker, "w1"}, {queue.RoleBatch, "alice"}, {queue.RoleBatch, "bob"}} {
		c, err := queue.AddUser(f.usersFile, u[0], u[1])
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, u[1]+".creds")
		if err := os.WriteFile(p, []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
		f.creds[u[1]] = p
	}
	users, err := queue.LoadUsers(f.usersFile)
	if err != nil {
		t.Fatal(err)
	}
	e, err := queue.StartEmbedded(queue.EmbeddedOptions{Dir: t.TempDir(), Listen: "127.0.0.1:0", Users: users})
	if err != nil {
		t.Fatal(err)
	}
	f.embedded, f.url = e, e.ClientURL()
	nc, err := e.Connect("test server")
	if err != nil {
		t.Fatal(err)
	}
	f.serverConn = nc
	t.Cleanup(func() { nc.Close(); e.Shutdown() })
	if cfg.Queue, err = queue.Open(context.Background(), nc, queue.Config{AckWait: 2 * time.Second, Manage: true}); err != nil {
		t.Fatal(err)
	}
	keysFile := filepath.Join(dir, "keys")
	for _, n := range []string{"alice", "bob"} {
		f.httpKeys[n], _ = AddKey(keysFile, n)
	}
	if cfg.Keys, err = LoadKeys(keysFile); err != nil {
		t.Fatal(err)
	}
	s, ts := newTestServer(t, cfg)
	if err := s.ServeNATS(nc, true); err != nil {
		t.Fatal(err)
	}
	f.s, f.base = s, ts.URL
	return f
}

// client signs in as user.
func (f *fleet) client(t *testing.T, user string) (*nats.Conn, *queue.Creds) {
	t.Helper()
	c, err := queue.LoadCreds(f.creds[user])
	if err != nil {
		t.Fatal(err)
	}
	nc, err := queue.Connect(f.url, queue.ClientOptions{Name: user, Creds: c})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc, c
}

// TestNATSBatchOwner: a batch user submits, follows and collects jobs as
// itself through the server, which admits them as uploads; it cannot act
// as another owner, and a client without credentials is refused at the
// door. The HTTP key of the same name sees the job; another key does not.
func TestNATSBatchOwner(t *testing.T) {
	fake := newFake()
	close(fake.release)
	f := newFleet(t, Config{Analysis: fake.analysis(), KeyQueued: 2})
	ctx := context.Background()

	if nc, err := nats.Connect(f.url, nats.MaxReconnects(0)); err == nil {
		nc.Close()
		t.Fatal("a NATS client without credentials was let in")
	}

	nc, creds := f.client(t, "alice")
	if creds.Role != queue.RoleBatch || creds.Name != "alice" {
		t.Fatalf("credentials say %q %q", creds.Role, creds.Name)
	}
	alice := NewNATSClient(nc, creds.Name)
	done := make(chan string, 8)
	stop, err := alice.Watch(func(id, state string) { done <- id + " " + state })
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	img := smallPNG(900 << 10) // two chunks
	j, err := alice.Submit(ctx, "clip-1", "face.png", "image", 0, bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	if j.Owner != "alice" || j.Input != "face.png" {
		t.Fatalf("job %+v", j.JobStatus)
	}
	select {
	case ev := <-done:
		if ev != j.ID+" done" {
			t.Fatalf("notice %q", ev)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no notice of the job's end")
	}
	got, err := alice.Find(ctx, "clip-1")
	if err != nil || got.ID != j.ID || got.State != StateDone || got.Outputs["events.json"] == 0 {
		t.Fatalf("find: %+v %v", got, err)
	}
	var ev bytes.Buffer
	if err := alice.Output(ctx, j.ID, "events.json", &ev); err != nil || !strings.Contains(ev.String(), `"status":"complete"`) {
		t.Fatalf("output: %v %q", err, ev.String())
	}
	// The same key again is the same job, not a second one.
	again, err := alice.Submit(ctx, "clip-1", "face.png", "image", 0, bytes.NewReader(img))
	if err != nil || again.ID != j.ID {
		t.Fatalf("resubmit: %+v %v", again.JobStatus, err)
	}
	// Alice's HTTP key sees it; bob's does not.
	if code, _ := do(t, "GET", f.base+"/v1/jobs/"+j.ID, "", nil, bearer(f.httpKeys["alice"])...); code != 200 {
		t.Errorf("alice's key: %d", code)
	}
	if code, _ := do(t, "GET", f.base+"/v1/jobs/"+j.ID, "", nil, bearer(f.httpKeys["bob"])...); code != 404 {
		t.Errorf("bob's key: %d", code)
	}

	// Alice as bob: her messages under bob's name never reach the server.
	asBob := NewNATSClient(nc, "bob")
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := asBob.Submit(sctx, "forged", "face.png", "image", 0, bytes.NewReader(img)); err == nil {
		t.Fatal("alice submitted as bob")
	}
	if _, err := asBob.Get(sctx, j.ID); err == nil {
		t.Fatal("alice read as bob")
	}
	bobNC, _ := f.client(t, "bob")
	bob := NewNATSClient(bobNC, "bob")
	if _, err := bob.Get(ctx, j.ID); !errors.Is(err, ErrNoJob) {
		t.Fatalf("bob reads alice's job: %v", err)
	}
	if err := bob.Delete(ctx, j.ID); !errors.Is(err, ErrNoJob) {
		t.Fatalf("bob deletes alice's job: %v", err)
	}
	if _, list := do(t, "GET", f.base+"/v1/jobs", "", nil, bearer(f.httpKeys["bob"])...); len(list["jobs"].([]any)) != 0 {
		t.Fatalf("bob's jobs: %v", list)
	}
	if err := alice.Delete(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Get(ctx, j.ID); !errors.Is(err, ErrNoJob) {
		t.Fatalf("after delete: %v", err)
	}
}

// TestNATSSubmissionsCountAgainstQuotas: jobs submitted over NATS go
// through the same quotas and budgets as uploads (before, tell batch
// wrote them straight onto the queue, past every limit).
func TestNATSSubmissionsCountAgainstQuotas(t *testing.T) {
	fake := newFake()
	f := newFleet(t, Config{Analysis: fake.analysis(), KeyQueued: 1, KeyRunning: 1, Budget: Budget{JobWork: 1000}})
	ctx := context.Background()
	nc, creds := f.client(t, "alice")
	alice := NewNATSClient(nc, creds.Name)
	// One running, one waiting: the quota of one waiting is full.
	for i, key := range []string{"a", "b"} {
		if _, err := alice.Submit(ctx, key, "f.png", "image", 0, bytes.NewReader(smallPNG(100+i))); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if i == 0 {
			for fake.running.Load() != 1 {
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
	_, err := alice.Submit(ctx, "c", "f.png", "image", 0, bytes.NewReader(smallPNG(300)))
	var re *RemoteError
	if !errors.As(err, &re) || re.Status != http.StatusTooManyRequests || re.Retry <= 0 {
		t.Fatalf("over the key's quota: %v", err)
	}
	// Over one job's budget: refused from its header.
	close(fake.release)
	for _, key := range []string{"a", "b"} {
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if j, err := alice.Find(ctx, key); err == nil && j.State == StateDone {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("job %s did not finish", key)
			}
		}
	}
	_, err = alice.Submit(ctx, "d", "big.png", "image", 0, bytes.NewReader(pngHeaderOf(100, 100, 8, 0)))
	if !errors.As(err, &re) || re.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("over the job budget: %v", err)
	}
	// A rate the HTTP API refuses is refused here too, before any job.
	for _, fps := range []float64{-1, 0.5, 5000} {
		_, err = alice.Submit(ctx, strconv.FormatFloat(fps, 'g', -1, 64), "f.png", "image", fps, bytes.NewReader(smallPNG(400)))
		if !errors.As(err, &re) || re.Status != http.StatusBadRequest || !strings.Contains(err.Error(), "fps") {
			t.Fatalf("fps %v: %v", fps, err)
		}
	}
	// Not an image at all.
	_, err = alice.Submit(ctx, "e", "x.txt", "image", 0, strings.NewReader("hello"))
	if !errors.As(err, &re) || re.Status != http.StatusUnsupportedMediaType {
		t.Fatalf("text: %v", err)
	}
}

// TestNATSFrames: a folder of frames travels as a tar and is checked
// frame by frame.
func TestNATSFrames(t *testing.T) {
	fake := newFake()
	close(fake.release)
	f := newFleet(t, Config{Analysis: fake.analysis()})
	ctx := context.Background()
	nc, creds := f.client(t, "bob")
	bob := NewNATSClient(nc, creds.Name)
	dir := t.TempDir()
	var files []string
	for _, n := range []string{"f1.png", "f2.png"} {
		p := filepath.Join(dir, n)
		os.WriteFile(p, greyPNG(t), 0o600)
		files = append(files, p)
	}
	var tar bytes.Buffer
	if err := queue.Tar(&tar, files); err != nil {
		t.Fatal(err)
	}
	j, err := bob.Submit(ctx, "frames", "clip", "frames", 25, &tar)
	if err != nil {
		t.Fatal(err)
	}
	if j.Work != 2*64*64 || j.Owner != "bob" {
		t.Fatalf("frames job %+v", j.JobStatus)
	}
	// A tar with a path in it is refused.
	var bad bytes.Buffer
	os.Mkdir(filepath.Join(dir, "sub"), 0o700)
	if err := queue.Tar(&bad, []string{filepath.Join(dir, "sub")}); err == nil {
		t.Fatal("Tar took a folder")
	}
}
