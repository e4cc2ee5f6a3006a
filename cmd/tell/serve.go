package main

// This file holds the commands of the server and its job queue: tell
// serve, worker and batch.

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/tell-project/tell/batch"
	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/queue"
	"github.com/tell-project/tell/server"
	"github.com/tell-project/tell/train"
	"github.com/tell-project/tell/video"
)

func runServe(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("serve")
	var st server.Settings
	fs.StringVar(&st.Addr, "addr", server.DefaultAddr, "`HOST:PORT` where to listen (default 127.0.0.1:8080)")
	fs.StringVar(&st.Data, "data", "", "`DIR` the embedded NATS server's files: the jobs, their inputs and outputs (default: the user's cache folder, tell/serve)")
	fs.StringVar(&st.NATS, "nats", "", "`URL` use this NATS server or cluster instead of embedding one")
	fs.StringVar(&st.NATSListen, "nats-listen", "", "`H:P` let other processes reach the embedded NATS server here (default: in-process only)")
	fs.StringVar(&st.NATSUsers, "nats-users", "", "`FILE` the embedded NATS server's users (ROLE NAME NKEY lines; public keys only)")
	addNATSUser := fs.String("add-nats-user", "", "`ROLE:NAME` add a user (ROLE worker, batch or server) to --nats-users FILE, print its credentials once and exit")
	fs.StringVar(&st.NATSCert, "nats-tls-cert", "", "`FILE` TLS on --nats-listen")
	fs.StringVar(&st.NATSKey, "nats-tls-key", "", "`FILE` TLS on --nats-listen")
	nf := queue.AddClientFlags(fs)
	admin := fs.Bool("admin", false, "with --add-key: the new key lists and cancels every key's jobs")
	printNATS := fs.Bool("print-nats-config", false, "print the authorization block that gives --nats-users their permissions on a NATS server run apart, and exit")
	fs.IntVar(&st.KeyQueued, "key-queued", server.DefaultKeyQueued, "`N` jobs of one key waiting (default 32)")
	fs.IntVar(&st.KeyRunning, "key-running", server.DefaultKeyRunning, "`N` jobs of one key handed to workers at once (default 8; its other jobs are held until one ends)")
	fs.StringVar(&st.KeyWork, "key-work", "4h@1080p30", "`WORK` pixel-frames one key may submit in an hour (default 4h@1080p30)")
	fs.StringVar(&st.JobBudget, "job-budget", "1h@1080p30", "`WORK` pixel-frames of one job (default 1h@1080p30): more is refused (413), and a worker stops a job that decodes past it (\"over budget\")")
	fs.IntVar(&st.Jobs, "jobs", 1, "`N` analyses the local worker runs at once (default 1)")
	fs.IntVar(&st.Workers, "workers", 1, "`0|1` run a local worker (default 1); 0: only tell worker processes run jobs")
	keysFile := fs.String("api-keys", "", "`FILE` API keys file (NAME sha256:HEX lines); each key sees only its own jobs. Required to listen beyond loopback")
	addKey := fs.String("add-key", "", "`NAME` make a new key NAME in --api-keys FILE, print it once and exit (the file keeps only its hash); with --admin the key lists and cancels every key's jobs")
	fs.BoolVar(&st.Insecure, "insecure-no-auth", false, "listen beyond loopback without keys, or open NATS without users (everyone shares every job); printed as a warning at start")
	fs.StringVar(&st.AllowedHosts, "allowed-hosts", "", "`LIST` extra comma-separated names the Host header may carry (the server's own name behind a proxy, say)")
	fs.StringVar(&st.AllowPaths, "allow-paths", "", "`DIR` also accept JSON {\"path\": \"...\"} naming a file or folder of frames under DIR on the server")
	fs.Int64Var(&st.MaxUpload, "max-upload", server.DefaultMaxUpload>>20, "`MB` largest upload in MiB (default 256); larger gets 413")
	fs.IntVar(&st.MaxQueued, "max-queued", server.DefaultMaxQueued, "`N` jobs waiting before uploads get 429 (default 64)")
	fs.IntVar(&st.MaxUploads, "max-uploads", server.DefaultMaxUploads, "`N` uploads received at once (default 16; a key or client address gets a quarter; each key also has one of its own)")
	fs.Float64Var(&st.Rate, "rate", server.DefaultRate, "`R` POST and DELETE requests per second per key (default 50, bursts of 2R; GET and HEAD: 10R; 0 turns the limits off)")
	fs.DurationVar(&st.Keep, "keep", server.DefaultKeep, "`DURATION` how long finished jobs stay (default 1h)")
	fs.IntVar(&st.MaxJobs, "max-jobs", server.DefaultMaxJobs, "`N` finished and running jobs kept (default 1000)")
	fs.Int64Var(&st.MaxStored, "max-stored", server.DefaultMaxBytes>>20, "`MB` bytes of inputs and outputs kept (default 4096)")
	fs.Int64Var(&st.MaxPixels, "max-pixels", server.DefaultMaxPixels, "`N` pixels of one image or video frame (default 25000000)")
	fs.Float64Var(&st.MaxSeconds, "max-seconds", server.DefaultMaxSeconds, "`S` seconds of one video or folder of frames (default 10800)")
	fs.Int64Var(&st.MemoryLimit, "memory-limit", 2048, "`MB` the resident memory the process keeps under (default 2048, at least 512; 0: none): Go's GOMEMLIMIT (64 MiB less), and the budget that decoding and analysis reserve their estimate from (256 MiB less, at least half; an input needing more is refused: 413)")
	fs.DurationVar(&st.AckWait, "ack-wait", 30*time.Second, "`DURATION` a worker silent this long is presumed dead and its job goes to another (default 30s)")
	fs.StringVar(&st.Workdir, "workdir", "", "`DIR` uploads in transit and running jobs' files (default: the system's temporary folder)")
	fs.StringVar(&st.Landmarks, "landmarks", "", "`PATH` dlib 68-point model (default: Debian's libdlib-data)")
	lg := cli.AddLogFlags(fs, false)
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return cli.Usagef("unexpected argument %q", pos[0])
	}
	if *printNATS {
		if st.NATSUsers == "" {
			return cli.Usagef("--print-nats-config needs --nats-users FILE")
		}
		users, err := queue.LoadUsers(st.NATSUsers)
		if err != nil {
			return err
		}
		fmt.Fprint(env.Stdout, queue.AuthConfig(users))
		return nil
	}
	if *addNATSUser != "" {
		role, name, ok := strings.Cut(*addNATSUser, ":")
		if !ok || st.NATSUsers == "" {
			return cli.Usagef("--add-nats-user wants ROLE:NAME and --nats-users FILE")
		}
		creds, err := queue.AddUser(st.NATSUsers, role, name)
		if err != nil {
			return err
		}
		fmt.Fprint(env.Stdout, creds)
		fmt.Fprintf(env.Stderr, "tell serve: NATS user %s %q added to %s; its credentials are shown only now: save them in a file only its user can read (chmod 600) and pass it with --nats-creds FILE\n", role, name, st.NATSUsers)
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
	if err := st.Validate(); err != nil {
		return cli.Usagef("%v", err)
	}
	log := lg.Logger(env)
	var keys *server.Keys
	if *keysFile != "" {
		if keys, err = server.LoadKeys(*keysFile); err != nil {
			return err
		}
	}
	if !server.IsLoopback(st.Addr) && keys == nil {
		if !st.Insecure {
			return cli.Usagef("--addr %s listens beyond this machine: give --api-keys FILE (make one with --add-key NAME), or --insecure-no-auth to serve everyone every job", st.Addr)
		}
		fmt.Fprintf(env.Stderr, "tell serve: WARNING: listening on %s WITHOUT AUTHENTICATION (--insecure-no-auth): anyone who reaches it can upload, read and delete every job\n", st.Addr)
	}
	mem, restore := st.Memory()
	defer restore()
	co, err := nf.Options("tell serve")
	if err != nil {
		return err
	}
	qo, err := st.Where(co)
	if err != nil {
		return err
	}
	if err := st.CheckAuth(keys, qo.Users != nil, qo.Client.Creds != nil); err != nil {
		return cli.Usagef("%v", err)
	}
	if st.NATSListen != "" && qo.Users == nil && st.Insecure && !server.IsLoopback(st.NATSListen) {
		fmt.Fprintf(env.Stderr, "tell serve: WARNING: NATS on %s WITHOUT USERS (--insecure-no-auth): anyone who reaches it can read, submit and delete every job\n", st.NATSListen)
	}
	if st.Workers == 1 {
		st.WarnLandmarks(log)
	}
	fc, err := queue.Dial(ctx, qo, queue.Config{AckWait: st.AckWait, Manage: true}, log)
	if err != nil {
		return err
	}
	defer fc.Close()
	cfg := st.Config(keys, st.Analysis(mem, log), cli.Version(), log)
	cfg.Queue = fc.Queue
	srv, err := server.New(cfg)
	if err != nil {
		return err
	}
	// tell batch reaches the server through NATS wherever other processes
	// reach NATS.
	if st.NATSListen != "" || st.NATS != "" {
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
	return srv.ListenAndServe(ctx, st.Addr, func(a net.Addr) {
		fmt.Fprintf(env.Stdout, "tell serve: listening on http://%s/\n", a)
	})
}

func runWorker(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("worker")
	var l server.Limits
	url := fs.String("nats", "", "`URL` the NATS server: tell serve --nats-listen's address, or a cluster's URLs (comma-separated)")
	nf := queue.AddClientFlags(fs)
	fs.StringVar(&l.JobBudget, "job-budget", "1h@1080p30", "`WORK` pixel-frames one analysis may decode (default 1h@1080p30; a job's own budget, set by tell serve, is kept when smaller): past it the job fails \"over budget\"")
	fs.Int64Var(&l.MemoryLimit, "memory-limit", 0, "`MB` the resident memory the process keeps under (at least 512; default 0: none, as training folds hold their data): Go's limit, and a budget 256 MiB less that each analysis reserves its estimate from")
	fs.IntVar(&l.Jobs, "jobs", 1, "`N` analyses at once (default 1)")
	name := fs.String("name", "", "`NAME` this worker's name in job records (default host-pid)")
	workdir := fs.String("workdir", "", "`DIR` running jobs' inputs and outputs (default: the system's temporary folder)")
	fs.StringVar(&l.Landmarks, "landmarks", "", "`PATH` dlib 68-point model (default: Debian's libdlib-data)")
	fs.Int64Var(&l.MaxPixels, "max-pixels", server.DefaultMaxPixels, "`N` pixels of one image or video frame (default 25000000)")
	fs.Float64Var(&l.MaxSeconds, "max-seconds", server.DefaultMaxSeconds, "`S` seconds of one video or folder (default 10800)")
	maxTrain := fs.Int64("max-train-bytes", 1<<30, "`N` prepared rows of one training run held in memory (default 1073741824; the last two runs are kept)")
	lg := cli.AddLogFlags(fs, false)
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return cli.Usagef("unexpected argument %q", pos[0])
	case *url == "":
		return cli.Usagef("--nats URL is required")
	case *maxTrain < 1:
		return cli.Usagef("--max-train-bytes %d: want a positive number of bytes", *maxTrain)
	}
	if err := l.Validate(); err != nil {
		return cli.Usagef("%v", err)
	}
	mem, restore := l.Memory()
	defer restore()
	log := lg.Logger(env)
	l.WarnLandmarks(log)
	if *workdir != "" {
		if err := os.MkdirAll(*workdir, 0o755); err != nil {
			return err
		}
	}
	fc, err := nf.Dial(ctx, *url, "tell worker", log)
	if err != nil {
		return err
	}
	defer fc.Close()
	log.Info("worker started", "jobs", l.Jobs)
	h := queue.Route(map[string]queue.Handler{
		"":            l.Analysis(mem, log).Handle,
		train.JobKind: train.WorkerHandler(fc.Queue, train.WorkerOptions{Families: families(), MaxDataBytes: *maxTrain, Log: log}),
	})
	err = fc.Queue.Work(ctx, queue.WorkerConfig{Name: *name, Jobs: l.Jobs, Dir: *workdir, Handler: h, Log: log})
	log.Info("worker stopped")
	return err
}

