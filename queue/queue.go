// Package queue keeps tell's analysis jobs on NATS JetStream, so that jobs
// survive restarts and any number of workers, on any machine that reaches
// the NATS server, can run them.
//
// Three JetStream resources hold a job:
//
//   - the work-queue stream TELL_JOBS carries one message per job: its id,
//     and a small input itself (Config.InlineMax); a message is removed when
//     a worker acknowledges it, which it does only after the job's outputs
//     and final state are stored;
//   - the key-value bucket TELL_JOBS holds each job's record (Job): state,
//     owner, progress, error, the worker's heartbeat, where its outputs are;
//   - the object store TELL_FILES holds a larger input (ID/input) and the
//     outputs of each job, one tar per attempt (ID/ATTEMPT/outputs.tar);
//   - the object store TELL_BLOBS holds data that many jobs share (the
//     prepared rows of a training run), named by the SHA-256 of its bytes,
//     stored once by whoever submits the jobs and removed by them.
//
// A job thus costs few JetStream round trips (an image: about ten, from
// submit to delete), which matters as much as the analysis itself on a
// loaded machine.
//
// Delivery is at least once. A worker that dies stops sending in-progress
// acknowledgements, so after Config.AckWait its job is delivered again;
// job ids are idempotent (Submit of a known id returns the stored job) and
// a job's record changes only by compare-and-set, so a duplicate delivery
// or a slow, presumed-dead worker never makes a second result: the first
// final state stored wins and a late attempt removes its own outputs.
//
// A job's message is its submission: only the server's NATS role may
// publish it (see Permissions), and it names the job's owner and budget
// (headers Tell-Owner, Tell-Work). A worker refuses a job whose record
// disagrees with its message, so that whoever can write records (another
// worker) cannot hand one owner's results to another.
//
// Limits: a job's input is one message or one object (a folder of frames
// travels as a tar); outputs are read through their tar, so fetching one
// output of a job reads those stored before it; records are read whole, so
// listing is linear in the jobs kept. Access control is NATS's own: on a
// NATS server without users, anyone who can reach it can submit, read and
// delete jobs; with users (EmbeddedOptions.Users) each role may do only
// its part.
package queue

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Names of the JetStream resources.
const (
	Stream       = "TELL_JOBS"
	Subject      = "tell.jobs"
	Bucket       = "TELL_JOBS"
	ObjectBucket = "TELL_FILES"
	BlobBucket   = "TELL_BLOBS"
	consumerName = "tell-workers"
	// headerJob names the job of a message; headerOwner and headerWork
	// are its owner and budget as the submitter set them.
	headerJob   = "Tell-Job"
	headerOwner = "Tell-Owner"
	headerWork  = "Tell-Work"
	// outputsName is the object holding an attempt's outputs.
	outputsName = "outputs.tar"
	// DefaultInlineMax is the largest input carried in the job's message.
	DefaultInlineMax = 512 << 10
)

// Job states.
const (
	StateQueued   = "queued"
	StateRunning  = "running"
	StateDone     = "done"
	StateFailed   = "failed"
	StateCanceled = "canceled"
)

// Terminal reports whether state is final.
func Terminal(state string) bool {
	return state == StateDone || state == StateFailed || state == StateCanceled
}

// ErrNotFound is returned for a job id the queue does not hold.
var ErrNotFound = errors.New("no such job")

// Job is a job's record.
type Job struct {
	ID    string `json:"id"`
	Owner string `json:"owner,omitempty"`
	// Name is the input's display name (never a path on any machine).
	Name string `json:"name"`
	// Kind is "image", "video" or "frames" (a tar of frame images); Ext
	// the input file's extension, which decides how it is opened.
	Kind string  `json:"kind"`
	Ext  string  `json:"ext"`
	FPS  float64 `json:"fps,omitempty"`
	// InputBytes is the stored input's size (0 once it is removed).
	InputBytes int64 `json:"input_bytes"`
	// InputInline says the input travels in the job's message, not in the
	// object store.
	InputInline bool `json:"input_inline,omitempty"`
	// Work is the job's budget in its handler's unit (decoded
	// pixel-frames for an analysis; 0: none), set at submission and
	// carried in the job's message too: a handler stops a job that goes
	// past it.
	Work int64 `json:"work,omitempty"`
	// Held marks a queued job whose message is not published yet: it
	// waits for its owner's turn (Release publishes it).
	Held bool `json:"held,omitempty"`

	State  string `json:"state"`
	Frames int    `json:"frames"`
	Total  int    `json:"total"` // -1 when unknown
	Error  string `json:"error,omitempty"`

	Created  time.Time `json:"created"`
	Started  time.Time `json:"started,omitzero"`
	Finished time.Time `json:"finished,omitzero"`
	// Heartbeat is when the running worker last reported; Worker names it.
	Heartbeat time.Time `json:"heartbeat,omitzero"`
	Worker    string    `json:"worker,omitempty"`
	Attempts  int       `json:"attempts"`

	// Result is the handler's summary of a finished job.
	Result json.RawMessage `json:"result,omitempty"`
	// Outputs maps each output file to its size. They are the entries of
	// the tar object OutputObject, or (records of earlier versions, where
	// OutputObject is empty) objects named OutputPrefix+name.
	Outputs      map[string]int64 `json:"outputs,omitempty"`
	OutputPrefix string           `json:"output_prefix,omitempty"`
	OutputObject string           `json:"output_object,omitempty"`
}

