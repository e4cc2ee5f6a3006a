package queue

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/tell-project/tell/atomicfile"
)

// Roles of NATS users. A role decides what its users may publish and
// subscribe to (Permissions):
//
//   - RoleServer: everything (tell serve: it manages the stream, buckets and
//     consumer, writes submissions and answers the API);
//   - RoleWorker: take jobs, read their inputs, write their records and
//     outputs; never submit a job, never change the JetStream resources;
//   - RoleBatch: only requests to the server's API under its own name
//     (APISubject.NAME.>) and that name's job notices: it cannot read
//     JetStream, so it sees no job of another owner and submits only as
//     itself; the server admits its jobs as it admits uploads.
const (
	RoleServer = "server"
	RoleWorker = "worker"
	RoleBatch  = "batch"
)

// Subjects of the server's API on NATS (package server answers them):
// APISubject.OWNER.OP for requests, EventSubject.OWNER for notices of
// finished jobs. NATS permissions keep a batch user to its own OWNER, so
// the owner in the subject is the authenticated one.
const (
	APISubject   = "tell.api"
	EventSubject = "tell.events"
)

// User is one NATS user of a users file: its role, its name (for a batch
// user, the owner of its jobs) and its public nkey.
type User struct {
	Role, Name, Nkey string
}

// InboxPrefix is the reply-subject prefix of the user with public key pub:
// each user may subscribe to its own replies only, so that no user reads
// another's answers (a worker's input, a batch client's outputs).
func InboxPrefix(pub string) string { return "_INBOX_" + pub }

// Permissions are what the user may publish and subscribe to.
func (u User) Permissions() *server.Permissions {
	inbox := InboxPrefix(u.Nkey) + ".>"
	switch u.Role {
	case RoleServer:
		return &server.Permissions{
			Publish:   &server.SubjectPermission{Allow: []string{">"}},
			Subscribe: &server.SubjectPermission{Allow: []string{">"}},
		}
	case RoleWorker:
		objStream, kvStream, blobStream := "OBJ_"+ObjectBucket, "KV_"+Bucket, "OBJ_"+BlobBucket
		return &server.Permissions{
			Publish: &server.SubjectPermission{Allow: []string{
				// Bind to the resources the server made (Open without Manage).
				"$JS.API.STREAM.INFO." + Stream,
				"$JS.API.STREAM.INFO." + kvStream,
				"$JS.API.STREAM.INFO." + objStream,
				"$JS.API.STREAM.INFO." + blobStream,
				// Read blobs (data many jobs share), never write them.
				"$JS.API.DIRECT.GET." + blobStream + ".>",
				"$JS.API.STREAM.MSG.GET." + blobStream,
				"$JS.API.CONSUMER.CREATE." + blobStream + ".>",
				"$JS.API.CONSUMER.DELETE." + blobStream + ".>",
				"$JS.FC." + blobStream + ".>",
				"$JS.API.CONSUMER.INFO." + Stream + "." + consumerName,
				// Take jobs and acknowledge them.
				"$JS.API.CONSUMER.MSG.NEXT." + Stream + "." + consumerName,
				"$JS.ACK." + Stream + "." + consumerName + ".>",
				// Read and write job records.
				"$JS.API.DIRECT.GET." + kvStream + ".>",
				"$JS.API.STREAM.MSG.GET." + kvStream,
				"$KV." + Bucket + ".>",
				// Read inputs, write outputs (an object is its meta and
				// chunks; a get runs an ordered consumer with flow control).
				"$JS.API.DIRECT.GET." + objStream + ".>",
				"$JS.API.STREAM.MSG.GET." + objStream,
				"$JS.API.CONSUMER.CREATE." + objStream + ".>",
				"$JS.API.CONSUMER.DELETE." + objStream + ".>",
				"$JS.API.STREAM.PURGE." + objStream,
				"$JS.FC." + objStream + ".>",
				"$O." + ObjectBucket + ".>",
			}},
			Subscribe: &server.SubjectPermission{Allow: []string{inbox}},
		}
	case RoleBatch:
		return &server.Permissions{
			Publish:   &server.SubjectPermission{Allow: []string{APISubject + "." + u.Name + ".>"}},
			Subscribe: &server.SubjectPermission{Allow: []string{inbox, EventSubject + "." + u.Name}},
		}
	}
	// Unknown roles may do nothing (ParseUsers refuses them anyway).
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Deny: []string{">"}},
		Subscribe: &server.SubjectPermission{Deny: []string{">"}},
	}
}

