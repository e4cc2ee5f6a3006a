package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// addUser makes a user in the users file of dir and returns its
// credentials file.
func addUser(t *testing.T, dir, role, name string) string {
	t.Helper()
	creds, err := AddUser(filepath.Join(dir, "users.txt"), role, name)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, role+"-"+name+".creds")
	if err := os.WriteFile(p, []byte(creds), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// violations collects the permission errors a connection is told of.
type violations struct {
	mu   sync.Mutex
	errs []string
}

func (v *violations) handler(_ *nats.Conn, _ *nats.Subscription, err error) {
	v.mu.Lock()
	v.errs = append(v.errs, err.Error())
	v.mu.Unlock()
}

func (v *violations) list() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.errs...)
}

// connectAs signs in with a credentials file, recording violations.
func connectAs(t *testing.T, url, credsFile string, v *violations) (*nats.Conn, error) {
	t.Helper()
	c, err := LoadCreds(credsFile)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := c.options()
	if err != nil {
		t.Fatal(err)
	}
	opts = append(opts, nats.ErrorHandler(v.handler), nats.MaxReconnects(0))
	nc, err := nats.Connect(url, opts...)
	if err == nil {
		t.Cleanup(nc.Close)
	}
	return nc, err
}

func authNode(t *testing.T) (e *Embedded, dir string, users map[string]string) {
	t.Helper()
	dir = t.TempDir()
	users = map[string]string{
		"worker": addUser(t, dir, RoleWorker, "w1"),
		"alice":  addUser(t, dir, RoleBatch, "alice"),
		"bob":    addUser(t, dir, RoleBatch, "bob"),
	}
	us, err := LoadUsers(filepath.Join(dir, "users.txt"))
	if err != nil {
		t.Fatal(err)
	}
	e = node(t, EmbeddedOptions{Listen: "127.0.0.1:0", Users: us})
	return e, dir, users
}

// TestAuthRefusesStrangers: with users, a client without credentials, or
// with a key the server does not list, is refused at sign-in.
func TestAuthRefusesStrangers(t *testing.T) {
	e, _, _ := authNode(t)
	if nc, err := nats.Connect(e.ClientURL(), nats.MaxReconnects(0)); err == nil {
		nc.Close()
		t.Fatal("a client without credentials was let in")
	} else if !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("without credentials: %v, want an authorization violation", err)
	}
	stranger := addUser(t, t.TempDir(), RoleServer, "stranger")
	var v violations
	if _, err := connectAs(t, e.ClientURL(), stranger, &v); err == nil || !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("an unlisted nkey: %v, want an authorization violation", err)
	}
	// The process's own connection signs in.
	q := open(t, e, Config{Manage: true})
	if err := q.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestListenBeyondLoopbackNeedsUsers: the client port refuses to open on
// every interface without users.
func TestListenBeyondLoopbackNeedsUsers(t *testing.T) {
	_, err := StartEmbedded(EmbeddedOptions{Dir: t.TempDir(), Listen: "0.0.0.0:0"})
	if err == nil || !strings.Contains(err.Error(), "beyond this machine") {
		t.Fatalf("0.0.0.0 without users: %v", err)
	}
	e := node(t, EmbeddedOptions{Listen: "0.0.0.0:0", InsecureNoAuth: true})
	if e.ClientURL() == "" {
		t.Fatal("no URL")
	}
}

