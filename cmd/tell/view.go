package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/viewer"
)

func runView(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("view")
	addr := fs.String("addr", "127.0.0.1:8390", "`HOST:PORT` where to listen (default 127.0.0.1:8390; port 0 picks a free one)")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.Usagef("want one RUN folder, got %d arguments", len(pos))
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
	fmt.Fprintf(env.Stdout, "viewer of %s at http://%s/ (Ctrl-C to stop)\n", pos[0], ln.Addr())
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
