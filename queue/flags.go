package queue

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
)

// ClientFlags are the command-line settings of every command that
// connects to NATS as a client (tell worker, batch, train --nats, sweep
// --nats, serve --nats): --nats-creds and --nats-ca, defined once here.
type ClientFlags struct{ Creds, CA string }

// AddClientFlags defines --nats-creds and --nats-ca on fs.
func AddClientFlags(fs *flag.FlagSet) *ClientFlags {
	f := &ClientFlags{}
	fs.StringVar(&f.Creds, "nats-creds", "", "`FILE` NATS credentials: the file tell serve --add-nats-user printed (chmod 600), or a NATS .creds file")
	fs.StringVar(&f.CA, "nats-ca", "", "`FILE` the CA (PEM) of the NATS server's TLS certificate")
	return f
}

// Options loads the credentials; name is the client's name on the server.
func (f *ClientFlags) Options(name string) (ClientOptions, error) {
	return ClientFiles(name, f.Creds, f.CA)
}

// Dial opens the job queue of the NATS server at url as the client name.
func (f *ClientFlags) Dial(ctx context.Context, url, name string, log *slog.Logger) (*Conn, error) {
	co, err := f.Options(name)
	if err != nil {
		return nil, err
	}
	return Dial(ctx, Where{URL: url, Client: co}, Config{}, log)
}

// User is the NATS user a client acts as: user when given, else the one
// the credentials name; "" for the anonymous owner (no credentials).
func (f *ClientFlags) User(co ClientOptions, user string) (string, error) {
	switch {
	case co.Creds == nil && user != "":
		return "", fmt.Errorf("--user %s needs --nats-creds FILE: without credentials the jobs are the anonymous owner's", user)
	case co.Creds == nil || user != "":
		return user, nil
	case co.Creds.Name == "":
		return "", fmt.Errorf("--nats-creds %s does not name its user: give --user NAME", f.Creds)
	}
	return co.Creds.Name, nil
}
