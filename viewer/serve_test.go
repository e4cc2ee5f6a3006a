package viewer

import (
	"context"
	"net"
	"net/http"
	"testing"
)

// TestServe: the viewer answers at the address it reports, and Serve
// returns when its context ends.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	writeRun(t, dir, 50, 1, 30, 1)
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, dir, "127.0.0.1:0", func(a net.Addr) { addrs <- a }) }()
	var a net.Addr
	select {
	case a = <-addrs:
	case err := <-done:
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + a.String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /: %s", resp.Status)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if err := Serve(context.Background(), t.TempDir(), "127.0.0.1:0", func(net.Addr) {}); err == nil {
		t.Error("a folder without a run was served")
	}
}