// TestWorkerRole runs jobs (inline and stored inputs) through a worker
// signed in with the worker role: its permissions are enough to work and
// nothing more.
func TestWorkerRole(t *testing.T) {
	e, _, users := authNode(t)
	q := open(t, e, Config{Manage: true, AckWait: 2 * time.Second, InlineMax: 16})
	var v violations
	nc, err := connectAs(t, e.ClientURL(), users["worker"], &v)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	wq, err := Open(ctx, nc, Config{})
	if err != nil {
		t.Fatal(err)
	}
	work(t, wq, WorkerConfig{Handler: upper(nil), Log: discard()})
	small := submit(t, q, "small", "hi")
	big := submit(t, q, "big", strings.Repeat("faces ", 100))
	for _, id := range []string{small.ID, big.ID} {
		j := waitJob(t, q, id, 30*time.Second, func(j Job) bool { return Terminal(j.State) })
		if j.State != StateDone {
			t.Fatalf("%s: %+v", id, j)
		}
	}
	if got := output(t, q, waitJob(t, q, big.ID, time.Second, isState(StateDone)), "upper.txt"); got != strings.Repeat("FACES ", 100) {
		t.Fatalf("output %q", got)
	}
	// It reads blobs (training data), and may not write them.
	key, err := q.PutBlob(ctx, []byte("prepared rows"))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := wq.Blob(ctx, key, 100); err != nil || string(b) != "prepared rows" {
		t.Fatalf("blob: %q %v", b, err)
	}
	if vs := v.list(); len(vs) > 0 {
		t.Fatalf("the worker was refused: %v", vs)
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := wq.PutBlob(wctx, []byte("forged rows")); err == nil {
		t.Fatal("a worker wrote a blob")
	}
	// Nor may it submit a job or change the stream.
	if _, err := nc.Request(Subject, []byte("forged"), time.Second); err == nil {
		t.Fatal("a worker published a job message")
	}
	js, _ := jetstream.New(nc)
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: Stream, Subjects: []string{Subject, "more"}}); err == nil {
		t.Fatal("a worker changed the stream")
	}
}

// breakable relays a watcher's updates until broken, then closes them as a
// watch whose connection died does.
type breakable struct {
	jetstream.KeyWatcher
	ch   chan jetstream.KeyValueEntry
	brk  chan struct{}
	once sync.Once
}

func newBreakable(w jetstream.KeyWatcher) *breakable {
	b := &breakable{KeyWatcher: w, ch: make(chan jetstream.KeyValueEntry), brk: make(chan struct{})}
	go func() {
		defer close(b.ch)
		for {
			select {
			case <-b.brk:
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				select {
				case b.ch <- e:
				case <-b.brk:
					return
				}
			}
		}
	}()
	return b
}

func (b *breakable) Updates() <-chan jetstream.KeyValueEntry { return b.ch }
func (b *breakable) breakOff()                               { b.once.Do(func() { close(b.brk) }) }