// OutputBytes is the total size of the job's outputs.
func (j *Job) OutputBytes() int64 {
	var n int64
	for _, s := range j.Outputs {
		n += s
	}
	return n
}

func inputObject(id string) string { return id + "/input" }

// Config tunes a Queue. Zero fields take the defaults.
type Config struct {
	// Replicas of the stream and buckets (default 1; 3 on a 3-node cluster).
	Replicas int
	// AckWait is how long a worker may stay silent before its job is
	// delivered to another (default 30 s); workers report every
	// AckWait/3 while they run.
	AckWait time.Duration
	// MaxAttempts bounds how often a job is started: a job whose workers
	// died this many times fails instead of being tried forever (default 3).
	MaxAttempts int
	// InlineMax is the largest input carried in the job's message instead
	// of the object store (default DefaultInlineMax, never more than the
	// NATS server's payload limit less 64 KiB; negative: none). A message
	// saves the object store's round trips, its consumer and its deletes.
	InlineMax int
	// Manage makes or updates the stream, buckets and consumer with this
	// Config (tell serve does); otherwise Open binds to them as they are,
	// making them only when missing (tell worker, tell batch), so that
	// clients with other defaults do not change a fleet's settings.
	Manage bool
}

// Queue is a client of the job queue; it is safe for concurrent use.
type Queue struct {
	cfg    Config
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
	kv     jetstream.KeyValue
	obj    jetstream.ObjectStore
	blobs  jetstream.ObjectStore
	// openWatch opens the watch of the records (tests substitute one
	// that breaks off); nil: the bucket's WatchAll.
	openWatch func(context.Context) (jetstream.KeyWatcher, error)
}

