package queue

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// EmbeddedOptions configure a NATS server run inside this process.
type EmbeddedOptions struct {
	// Dir holds JetStream's files; jobs survive a restart with the same Dir.
	Dir string
	// Listen is the client address (HOST:PORT) other processes (tell
	// worker, tell batch) connect to; "" accepts in-process connections
	// only, so that no unauthenticated port is opened by default. Port 0
	// picks a free port. Beyond loopback it needs Users (or, knowingly,
	// InsecureNoAuth).
	Listen string
	// Users, when set, are the only clients the server accepts, each
	// signing in with its nkey and held to its role's Permissions. The
	// process's own connections (Connect) sign in as a server user made
	// at start.
	Users []User
	// InsecureNoAuth lets Listen reach beyond loopback without Users.
	InsecureNoAuth bool
	// TLS, when set, makes the client port require TLS with this
	// configuration (its certificate).
	TLS *tls.Config
	// Name names the server (default "tell"); it must differ per cluster node.
	Name string
	// Cluster, when not "", is this node's route address (HOST:PORT) and
	// Routes the other nodes' route URLs (nats-route://HOST:PORT): the
	// nodes form one JetStream cluster named ClusterName.
	Cluster     string
	ClusterName string
	Routes      []string
}

// Embedded is a NATS server with JetStream running in this process.
type Embedded struct {
	ns *server.Server
	// self signs in the process's own connections when Users are set.
	self nkeys.KeyPair
}

// StartEmbedded starts a NATS server with JetStream and file storage under
// opt.Dir and waits until it accepts connections.
func StartEmbedded(opt EmbeddedOptions) (*Embedded, error) {
	if opt.Dir == "" {
		return nil, fmt.Errorf("queue: embedded NATS needs a data folder")
	}
	if opt.Name == "" {
		opt.Name = "tell"
	}
	so := &server.Options{
		ServerName: opt.Name,
		JetStream:  true,
		StoreDir:   opt.Dir,
		NoSigs:     true,
		NoLog:      true,
		// Inputs are sent as object-store chunks; 8 MiB leaves headroom.
		MaxPayload: 8 << 20,
	}
	if opt.Listen == "" {
		so.DontListen = true
	} else {
		host, port, err := splitHostPort(opt.Listen)
		if err != nil {
			return nil, fmt.Errorf("queue: NATS listen address %q: %w", opt.Listen, err)
		}
		if len(opt.Users) == 0 && !opt.InsecureNoAuth && !loopbackHost(host) {
			return nil, fmt.Errorf("queue: NATS listen address %s reaches beyond this machine: NATS needs users (tell serve --nats-users FILE; add one with --add-nats-user ROLE:NAME), or knowingly --insecure-no-auth", opt.Listen)
		}
		so.Host, so.Port = host, port
		if so.Port == 0 {
			so.Port = -1 // nats-server's "random port"
		}
		if opt.TLS != nil {
			so.TLSConfig, so.TLS = opt.TLS, true
			so.TLSTimeout = 5
		}
	}
	var self nkeys.KeyPair
	if len(opt.Users) > 0 {
		var err error
		if self, err = nkeys.CreateUser(); err != nil {
			return nil, fmt.Errorf("queue: NATS key: %w", err)
		}
		pub, _ := self.PublicKey()
		users := append([]User{{Role: RoleServer, Name: "tell-serve", Nkey: pub}}, opt.Users...)
		for _, u := range users {
			so.Nkeys = append(so.Nkeys, &server.NkeyUser{Nkey: u.Nkey, Permissions: u.Permissions()})
		}
	}
	if opt.Cluster != "" {
		host, port, err := splitHostPort(opt.Cluster)
		if err != nil {
			return nil, fmt.Errorf("queue: NATS cluster address %q: %w", opt.Cluster, err)
		}
		so.Cluster.Name = opt.ClusterName
		if so.Cluster.Name == "" {
			so.Cluster.Name = "tell"
		}
		so.Cluster.Host, so.Cluster.Port = host, port
		if port == 0 {
			so.Cluster.Port = -1
		}
		for _, r := range opt.Routes {
			u, err := url.Parse(r)
			if err != nil {
				return nil, fmt.Errorf("queue: NATS route %q: %w", r, err)
			}
			so.Routes = append(so.Routes, u)
		}
	}
	ns, err := server.NewServer(so)
	if err != nil {
		return nil, fmt.Errorf("queue: start NATS: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("queue: NATS server did not become ready")
	}
	return &Embedded{ns: ns, self: self}, nil
}

// loopbackHost reports whether host reaches this machine only.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", p)
	}
	return host, port, nil
}

// Connect opens a client connection to the embedded server, in process.
func (e *Embedded) Connect(name string) (*nats.Conn, error) {
	opts := []nats.Option{nats.InProcessServer(e.ns), nats.Name(name), nats.MaxReconnects(-1)}
	if e.self != nil {
		pub, _ := e.self.PublicKey()
		opts = append(opts, nats.Nkey(pub, e.self.Sign))
	}
	nc, err := nats.Connect("", opts...)
	if err != nil {
		return nil, fmt.Errorf("queue: connect to embedded NATS: %w", err)
	}
	return nc, nil
}

// ClientURL is the nats:// URL others connect to; "" when the server
// accepts in-process connections only.
func (e *Embedded) ClientURL() string {
	if e.ns.Addr() == nil {
		return ""
	}
	return e.ns.ClientURL()
}

// ClusterURL is the route URL other cluster nodes list in Routes.
func (e *Embedded) ClusterURL() string {
	a := e.ns.ClusterAddr()
	if a == nil {
		return ""
	}
	return "nats-route://" + a.String()
}

// Shutdown stops the server; JetStream's files stay in Dir.
func (e *Embedded) Shutdown() {
	e.ns.Shutdown()
	e.ns.WaitForShutdown()
}