// TestWatchRestarts: a watch whose updates end by themselves says so (Err)
// and starts again with a Reset and a replay that shows what changed
// while it was down; it does not stop silently.
func TestWatchRestarts(t *testing.T) {
	q := open(t, node(t, EmbeddedOptions{}), Config{Manage: true})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opened := make(chan *breakable, 2)
	allow := make(chan struct{})
	calls := 0
	q.openWatch = func(ctx context.Context) (jetstream.KeyWatcher, error) {
		calls++
		if calls > 1 {
			<-allow
		}
		w, err := q.kv.WatchAll(ctx)
		if err != nil {
			return nil, err
		}
		b := newBreakable(w)
		opened <- b
		return b, nil
	}
	events := make(chan Event, 100)
	if err := q.Watch(ctx, func(e Event) { events <- e }); err != nil {
		t.Fatal(err)
	}
	next := func() Event {
		select {
		case e := <-events:
			return e
		case <-time.After(30 * time.Second):
			t.Fatal("no event")
			return Event{}
		}
	}
	for e := next(); !e.Caught; e = next() {
	}
	submit(t, q, "gone", "x")
	for e := next(); e.Job.ID != "gone"; e = next() {
	}
	first := <-opened
	first.breakOff()
	if e := next(); !errors.Is(e.Err, errWatchClosed) {
		t.Fatalf("after the break: %+v, want an error event", e)
	}
	// Changed while the watch is down.
	if err := q.Delete(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	submit(t, q, "new", "y")
	close(allow)
	if e := next(); !e.Reset {
		t.Fatalf("after the restart: %+v, want a reset", e)
	}
	var replay []string
	for e := next(); !e.Caught; e = next() {
		if !e.Initial {
			t.Fatalf("replay event %+v", e)
		}
		if !e.Deleted {
			replay = append(replay, e.Job.ID)
		}
	}
	if strings.Join(replay, ",") != "new" {
		t.Fatalf("replay %v, want [new]", replay)
	}
	// And it keeps watching.
	submit(t, q, "later", "z")
	for e := next(); e.Job.ID != "later"; e = next() {
	}
}

// TestIdleWorkerIsQuiet: a worker with nothing to do logs no warning at
// each empty fetch.
func TestIdleWorkerIsQuiet(t *testing.T) {
	q := open(t, node(t, EmbeddedOptions{}), Config{Manage: true})
	var buf syncBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- q.Work(ctx, WorkerConfig{Handler: upper(nil), Log: log, FetchWait: 200 * time.Millisecond})
	}()
	time.Sleep(2 * time.Second) // about ten empty fetches
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if s := buf.String(); s != "" {
		t.Fatalf("an idle worker logged:\n%s", s)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRecordMustMatchSubmission: a record whose owner or budget was
// changed after its job was queued is refused, not run under the new
// owner.
func TestRecordMustMatchSubmission(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Job)
	}{
		{"owner", func(j *Job) { j.Owner = "bob" }},
		{"budget", func(j *Job) { j.Work *= 100 }},
		{"none", func(j *Job) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := open(t, node(t, EmbeddedOptions{}), Config{Manage: true, AckWait: 2 * time.Second})
			ctx := context.Background()
			if _, _, err := q.Submit(ctx, Job{ID: "j", Owner: "alice", Work: 1000, Name: "in.txt", Kind: "image", Ext: ".txt"}, strings.NewReader("hi")); err != nil {
				t.Fatal(err)
			}
			if _, err := q.update(ctx, "j", func(j *Job) error { tc.change(j); return nil }); err != nil {
				t.Fatal(err)
			}
			var runs atomic.Int32
			work(t, q, WorkerConfig{Handler: upper(&runs), Log: discard()})
			j := waitJob(t, q, "j", 30*time.Second, func(j Job) bool { return Terminal(j.State) })
			if tc.name == "none" {
				if j.State != StateDone || runs.Load() != 1 {
					t.Fatalf("unchanged record: %+v, %d runs", j, runs.Load())
				}
				return
			}
			if j.State != StateFailed || !strings.HasPrefix(j.Error, "refused") || runs.Load() != 0 {
				t.Fatalf("changed %s: %s %q, %d runs", tc.name, j.State, j.Error, runs.Load())
			}
		})
	}
}

// TestHeldJobWaitsForRelease: a held job is stored but not queued; Release
// queues it once.
func TestHeldJobWaitsForRelease(t *testing.T) {
	q := open(t, node(t, EmbeddedOptions{}), Config{Manage: true, AckWait: 2 * time.Second})
	ctx := context.Background()
	j, _, err := q.Submit(ctx, Job{ID: "held", Owner: "alice", Held: true, Name: "in.txt", Kind: "image", Ext: ".txt"}, strings.NewReader("small"))
	if err != nil {
		t.Fatal(err)
	}
	if !j.Held || j.InputInline {
		t.Fatalf("held job %+v: want held, input in the store", j)
	}
	if n, _ := q.Depth(ctx); n != 0 {
		t.Fatalf("a held job is in the work queue (%d messages)", n)
	}
	// Submitting it again does not queue it either.
	if _, created, err := q.Submit(ctx, Job{ID: "held", Owner: "alice", Held: true}, strings.NewReader("small")); err != nil || created {
		t.Fatal(created, err)
	}
	if n, _ := q.Depth(ctx); n != 0 {
		t.Fatalf("resubmitted held job queued (%d messages)", n)
	}
	r, err := q.Release(ctx, "held")
	if err != nil || r.Held {
		t.Fatalf("release: %+v %v", r, err)
	}
	q.Release(ctx, "held") // a second release queues nothing more
	if n, _ := q.Depth(ctx); n != 1 {
		t.Fatalf("%d messages after release, want 1", n)
	}
	var runs atomic.Int32
	work(t, q, WorkerConfig{Handler: upper(&runs), Log: discard()})
	done := waitJob(t, q, "held", 30*time.Second, isState(StateDone))
	if got := output(t, q, done, "upper.txt"); got != "SMALL" || runs.Load() != 1 {
		t.Fatalf("output %q, %d runs", got, runs.Load())
	}
}

