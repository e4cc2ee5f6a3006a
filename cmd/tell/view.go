package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/tell-project/tell/viewer"
)

func viewCommand() command {
	return command{
		name:    "view",
		summary: "play a finished analysis's clip beside its AU and probability curves, in the browser",
		usage:   `usage: tell view RUN [--addr HOST:PORT]`,
		run:     runView,
	}
}

func runView(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet("view")
	addr := fs.String("addr", "127.0.0.1:8390", "`HOST:PORT` where to listen (default 127.0.0.1:8390; port 0 picks a free one)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("want one RUN folder, got %d arguments", len(pos))
	}
	h, err := viewer.Handler(pos[0])
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("--addr %s: %w", *addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(env.stdout, "viewer of %s at http://%s/ (Ctrl-C to stop)\n", pos[0], ln.Addr())
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
