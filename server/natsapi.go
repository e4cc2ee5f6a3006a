package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tell-project/tell/queue"
	"github.com/tell-project/tell/video"
)

// The server's API on NATS, for tell batch: the same submissions as POST
// /v1/analyze (rate, queue room, the key's quotas, budgets), the same
// reads, for clients that reach NATS and not HTTP. A request's subject
// names its owner, queue.APISubject.OWNER.OP, and NATS's permissions keep
// a batch user to its own name (queue.User.Permissions), so the owner of
// a job is the authenticated one, never what a message says.
//
// Operations (request and reply; errors are {"error","status"}):
//
//	OWNER.get     {"id"} or {"key"}          → NATSJob
//	OWNER.begin   {}                         → {"upload","server","chunk"}
//	OWNER.up.SERVER.UPLOAD   data, header Tell-Offset → {}
//	OWNER.done.SERVER.UPLOAD {"key","name","kind","fps","size"} → NATSJob
//	OWNER.output  {"id","name","offset"}     → data; header Tell-EOF at the end
//	OWNER.delete  {"id"}                     → {}
//
// An upload's chunks go to the server that began it (its id in the
// subject); other requests to any server of the queue group. A finished
// job is announced on queue.EventSubject.OWNER as {"id","status"}.

// NATSJob is a job as the NATS API shows it: its status and the names and
// sizes of its outputs.
type NATSJob struct {
	JobStatus
	Outputs map[string]int64 `json:"outputs,omitempty"`
}

// natsError is the reply to a refused request.
type natsError struct {
	Error  string  `json:"error"`
	Status int     `json:"status"`
	Retry  float64 `json:"retry_after,omitempty"` // seconds
}

// natsChunk is the size of an upload's or an output's chunks: under
// NATS's default payload limit (1 MiB) with room for headers.
const natsChunk = 512 << 10

// natsUpload is an upload in progress over NATS.
type natsUpload struct {
	owner   string
	path    string
	f       *os.File
	n       int64
	last    time.Time
	release func() // its upload place (taken with the first bytes)
	kind    string // sniffed from the first bytes
	ext     string
}

// outReader is an output being read in chunks, at pos: the next chunk
// continues it instead of reading the output's tar from its start again.
type outReader struct {
	rd        io.ReadCloser
	pos, size int64
	last      time.Time
}

type natsAPI struct {
	s      *Server
	nc     *nats.Conn
	id     string // this server's id in upload subjects
	auth   bool
	mu     sync.Mutex
	ups    map[string]*natsUpload // by owner/upload
	outs   map[string]*outReader  // outputs being read, by owner/id/name
	work   chan struct{}          // bounds the requests served at once
	subs   []*nats.Subscription
	closed bool
}

// ServeNATS answers the NATS API on nc until the server closes.
// authenticated says the NATS server holds each client to its own owner
// name (users with permissions): without it, every request is the
// anonymous owner's, and its owner token must be "_".
func (s *Server) ServeNATS(nc *nats.Conn, authenticated bool) error {
	var b [8]byte
	rand.Read(b[:])
	a := &natsAPI{s: s, nc: nc, id: hex.EncodeToString(b[:]), auth: authenticated, ups: map[string]*natsUpload{}, outs: map[string]*outReader{}, work: make(chan struct{}, 16)}
	subject := queue.APISubject + ".*."
	add := func(sub *nats.Subscription, err error) error {
		if err == nil {
			a.subs = append(a.subs, sub)
		}
		return err
	}
	if err := errors.Join(
		add(nc.QueueSubscribe(subject+"*", "tell-api", a.serve)),
		add(nc.Subscribe(subject+"up."+a.id+".*", a.chunk)),
		add(nc.Subscribe(subject+"done."+a.id+".*", a.serve)),
	); err != nil {
		a.close()
		return fmt.Errorf("server: NATS API: %w", err)
	}
	if err := nc.Flush(); err != nil {
		a.close()
		return fmt.Errorf("server: NATS API: %w", err)
	}
	s.mu.Lock()
	s.nats = a
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-s.ctx.Done():
				a.close()
				return
			case now := <-t.C:
				a.sweep(now)
			}
		}
	}()
	return nil
}

