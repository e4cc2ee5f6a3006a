package queue

import (
	"context"
	"log/slog"
	"strings"
	"testing"
)

// TestDialEmbedded: Dial with no URL starts an embedded server in the
// folder given, opens the queue on it, and reaches nobody else unless it
// listens; Close shuts it down, after which the folder can be opened again.
func TestDialEmbedded(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	ctx := context.Background()
	c, err := Dial(ctx, Where{Dir: dir}, Config{}, log)
	if err != nil {
		t.Fatal(err)
	}
	if c.Queue == nil || c.NATS == nil || c.Authenticated || c.ListenURL != "" {
		t.Errorf("embedded, no users, no listen: %+v", c)
	}
	c.Close()
	c, err = Dial(ctx, Where{Dir: dir, Listen: "127.0.0.1:0"}, Config{}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !strings.HasPrefix(c.ListenURL, "nats://127.0.0.1:") {
		t.Errorf("listening embedded server's URL %q", c.ListenURL)
	}
}

// TestDialNowhere: an external URL that does not answer is an error naming it.
func TestDialNowhere(t *testing.T) {
	_, err := Dial(context.Background(), Where{URL: "nats://127.0.0.1:1"}, Config{}, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("Dial to a closed port: %v", err)
	}
}

// TestClientFiles: no files, no credentials; a missing credentials file is
// an error naming it.
func TestClientFiles(t *testing.T) {
	o, err := ClientFiles("tell worker", "", "ca.pem")
	if err != nil || o.Name != "tell worker" || o.Creds != nil || o.CAFile != "ca.pem" {
		t.Errorf("ClientFiles without credentials: %+v, %v", o, err)
	}
	if _, err := ClientFiles("x", "/nonexistent/u.creds", ""); err == nil || !strings.Contains(err.Error(), "u.creds") {
		t.Errorf("missing credentials file: %v", err)
	}
}