// TestBatchRole: a batch user reaches the server's API under its own name
// only, and nothing of JetStream: it cannot read another owner's records
// or act as another owner.
func TestBatchRole(t *testing.T) {
	e, _, users := authNode(t)
	q := open(t, e, Config{Manage: true})
	ctx := context.Background()
	submit(t, q, "bobs", "bob's face")
	srv, err := e.Connect("server")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	got := make(chan string, 10)
	sub, err := srv.Subscribe(APISubject+".>", func(m *nats.Msg) { got <- m.Subject; m.Respond([]byte("ok")) })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	srv.Flush()
	var v violations
	nc, err := connectAs(t, e.ClientURL(), users["alice"], &v)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Request(APISubject+".bob.submit", []byte("as bob"), 500*time.Millisecond); err == nil {
		t.Fatal("alice's request as bob was answered")
	}
	if r, err := nc.Request(APISubject+".alice.submit", []byte("as alice"), 5*time.Second); err != nil || string(r.Data) != "ok" {
		t.Fatalf("alice's own request: %v", err)
	}
	if s := <-got; s != APISubject+".alice.submit" {
		t.Fatalf("the server got %s", s)
	}
	select {
	case s := <-got:
		t.Fatalf("the server also got %s", s)
	default:
	}
	if _, err := nc.SubscribeSync(EventSubject + ".bob"); err == nil {
		nc.Flush()
	}
	js, _ := jetstream.New(nc)
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if kv, err := js.KeyValue(sctx, Bucket); err == nil {
		if _, err := kv.Get(sctx, "bobs"); err == nil {
			t.Fatal("alice read a job record")
		}
	}
	// Violations arrive asynchronously.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		joined := strings.Join(v.list(), "\n")
		var missing []string
		for _, want := range []string{APISubject + ".bob.submit", EventSubject + ".bob", "$JS.API"} {
			if !strings.Contains(joined, want) {
				missing = append(missing, want)
			}
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no violation for %v in:\n%s", missing, joined)
		}
	}
}

// TestAuthConfig: a nats-server run apart, from the configuration
// AuthConfig writes, holds the users to the same permissions: a batch user
// may not read JetStream, a worker may not publish a job.
func TestAuthConfig(t *testing.T) {
	dir := t.TempDir()
	front := addUser(t, dir, RoleServer, "front")
	batch := addUser(t, dir, RoleBatch, "alice")
	users, err := LoadUsers(filepath.Join(dir, "users.txt"))
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "nats.conf")
	text := fmt.Sprintf("listen: 127.0.0.1:-1\njetstream { store_dir: %q }\n%s", filepath.Join(dir, "js"), AuthConfig(users))
	os.WriteFile(conf, []byte(text), 0o600)
	opts, err := server.ProcessConfigFile(conf)
	if err != nil {
		t.Fatalf("%v in:\n%s", err, text)
	}
	opts.NoSigs, opts.NoLog = true, true
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("not ready")
	}
	if nc, err := nats.Connect(ns.ClientURL(), nats.MaxReconnects(0)); err == nil {
		nc.Close()
		t.Fatal("a client without credentials was let in")
	}
	var v violations
	fnc, err := connectAs(t, ns.ClientURL(), front, &v)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), fnc, Config{Manage: true}); err != nil {
		t.Fatalf("the front door cannot make the queue: %v", err)
	}
	nc, err := connectAs(t, ns.ClientURL(), batch, &v)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := js.AccountInfo(ctx); err == nil {
		t.Fatal("a batch user read JetStream")
	}
	if _, err := nc.Request(APISubject+".alice.get", nil, 200*time.Millisecond); !errors.Is(err, nats.ErrNoResponders) && !errors.Is(err, nats.ErrTimeout) {
		t.Fatalf("alice's own API subject: %v", err)
	}
}