func (a *natsAPI) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
	for _, sub := range a.subs {
		sub.Unsubscribe()
	}
	for k, u := range a.ups {
		a.dropLocked(k, u)
	}
	for k, o := range a.outs {
		o.rd.Close()
		delete(a.outs, k)
	}
}

// sweep drops uploads that sent nothing for twice the body grace.
func (a *natsAPI) sweep(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, u := range a.ups {
		if now.Sub(u.last) > 2*a.s.cfg.BodyGrace {
			a.s.met.rejected.WithLabelValues(rejectSlow).Inc()
			a.dropLocked(k, u)
		}
	}
	for k, o := range a.outs {
		if now.Sub(o.last) > 30*time.Second {
			o.rd.Close()
			delete(a.outs, k)
		}
	}
}

func (a *natsAPI) dropLocked(k string, u *natsUpload) {
	u.f.Close()
	os.Remove(u.path)
	if u.release != nil {
		u.release()
	}
	delete(a.ups, k)
}

// owner reads a request's owner from its subject.
func (a *natsAPI) owner(subject string) (owner, op string, rest []string, ok bool) {
	parts := strings.Split(strings.TrimPrefix(subject, queue.APISubject+"."), ".")
	if len(parts) < 2 {
		return "", "", nil, false
	}
	owner, op, rest = parts[0], parts[1], parts[2:]
	if !a.auth {
		if owner != "_" {
			return "", "", nil, false
		}
		owner = ""
	}
	return owner, op, rest, true
}

func replyJSON(m *nats.Msg, v any) {
	b, _ := json.Marshal(v)
	m.Respond(b)
}

func (a *natsAPI) refuse(m *nats.Msg, reason string, status int, retry time.Duration, format string, args ...any) {
	if reason != "" {
		a.s.met.rejected.WithLabelValues(reason).Inc()
	}
	replyJSON(m, natsError{Error: fmt.Sprintf(format, args...), Status: status, Retry: retry.Seconds()})
}

func (a *natsAPI) refuseErr(m *nats.Msg, err error) {
	var ie *inputError
	if errors.As(err, &ie) {
		a.refuse(m, ie.reason, ie.status, ie.retry, "%s", ie.msg)
		return
	}
	a.s.log.Error("NATS API", "err", err)
	a.refuse(m, "", http.StatusInternalServerError, 0, "the request failed")
}

// serve runs a request on its own goroutine (bounded): a submission's
// budget check or a read must not hold up the others.
func (a *natsAPI) serve(m *nats.Msg) {
	select {
	case a.work <- struct{}{}:
	default:
		a.refuse(m, rejectUploads, http.StatusTooManyRequests, time.Second, "too many requests at once; retry shortly")
		return
	}
	go func() {
		defer func() { <-a.work }()
		a.handle(m)
	}()
}

