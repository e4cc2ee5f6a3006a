package queue

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// EmbeddedOptions configure a NATS server run inside this process.
type EmbeddedOptions struct {
	// Dir holds JetStream's files; jobs survive a restart with the same Dir.
	Dir string
	// Listen is the client address (HOST:PORT) other processes (tell
	// worker, tell batch) connect to; "" accepts in-process connections
	// only, so that no unauthenticated port is opened by default. Port 0
	// picks a free port.
	Listen string
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
		so.Host, so.Port = host, port
		if so.Port == 0 {
			so.Port = -1 // nats-server's "random port"
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
	return &Embedded{ns: ns}, nil
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
	nc, err := nats.Connect("", nats.InProcessServer(e.ns), nats.Name(name), nats.MaxReconnects(-1))
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