// Open makes the stream, buckets and consumer when they do not exist yet
// and returns a client. It does not close nc.
func Open(ctx context.Context, nc *nats.Conn, cfg Config) (*Queue, error) {
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = 30 * time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 3
	}
	if cfg.InlineMax == 0 {
		cfg.InlineMax = DefaultInlineMax
	}
	if limit := int(nc.MaxPayload()) - 64<<10; cfg.InlineMax > limit {
		cfg.InlineMax = max(limit, -1)
	}
	// Under load (a 2-core machine analysing while it stores) the 5 s
	// default timed out reading inputs; jobs wait longer instead.
	js, err := jetstream.New(nc, jetstream.WithDefaultTimeout(30*time.Second))
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	q := &Queue{cfg: cfg, nc: nc, js: js}
	streamCfg := jetstream.StreamConfig{
		Name:        Stream,
		Description: "tell analysis jobs: one message (the job id, or a small input with the id in its header) per job, removed when a worker has stored its result",
		Subjects:    []string{Subject},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
		Duplicates:  10 * time.Minute,
	}
	kvCfg := jetstream.KeyValueConfig{Bucket: Bucket, Description: "tell job records", History: 1, Storage: jetstream.FileStorage, Replicas: cfg.Replicas}
	objCfg := jetstream.ObjectStoreConfig{Bucket: ObjectBucket, Description: "tell job inputs and outputs", Storage: jetstream.FileStorage, Replicas: cfg.Replicas}
	blobCfg := jetstream.ObjectStoreConfig{Bucket: BlobBucket, Description: "data shared by many tell jobs, named by its SHA-256", Storage: jetstream.FileStorage, Replicas: cfg.Replicas}
	consCfg := jetstream.ConsumerConfig{
		Durable:       consumerName,
		Description:   "tell workers",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.AckWait,
		MaxDeliver:    -1, // attempts are counted in the record (MaxAttempts)
		MaxAckPending: -1,
		Replicas:      cfg.Replicas,
	}
	if cfg.Manage {
		q.stream, err = js.CreateOrUpdateStream(ctx, streamCfg)
		if err == nil {
			q.kv, err = js.CreateOrUpdateKeyValue(ctx, kvCfg)
		}
		if err == nil {
			q.obj, err = js.CreateOrUpdateObjectStore(ctx, objCfg)
		}
		if err == nil {
			q.blobs, err = js.CreateOrUpdateObjectStore(ctx, blobCfg)
		}
		if err == nil {
			_, err = js.CreateOrUpdateConsumer(ctx, Stream, consCfg)
		}
	} else {
		// Bind to what the managing server made; make it when missing.
		if q.stream, err = js.Stream(ctx, Stream); errors.Is(err, jetstream.ErrStreamNotFound) {
			q.stream, err = js.CreateStream(ctx, streamCfg)
		}
		if err == nil {
			if q.kv, err = js.KeyValue(ctx, Bucket); errors.Is(err, jetstream.ErrBucketNotFound) {
				q.kv, err = js.CreateKeyValue(ctx, kvCfg)
			}
		}
		if err == nil {
			if q.obj, err = js.ObjectStore(ctx, ObjectBucket); errors.Is(err, jetstream.ErrBucketNotFound) {
				q.obj, err = js.CreateObjectStore(ctx, objCfg)
			}
		}
		if err == nil {
			if q.blobs, err = js.ObjectStore(ctx, BlobBucket); errors.Is(err, jetstream.ErrBucketNotFound) {
				q.blobs, err = js.CreateObjectStore(ctx, blobCfg)
			}
		}
		if err == nil {
			var c jetstream.Consumer
			if c, err = js.Consumer(ctx, Stream, consumerName); errors.Is(err, jetstream.ErrConsumerNotFound) {
				c, err = js.CreateConsumer(ctx, Stream, consCfg)
			}
			if err == nil {
				// Heartbeats follow the consumer's real ack wait.
				q.cfg.AckWait = c.CachedInfo().Config.AckWait
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("queue: JetStream resources: %w", err)
	}
	return q, nil
}

// Config returns the queue's configuration with defaults filled in.
func (q *Queue) Config() Config { return q.cfg }

// Ready checks that JetStream answers.
func (q *Queue) Ready(ctx context.Context) error {
	if !q.nc.IsConnected() {
		return errors.New("not connected to NATS")
	}
	if _, err := q.stream.Info(ctx); err != nil {
		return fmt.Errorf("JetStream: %w", err)
	}
	return nil
}

// validKey reports whether id can be a key and an object-name prefix.
func validKey(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Submit stores the input and the record of a new job and queues it; a
// job with Held set is stored but not queued until Release. Its ID is
// idempotent: when the queue already holds a job with that ID, Submit
// returns the stored job with created false and queues it again if it is
// still waiting (the message may have been lost before it was published;
// the stream drops duplicates). It then reads nothing from input, except
// for a waiting job whose input travels in its message: that message is
// made again from input.
func (q *Queue) Submit(ctx context.Context, j Job, input io.Reader) (stored Job, created bool, err error) {
	if !validKey(j.ID) {
		return Job{}, false, fmt.Errorf("queue: bad job id %q", j.ID)
	}
	if old, _, err := q.get(ctx, j.ID); err == nil {
		if old.State == StateQueued && !old.Held {
			var data []byte
			if old.InputInline {
				data, err = io.ReadAll(io.LimitReader(input, old.InputBytes+1))
				if err == nil && int64(len(data)) != old.InputBytes {
					err = fmt.Errorf("the input has %d bytes, the queued job's %d", len(data), old.InputBytes)
				}
				if err != nil {
					return old, false, fmt.Errorf("queue: queue %s again: %w", j.ID, err)
				}
			}
			err = q.publish(ctx, old, data)
		}
		return old, false, err
	} else if !errors.Is(err, ErrNotFound) {
		return Job{}, false, err
	}
	// An input that fits the message travels in it; a held job's waits in
	// the object store, since its message is made later.
	var head []byte
	if q.cfg.InlineMax > 0 && !j.Held {
		head, err = io.ReadAll(io.LimitReader(input, int64(q.cfg.InlineMax)+1))
		if err != nil {
			return Job{}, false, fmt.Errorf("queue: read input of %s: %w", j.ID, err)
		}
	}
	var data []byte
	if q.cfg.InlineMax > 0 && !j.Held && len(head) <= q.cfg.InlineMax {
		data, j.InputInline, j.InputBytes = head, true, int64(len(head))
	} else {
		j.InputInline = false
		info, err := q.obj.Put(ctx, jetstream.ObjectMeta{Name: inputObject(j.ID)}, io.MultiReader(bytes.NewReader(head), input))
		if err != nil {
			return Job{}, false, fmt.Errorf("queue: store input of %s: %w", j.ID, err)
		}
		j.InputBytes = int64(info.Size)
	}
	j.State = StateQueued
	j.Total = -1
	if j.Created.IsZero() {
		j.Created = time.Now().UTC()
	}
	b, err := json.Marshal(j)
	if err != nil {
		return Job{}, false, err
	}
	if _, err := q.kv.Create(ctx, j.ID, b); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			// Submitted concurrently under the same id: that one stands.
			old, _, gerr := q.get(ctx, j.ID)
			return old, false, gerr
		}
		if !j.InputInline {
			q.obj.Delete(context.WithoutCancel(ctx), inputObject(j.ID))
		}
		return Job{}, false, fmt.Errorf("queue: record %s: %w", j.ID, err)
	}
	if j.Held {
		return j, true, nil
	}
	if err := q.publish(ctx, j, data); err != nil {
		// The record stays queued: submitting the id again publishes it.
		return j, true, err
	}
	return j, true, nil
}