func runBatch(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("batch")
	url := fs.String("nats", "", "`URL` the NATS server (tell serve --nats-listen's address)")
	out := fs.String("out", "", "`DIR` results folder (made if missing)")
	manifest := fs.String("manifest", "", "`FILE` the clips; or give a folder as the argument")
	nf := queue.AddClientFlags(fs)
	user := fs.String("user", "", "`NAME` the NATS user's name, when the credentials file does not say it (a NATS .creds file)")
	maxPending := fs.Int("max-pending", 32, "`N` jobs submitted and not yet collected (default 32)")
	fps := fs.Float64("fps", 0, "`F` frame rate of folders of frames without an fps column or fps.txt (1 to 1000; a video's own rate is used)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case *url == "":
		return cli.Usagef("--nats URL is required")
	case *out == "":
		return cli.Usagef("--out DIR is required")
	case (*manifest == "") == (len(pos) != 1):
		return cli.Usagef("give --manifest FILE or one folder")
	case len(pos) > 1:
		return cli.Usagef("unexpected argument %q", pos[1])
	case *maxPending < 1:
		return cli.Usagef("--max-pending %d: want at least 1", *maxPending)
	case *fps != 0 && video.CheckFPS(*fps) != nil:
		return cli.Usagef("--fps: %v", video.CheckFPS(*fps))
	}
	dir := ""
	if len(pos) == 1 {
		dir = pos[0]
	}
	items, err := batch.Load(*manifest, dir, *fps)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	co, err := nf.Options("tell batch")
	if err != nil {
		return err
	}
	name, err := nf.User(co, *user)
	if err != nil {
		return cli.Usagef("%v", err)
	}
	nc, err := queue.Connect(*url, co)
	if err != nil {
		return err
	}
	defer nc.Close()
	opt := batch.Options{Out: *out, MaxPending: *maxPending}
	bar := cli.NewBar(cli.ProgressOut(env, *quiet), "analysing", "")
	if bar != nil {
		opt.Progress = bar.Report
	}
	res, err := batch.Run(ctx, server.NewNATSClient(nc, name), items, opt)
	if err != nil && err == ctx.Err() {
		fmt.Fprintf(env.Stderr, "tell batch: interrupted; %d of %d collected, %d submitted jobs keep running: run again to collect them\n", res.Done, res.Total, res.Pending)
		return err
	}
	if err != nil {
		return err
	}
	bar.Finish()
	fmt.Fprintf(env.Stdout, "tell batch: %d analysed, %d failed (see job.json in their folders), results in %s\n", res.Done-res.Failed, res.Failed, *out)
	if res.Failed > 0 {
		return fmt.Errorf("%d of %d analyses failed", res.Failed, res.Done)
	}
	return nil
}