// checkUserName keeps a name usable as one subject token.
func checkUserName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("NATS user name %q: want 1 to 64 characters", name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '@') {
			return fmt.Errorf("NATS user name %q: use letters, digits and - _ @ (it is a subject token)", name)
		}
	}
	return nil
}

func checkRole(role string) error {
	switch role {
	case RoleServer, RoleWorker, RoleBatch:
		return nil
	}
	return fmt.Errorf("NATS role %q: want server, worker or batch", role)
}

// ParseUsers parses a NATS users file: one user per line, "ROLE NAME
// NKEY" (NKEY the user's public nkey, U...); blank lines and lines
// starting with # are ignored. The file holds no secret.
func ParseUsers(b []byte) ([]User, error) {
	var users []User
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, fmt.Errorf("line %d: want \"ROLE NAME NKEY\"", n)
		}
		u := User{Role: f[0], Name: f[1], Nkey: f[2]}
		if err := checkRole(u.Role); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if err := checkUserName(u.Name); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if !nkeys.IsValidPublicUserKey(u.Nkey) {
			return nil, fmt.Errorf("line %d: %q is not a public user nkey (U...)", n, u.Nkey)
		}
		if seen[u.Nkey] {
			return nil, fmt.Errorf("line %d: the same nkey twice", n)
		}
		seen[u.Nkey] = true
		users = append(users, u)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, errors.New("no users")
	}
	return users, nil
}

// LoadUsers reads a NATS users file.
func LoadUsers(path string) ([]User, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("NATS users: %w", err)
	}
	u, err := ParseUsers(b)
	if err != nil {
		return nil, fmt.Errorf("NATS users %s: %w", path, err)
	}
	return u, nil
}

// AddUser makes a new nkey for a user of role and name, appends the public
// key to the users file at path (made if missing) and returns the
// credentials file's text: the seed, which is a secret, shown once and
// stored nowhere else.
func AddUser(path, role, name string) (creds string, err error) {
	if err := checkRole(role); err != nil {
		return "", err
	}
	if err := checkUserName(name); err != nil {
		return "", err
	}
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("NATS users: %w", err)
	}
	if len(bytes.TrimSpace(old)) > 0 {
		if _, err := ParseUsers(old); err != nil {
			return "", fmt.Errorf("NATS users %s: %w", path, err)
		}
	}
	kp, err := nkeys.CreateUser()
	if err != nil {
		return "", err
	}
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	if len(old) > 0 && old[len(old)-1] != '\n' {
		old = append(old, '\n')
	}
	if len(old) == 0 {
		old = []byte("# tell NATS users: ROLE NAME NKEY (public keys only; each user keeps its seed)\n")
	}
	if err := atomicfile.WriteFile(path, append(old, fmt.Sprintf("%s %s %s\n", role, name, pub)...)); err != nil {
		return "", fmt.Errorf("NATS users: %w", err)
	}
	return fmt.Sprintf("# tell NATS credentials: role %s, name %s. Keep this file private (chmod 600).\n%s\n", role, name, seed), nil
}

// Creds are a NATS client's credentials read from a file: an nkey seed
// (as AddUser writes it) or a NATS .creds file (a user JWT and its seed,
// for servers run in operator mode).
type Creds struct {
	// Role and Name come from AddUser's comment line ("" when absent).
	Role, Name string
	// Pub is the nkey's public key ("" for a JWT file).
	Pub  string
	path string
	jwt  bool
}