// Release queues a held job: it publishes its message, then marks the
// record as no longer held. A job that is no longer held and waiting (a
// worker has it, it was cancelled) is left alone.
func (q *Queue) Release(ctx context.Context, id string) (Job, error) {
	j, _, err := q.get(ctx, id)
	if err != nil {
		return Job{}, err
	}
	if !j.Held || j.State != StateQueued {
		return j, nil
	}
	// Published first: a crash between the two leaves a held record whose
	// message exists, which a second Release publishes again harmlessly
	// (de-duplicated, or refused by the worker as a duplicate delivery).
	if err := q.publish(ctx, j, nil); err != nil {
		return j, err
	}
	return q.update(ctx, id, func(j *Job) error {
		if !j.Held {
			return errStop
		}
		j.Held = false
		return nil
	})
}

// publish queues j's message. Its de-duplication id is the job's id and
// creation time: a job submitted twice is queued once, while a job deleted
// and submitted again under the same id (a rerun of tell batch) is a new
// message, not a duplicate the stream would drop. The headers name the
// job, its owner and its budget; a job whose input is inline has it as the
// message's data, any other its id.
func (q *Queue) publish(ctx context.Context, j Job, input []byte) error {
	msgID := j.ID + "@" + strconv.FormatInt(j.Created.UnixNano(), 36)
	m := nats.NewMsg(Subject)
	m.Header.Set(headerJob, j.ID)
	m.Header.Set(headerOwner, j.Owner)
	if j.Work > 0 {
		m.Header.Set(headerWork, strconv.FormatInt(j.Work, 10))
	}
	if j.InputInline {
		m.Data = input
	} else {
		m.Data = []byte(j.ID)
	}
	_, err := q.js.PublishMsg(ctx, m, jetstream.WithMsgID(msgID))
	if err != nil {
		return fmt.Errorf("queue: publish %s: %w", j.ID, err)
	}
	return nil
}

// Get returns the job with id.
func (q *Queue) Get(ctx context.Context, id string) (Job, error) {
	j, _, err := q.get(ctx, id)
	return j, err
}

func (q *Queue) get(ctx context.Context, id string) (Job, uint64, error) {
	if !validKey(id) {
		return Job{}, 0, ErrNotFound
	}
	e, err := q.kv.Get(ctx, id)
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
			return Job{}, 0, ErrNotFound
		}
		return Job{}, 0, fmt.Errorf("queue: job %s: %w", id, err)
	}
	var j Job
	if err := json.Unmarshal(e.Value(), &j); err != nil {
		return Job{}, 0, fmt.Errorf("queue: job %s: bad record: %w", id, err)
	}
	return j, e.Revision(), nil
}

// errStop ends update without an error.
var errStop = errors.New("stop")

