package server

import (
	"bufio"
	"bytes"
	"container/list"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/tell-project/tell/atomicfile"
)

// Keys are the API keys a server accepts, by name. The file keeps only
// each key's SHA-256: the keys are 256 random bits, so a plain hash is
// enough to make the file useless to whoever reads it.
//
// File format: one key per line, "NAME sha256:HEX", or "NAME sha256:HEX
// admin" for a key that sees and may cancel every key's jobs; blank lines
// and lines starting with # are ignored. Names are what jobs are owned by.
type Keys struct {
	byHash map[[32]byte]string
	admins map[string]bool
}

// keyPrefix starts every key, so that a leaked key is recognisable.
const keyPrefix = "tell_"

// LoadKeys reads a keys file.
func LoadKeys(path string) (*Keys, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("api keys: %w", err)
	}
	k, err := ParseKeys(b)
	if err != nil {
		return nil, fmt.Errorf("api keys %s: %w", path, err)
	}
	return k, nil
}

// ParseKeys parses the keys file format.
func ParseKeys(b []byte) (*Keys, error) {
	k := &Keys{byHash: map[[32]byte]string{}, admins: map[string]bool{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 || len(f) > 3 || !strings.HasPrefix(f[1], "sha256:") || len(f) == 3 && f[2] != "admin" {
			return nil, fmt.Errorf("line %d: want \"NAME sha256:HEX\" or \"NAME sha256:HEX admin\"", n)
		}
		if err := checkKeyName(f[0]); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		h, err := hex.DecodeString(strings.TrimPrefix(f[1], "sha256:"))
		if err != nil || len(h) != 32 {
			return nil, fmt.Errorf("line %d: the hash is not 64 hex digits", n)
		}
		var hh [32]byte
		copy(hh[:], h)
		if _, dup := k.byHash[hh]; dup {
			return nil, fmt.Errorf("line %d: the same key twice", n)
		}
		k.byHash[hh] = f[0]
		if len(f) == 3 {
			k.admins[f[0]] = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(k.byHash) == 0 {
		return nil, errors.New("no keys")
	}
	return k, nil
}

func checkKeyName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("key name %q: want 1 to 64 characters", name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '@') {
			return fmt.Errorf("key name %q: use letters, digits and - _ . @", name)
		}
	}
	return nil
}

// Lookup returns the name of the key token, if it is one.
func (k *Keys) Lookup(token string) (string, bool) {
	if k == nil || !strings.HasPrefix(token, keyPrefix) {
		return "", false
	}
	// A map lookup by the token's hash reveals nothing about valid keys
	// through its timing: the hash of a guess is unrelated to theirs.
	name, ok := k.byHash[sha256.Sum256([]byte(token))]
	return name, ok
}

// Admin reports whether the key named name is an admin key.
func (k *Keys) Admin(name string) bool { return k != nil && k.admins[name] }

// AddKey makes a new random key named name, appends its hash to the keys
// file at path (made if missing) and returns the key, which is shown once
// and stored nowhere.
func AddKey(path, name string) (string, error) { return addKey(path, name, false) }

// AddAdminKey is AddKey for an admin key: it lists and cancels every
// key's jobs.
func AddAdminKey(path, name string) (string, error) { return addKey(path, name, true) }

func addKey(path, name string, admin bool) (string, error) {
	if err := checkKeyName(name); err != nil {
		return "", err
	}
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("api keys: %w", err)
	}
	if len(bytes.TrimSpace(old)) > 0 {
		k, err := ParseKeys(old)
		if err != nil {
			return "", fmt.Errorf("api keys %s: %w", path, err)
		}
		for _, n := range k.byHash {
			if n == name {
				return "", fmt.Errorf("api keys %s: a key named %q exists already", path, name)
			}
		}
	}
	var raw [32]byte
	rand.Read(raw[:])
	key := keyPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	sum := sha256.Sum256([]byte(key))
	if len(old) > 0 && old[len(old)-1] != '\n' {
		old = append(old, '\n')
	}
	if len(old) == 0 {
		old = []byte("# tell serve API keys: NAME sha256:HEX (the keys themselves are not stored)\n")
	}
	line := fmt.Sprintf("%s sha256:%s\n", name, hex.EncodeToString(sum[:]))
	if admin {
		line = fmt.Sprintf("%s sha256:%s admin\n", name, hex.EncodeToString(sum[:]))
	}
	if err := atomicfile.WriteFile(path, append(old, line...)); err != nil {
		return "", fmt.Errorf("api keys: %w", err)
	}
	return key, nil
}

