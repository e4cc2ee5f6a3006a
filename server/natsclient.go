package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tell-project/tell/queue"
)

// NATSClient submits jobs to tell serve and reads them back through its
// NATS API (ServeNATS): what tell batch uses. It cannot name another
// owner: the NATS server lets it publish under its own name only.
type NATSClient struct {
	nc    *nats.Conn
	owner string // the subject token: the user's name, "_" without users
}

// NewNATSClient is a client for owner, the NATS user's name ("" on a NATS
// server without users).
func NewNATSClient(nc *nats.Conn, owner string) *NATSClient {
	if owner == "" {
		owner = "_"
	}
	return &NATSClient{nc: nc, owner: owner}
}

// RemoteError is a request the server refused: Status is the HTTP status
// it stands for (429: retry after Retry), Msg its words.
type RemoteError struct {
	Status int
	Msg    string
	Retry  time.Duration
}

func (e *RemoteError) Error() string { return e.Msg }

// ErrNoJob is returned (wrapped) for a job the server does not hold for
// this owner.
var ErrNoJob = errors.New("no such job")

func (e *RemoteError) Unwrap() error {
	if e.Status == http.StatusNotFound {
		return ErrNoJob
	}
	return nil
}

func (c *NATSClient) subject(op string) string { return queue.APISubject + "." + c.owner + "." + op }

// request sends m and decodes an error reply.
func (c *NATSClient) request(ctx context.Context, m *nats.Msg) (*nats.Msg, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
	}
	r, err := c.nc.RequestMsgWithContext(ctx, m)
	if err != nil {
		if errors.Is(err, nats.ErrNoResponders) {
			return nil, fmt.Errorf("tell serve does not answer on NATS (%s): is it running with this NATS, and do these credentials allow %s? %w", m.Subject, c.subject(">"), err)
		}
		return nil, fmt.Errorf("%s: %w", m.Subject, err)
	}
	if r.Header.Get("Tell-Size") == "" && len(r.Data) > 0 && r.Data[0] == '{' {
		var e natsError
		if json.Unmarshal(r.Data, &e) == nil && e.Error != "" {
			return nil, &RemoteError{Status: e.Status, Msg: e.Error, Retry: time.Duration(e.Retry * float64(time.Second))}
		}
	}
	return r, nil
}

func (c *NATSClient) call(ctx context.Context, subject string, req, reply any) error {
	m := nats.NewMsg(subject)
	if req != nil {
		m.Data, _ = json.Marshal(req)
	}
	r, err := c.request(ctx, m)
	if err != nil {
		return err
	}
	if reply == nil {
		return nil
	}
	if err := json.Unmarshal(r.Data, reply); err != nil {
		return fmt.Errorf("%s: bad reply: %w", subject, err)
	}
	return nil
}

// Get returns a job by its id.
func (c *NATSClient) Get(ctx context.Context, id string) (NATSJob, error) {
	var j NATSJob
	err := c.call(ctx, c.subject("get"), map[string]string{"id": id}, &j)
	return j, err
}

// Find returns the job submitted under key (Submit's key), if any.
func (c *NATSClient) Find(ctx context.Context, key string) (NATSJob, error) {
	var j NATSJob
	err := c.call(ctx, c.subject("get"), map[string]string{"key": key}, &j)
	return j, err
}

// Delete cancels a job and deletes its files.
func (c *NATSClient) Delete(ctx context.Context, id string) error {
	return c.call(ctx, c.subject("delete"), map[string]string{"id": id}, nil)
}

// Submit uploads an input and queues its analysis: kind is "image",
// "video" or "frames" (a tar of frames, as queue.Tar writes); key names
// the job, so that submitting the same key again returns the job
// submitted before (check with Find first to skip the upload). The
// server admits it as it admits an upload (429 RemoteErrors say when to
// retry).
func (c *NATSClient) Submit(ctx context.Context, key, name, kind string, fps float64, r io.Reader) (NATSJob, error) {
	var begin struct {
		Upload, Server string
		Chunk          int
	}
	if err := c.call(ctx, c.subject("begin"), struct{}{}, &begin); err != nil {
		return NATSJob{}, err
	}
	if begin.Chunk <= 0 || begin.Chunk > int(c.nc.MaxPayload())-4096 {
		begin.Chunk = min(natsChunk, int(c.nc.MaxPayload())-4096)
	}
	up := c.subject("up." + begin.Server + "." + begin.Upload)
	buf := make([]byte, begin.Chunk)
	var off int64
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			m := nats.NewMsg(up)
			m.Data = buf[:n]
			m.Header.Set("Tell-Offset", strconv.FormatInt(off, 10))
			if kind == "frames" {
				m.Header.Set("Tell-Kind", "frames")
			}
			if _, err := c.request(ctx, m); err != nil {
				return NATSJob{}, err
			}
			off += int64(n)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return NATSJob{}, fmt.Errorf("reading %s: %w", name, err)
		}
	}
	var j NATSJob
	err := c.call(ctx, c.subject("done."+begin.Server+"."+begin.Upload),
		map[string]any{"key": key, "name": name, "kind": kind, "fps": fps, "size": off}, &j)
	return j, err
}

// Output writes one of a finished job's outputs to w.
func (c *NATSClient) Output(ctx context.Context, id, name string, w io.Writer) error {
	var off int64
	for {
		m := nats.NewMsg(c.subject("output"))
		m.Data, _ = json.Marshal(map[string]any{"id": id, "name": name, "offset": off})
		r, err := c.request(ctx, m)
		if err != nil {
			return err
		}
		if _, err := w.Write(r.Data); err != nil {
			return err
		}
		off += int64(len(r.Data))
		if r.Header.Get("Tell-EOF") != "" {
			return nil
		}
		if len(r.Data) == 0 {
			return fmt.Errorf("output %s of %s: an empty chunk before the end", name, id)
		}
	}
}

// Watch calls fn with the id and state of each job of this owner that
// ends, until stop. Notices may be lost or repeated (core NATS): poll
// with Get as well.
func (c *NATSClient) Watch(fn func(id, state string)) (stop func(), err error) {
	subject := queue.EventSubject + "." + c.owner
	sub, err := c.nc.Subscribe(subject, func(m *nats.Msg) {
		var ev struct{ ID, Status string }
		if json.Unmarshal(m.Data, &ev) == nil && ev.ID != "" {
			fn(ev.ID, ev.Status)
		}
	})
	if err != nil {
		return nil, err
	}
	if err := c.nc.Flush(); err != nil {
		sub.Unsubscribe()
		return nil, err
	}
	// A refusal arrives before the flush's answer: credentials of another
	// user fail here, not after a request's timeout.
	if err := c.nc.LastError(); errors.Is(err, nats.ErrPermissionViolation) && strings.Contains(err.Error(), subject) {
		sub.Unsubscribe()
		return nil, fmt.Errorf("NATS refuses %s to these credentials: they are not user %q's (%w)", subject, c.owner, err)
	}
	return func() { sub.Unsubscribe() }, nil
}