// update applies change to the job's current record and stores it if its
// revision did not move meanwhile, retrying on conflicts. change returns
// errStop to leave the record as it is.
func (q *Queue) update(ctx context.Context, id string, change func(*Job) error) (Job, error) {
	j, _, err := q.updateFrom(ctx, id, Job{}, 0, change)
	return j, err
}

// updateFrom is update starting from cur, the record as this process
// stored it at revision rev (0: unknown): when nobody changed it since, the
// change costs one round trip instead of a read and a write. change sees
// the fresh record whenever it refuses the known one, so its decisions are
// the same. It returns the record stored and its revision.
func (q *Queue) updateFrom(ctx context.Context, id string, cur Job, rev uint64, change func(*Job) error) (Job, uint64, error) {
	known := rev != 0 // the first try uses cur without reading
	for try := 0; ; try++ {
		j := cur
		if try > 0 || !known {
			var err error
			if j, rev, err = q.get(ctx, id); err != nil {
				return Job{}, 0, err
			}
		}
		if err := change(&j); err != nil {
			if try == 0 && known {
				continue // the known record may be stale: decide on the fresh one
			}
			return j, rev, err
		}
		b, err := json.Marshal(j)
		if err != nil {
			return Job{}, 0, err
		}
		if nrev, err := q.kv.Update(ctx, id, b, rev); err == nil {
			return j, nrev, nil
		} else if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) && !errors.Is(err, jetstream.ErrKeyExists) || try > 50 {
			return Job{}, 0, fmt.Errorf("queue: update %s: %w", id, err)
		}
	}
}

// Jobs returns every job, newest first.
func (q *Queue) Jobs(ctx context.Context) ([]Job, error) {
	lister, err := q.kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("queue: list jobs: %w", err)
	}
	var out []Job
	for k := range lister.Keys() {
		j, _, err := q.get(ctx, k)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			lister.Stop()
			return nil, err
		}
		out = append(out, j)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Created.After(out[b].Created) })
	return out, nil
}

// Cancel marks a job canceled; a worker running it stops. Outputs stored
// so far stay until Delete.
func (q *Queue) Cancel(ctx context.Context, id string) (Job, error) {
	return q.update(ctx, id, func(j *Job) error {
		if Terminal(j.State) {
			return errStop
		}
		j.State, j.Error, j.Finished = StateCanceled, "cancelled", time.Now().UTC()
		return nil
	})
}

// Delete removes a job: its record, input and outputs. A worker running it
// stops (it watches the record) and removes what it was writing.
func (q *Queue) Delete(ctx context.Context, id string) error {
	j, _, err := q.get(ctx, id)
	if err != nil {
		return err
	}
	if err := q.kv.Purge(ctx, id); err != nil {
		return fmt.Errorf("queue: delete %s: %w", id, err)
	}
	q.deleteFiles(ctx, j)
	return nil
}

func (q *Queue) deleteFiles(ctx context.Context, j Job) {
	if !j.InputInline && j.InputBytes > 0 {
		q.obj.Delete(ctx, inputObject(j.ID))
	}
	if j.OutputObject != "" {
		q.obj.Delete(ctx, j.OutputObject)
		return
	}
	for name := range j.Outputs {
		q.obj.Delete(ctx, j.OutputPrefix+name)
	}
}

// Output opens one of a job's outputs.
func (q *Queue) Output(ctx context.Context, j Job, name string) (io.ReadCloser, int64, error) {
	size, ok := j.Outputs[name]
	if !ok {
		return nil, 0, ErrNotFound
	}
	object := j.OutputPrefix + name
	if j.OutputObject != "" {
		object = j.OutputObject
	}
	r, err := q.obj.Get(ctx, object)
	if err != nil {
		if errors.Is(err, jetstream.ErrObjectNotFound) {
			return nil, 0, ErrNotFound
		}
		return nil, 0, fmt.Errorf("queue: output %s of %s: %w", name, j.ID, err)
	}
	if j.OutputObject == "" {
		return r, size, nil
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err != nil {
			r.Close()
			if err == io.EOF {
				return nil, 0, ErrNotFound
			}
			return nil, 0, fmt.Errorf("queue: output %s of %s: %w", name, j.ID, err)
		}
		if h.Name == name && h.Typeflag == tar.TypeReg {
			return struct {
				io.Reader
				io.Closer
			}{tr, r}, size, nil
		}
	}
}

