package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"time"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/queue"
	"github.com/tell-project/tell/server"
)

func serveCommand() cli.Command {
	return cli.Command{
		Name:    "serve",
		Summary: "HTTP API and web page: upload, analyse, explain",
		Usage: `usage: tell serve [--addr HOST:PORT] [--data DIR | --nats URL] [--jobs N] [--workers 0|1]
                  [--api-keys FILE] [--nats-listen H:P --nats-users FILE]
                  [--allowed-hosts NAMES] [--insecure-no-auth] [flags]
       tell serve --add-key NAME [--admin] --api-keys FILE
       tell serve --add-nats-user ROLE:NAME --nats-users FILE > NAME.creds
       tell serve --print-nats-config --nats-users FILE >> nats-server.conf

Serves the web page at / and the JSON API (GET /openapi.json describes it).`,
		Run: runServe,
	}
}

func runServe(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("serve")
	addr := fs.String("addr", server.DefaultAddr, "`HOST:PORT` where to listen (default 127.0.0.1:8080)")
	data := fs.String("data", "", "`DIR` the embedded NATS server's files: the jobs, their inputs and outputs (default: the user's cache folder, tell/serve)")
	natsURL := fs.String("nats", "", "`URL` use this NATS server or cluster instead of embedding one")
	natsListen := fs.String("nats-listen", "", "`H:P` let other processes reach the embedded NATS server here (default: in-process only)")
	natsUsers := fs.String("nats-users", "", "`FILE` the embedded NATS server's users (ROLE NAME NKEY lines; public keys only)")
	addNATSUser := fs.String("add-nats-user", "", "`ROLE:NAME` add a user (ROLE worker, batch or server) to --nats-users FILE, print its credentials once and exit")
	natsCert := fs.String("nats-tls-cert", "", "`FILE` TLS on --nats-listen")
	natsKey := fs.String("nats-tls-key", "", "`FILE` TLS on --nats-listen")
	nf := addNATSClientFlags(fs)
	admin := fs.Bool("admin", false, "with --add-key: the new key lists and cancels every key's jobs")
	printNATS := fs.Bool("print-nats-config", false, "print the authorization block that gives --nats-users their permissions on a NATS server run apart, and exit")
	keyQueued := fs.Int("key-queued", server.DefaultKeyQueued, "`N` jobs of one key waiting (default 32)")
	keyRunning := fs.Int("key-running", server.DefaultKeyRunning, "`N` jobs of one key handed to workers at once (default 8; its other jobs are held until one ends)")
	keyWork := fs.String("key-work", "4h@1080p30", "`WORK` pixel-frames one key may submit in an hour (default 4h@1080p30)")
	jobBudget := fs.String("job-budget", "1h@1080p30", "`WORK` pixel-frames of one job (default 1h@1080p30): more is refused (413), and a worker stops a job that decodes past it (\"over budget\")")
	jobs := fs.Int("jobs", 1, "`N` analyses the local worker runs at once (default 1)")
	workers := fs.Int("workers", 1, "`0|1` run a local worker (default 1); 0: only tell worker processes run jobs")
	keysFile := fs.String("api-keys", "", "`FILE` API keys file (NAME sha256:HEX lines); each key sees only its own jobs. Required to listen beyond loopback")
	addKey := fs.String("add-key", "", "`NAME` make a new key NAME in --api-keys FILE, print it once and exit (the file keeps only its hash); with --admin the key lists and cancels every key's jobs")
	insecure := fs.Bool("insecure-no-auth", false, "listen beyond loopback without keys, or open NATS without users (everyone shares every job); printed as a warning at start")
	hosts := fs.String("allowed-hosts", "", "`LIST` extra comma-separated names the Host header may carry (the server's own name behind a proxy, say)")
	allow := fs.String("allow-paths", "", "`DIR` also accept JSON {\"path\": \"...\"} naming a file or folder of frames under DIR on the server")
	maxUpload := fs.Int64("max-upload", server.DefaultMaxUpload>>20, "`MB` largest upload in MiB (default 256); larger gets 413")
	maxQueued := fs.Int("max-queued", server.DefaultMaxQueued, "`N` jobs waiting before uploads get 429 (default 64)")
	maxUploads := fs.Int("max-uploads", server.DefaultMaxUploads, "`N` uploads received at once (default 16; a key or client address gets a quarter; each key also has one of its own)")
	rate := fs.Float64("rate", server.DefaultRate, "`R` POST and DELETE requests per second per key (default 50, bursts of 2R; GET and HEAD: 10R; 0 turns the limits off)")
	keep := fs.Duration("keep", server.DefaultKeep, "`DURATION` how long finished jobs stay (default 1h)")
	maxJobs := fs.Int("max-jobs", server.DefaultMaxJobs, "`N` finished and running jobs kept (default 1000)")
	maxStored := fs.Int64("max-stored", server.DefaultMaxBytes>>20, "`MB` bytes of inputs and outputs kept (default 4096)")
	maxPixels := fs.Int64("max-pixels", server.DefaultMaxPixels, "`N` pixels of one image or video frame (default 25000000)")
	maxSeconds := fs.Float64("max-seconds", server.DefaultMaxSeconds, "`S` seconds of one video or folder of frames (default 10800)")
	memLimit := fs.Int64("memory-limit", 2048, "`MB` the resident memory the process keeps under (default 2048, at least 512; 0: none): Go's GOMEMLIMIT (64 MiB less), and the budget that decoding and analysis reserve their estimate from (256 MiB less, at least half; an input needing more is refused: 413)")
	ackWait := fs.Duration("ack-wait", 30*time.Second, "`DURATION` a worker silent this long is presumed dead and its job goes to another (default 30s)")
	workdir := fs.String("workdir", "", "`DIR` uploads in transit and running jobs' files (default: the system's temporary folder)")
	landmarks := fs.String("landmarks", "", "`PATH` dlib 68-point model (default: Debian's libdlib-data)")
	logJSON := fs.Bool("log-json", false, "logs as JSON lines on stderr")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return cli.Usagef("unexpected argument %q", pos[0])
	}
	if *printNATS {
		if *natsUsers == "" {
			return cli.Usagef("--print-nats-config needs --nats-users FILE")
		}
		users, err := queue.LoadUsers(*natsUsers)
		if err != nil {
			return err
		}
		fmt.Fprint(env.Stdout, queue.AuthConfig(users))
		return nil
	}
	if *addNATSUser != "" {
		role, name, ok := strings.Cut(*addNATSUser, ":")
		if !ok || *natsUsers == "" {
			return cli.Usagef("--add-nats-user wants ROLE:NAME and --nats-users FILE")
		}
		creds, err := queue.AddUser(*natsUsers, role, name)
		if err != nil {
			return err
		}
		fmt.Fprint(env.Stdout, creds)
		fmt.Fprintf(env.Stderr, "tell serve: NATS user %s %q added to %s; its credentials are shown only now: save them in a file only its user can read (chmod 600) and pass it with --nats-creds FILE\n", role, name, *natsUsers)
		return nil
	}
	if *addKey != "" {
		if *keysFile == "" {
			return cli.Usagef("--add-key needs --api-keys FILE")
		}
		add := server.AddKey
		if *admin {
			add = server.AddAdminKey
		}
		key, err := add(*keysFile, *addKey)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s\n", key)
		fmt.Fprintf(env.Stderr, "tell serve: key %q added to %s; it is shown only now: send it as \"Authorization: Bearer KEY\"\n", *addKey, *keysFile)
		return nil
	}
	if _, _, err := net.SplitHostPort(*addr); err != nil {
		return cli.Usagef("--addr %q: want HOST:PORT: %v", *addr, err)
	}
	switch {
	case *maxUpload <= 0 || *maxUpload > 1<<20:
		return cli.Usagef("--max-upload %d: want 1..1048576 MiB", *maxUpload)
	case *jobs < 1:
		return cli.Usagef("--jobs %d: want at least 1", *jobs)
	case *workers != 0 && *workers != 1:
		return cli.Usagef("--workers %d: want 0 (no local worker) or 1", *workers)
	case *keep <= 0:
		return cli.Usagef("--keep %v: want a positive duration", *keep)
	case *maxQueued < 1 || *maxUploads < 1 || *maxJobs < 1 || *maxStored < 1:
		return cli.Usagef("--max-queued, --max-uploads, --max-jobs and --max-stored want at least 1")
	case *rate < 0:
		return cli.Usagef("--rate %g: want 0 (no limit) or more", *rate)
	case *maxPixels < 1 || *maxSeconds <= 0:
		return cli.Usagef("--max-pixels and --max-seconds want positive values")
	case *memLimit < 0 || *memLimit > 0 && *memLimit < 512:
		return cli.Usagef("--memory-limit %d: want 0 (none) or at least 512 MiB", *memLimit)
	case *ackWait < time.Second:
		return cli.Usagef("--ack-wait %v: want at least 1s", *ackWait)
	case *natsURL != "" && (*data != "" || *natsListen != "" || *natsUsers != "" || *natsCert != ""):
		return cli.Usagef("--nats joins an external NATS server: --data, --nats-listen, --nats-users and --nats-tls-* are for the embedded one")
	case (*natsCert == "") != (*natsKey == ""):
		return cli.Usagef("--nats-tls-cert and --nats-tls-key go together")
	case *keyQueued < 1 || *keyRunning < 1:
		return cli.Usagef("--key-queued and --key-running want at least 1")
	}
	jobWork, err := server.ParseWork(*jobBudget)
	if err != nil {
		return cli.Usagef("--job-budget %q: %v", *jobBudget, err)
	}
	keyWorkHour, err := server.ParseWork(*keyWork)
	if err != nil {
		return cli.Usagef("--key-work %q: %v", *keyWork, err)
	}
	if keyWorkHour < jobWork {
		return cli.Usagef("--key-work %s is less than --job-budget %s: no job could ever be submitted", *keyWork, *jobBudget)
	}
	log := env.Log
	if *logJSON {
		log = slog.New(slog.NewJSONHandler(env.Stderr, nil))
	}
	var keys *server.Keys
	if *keysFile != "" {
		if keys, err = server.LoadKeys(*keysFile); err != nil {
			return err
		}
	}
	if !server.IsLoopback(*addr) && keys == nil {
		if !*insecure {
			return cli.Usagef("--addr %s listens beyond this machine: give --api-keys FILE (make one with --add-key NAME), or --insecure-no-auth to serve everyone every job", *addr)
		}
		fmt.Fprintf(env.Stderr, "tell serve: WARNING: listening on %s WITHOUT AUTHENTICATION (--insecure-no-auth): anyone who reaches it can upload, read and delete every job\n", *addr)
	}
	var mem *server.Memory
	if *memLimit > 0 {
		var goLimit int64
		goLimit, mem = server.MemoryForLimit(*memLimit << 20)
		old := debug.SetMemoryLimit(goLimit)
		defer debug.SetMemoryLimit(old)
	}
	qo := queue.Where{URL: *natsURL, Dir: *data, Listen: *natsListen, InsecureNoAuth: *insecure}
	if qo.Client, err = nf.options("tell serve"); err != nil {
		return err
	}
	if *natsUsers != "" {
		if qo.Users, err = queue.LoadUsers(*natsUsers); err != nil {
			return err
		}
	}
	if *natsCert != "" {
		if qo.TLS, err = queue.LoadTLS(*natsCert, *natsKey); err != nil {
			return err
		}
	}
	// NATS beside API keys must hold its clients to their names, or any
	// process that reaches it could act as any key.
	if keys != nil && !*insecure {
		switch {
		case *natsListen != "" && qo.Users == nil:
			return cli.Usagef("--nats-listen with --api-keys needs --nats-users FILE: without NATS users any process that reaches NATS could act as any key (or, knowingly, --insecure-no-auth)")
		case *natsURL != "" && qo.Client.Creds == nil:
			return cli.Usagef("--nats with --api-keys needs --nats-creds FILE, and a NATS server that holds each user to its permissions (see tell serve --help)")
		}
	}
	if *natsListen != "" && qo.Users == nil && *insecure && !server.IsLoopback(*natsListen) {
		fmt.Fprintf(env.Stderr, "tell serve: WARNING: NATS on %s WITHOUT USERS (--insecure-no-auth): anyone who reaches it can read, submit and delete every job\n", *natsListen)
	}
	if *workers == 1 {
		if _, err := face.ResolveModelPath(*landmarks); err != nil {
			// The API still explains AU codes; analyses fail until it is there.
			log.Warn("landmark model not found: analyses will fail until it is installed", "err", err)
		}
	}
	fc, err := queue.Dial(ctx, qo, queue.Config{AckWait: *ackWait, Manage: true}, log)
	if err != nil {
		return err
	}
	defer fc.Close()
	q := fc.Queue
	var extra []string
	for _, h := range strings.Split(*hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			extra = append(extra, h)
		}
	}
	r := *rate
	if r == 0 {
		r = -1 // Config's zero means the default
	}
	budget := server.Budget{MaxPixels: *maxPixels, MaxSeconds: *maxSeconds, JobWork: jobWork}
	srv, err := server.New(server.Config{
		Queue: q, Jobs: *jobs, NoWorker: *workers == 0, Workdir: *workdir,
		MaxUpload: *maxUpload << 20, MaxQueued: *maxQueued, MaxUploads: *maxUploads, Rate: r,
		KeyQueued: *keyQueued, KeyRunning: *keyRunning, KeyWorkPerHour: keyWorkHour, Memory: mem,
		Keep: *keep, MaxJobs: *maxJobs, MaxBytes: *maxStored << 20, Budget: budget,
		AllowPaths: *allow, Keys: keys, AllowedHosts: extra, Version: cli.Version(), Log: log,
		Analysis: &server.Analysis{Budget: budget, Log: log, Memory: mem,
			Landmarker: func() (analyze.Landmarker, error) { return analyze.NewFaceLandmarker(*landmarks) }},
	})
	if err != nil {
		return err
	}
	// tell batch reaches the server through NATS wherever other processes
	// reach NATS.
	if *natsListen != "" || *natsURL != "" {
		if err := srv.ServeNATS(fc.NATS, fc.Authenticated); err != nil {
			srv.Close()
			return err
		}
		// Said once tell batch's requests have responders, so that a
		// client started on this line is answered.
		if fc.ListenURL != "" {
			fmt.Fprintf(env.Stdout, "tell serve: NATS for tell worker and tell batch at %s\n", fc.ListenURL)
		}
	}
	return srv.ListenAndServe(ctx, *addr, func(a net.Addr) {
		fmt.Fprintf(env.Stdout, "tell serve: listening on http://%s/\n", a)
	})
}

// natsClientFlags are the flags of every command that connects to NATS.
type natsClientFlags struct{ creds, ca *string }

func addNATSClientFlags(fs *flag.FlagSet) natsClientFlags {
	return natsClientFlags{
		creds: fs.String("nats-creds", "", "`FILE` NATS credentials: the file tell serve --add-nats-user printed (chmod 600), or a NATS .creds file"),
		ca:    fs.String("nats-ca", "", "`FILE` the CA (PEM) of the NATS server's TLS certificate"),
	}
}

// options loads the credentials.
func (f natsClientFlags) options(name string) (queue.ClientOptions, error) {
	return queue.ClientFiles(name, *f.creds, *f.ca)
}

// connectQueue opens the queue of a client command (tell worker, tell
// train --nats, tell sweep --nats) at url.
func connectQueue(ctx context.Context, url string, f natsClientFlags, name string, log *slog.Logger) (*queue.Conn, error) {
	co, err := f.options(name)
	if err != nil {
		return nil, err
	}
	return queue.Dial(ctx, queue.Where{URL: url, Client: co}, queue.Config{}, log)
}
