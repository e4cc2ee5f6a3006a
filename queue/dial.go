package queue

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"
)

// Where says where the job queue is: the NATS server or cluster at URL
// (Client signs in), or, when URL is empty, a NATS server embedded in this
// process with its files under Dir (default: the user's cache folder,
// tell/serve), listening on Listen for other processes when set, with
// Users (and TLS) holding each client to its role.
type Where struct {
	URL    string
	Client ClientOptions

	Dir, Listen    string
	Users          []User
	TLS            *tls.Config
	InsecureNoAuth bool
}

// Conn is an open job queue, its NATS connection and, for an embedded
// server, the server.
type Conn struct {
	Queue *Queue
	NATS  *nats.Conn
	// Authenticated: NATS holds each client to its user's permissions (an
	// embedded server with users; an external one given credentials).
	Authenticated bool
	// ListenURL is where other processes reach the embedded server ("":
	// external, or embedded for this process only).
	ListenURL string
	close     func()
}

// Close shuts the connection (and the embedded server) down.
func (c *Conn) Close() { c.close() }

// Dial connects to the job queue w names and opens it with cfg. JetStream
// that does not answer within a minute is reported as probably disabled
// or forbidden to these credentials.
func Dial(ctx context.Context, w Where, cfg Config, log *slog.Logger) (*Conn, error) {
	var nc *nats.Conn
	var emb *Embedded
	c := &Conn{}
	if w.URL != "" {
		var err error
		if nc, err = Connect(w.URL, w.Client); err != nil {
			return nil, err
		}
		c.Authenticated = w.Client.Creds != nil
	} else {
		dir := w.Dir
		if dir == "" {
			cache, err := os.UserCacheDir()
			if err != nil {
				return nil, fmt.Errorf("no queue folder given and no user cache folder: %w", err)
			}
			dir = filepath.Join(cache, "tell", "serve")
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("queue folder: %w", err)
		}
		var err error
		emb, err = StartEmbedded(EmbeddedOptions{Dir: dir, Listen: w.Listen, Users: w.Users, TLS: w.TLS, InsecureNoAuth: w.InsecureNoAuth})
		if err != nil {
			return nil, err
		}
		if nc, err = emb.Connect("tell serve"); err != nil {
			emb.Shutdown()
			return nil, err
		}
		c.Authenticated = len(w.Users) > 0
		c.ListenURL = emb.ClientURL()
		log.Info("embedded NATS JetStream", "data", dir, "url", c.ListenURL, "users", len(w.Users), "tls", w.TLS != nil)
	}
	c.NATS = nc
	c.close = func() {
		nc.Close()
		if emb != nil {
			emb.Shutdown()
		}
	}
	octx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	q, err := Open(octx, nc, cfg)
	if err != nil {
		c.close()
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w (is JetStream enabled on the NATS server, and may these credentials use it?)", err)
		}
		return nil, err
	}
	c.Queue = q
	return c, nil
}

// ClientFiles returns the options of a client called name that signs in
// with the credentials file creds (none when "") and trusts the CAs in the
// PEM file ca (the system's when "").
func ClientFiles(name, creds, ca string) (ClientOptions, error) {
	o := ClientOptions{Name: name, CAFile: ca}
	if creds != "" {
		c, err := LoadCreds(creds)
		if err != nil {
			return o, err
		}
		o.Creds = c
	}
	return o, nil
}