// Depth is the number of jobs in the work queue: waiting or being run.
func (q *Queue) Depth(ctx context.Context) (int, error) {
	info, err := q.stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("queue: depth: %w", err)
	}
	return int(info.State.Msgs), nil
}

// Event is a change of a job's record seen by Watch.
type Event struct {
	Job     Job
	Deleted bool // the job was deleted; Job holds only its ID
	Initial bool // part of the replay of the stored jobs
	Caught  bool // the replay is over (Job is empty)
	// Reset starts a new replay after the watch broke off (Err): records
	// not replayed before the next Caught are gone.
	Reset bool
	// Err says the watch broke off; Watch starts it again, with a Reset.
	Err error
}

// errWatchClosed is the Err of an Event when the watch's updates ended
// without being asked to (the connection closed, the server dropped it).
var errWatchClosed = errors.New("queue: the watch of job records stopped")

// Watch calls fn with every stored job, then with every change, until ctx
// ends. fn runs on one goroutine, in order. When the watch breaks off, fn
// gets an Event with Err, and Watch starts it again (retrying with a
// growing pause): an Event with Reset, then a new replay.
func (q *Queue) Watch(ctx context.Context, fn func(Event)) error {
	open := q.openWatch
	if open == nil {
		open = func(ctx context.Context) (jetstream.KeyWatcher, error) { return q.kv.WatchAll(ctx) }
	}
	w, err := open(ctx)
	if err != nil {
		return fmt.Errorf("queue: watch: %w", err)
	}
	go func() {
		pause := 100 * time.Millisecond
		for {
			if !watchOnce(ctx, w, fn) {
				return
			}
			// The updates ended on their own: say so, then start again.
			fn(Event{Err: errWatchClosed})
			for {
				if !sleepCtx(ctx, pause) {
					return
				}
				pause = min(2*pause, 10*time.Second)
				if w, err = open(ctx); err == nil {
					break
				}
				fn(Event{Err: fmt.Errorf("queue: watch again: %w", err)})
			}
			fn(Event{Reset: true})
		}
	}()
	return nil
}

// watchOnce relays w's updates to fn until ctx ends (false) or the updates
// end by themselves (true).
func watchOnce(ctx context.Context, w jetstream.KeyWatcher, fn func(Event)) (broken bool) {
	defer w.Stop()
	initial := true
	for {
		select {
		case <-ctx.Done():
			return false
		case e, ok := <-w.Updates():
			if !ok {
				return ctx.Err() == nil
			}
			if e == nil {
				initial = false
				fn(Event{Caught: true})
				continue
			}
			if e.Operation() != jetstream.KeyValuePut {
				fn(Event{Job: Job{ID: e.Key()}, Deleted: true, Initial: initial})
				continue
			}
			var j Job
			if json.Unmarshal(e.Value(), &j) == nil {
				fn(Event{Job: j, Initial: initial})
			}
		}
	}
}

// sleepCtx waits d; false if ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Sweep removes objects that belong to no job, or to an attempt whose
// result was not kept, when they are older than minAge (an object younger
// than that may belong to a Submit or a worker still writing). It returns
// how many it removed.
func (q *Queue) Sweep(ctx context.Context, minAge time.Duration) (int, error) {
	infos, err := q.obj.List(ctx)
	if err != nil {
		if errors.Is(err, jetstream.ErrNoObjectsFound) {
			return 0, nil
		}
		return 0, fmt.Errorf("queue: sweep: %w", err)
	}
	jobs := map[string]*Job{}
	removed := 0
	for _, info := range infos {
		if time.Since(info.ModTime) < minAge {
			continue
		}
		id, _, _ := strings.Cut(info.Name, "/")
		j, seen := jobs[id]
		if !seen {
			if got, _, err := q.get(ctx, id); err == nil {
				j = &got
			} else if !errors.Is(err, ErrNotFound) {
				return removed, err
			}
			jobs[id] = j
		}
		keep := false
		switch {
		case j == nil:
		case !Terminal(j.State):
			keep = true // the input, or outputs a worker is writing
		case j.OutputObject != "":
			keep = info.Name == j.OutputObject
		case j.OutputPrefix != "" && strings.HasPrefix(info.Name, j.OutputPrefix):
			_, keep = j.Outputs[strings.TrimPrefix(info.Name, j.OutputPrefix)]
		}
		if !keep {
			if err := q.obj.Delete(ctx, info.Name); err == nil {
				removed++
			}
		}
	}
	return removed, nil
}
