package main

import (
	"context"
	"fmt"
	"net"

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
	return viewer.Serve(ctx, pos[0], *addr, func(a net.Addr) {
		fmt.Fprintf(env.Stdout, "viewer of %s at http://%s/ (Ctrl-C to stop)\n", pos[0], a)
	})
}