func (a *natsAPI) handle(m *nats.Msg) {
	owner, op, rest, ok := a.owner(m.Subject)
	if !ok {
		a.refuse(m, rejectAuth, http.StatusUnauthorized, 0, "this server's NATS has no users: use the owner \"_\"")
		return
	}
	ctx, cancel := context.WithTimeout(a.s.ctx, 2*time.Minute)
	defer cancel()
	key := "key:" + owner
	if owner == "" {
		key = "nats"
	}
	limit := a.s.limit
	if op == "get" || op == "output" {
		limit = a.s.readLimit
	}
	if ok, wait := limit.allow(key, time.Now()); !ok {
		a.refuse(m, rejectRate, http.StatusTooManyRequests, wait, "too many requests for this key; retry in %s s", retryAfter(wait))
		return
	}
	var req struct {
		ID     string  `json:"id"`
		Key    string  `json:"key"`
		Name   string  `json:"name"`
		Kind   string  `json:"kind"`
		FPS    float64 `json:"fps"`
		Size   int64   `json:"size"`
		Offset int64   `json:"offset"`
	}
	if len(m.Data) > maxJSONBody || len(m.Data) > 0 && json.Unmarshal(m.Data, &req) != nil {
		a.refuse(m, rejectBad, http.StatusBadRequest, 0, "the request is not a JSON object")
		return
	}
	if req.Key != "" {
		if len(req.Key) > maxIdempotencyKey {
			a.refuse(m, rejectBad, http.StatusBadRequest, 0, "key: at most %d characters", maxIdempotencyKey)
			return
		}
		req.ID = idFor(owner, req.Key)
	}
	switch op {
	case "get":
		j, ok := a.job(ctx, owner, req.ID)
		if !ok {
			a.refuse(m, "", http.StatusNotFound, 0, "no job %q", displayName(req.ID, ""))
			return
		}
		replyJSON(m, natsJob(j))
	case "delete":
		j, ok := a.job(ctx, owner, req.ID)
		if !ok {
			a.refuse(m, "", http.StatusNotFound, 0, "no job %q", displayName(req.ID, ""))
			return
		}
		if err := a.s.q.Delete(ctx, j.ID); err != nil && !errors.Is(err, queue.ErrNotFound) {
			a.refuse(m, rejectNotReady, http.StatusServiceUnavailable, time.Second, "the job queue is not available; retry later")
			return
		}
		a.s.index.remove(j.ID)
		a.s.wakeDispatcher()
		replyJSON(m, struct{}{})
	case "output":
		a.output(ctx, m, owner, req.ID, req.Name, req.Offset)
	case "begin":
		// Room in the queue and the key's quota before any byte is sent.
		if a.s.index.total() >= a.s.cfg.MaxJobs {
			a.s.evict(time.Now(), 1)
		}
		if a.s.index.total() >= a.s.cfg.MaxJobs {
			a.refuse(m, rejectQueue, http.StatusTooManyRequests, a.s.queueWait(rejectQueue), "the server keeps %d jobs, none of them finished; retry later", a.s.cfg.MaxJobs)
			return
		}
		if reason := a.s.quota.room(owner, a.s.index.count(StateQueued), a.s.index.owner(owner)); reason != "" {
			a.refuse(m, reason, http.StatusTooManyRequests, a.s.queueWait(reason), "no room for another job of this key now (%s); retry later", reason)
			return
		}
		var b [16]byte
		rand.Read(b[:])
		up := hex.EncodeToString(b[:])
		f, err := os.CreateTemp(a.s.uploads, "nats-*")
		if err != nil {
			a.refuseErr(m, err)
			return
		}
		a.mu.Lock()
		if a.closed {
			a.mu.Unlock()
			f.Close()
			os.Remove(f.Name())
			return
		}
		a.ups[owner+"/"+up] = &natsUpload{owner: owner, path: f.Name(), f: f, last: time.Now()}
		a.mu.Unlock()
		replyJSON(m, map[string]any{"upload": up, "server": a.id, "chunk": natsChunk})
	case "done":
		if len(rest) != 2 {
			a.refuse(m, rejectBad, http.StatusBadRequest, 0, "no such upload")
			return
		}
		a.done(ctx, m, owner, rest[1], req.Key, req.ID, req.Name, req.Kind, req.FPS, req.Size)
	default:
		a.refuse(m, rejectBad, http.StatusNotFound, 0, "no operation %q", displayName(op, ""))
	}
}

// job is owner's job id (an admin's: any), as GET /v1/jobs/{id} finds it.
func (a *natsAPI) job(ctx context.Context, owner, id string) (queue.Job, bool) {
	if !validID(id) {
		return queue.Job{}, false
	}
	j, ok := a.s.index.get(id)
	if !ok {
		var err error
		if j, err = a.s.q.Get(ctx, id); err != nil {
			return queue.Job{}, false
		}
	}
	return j, j.Owner == owner || owner != "" && a.s.cfg.Keys.Admin(owner)
}

func natsJob(j queue.Job) NATSJob {
	return NATSJob{JobStatus: statusOf(j), Outputs: j.Outputs}
}