// IsLoopback reports whether a listen address (HOST:PORT) reaches this
// machine only. An empty or unspecified host (0.0.0.0, ::) listens on
// every interface and is not loopback; "localhost" is.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// hostSet is the Host header values (without port) the server answers.
type hostSet map[string]bool

// allowedHosts lists the names a request may address this server by: the
// listen address's own host, loopback names when it listens there (or
// everywhere), and the operator's extra names. Anything else (a DNS
// rebinding name, say) is refused.
func allowedHosts(listen string, extra []string) hostSet {
	hs := hostSet{}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		host = ""
	}
	ip := net.ParseIP(host)
	if host == "" || host == "localhost" || ip != nil && (ip.IsLoopback() || ip.IsUnspecified()) {
		for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
			hs[h] = true
		}
	}
	if host != "" && (ip == nil || !ip.IsUnspecified()) {
		hs[strings.ToLower(host)] = true
	}
	for _, h := range extra {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			hs[strings.Trim(h, "[]")] = true
		}
	}
	return hs
}

// allows reports whether the Host header names an allowed host.
func (hs hostSet) allows(hostHeader string) bool {
	h := strings.ToLower(hostHeader)
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	return hs[strings.Trim(h, "[]")]
}

// limiter keeps one token bucket per client (API key or address). The
// buckets are kept in the order of their last use: an idle bucket (a full
// one, which is what a new client gets anyway) is forgotten from the
// cold end, and at most maxClients are kept, so that a flood of
// addresses costs each request O(1), never a scan of every client.
type limiter struct {
	mu         sync.Mutex
	rate       rate.Limit
	burst      int
	maxClients int
	keys       map[string]*list.Element // of *keyLimit
	lru        list.List                // front: used last
	// examined counts the buckets looked at to forget idle ones (tests).
	examined int
}

type keyLimit struct {
	key  string
	lim  *rate.Limiter
	last time.Time
}

// maxLimiterClients bounds the buckets kept.
const maxLimiterClients = 10000

func newLimiter(perSecond float64, burst int) *limiter {
	if perSecond <= 0 {
		return nil
	}
	return &limiter{rate: rate.Limit(perSecond), burst: max(1, burst), maxClients: maxLimiterClients, keys: map[string]*list.Element{}}
}

// allow takes a token for key; when there is none it returns how long
// until there is.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	// A bucket unused for a minute has refilled: forget it. Each is
	// forgotten once, so this costs O(1) per request on average.
	for e := l.lru.Back(); e != nil; e = l.lru.Back() {
		k := e.Value.(*keyLimit)
		if now.Sub(k.last) <= time.Minute && l.lru.Len() < l.maxClients {
			break
		}
		if k.key == key {
			break
		}
		l.examined++
		l.lru.Remove(e)
		delete(l.keys, k.key)
	}
	var k *keyLimit
	if e := l.keys[key]; e != nil {
		k = e.Value.(*keyLimit)
		l.lru.MoveToFront(e)
	} else {
		k = &keyLimit{key: key, lim: rate.NewLimiter(l.rate, l.burst)}
		l.keys[key] = l.lru.PushFront(k)
	}
	k.last = now
	r := k.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// retryAfter formats a Retry-After value: whole seconds, at least 1.
func retryAfter(d time.Duration) string {
	return fmt.Sprint(max(1, int(math.Ceil(d.Seconds()))))
}
