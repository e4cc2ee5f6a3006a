package train_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/tell-project/tell/cnn"
	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/queue"
	"github.com/tell-project/tell/train"
)

// The test binary doubles as a training worker that the tests kill -9:
// TELL_TRAIN_HELPER_URL names the NATS server it works for.
func TestMain(m *testing.M) {
	if url := os.Getenv("TELL_TRAIN_HELPER_URL"); url != "" {
		os.Exit(helperWorker(url))
	}
	os.Exit(m.Run())
}

// slowCNN is the cnn family with a pause after every epoch: the same
// weights, slowly enough for a test to kill its worker mid-fold.
type slowCNN struct{ cnn.Family }

func (f slowCNN) Fit(ctx context.Context, spec model.Spec, d *train.FitData, opt train.FitOptions) (model.Net, error) {
	inner := opt.Epoch
	opt.Epoch = func(e int) {
		if inner != nil {
			inner(e)
		}
		time.Sleep(400 * time.Millisecond)
	}
	return f.Family.Fit(ctx, spec, d, opt)
}

var fleetQueue = queue.Config{Replicas: 1, AckWait: 2 * time.Second}

func helperWorker(url string) int {
	nc, err := nats.Connect(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cfg := fleetQueue
	if os.Getenv("TELL_TRAIN_HELPER_R") == "3" {
		cfg.Replicas = 3
	}
	q, err := queue.Open(context.Background(), nc, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	h := train.WorkerHandler(q, train.WorkerOptions{Families: model.Families{slowCNN{}}})
	if err := q.Work(context.Background(), queue.WorkerConfig{Name: "doomed", Handler: h}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// fleetSet writes a small synthetic flow manifest and the cnn config the
// fleet tests train: seed-dependent (random init, flips, jitter), a few
// epochs.
func fleetSet(t *testing.T) (string, train.Config) {
	t.Helper()
	dir := t.TempDir()
	man, err := train.WriteSynth(dir, train.SynthOptions{Seed: 4, Subjects: train.SynthSubjects(4, 2)})
	if err != nil {
		t.Fatal(err)
	}
	fs := model.Families{cnn.Family{}}
	cfg, err := train.ParseConfig([]byte(`{"model": "cnn", "seed": 7, "input": {"align": false}, "cnn": {"train": {"epochs": 4, "warmup": 1, "batch": 8}}}`), fs)
	if err != nil {
		t.Fatal(err)
	}
	return man, cfg
}

func runOpts(man, out string, cfg train.Config) train.RunOptions {
	return train.RunOptions{Manifest: man, Protocol: train.ProtocolLOSO, Out: out, Config: cfg,
		Families: model.Families{cnn.Family{}}, Bootstrap: 100}
}

// sameRun checks that two run folders hold the same metrics.json and model
// bytes and the same fold predictions.
func sameRun(t *testing.T, a, b string) {
	t.Helper()
	for _, name := range []string{"metrics.json", "model.safetensors"} {
		x, err := os.ReadFile(filepath.Join(a, name))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between the local run and the fleet's", name)
		}
	}
}

// startNode starts an embedded NATS server for a test.
func startNode(t *testing.T, opt queue.EmbeddedOptions) *queue.Embedded {
	t.Helper()
	if opt.Dir == "" {
		opt.Dir = t.TempDir()
	}
	e, err := queue.StartEmbedded(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Shutdown)
	return e
}

// openQueue opens the queue on node e, retrying while a cluster elects
// its JetStream leader.
func openQueue(t *testing.T, e *queue.Embedded, cfg queue.Config) *queue.Queue {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		nc, err := e.Connect("test")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		q, err := queue.Open(ctx, nc, cfg)
		cancel()
		if err == nil {
			t.Cleanup(nc.Close)
			return q
		}
		nc.Close()
		if time.Now().After(deadline) {
			t.Fatalf("queue not ready: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// work runs a training worker in this process until the test ends.
func work(t *testing.T, q *queue.Queue, name string, fs model.Families) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		h := queue.Route(map[string]queue.Handler{train.JobKind: train.WorkerHandler(q, train.WorkerOptions{Families: fs})})
		if err := q.Work(ctx, queue.WorkerConfig{Name: name, Handler: h}); err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// TestFleetMatchesLocalAndResumes: the same run trained by a worker through
// the queue gives the local run's metrics.json and model, byte for byte; a
// submitter interrupted mid-run collects the rest when run again, and leaves
// no job or blob behind.
func TestFleetMatchesLocalAndResumes(t *testing.T) {
	man, cfg := fleetSet(t)
	dir := t.TempDir()
	local := filepath.Join(dir, "local")
	if _, err := train.Run(context.Background(), runOpts(man, local, cfg)); err != nil {
		t.Fatal(err)
	}
	e := startNode(t, queue.EmbeddedOptions{})
	q := openQueue(t, e, fleetQueue)
	work(t, q, "w1", model.Families{cnn.Family{}})
	fleet := filepath.Join(dir, "fleet")
	// The first call stops as soon as a fold is stored.
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer cancel()
		for ctx.Err() == nil {
			if m, _ := filepath.Glob(filepath.Join(fleet, "folds", "fold-*.json")); len(m) > 0 {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	opt := runOpts(man, fleet, cfg)
	opt.Fleet = &train.Fleet{Queue: q, Poll: time.Second}
	if _, err := train.Run(ctx, opt); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	res, err := train.Run(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Resumed == 0 || res.Timing.Where != "fleet" {
		t.Errorf("second call resumed %d folds, ran on %q", res.Resumed, res.Timing.Where)
	}
	sameRun(t, local, fleet)
	if jobs, _ := q.Jobs(context.Background()); len(jobs) != 0 {
		t.Errorf("%d jobs left in the queue", len(jobs))
	}
}

// TestFleetKilledWorker runs three NATS nodes on loopback: the run is
// submitted on the first, a worker process on the second is killed -9 in
// the middle of a fold, and a worker on the third trains that fold again
// and the rest. Every fold is stored once and the metrics and model are the
// local run's bytes.
func TestFleetKilledWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("3-node cluster in -short mode")
	}
	man, cfg := fleetSet(t)
	dir := t.TempDir()
	local := filepath.Join(dir, "local")
	if _, err := train.Run(context.Background(), runOpts(man, local, cfg)); err != nil {
		t.Fatal(err)
	}
	var ports [3]string
	for i := range ports {
		ports[i] = freePort(t)
	}
	var routes []string
	for _, p := range ports {
		routes = append(routes, "nats-route://127.0.0.1:"+p)
	}
	nodes := make([]*queue.Embedded, 3)
	errs := make(chan error, 3)
	for i := range 3 {
		go func() {
			e, err := queue.StartEmbedded(queue.EmbeddedOptions{Dir: t.TempDir(), Name: fmt.Sprintf("n%d", i), Listen: "127.0.0.1:0",
				Cluster: "127.0.0.1:" + ports[i], ClusterName: "tell-train-test", Routes: routes})
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
	qcfg := fleetQueue
	qcfg.Replicas = 3
	q1 := openQueue(t, nodes[0], qcfg)
	q3 := openQueue(t, nodes[2], qcfg)

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TELL_TRAIN_HELPER_URL="+nodes[1].ClientURL(), "TELL_TRAIN_HELPER_R=3")
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
	fleet := filepath.Join(dir, "fleet")
	opt := runOpts(man, fleet, cfg)
	opt.Fleet = &train.Fleet{Queue: q1, Poll: time.Second}
	type result struct {
		res *train.RunResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := train.Run(context.Background(), opt)
		done <- result{res, err}
	}()
	// Kill the worker once it is between epochs of a fold.
	var victim queue.Job
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the doomed worker never got a fold under way")
		}
		jobs, _ := q1.Jobs(context.Background())
		for _, j := range jobs {
			if j.Kind == train.JobKind && j.State == queue.StateRunning && j.Worker == "doomed" && j.Frames > 0 && strings.Contains(j.Name, "fold-") {
				victim = j
			}
		}
		if victim.ID != "" {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	killed = true
	t.Logf("killed the worker in %s after %d of %d epochs", victim.Name, victim.Frames, victim.Total)
	// The survivor watches the victim's job being taken up again.
	work(t, q3, "survivor", model.Families{cnn.Family{}})
	retried := make(chan int, 1)
	go func() {
		for {
			j, err := q1.Get(context.Background(), victim.ID)
			if err != nil { // collected and deleted
				retried <- -1
				return
			}
			if j.Worker == "survivor" {
				retried <- j.Attempts
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(3 * time.Minute):
		t.Fatal("the run did not finish")
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	if a := <-retried; a != -1 && a != 2 {
		t.Errorf("the killed fold's job ran %d times, want 2", a)
	}
	sameRun(t, local, fleet)
	folds, _ := filepath.Glob(filepath.Join(fleet, "folds", "fold-*.json"))
	if len(folds) != len(r.res.Report.Folds) || len(folds) != 4 {
		t.Errorf("%d fold files for %d folds", len(folds), len(r.res.Report.Folds))
	}
	if jobs, _ := q1.Jobs(context.Background()); len(jobs) != 0 {
		t.Errorf("%d jobs left in the queue", len(jobs))
	}
	if d, _ := q1.Depth(context.Background()); d != 0 {
		t.Errorf("%d messages left in the work queue", d)
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