// chunk appends an upload's chunk at its offset; chunks come in order,
// one at a time (the client waits for each reply).
func (a *natsAPI) chunk(m *nats.Msg) {
	owner, _, rest, ok := a.owner(m.Subject)
	if !ok || len(rest) != 2 {
		a.refuse(m, rejectAuth, http.StatusUnauthorized, 0, "not an upload of this owner")
		return
	}
	k := owner + "/" + rest[1]
	a.mu.Lock()
	u := a.ups[k]
	a.mu.Unlock()
	if u == nil {
		a.refuse(m, rejectBad, http.StatusNotFound, 0, "no such upload (it may have been idle too long)")
		return
	}
	off, err := strconv.ParseInt(m.Header.Get("Tell-Offset"), 10, 64)
	if err != nil || off != u.n {
		a.refuse(m, rejectBad, http.StatusBadRequest, 0, "chunk at offset %q, the upload has %d bytes", m.Header.Get("Tell-Offset"), u.n)
		return
	}
	if u.n+int64(len(m.Data)) > a.s.cfg.MaxUpload {
		a.mu.Lock()
		a.dropLocked(k, u)
		a.mu.Unlock()
		a.refuse(m, rejectTooLarge, http.StatusRequestEntityTooLarge, 0, "upload: larger than the limit of %s", sizeText(a.s.cfg.MaxUpload))
		return
	}
	if u.n == 0 {
		// The first bytes: what it is, and its upload place.
		ext, kind := video.Sniff(m.Data)
		if ext == "" && strings.HasPrefix(m.Header.Get("Tell-Kind"), "frames") {
			ext, kind = ".tar", "frames"
		}
		if ext == "" {
			a.mu.Lock()
			a.dropLocked(k, u)
			a.mu.Unlock()
			a.refuse(m, rejectMedia, http.StatusUnsupportedMediaType, 0, "not a PNG, JPEG or BMP image, a known video, nor a tar of frames")
			return
		}
		release := a.s.uploadsIn.take("key:"+owner, owner != "")
		if release == nil {
			a.mu.Lock()
			a.dropLocked(k, u)
			a.mu.Unlock()
			a.refuse(m, rejectUploads, http.StatusTooManyRequests, time.Second, "too many uploads in progress; retry shortly")
			return
		}
		u.release, u.kind, u.ext = release, kind, ext
	}
	if _, err := u.f.Write(m.Data); err != nil {
		a.refuseErr(m, err)
		return
	}
	a.mu.Lock()
	u.n += int64(len(m.Data))
	u.last = time.Now()
	a.mu.Unlock()
	replyJSON(m, struct{}{})
}

// done submits a finished upload as POST /v1/analyze would.
func (a *natsAPI) done(ctx context.Context, m *nats.Msg, owner, up, key, id, name string, kind string, fps float64, size int64) {
	k := owner + "/" + up
	a.mu.Lock()
	u := a.ups[k]
	delete(a.ups, k)
	a.mu.Unlock()
	if u == nil {
		a.refuse(m, rejectBad, http.StatusNotFound, 0, "no such upload (it may have been idle too long)")
		return
	}
	defer os.Remove(u.path)
	defer func() {
		if u.release != nil {
			u.release()
		}
	}()
	if err := u.f.Close(); err != nil {
		a.refuseErr(m, err)
		return
	}
	switch {
	case u.n == 0:
		a.refuse(m, rejectBad, http.StatusBadRequest, 0, "upload: the file is empty")
		return
	case u.n != size:
		a.refuse(m, rejectBad, http.StatusBadRequest, 0, "upload: %d bytes arrived, %d were sent", u.n, size)
		return
	case key == "":
		a.refuse(m, rejectBad, http.StatusBadRequest, 0, "a submission needs a key (its idempotency key)")
		return
	case fps != 0 && video.CheckFPS(fps) != nil:
		a.refuse(m, rejectBad, http.StatusBadRequest, 0, "fps %g: want 0 (a video's own rate) or %d to %d", fps, video.MinFPS, video.MaxFPS)
		return
	case kind != "" && kind != u.kind:
		a.refuse(m, rejectMedia, http.StatusUnsupportedMediaType, 0, "the upload is a %s, not a %s", u.kind, displayName(kind, "?"))
		return
	}
	in := &input{path: u.path, name: displayName(name, u.kind+u.ext), kind: u.kind, ext: u.ext, fps: fps, cleanup: func() {}}
	if u.kind == "frames" {
		// A folder of frames travels as a tar: unpacked and checked frame
		// by frame, as a server-side folder is.
		dir, err := os.MkdirTemp(a.s.uploads, "frames-")
		if err != nil {
			a.refuseErr(m, err)
			return
		}
		defer os.RemoveAll(dir)
		f, err := os.Open(u.path)
		if err == nil {
			err = queue.Untar(f, filepath.Join(dir, "f"), a.s.cfg.Budget.withDefaults().MaxFrames)
			f.Close()
		}
		if err != nil {
			a.refuse(m, rejectBad, http.StatusUnprocessableEntity, 0, "%s: %v", in.name, scrubPaths(err, dir, in.name))
			return
		}
		files, err := video.FrameFiles(filepath.Join(dir, "f"))
		if err != nil || len(files) == 0 {
			a.refuse(m, rejectBudget, http.StatusUnprocessableEntity, 0, "%s: the folder holds no PNG, JPEG or BMP frames", in.name)
			return
		}
		in.path, in.files = filepath.Join(dir, "f"), files
	}
	j, _, err := a.s.submit(ctx, owner, id, in)
	if err != nil {
		a.refuseErr(m, err)
		return
	}
	replyJSON(m, natsJob(j))
}

