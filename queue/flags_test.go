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

// TestClientUser: the user named, else the credentials' own, and the
// refusals naming the flags.
func TestClientUser(t *testing.T) {
	f := &ClientFlags{Creds: "w.creds"}
	named, anon := ClientOptions{Creds: &Creds{Name: "ann"}}, ClientOptions{Creds: &Creds{}}
	for _, c := range []struct {
		co         ClientOptions
		user, want string
		err        string
	}{
		{ClientOptions{}, "", "", ""},
		{ClientOptions{}, "bob", "", "--user bob needs --nats-creds"},
		{named, "", "ann", ""},
		{named, "bob", "bob", ""},
		{anon, "", "", "--nats-creds w.creds does not name its user"},
		{anon, "bob", "bob", ""},
	} {
		got, err := f.User(c.co, c.user)
		if got != c.want || (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("User(%+v, %q) = %q, %v; want %q, %q", c.co.Creds, c.user, got, err, c.want, c.err)
		}
	}
}
