package queue

import (
	"flag"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// TestClientFlags: the flags reach the client options; a credentials file
// that is not there is an error naming it.
func TestClientFlags(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := AddClientFlags(fs)
	if err := fs.Parse([]string{"--nats-ca", "ca.pem"}); err != nil {
		t.Fatal(err)
	}
	o, err := f.Options("tell x")
	if err != nil || o.Name != "tell x" || o.CAFile != "ca.pem" || o.Creds != nil {
		t.Fatalf("options %+v, %v", o, err)
	}
	missing := filepath.Join(t.TempDir(), "none.creds")
	f.Creds = missing
	if _, err := f.Options("tell x"); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing credentials: %v", err)
	}
}