// output sends one chunk of an output from offset; the last has the
// header Tell-EOF.
func (a *natsAPI) output(ctx context.Context, m *nats.Msg, owner, id, name string, off int64) {
	j, ok := a.job(ctx, owner, id)
	if !ok {
		a.refuse(m, "", http.StatusNotFound, 0, "no job %q", displayName(id, ""))
		return
	}
	if !queue.Terminal(j.State) {
		a.refuse(m, "", http.StatusConflict, 0, "job %s is %s; outputs come when it has finished", j.ID, j.State)
		return
	}
	if _, known := outputHeaders[name]; !known {
		a.refuse(m, "", http.StatusNotFound, 0, "no such output %q; a job has %s", displayName(name, ""), strings.Join(outputFiles, ", "))
		return
	}
	k := owner + "/" + j.ID + "/" + name
	a.mu.Lock()
	o := a.outs[k]
	delete(a.outs, k)
	a.mu.Unlock()
	if o != nil && o.pos != off {
		o.rd.Close()
		o = nil
	}
	if o == nil {
		rd, size, err := a.s.q.Output(ctx, j, name)
		if err != nil {
			a.refuse(m, "", http.StatusNotFound, 0, "job %s has no %s (status %s)", j.ID, name, j.State)
			return
		}
		o = &outReader{rd: rd, size: size}
		if off < 0 || off > size {
			rd.Close()
			a.refuse(m, rejectBad, http.StatusBadRequest, 0, "offset %d of %d bytes", off, size)
			return
		}
		if _, err := io.CopyN(io.Discard, rd, off); err != nil {
			rd.Close()
			a.refuseErr(m, err)
			return
		}
		o.pos = off
	}
	buf := make([]byte, min(natsChunk, o.size-o.pos))
	if _, err := io.ReadFull(o.rd, buf); err != nil {
		o.rd.Close()
		a.refuseErr(m, err)
		return
	}
	o.pos += int64(len(buf))
	r := nats.NewMsg(m.Reply)
	r.Data = buf
	r.Header.Set("Tell-Size", strconv.FormatInt(o.size, 10))
	if o.pos >= o.size {
		r.Header.Set("Tell-EOF", "1")
		o.rd.Close()
	} else {
		o.last = time.Now()
		a.mu.Lock()
		if a.closed {
			o.rd.Close()
		} else if old := a.outs[k]; old != nil {
			old.rd.Close()
			a.outs[k] = o
		} else {
			a.outs[k] = o
		}
		a.mu.Unlock()
	}
	m.RespondMsg(r)
}

// announce tells owner's batch clients that a job ended.
func (a *natsAPI) announce(j queue.Job) {
	owner := j.Owner
	if !a.auth {
		owner = "_"
	} else if owner == "" {
		return
	}
	b, _ := json.Marshal(map[string]string{"id": j.ID, "status": j.State})
	a.nc.Publish(queue.EventSubject+"."+owner, b)
}
