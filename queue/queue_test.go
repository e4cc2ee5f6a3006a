package queue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tell-project/tell/parallel"
)

// The test binary doubles as a worker process that the tests kill -9:
// TELL_QUEUE_HELPER_URL names the NATS server it works for.
func TestMain(m *testing.M) {
	if url := os.Getenv("TELL_QUEUE_HELPER_URL"); url != "" {
		os.Exit(helperWorker(url))
	}
	os.Exit(m.Run())
}

// helperWorker runs jobs slowly (reporting progress) until it is killed.
func helperWorker(url string) int {
	nc, err := nats.Connect(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	q, err := Open(context.Background(), nc, Config{Replicas: replicasFromEnv(), AckWait: 2 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	err = q.Work(context.Background(), WorkerConfig{Name: "doomed", Handler: func(ctx context.Context, t *Task) (json.RawMessage, error) {
		for i := 0; ; i++ {
			t.Progress(i, 1000)
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func replicasFromEnv() int {
	if os.Getenv("TELL_QUEUE_HELPER_R") == "3" {
		return 3
	}
	return 1
}

// node starts an embedded NATS server for a test.
func node(t *testing.T, opt EmbeddedOptions) *Embedded {
	t.Helper()
	if opt.Dir == "" {
		opt.Dir = t.TempDir()
	}
	e, err := StartEmbedded(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Shutdown)
	return e
}

func open(t *testing.T, e *Embedded, cfg Config) *Queue {
	t.Helper()
	nc, err := e.Connect("test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	q, err := Open(ctx, nc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// upper is a handler with a known answer: its output is the input in upper
// case, its summary the input's length.
func upper(runs *atomic.Int32) Handler {
	return func(ctx context.Context, t *Task) (json.RawMessage, error) {
		if runs != nil {
			runs.Add(1)
		}
		b, err := os.ReadFile(t.Input)
		if err != nil {
			return nil, err
		}
		t.Progress(len(b), len(b))
		if err := os.WriteFile(filepath.Join(t.Out, "upper.txt"), bytes.ToUpper(b), 0o644); err != nil {
			return nil, err
		}
		if bytes.HasPrefix(b, []byte("fail")) {
			return json.RawMessage(`{"n":0}`), errors.New("asked to fail")
		}
		return json.RawMessage(fmt.Sprintf(`{"n":%d}`, len(b))), nil
	}
}

// work runs a worker until the test ends.
func work(t *testing.T, q *Queue, cfg WorkerConfig) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := q.Work(ctx, cfg); err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// waitJob polls until the job's state satisfies ok.
func waitJob(t *testing.T, q *Queue, id string, within time.Duration, ok func(Job) bool) Job {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		j, err := q.Get(context.Background(), id)
		if err == nil && ok(j) {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s: %+v (%v) did not reach the wanted state within %v", id, j, err, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func isState(s string) func(Job) bool { return func(j Job) bool { return j.State == s } }

func output(t *testing.T, q *Queue, j Job, name string) string {
	t.Helper()
	r, _, err := q.Output(context.Background(), j, name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, _ := io.ReadAll(r)
	return string(b)
}

func submit(t *testing.T, q *Queue, id, input string) Job {
	t.Helper()
	j, created, err := q.Submit(context.Background(), Job{ID: id, Name: "in.txt", Kind: "image", Ext: ".txt"}, strings.NewReader(input))
	if err != nil || !created {
		t.Fatalf("submit %s: %v created=%v", id, err, created)
	}
	return j
}

func objects(t *testing.T, q *Queue) []string {
	t.Helper()
	infos, err := q.obj.List(context.Background())
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range infos {
		names = append(names, i.Name)
	}
	return names
}

// TestRunToResult runs jobs whose inputs travel in their messages
// (the default for small ones) and in the object store.
func TestRunToResult(t *testing.T) {
	for _, inline := range []int{0, -1} {
		t.Run(fmt.Sprintf("inline=%d", inline), func(t *testing.T) { testRunToResult(t, inline) })
	}
}

func testRunToResult(t *testing.T, inline int) {
	q := open(t, node(t, EmbeddedOptions{}), Config{AckWait: time.Second, InlineMax: inline})
	j1 := submit(t, q, "job1", "hello faces")
	submit(t, q, "job2", "fail please")
	if j1.InputInline != (inline == 0) || j1.InputBytes != 11 {
		t.Errorf("submitted %+v", j1)
	}
	if objs := objects(t, q); inline == 0 && len(objs) != 0 || inline < 0 && len(objs) != 2 {
		t.Errorf("objects after submit: %v", objs)
	}
	if d, err := q.Depth(context.Background()); err != nil || d != 2 {
		t.Errorf("depth %d %v, want 2", d, err)
	}
	work(t, q, WorkerConfig{Handler: upper(nil), Jobs: 2, Name: "w"})
	j := waitJob(t, q, "job1", 30*time.Second, isState(StateDone))
	if got := output(t, q, j, "upper.txt"); got != "HELLO FACES" {
		t.Errorf("output %q", got)
	}
	if string(j.Result) != `{"n":11}` || j.Frames != 11 || j.Total != 11 || j.Attempts != 1 || j.InputBytes != 0 || j.Error != "" {
		t.Errorf("record %+v", j)
	}
	f := waitJob(t, q, "job2", 30*time.Second, isState(StateFailed))
	if f.Error != "asked to fail" || output(t, q, f, "upper.txt") != "FAIL PLEASE" {
		t.Errorf("failed job %+v", f)
	}
	// Acknowledged: nothing left in the work queue; inputs removed.
	waitDepth(t, q, 0)
	for _, name := range objects(t, q) {
		if strings.HasSuffix(name, "/input") {
			t.Errorf("input kept after the job: %s", name)
		}
	}
	jobs, err := q.Jobs(context.Background())
	if err != nil || len(jobs) != 2 {
		t.Errorf("jobs %v %v", jobs, err)
	}
	if err := q.Delete(context.Background(), "job1"); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Get(context.Background(), "job1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted job: %v", err)
	}
	if objs := objects(t, q); len(objs) != 1 || !strings.HasPrefix(objs[0], "job2/") {
		t.Errorf("objects after delete: %v", objs)
	}
}

func waitDepth(t *testing.T, q *Queue, want int) {
	t.Helper()
	for i := 0; ; i++ {
		d, err := q.Depth(context.Background())
		if err == nil && d == want {
			return
		}
		if i > 1500 {
			t.Fatalf("depth %d (%v), want %d", d, err, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestIdempotentSubmit(t *testing.T) {
	q := open(t, node(t, EmbeddedOptions{}), Config{})
	first := submit(t, q, "same", "abc")
	// The input travels in the message: a resubmission makes it again.
	again, created, err := q.Submit(context.Background(), Job{ID: "same"}, strings.NewReader("abc"))
	if err != nil || created || again.ID != "same" || again.Created != first.Created || again.InputBytes != 3 {
		t.Fatalf("resubmit: %+v created=%v %v", again, created, err)
	}
	if _, _, err := q.Submit(context.Background(), Job{ID: "same"}, strings.NewReader("abcd")); err == nil {
		t.Errorf("resubmission with another input accepted")
	}
	if d, _ := q.Depth(context.Background()); d != 1 {
		t.Errorf("depth %d after a resubmission, want 1", d)
	}
	// An input in the object store is not read again.
	big := strings.Repeat("x", DefaultInlineMax+1)
	if j := submit(t, q, "big", big); j.InputInline {
		t.Errorf("input of %d bytes inline", len(big))
	}
	if again, created, err := q.Submit(context.Background(), Job{ID: "big"}, errReader{}); err != nil || created || again.InputBytes != int64(len(big)) {
		t.Fatalf("resubmit: %+v created=%v %v", again, created, err)
	}
	if d, _ := q.Depth(context.Background()); d != 2 {
		t.Errorf("depth %d after a resubmission, want 2", d)
	}
	// Deleted, the same id is a new job that runs (the stream must not
	// drop its message as a duplicate of the first one's).
	var runs atomic.Int32
	work(t, q, WorkerConfig{Handler: upper(&runs)})
	waitJob(t, q, "same", 30*time.Second, isState(StateDone))
	if err := q.Delete(context.Background(), "same"); err != nil {
		t.Fatal(err)
	}
	submit(t, q, "same", "again")
	if j := waitJob(t, q, "same", 30*time.Second, isState(StateDone)); output(t, q, j, "upper.txt") != "AGAIN" || runs.Load() != 3 { // same, big, same
		t.Errorf("resubmitted after delete: %+v, %d runs", j, runs.Load())
	}
	for _, bad := range []string{"", "a/b", "a.b", "a b", "../x", strings.Repeat("x", 200)} {
		if _, _, err := q.Submit(context.Background(), Job{ID: bad}, strings.NewReader("x")); err == nil {
			t.Errorf("id %q accepted", bad)
		}
	}
}

// errReader fails: a resubmission must not read its input.
type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("input read on a resubmission") }

// TestDuplicateDelivery publishes a job's message three times (beyond the
// stream's de-duplication): the job runs once and has one result.
func TestDuplicateDelivery(t *testing.T) {
	q := open(t, node(t, EmbeddedOptions{}), Config{AckWait: time.Second})
	submit(t, q, "dup", "once")
	// A copy of its message (input inline), and a message without the
	// input that cannot run it.
	for i, data := range []string{"once", "dup"} {
		m := nats.NewMsg(Subject)
		m.Data = []byte(data)
		if i == 0 {
			m.Header.Set(headerJob, "dup")
		}
		if _, err := q.js.PublishMsg(context.Background(), m, jetstream.WithMsgID(fmt.Sprintf("other-%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	var runs atomic.Int32
	work(t, q, WorkerConfig{Handler: upper(&runs), Jobs: 3})
	j := waitJob(t, q, "dup", 30*time.Second, isState(StateDone))
	waitDepth(t, q, 0)
	if n := runs.Load(); n != 1 {
		t.Errorf("handler ran %d times, want 1", n)
	}
	if j.Attempts != 1 || len(j.Outputs) != 1 {
		t.Errorf("record %+v", j)
	}
	if objs := objects(t, q); len(objs) != 1 {
		t.Errorf("objects %v, want one output", objs)
	}
	// A late duplicate of a finished job is acknowledged without a run.
	q.js.Publish(context.Background(), Subject, []byte("dup"), jetstream.WithMsgID("late"))
	waitDepth(t, q, 0)
	if n := runs.Load(); n != 1 {
		t.Errorf("handler ran %d times after a late duplicate", n)
	}
}

// fakeMsg stands for a delivery in tests of a worker's last steps.
type fakeMsg struct {
	jetstream.Msg
	acked, naked atomic.Int32
}

func (m *fakeMsg) Ack() error                       { m.acked.Add(1); return nil }
func (m *fakeMsg) DoubleAck(context.Context) error  { m.acked.Add(1); return nil }
func (m *fakeMsg) Nak() error                       { m.naked.Add(1); return nil }
func (m *fakeMsg) NakWithDelay(time.Duration) error { m.naked.Add(1); return nil }
func (m *fakeMsg) InProgress() error                { return nil }

// TestLateAttemptKeepsNoResult: an attempt that was presumed dead and
// finishes after another attempt took the job over stores nothing.
func TestLateAttemptKeepsNoResult(t *testing.T) {
	q := open(t, node(t, EmbeddedOptions{}), Config{})
	submit(t, q, "late", "x")
	ctx := context.Background()
	// Attempt 1 claimed it; its result starts from the record it stored.
	mine, rev, err := q.updateFrom(ctx, "late", Job{}, 0, func(j *Job) error {
		j.State, j.Attempts, j.Heartbeat = StateRunning, 1, time.Now()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Attempt 2 holds the job now.
	if _, err := q.update(ctx, "late", func(j *Job) error {
		j.State, j.Attempts, j.Heartbeat = StateRunning, 2, time.Now()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	os.WriteFile(filepath.Join(out, "events.json"), []byte("{}"), 0o644)
	m := &fakeMsg{}
	q.finish(ctx, m, &Task{Job: Job{ID: "late"}, Out: out}, mine, rev, json.RawMessage(`{}`), nil, discard())
	j, _ := q.Get(ctx, "late")
	if j.State != StateRunning || j.Outputs != nil || m.acked.Load() != 0 {
		t.Errorf("late attempt changed the job: %+v acked=%d", j, m.acked.Load())
	}
	for _, o := range objects(t, q) {
		if strings.HasPrefix(o, "late/1/") {
			t.Errorf("late attempt's output kept: %s", o)
		}
	}
	// Once attempt 2 has finished, a late attempt's delivery is acknowledged.
	q.update(ctx, "late", func(j *Job) error { j.State = StateDone; return nil })
	m2 := &fakeMsg{}
	q.finish(ctx, m2, &Task{Job: Job{ID: "late"}, Out: out}, mine, rev, nil, nil, discard())
	if m2.acked.Load() != 1 {
		t.Errorf("late delivery of a finished job not acknowledged")
	}
}

func TestCancelAndDeleteStopTheWorker(t *testing.T) {
	// Inputs in the object store, so that the cancelled job leaves an
	// orphan for Sweep.
	q := open(t, node(t, EmbeddedOptions{}), Config{AckWait: time.Second, InlineMax: -1})
	stopped := make(chan string, 2)
	started := make(chan string, 2)
	work(t, q, WorkerConfig{Jobs: 2, Handler: func(ctx context.Context, t *Task) (json.RawMessage, error) {
		started <- t.Job.ID
		os.WriteFile(filepath.Join(t.Out, "partial.txt"), []byte("x"), 0o644)
		<-ctx.Done()
		stopped <- t.Job.ID
		return nil, ctx.Err()
	}})
	submit(t, q, "c1", "a")
	submit(t, q, "c2", "b")
	for range 2 {
		select {
		case <-started:
		case <-time.After(30 * time.Second):
			t.Fatal("jobs not started")
		}
	}
	if _, err := q.Cancel(context.Background(), "c1"); err != nil {
		t.Fatal(err)
	}
	if err := q.Delete(context.Background(), "c2"); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for range 2 {
		select {
		case id := <-stopped:
			got[id] = true
		case <-time.After(30 * time.Second):
			t.Fatalf("workers not stopped: %v", got)
		}
	}
	waitDepth(t, q, 0)
	j, _ := q.Get(context.Background(), "c1")
	if j.State != StateCanceled || len(j.Outputs) != 0 {
		t.Errorf("cancelled job %+v", j)
	}
	// The cancelled job's input is an orphan now: Sweep removes it.
	if n, err := q.Sweep(context.Background(), 0); err != nil || n != 1 {
		t.Errorf("sweep removed %d (%v), want 1", n, err)
	}
	if objs := objects(t, q); len(objs) != 0 {
		t.Errorf("objects left: %v", objs)
	}
}

// TestRestartKeepsJobs stops the NATS server under a running job and
// starts it again on the same folder: every job is still there and ends.
func TestRestartKeepsJobs(t *testing.T) {
	dir := t.TempDir()
	e, err := StartEmbedded(EmbeddedOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	nc, _ := e.Connect("before")
	q, err := Open(context.Background(), nc, Config{AckWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	submit(t, q, "r1", "one")
	ctx, cancel := context.WithCancel(context.Background())
	var runs atomic.Int32
	go q.Work(ctx, WorkerConfig{Handler: upper(&runs)})
	waitJob(t, q, "r1", 30*time.Second, isState(StateDone))
	block := make(chan struct{})
	wctx, wcancel := context.WithCancel(context.Background())
	go q.Work(wctx, WorkerConfig{Handler: func(ctx context.Context, t *Task) (json.RawMessage, error) {
		<-block
		return nil, errors.New("the old process's result must not count")
	}})
	cancel() // the first worker stops taking jobs
	submit(t, q, "r2", "two")
	submit(t, q, "r3", "three")
	// The blocking worker takes r2, or r3 when r2's first delivery went to
	// the stopped worker's last pull (dropped, delivered again after the
	// ack wait): either way one job is running when the server goes away.
	deadline := time.Now().Add(30 * time.Second)
	for {
		j2, _ := q.Get(context.Background(), "r2")
		j3, _ := q.Get(context.Background(), "r3")
		if j2.State == StateRunning || j3.State == StateRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no job running: %+v %+v", j2, j3)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The process "dies": the server goes away under the running job.
	nc.Close()
	e.Shutdown()
	defer func() { close(block); wcancel() }()

	q2 := open(t, node(t, EmbeddedOptions{Dir: dir}), Config{AckWait: time.Second})
	work(t, q2, WorkerConfig{Handler: upper(&runs)})
	for id, want := range map[string]string{"r1": "ONE", "r2": "TWO", "r3": "THREE"} {
		j := waitJob(t, q2, id, time.Minute, isState(StateDone))
		if got := output(t, q2, j, "upper.txt"); got != want {
			t.Errorf("%s: %q", id, got)
		}
	}
	waitDepth(t, q2, 0)
	if n := runs.Load(); n != 3 {
		t.Errorf("%d runs, want 3 (r1 is not run again)", n)
	}
}

// killWorkerMidJob submits a job, lets a worker process take it, kills
// that process with SIGKILL and checks that a worker of this process
// completes the job.
func killWorkerMidJob(t *testing.T, submitQ, finishQ *Queue, helperURL string, replicas int) {
	submit(t, submitQ, "victim", "survives")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TELL_QUEUE_HELPER_URL="+helperURL, fmt.Sprintf("TELL_QUEUE_HELPER_R=%d", replicas))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	waitJob(t, submitQ, "victim", time.Minute, func(j Job) bool { return j.State == StateRunning && j.Worker == "doomed" && j.Frames > 0 })
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	killed = true
	var runs atomic.Int32
	work(t, finishQ, WorkerConfig{Name: "survivor", Handler: upper(&runs)})
	j := waitJob(t, submitQ, "victim", time.Minute, isState(StateDone))
	if j.Worker != "survivor" || j.Attempts != 2 || runs.Load() != 1 {
		t.Errorf("record %+v, runs %d", j, runs.Load())
	}
	if got := output(t, submitQ, j, "upper.txt"); got != "SURVIVES" {
		t.Errorf("output %q", got)
	}
	waitDepth(t, submitQ, 0)
}

func TestKillWorkerSingleNode(t *testing.T) {
	e := node(t, EmbeddedOptions{Listen: "127.0.0.1:0"})
	q := open(t, e, Config{AckWait: 2 * time.Second})
	killWorkerMidJob(t, q, q, e.ClientURL(), 1)
}

// TestKillWorkerCluster runs three NATS nodes on loopback: jobs are
// submitted on the first, the killed worker works on the second, the
// survivor on the third.
func TestKillWorkerCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("3-node cluster in -short mode")
	}
	// Every node lists every route; nodes start together, since a
	// clustered node is ready only once JetStream has its peers.
	var ports [3]string
	for i := range ports {
		ports[i] = freePort(t)
	}
	var routes []string
	for _, p := range ports {
		routes = append(routes, "nats-route://127.0.0.1:"+p)
	}
	nodes := make([]*Embedded, 3)
	errs := make(chan error, 3)
	for i := range 3 {
		go func() {
			e, err := StartEmbedded(EmbeddedOptions{Dir: t.TempDir(), Name: fmt.Sprintf("n%d", i), Listen: "127.0.0.1:0",
				Cluster: "127.0.0.1:" + ports[i], ClusterName: "tell-test", Routes: routes})
			nodes[i] = e
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range nodes {
		t.Cleanup(e.Shutdown)
	}
	cfg := Config{Replicas: 3, AckWait: 2 * time.Second}
	var q1 *Queue
	// The cluster needs a JetStream leader before the stream can be made.
	deadline := time.Now().Add(time.Minute)
	for {
		nc, err := nodes[0].Connect("submit")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		q1, err = Open(ctx, nc, cfg)
		cancel()
		if err == nil {
			t.Cleanup(nc.Close)
			break
		}
		nc.Close()
		if time.Now().After(deadline) {
			t.Fatalf("cluster not ready: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	q3 := open(t, nodes[2], cfg)
	killWorkerMidJob(t, q1, q3, nodes[1].ClientURL(), 3)
	info, err := q1.stream.Info(context.Background())
	if err != nil || info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
		t.Errorf("stream not replicated on three nodes: %+v %v", info.Cluster, err)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, p, _ := net.SplitHostPort(l.Addr().String())
	return p
}

// TestMaxAttempts: a job whose worker dies every time fails, named so,
// instead of being tried forever.
func TestMaxAttempts(t *testing.T) {
	e := node(t, EmbeddedOptions{Listen: "127.0.0.1:0"})
	q := open(t, e, Config{AckWait: 2 * time.Second, MaxAttempts: 1})
	submit(t, q, "poison", "x")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TELL_QUEUE_HELPER_URL="+e.ClientURL())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitJob(t, q, "poison", time.Minute, func(j Job) bool { return j.State == StateRunning && j.Frames > 0 })
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	var runs atomic.Int32
	work(t, q, WorkerConfig{Handler: upper(&runs)})
	j := waitJob(t, q, "poison", time.Minute, isState(StateFailed))
	if !strings.Contains(j.Error, "stopped 1 times") || runs.Load() != 0 {
		t.Errorf("record %+v runs %d", j, runs.Load())
	}
	waitDepth(t, q, 0)
}

// TestPanicFailsTheJob plants a runtime panic in the handler, and one in a
// goroutine the handler starts (as an analysis's parallel parts do): each
// job fails once (no redelivery into the same panic) with the panic's
// message, the log holds the stack, and the same worker goes on to run the
// next job.
func TestPanicFailsTheJob(t *testing.T) {
	q := open(t, node(t, EmbeddedOptions{}), Config{AckWait: time.Second})
	submit(t, q, "boom", "panic please")
	submit(t, q, "goroutine", "panic in a goroutine")
	submit(t, q, "after", "still here")
	var logs syncBuffer
	var runs atomic.Int32
	work(t, q, WorkerConfig{Log: slog.New(slog.NewTextHandler(&logs, nil)), Handler: func(ctx context.Context, task *Task) (json.RawMessage, error) {
		b, _ := os.ReadFile(task.Input)
		if string(b) == "panic please" {
			runs.Add(1)
			var fields []string
			_ = fields[len(b)] // out of range: a real runtime panic
		}
		if string(b) == "panic in a goroutine" {
			var g parallel.Group
			g.Go(func() {})
			g.Go(func() { plantedInGoroutine(b) })
			g.Wait()
		}
		return upper(nil)(ctx, task)
	}})
	j := waitJob(t, q, "boom", 30*time.Second, isState(StateFailed))
	if !strings.Contains(j.Error, "panicked") || !strings.Contains(j.Error, "index out of range") {
		t.Errorf("record %+v", j)
	}
	if a := waitJob(t, q, "after", 30*time.Second, isState(StateDone)); output(t, q, a, "upper.txt") != "STILL HERE" {
		t.Errorf("the job after the panic: %+v", a)
	}
	waitDepth(t, q, 0)
	if n := runs.Load(); n != 1 || j.Attempts != 1 {
		t.Errorf("the panicking job ran %d times (%d attempts), want once", n, j.Attempts)
	}
	if l := logs.String(); !strings.Contains(l, "job panicked") || !strings.Contains(l, "queue_test.go") {
		t.Errorf("log has no panic with its stack:\n%s", l)
	}
	g := waitJob(t, q, "goroutine", 30*time.Second, isState(StateFailed))
	if !strings.Contains(g.Error, "panicked") || !strings.Contains(g.Error, "index out of range") || g.Attempts != 1 {
		t.Errorf("record of the goroutine's panic %+v", g)
	}
	if l := logs.String(); !strings.Contains(l, "goroutine_stack") || !strings.Contains(l, "plantedInGoroutine") {
		t.Errorf("log has not the stack of the goroutine that panicked:\n%s", l)
	}
}

// plantedInGoroutine indexes out of range on the goroutine that runs it.
func plantedInGoroutine(b []byte) {
	var fields []string
	_ = fields[len(b)]
}

func TestTarRoundTrip(t *testing.T) {
	src := t.TempDir()
	var files []string
	for i, body := range []string{"a", "bb", ""} {
		p := filepath.Join(src, fmt.Sprintf("f%d.png", i))
		os.WriteFile(p, []byte(body), 0o644)
		files = append(files, p)
	}
	var b bytes.Buffer
	if err := Tar(&b, files); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "x")
	if err := Untar(bytes.NewReader(b.Bytes()), dst, 10); err != nil {
		t.Fatal(err)
	}
	for i, body := range []string{"a", "bb", ""} {
		got, err := os.ReadFile(filepath.Join(dst, fmt.Sprintf("f%d.png", i)))
		if err != nil || string(got) != body {
			t.Errorf("f%d: %q %v", i, got, err)
		}
	}
	if err := Untar(bytes.NewReader(b.Bytes()), filepath.Join(t.TempDir(), "y"), 2); err == nil {
		t.Error("more files than allowed accepted")
	}
}

// FuzzUntar: whatever the bytes, nothing is written outside the folder.
func FuzzUntar(f *testing.F) {
	var b bytes.Buffer
	p := filepath.Join(f.TempDir(), "a.png")
	os.WriteFile(p, []byte("x"), 0o644)
	Tar(&b, []string{p})
	f.Add(b.Bytes())
	f.Add([]byte("not a tar"))
	f.Fuzz(func(t *testing.T, data []byte) {
		root := t.TempDir()
		dst := filepath.Join(root, "in")
		Untar(bytes.NewReader(data), dst, 5)
		es, _ := os.ReadDir(root)
		if len(es) > 1 {
			t.Fatalf("wrote outside the folder: %v", es)
		}
		filepath.WalkDir(dst, func(path string, d os.DirEntry, err error) error {
			if err == nil && path != dst && (d.IsDir() || !d.Type().IsRegular()) {
				t.Fatalf("unpacked a non-file %s", path)
			}
			return nil
		})
	})
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestScratchDir: the folders of dead processes go, those of live ones
// and other names stay; the new folder is private and new, never one made
// before under a name the process could be expected to use.
func TestScratchDir(t *testing.T) {
	parent := t.TempDir()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip(err)
	}
	deadDir := filepath.Join(parent, fmt.Sprintf("tell-x-%d", dead.Process.Pid))
	deadNew := filepath.Join(parent, fmt.Sprintf("tell-x-%d-123456", dead.Process.Pid))
	liveDir := filepath.Join(parent, "tell-x-1") // init is always alive
	other := filepath.Join(parent, "tell-y-99999999")
	// What another user could make first: the old predictable name, open
	// to all.
	planted := filepath.Join(parent, fmt.Sprintf("tell-x-%d", os.Getpid()))
	for _, d := range []string{deadDir, deadNew, liveDir, other, planted} {
		os.MkdirAll(filepath.Join(d, "job"), 0o755)
	}
	os.Chmod(planted, 0o777)
	// A dead process's folder of another user stays (as root the test can
	// make one).
	foreign := filepath.Join(parent, fmt.Sprintf("tell-x-%d-abc", dead.Process.Pid))
	os.MkdirAll(foreign, 0o755)
	keepForeign := os.Getuid() == 0 && os.Chown(foreign, 65534, 65534) == nil
	dir, err := ScratchDir(parent, "tell-x")
	if err != nil {
		t.Fatal(err)
	}
	if dir == planted || !strings.HasPrefix(filepath.Base(dir), fmt.Sprintf("tell-x-%d-", os.Getpid())) {
		t.Errorf("dir %s", dir)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("dir %s: %v %v, want mode 0700", dir, st.Mode(), err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("dir %s is not new: %v", dir, ents)
	}
	for d, want := range map[string]bool{deadDir: false, deadNew: false, liveDir: true, other: true, dir: true, planted: true, foreign: keepForeign} {
		if _, err := os.Stat(d); (err == nil) != want {
			t.Errorf("%s exists=%v, want %v", d, err == nil, want)
		}
	}
	// A second folder of the same process is another one.
	dir2, err := ScratchDir(parent, "tell-x")
	if err != nil || dir2 == dir {
		t.Errorf("second folder %s (%v), first %s", dir2, err, dir)
	}
}

// BenchmarkJob is the queue's own cost of one job as tell serve runs a
// 320×240 image: submit its input (130 kB), a worker with a handler that
// writes the three outputs (43 kB) takes it, the result is stored and
// acknowledged, the job deleted.
func BenchmarkJob(b *testing.B) {
	e, err := StartEmbedded(EmbeddedOptions{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Shutdown()
	nc, _ := e.Connect("bench")
	defer nc.Close()
	q, err := Open(context.Background(), nc, Config{})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go q.Work(ctx, WorkerConfig{Dir: b.TempDir(), Handler: func(ctx context.Context, t *Task) (json.RawMessage, error) {
		for n, size := range map[string]int{"events.json": 9000, "frames.csv": 2600, "report.html": 31000} {
			os.WriteFile(filepath.Join(t.Out, n), make([]byte, size), 0o644)
		}
		return json.RawMessage(`{}`), nil
	}})
	input := make([]byte, 130000) // a 320×240 PNG
	q.Watch(ctx, func(ev Event) {
		if !ev.Initial && ev.Job.State == StateDone {
			select {
			case done <- struct{}{}:
			default:
			}
		}
	})
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, _, err := q.Submit(ctx, Job{ID: fmt.Sprintf("j%d", i), Name: "x.png", Kind: "image", Ext: ".png"}, bytes.NewReader(input)); err != nil {
			b.Fatal(err)
		}
		<-done
		if err := q.Delete(ctx, fmt.Sprintf("j%d", i)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEarlierLayout: a record of the earlier layout (outputs as one object
// each, input in the object store, a message of the bare id) is read,
// swept and deleted as before.
func TestEarlierLayout(t *testing.T) {
	q := open(t, node(t, EmbeddedOptions{}), Config{})
	ctx := context.Background()
	for name, data := range map[string]string{"old/input": "in", "old/1/events.json": "{}", "old/1/report.html": "<p>"} {
		if _, err := q.obj.PutString(ctx, name, data); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := json.Marshal(Job{ID: "old", State: StateDone, InputBytes: 2, Outputs: map[string]int64{"events.json": 2, "report.html": 3}, OutputPrefix: "old/1/", Created: time.Now()})
	if _, err := q.kv.Create(ctx, "old", b); err != nil {
		t.Fatal(err)
	}
	j, err := q.Get(ctx, "old")
	if err != nil {
		t.Fatal(err)
	}
	if got := output(t, q, j, "report.html"); got != "<p>" {
		t.Errorf("report %q", got)
	}
	// The finished job's input is an orphan; its outputs are kept.
	if n, err := q.Sweep(ctx, 0); err != nil || n != 1 {
		t.Errorf("sweep removed %d (%v), want the input", n, err)
	}
	if objs := objects(t, q); len(objs) != 2 {
		t.Errorf("objects after sweep: %v", objs)
	}
	if err := q.Delete(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	if objs := objects(t, q); len(objs) != 0 {
		t.Errorf("objects after delete: %v", objs)
	}
	// A message of the bare id for a queued job of that layout runs it.
	if _, err := q.obj.PutString(ctx, "bare/input", "bare"); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(Job{ID: "bare", State: StateQueued, Kind: "image", Ext: ".txt", InputBytes: 4, Total: -1, Created: time.Now()})
	if _, err := q.kv.Create(ctx, "bare", b); err != nil {
		t.Fatal(err)
	}
	if _, err := q.js.Publish(ctx, Subject, []byte("bare")); err != nil {
		t.Fatal(err)
	}
	work(t, q, WorkerConfig{Handler: upper(nil)})
	if j := waitJob(t, q, "bare", 30*time.Second, isState(StateDone)); output(t, q, j, "upper.txt") != "BARE" {
		t.Errorf("bare-id job %+v", j)
	}
}

// TestBlobs: a blob is stored once under its hash, read back whole, refused
// over the caller's limit before it is read, and removed.
func TestBlobs(t *testing.T) {
	e := node(t, EmbeddedOptions{})
	q := open(t, e, Config{})
	ctx := context.Background()
	data := bytes.Repeat([]byte("prepared rows "), 10000)
	k1, err := q.PutBlob(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	if k2, err := q.PutBlob(ctx, data); err != nil || k2 != k1 || k1 != BlobKey(data) {
		t.Fatalf("second put: %q %v, want %q", k2, err, k1)
	}
	got, err := q.Blob(ctx, k1, int64(len(data)))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
	if _, err := q.Blob(ctx, k1, int64(len(data))-1); !errors.Is(err, ErrBlobTooLarge) {
		t.Errorf("over the limit: %v, want ErrBlobTooLarge", err)
	}
	if objs := objects(t, q); len(objs) != 0 {
		t.Errorf("blobs leaked into the job files: %v", objs)
	}
	if n, err := q.Sweep(ctx, 0); err != nil || n != 0 {
		t.Errorf("sweep removed %d (%v)", n, err)
	}
	if _, err := q.Blob(ctx, k1, 0); err != nil {
		t.Errorf("sweep removed the blob: %v", err)
	}
	if err := q.DeleteBlob(ctx, k1); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Blob(ctx, k1, 0); !errors.Is(err, ErrNoBlob) {
		t.Errorf("deleted blob: %v, want ErrNoBlob", err)
	}
	if err := q.DeleteBlob(ctx, k1); err != nil {
		t.Errorf("deleting a missing blob: %v", err)
	}
}

// TestRouteLeavesOtherKinds: a worker that runs only images leaves a job of
// another kind in the queue, uncounted, for a worker that runs that kind.
func TestRouteLeavesOtherKinds(t *testing.T) {
	e := node(t, EmbeddedOptions{})
	q := open(t, e, Config{AckWait: 2 * time.Second})
	var imageRuns, trainRuns, offered atomic.Int32
	analyst := Route(map[string]Handler{"image": upper(&imageRuns)})
	work(t, q, WorkerConfig{Name: "analyst", Handler: func(ctx context.Context, t *Task) (json.RawMessage, error) {
		offered.Add(1)
		return analyst(ctx, t)
	}})
	if _, _, err := q.Submit(context.Background(), Job{ID: "fold-1", Name: "fold.json", Kind: "train", Ext: ".json"}, strings.NewReader("fold")); err != nil {
		t.Fatal(err)
	}
	// The analyst refuses it before a trainer exists.
	for deadline := time.Now().Add(30 * time.Second); offered.Load() == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the job never reached the analyst")
		}
	}
	time.Sleep(200 * time.Millisecond) // the refusal is stored after the handler returns
	if j, _ := q.Get(context.Background(), "fold-1"); j.State != StateQueued || j.Attempts != 0 {
		t.Fatalf("refused job: state %s, attempts %d; want queued, 0", j.State, j.Attempts)
	}
	work(t, q, WorkerConfig{Name: "trainer", Handler: Route(map[string]Handler{"train": upper(&trainRuns)})})
	j := waitJob(t, q, "fold-1", time.Minute, isState(StateDone))
	if j.Worker != "trainer" || j.Attempts != 1 || trainRuns.Load() != 1 || imageRuns.Load() != 0 {
		t.Errorf("record %+v; train runs %d, image runs %d", j, trainRuns.Load(), imageRuns.Load())
	}
	if got := output(t, q, j, "upper.txt"); got != "FOLD" {
		t.Errorf("output %q", got)
	}
}