// LoadCreds reads a credentials file. The seed is checked here and read
// again at each sign-in, never kept in memory.
func LoadCreds(path string) (*Creds, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("NATS credentials: %w", err)
	}
	defer clear(b)
	c := &Creds{path: path}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("NATS credentials %s: readable by others (mode %v): chmod 600 it", path, st.Mode().Perm())
	}
	if bytes.Contains(b, []byte("BEGIN NATS USER JWT")) {
		c.jwt = true
		return c, nil
	}
	kp, err := nkeys.ParseDecoratedNKey(b)
	if err != nil {
		return nil, fmt.Errorf("NATS credentials %s: %w", path, err)
	}
	defer kp.Wipe()
	pub, err := kp.PublicKey()
	if err != nil || !nkeys.IsValidPublicUserKey(pub) {
		return nil, fmt.Errorf("NATS credentials %s: not a user nkey seed", path)
	}
	c.Pub = pub
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "# tell NATS credentials: role "); ok {
			role, rest, _ := strings.Cut(rest, ", name ")
			name, _, _ := strings.Cut(rest, ".")
			if checkRole(role) == nil && checkUserName(name) == nil {
				c.Role, c.Name = role, name
			}
		}
	}
	return c, nil
}

// options are the nats.Options that sign in with c.
func (c *Creds) options() ([]nats.Option, error) {
	if c == nil {
		return nil, nil
	}
	if c.jwt {
		return []nats.Option{nats.UserCredentials(c.path)}, nil
	}
	o, err := nats.NkeyOptionFromSeed(c.path)
	if err != nil {
		return nil, fmt.Errorf("NATS credentials %s: %w", c.path, err)
	}
	return []nats.Option{o, nats.CustomInboxPrefix(InboxPrefix(c.Pub))}, nil
}

// ClientOptions configure Connect.
type ClientOptions struct {
	// Name names the connection in the server's monitoring.
	Name string
	// Creds signs in (nil: no credentials).
	Creds *Creds
	// CAFile, when set, is the PEM file of the CAs that sign the server's
	// TLS certificate; the connection then requires TLS (as a tls:// URL
	// does with the system's CAs).
	CAFile string
}

// Connect connects to the NATS server or cluster at url (comma-separated
// URLs), reconnecting for ever once connected.
func Connect(url string, opt ClientOptions) (*nats.Conn, error) {
	opts := []nats.Option{nats.Name(opt.Name), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(false)}
	co, err := opt.Creds.options()
	if err != nil {
		return nil, err
	}
	opts = append(opts, co...)
	if opt.CAFile != "" {
		opts = append(opts, nats.RootCAs(opt.CAFile))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		if errors.Is(err, nats.ErrAuthorization) {
			return nil, fmt.Errorf("NATS %s: %w (give the credentials file tell serve --add-nats-user made)", url, err)
		}
		return nil, fmt.Errorf("NATS %s: %w", url, err)
	}
	return nc, nil
}

// LoadTLS reads a certificate and its key for the embedded server's
// client port.
func LoadTLS(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("NATS TLS: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// AuthConfig is the authorization block of a nats-server configuration
// file that gives users their roles' permissions: for a NATS server run
// apart from tell serve (--nats URL), whose front doors then sign in as
// server users. JetStream must be enabled there too.
func AuthConfig(users []User) string {
	var b strings.Builder
	b.WriteString("# tell's NATS users and their permissions (tell serve --print-nats-config)\nauthorization {\n  users = [\n")
	list := func(s []string) string {
		q := make([]string, len(s))
		for i, v := range s {
			q[i] = strconv.Quote(v)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	for _, u := range users {
		p := u.Permissions()
		fmt.Fprintf(&b, "    # %s %s\n    { nkey: %s, permissions: { publish: { allow: %s }, subscribe: { allow: %s }",
			u.Role, u.Name, u.Nkey, list(p.Publish.Allow), list(p.Subscribe.Allow))
		if p.Response != nil {
			fmt.Fprintf(&b, ", allow_responses: true")
		}
		b.WriteString(" } }\n")
	}
	b.WriteString("  ]\n}\n")
	return b.String()
}
