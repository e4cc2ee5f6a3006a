package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tell-project/tell/portrait"
)

// natsUser adds a NATS user with tell serve --add-nats-user and saves its
// credentials as its user would (chmod 600).
func natsUser(t *testing.T, users, role, name string) string {
	t.Helper()
	code, out, errOut := runTell(t, "serve", "--add-nats-user", role+":"+name, "--nats-users", users)
	if code != 0 || !strings.Contains(out, "SU") || !strings.Contains(errOut, "shown only now") {
		t.Fatalf("add-nats-user: %d %q %q", code, out, errOut)
	}
	p := filepath.Join(filepath.Dir(users), name+".creds")
	if err := os.WriteFile(p, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// selfSigned writes a certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T, dir string) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tell test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(k)
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return cert, key
}

// TestServeNATSRefusals: NATS beyond loopback, or beside API keys, does
// not open without users; credentials readable by others are refused.
func TestServeNATSRefusals(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	runTell(t, "serve", "--add-key", "alice", "--api-keys", keys)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--nats-listen", "0.0.0.0:0"}, "beyond this machine"},
		{[]string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--nats-listen", "127.0.0.1:0", "--api-keys", keys}, "--nats-users"},
		{[]string{"serve", "--addr", "127.0.0.1:0", "--nats", "nats://127.0.0.1:1", "--api-keys", keys}, "--nats-creds"},
		{[]string{"serve", "--add-nats-user", "wizard:x", "--nats-users", filepath.Join(dir, "u")}, "want server, worker or batch"},
		{[]string{"serve", "--add-nats-user", "batch:a.b", "--nats-users", filepath.Join(dir, "u")}, "subject token"},
		{[]string{"serve", "--job-budget", "lots"}, "--job-budget"},
		{[]string{"serve", "--job-budget", "2h@1080p30", "--key-work", "1h@1080p30"}, "--key-work"},
	} {
		code, _, errOut := runTell(t, tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("tell %v: exit %d, %q; want an error with %q", tc.args, code, errOut, tc.want)
		}
	}
	users := filepath.Join(dir, "users")
	creds := natsUser(t, users, "worker", "w1")
	os.Chmod(creds, 0o644)
	if code, _, errOut := runTell(t, "worker", "--nats", "nats://127.0.0.1:1", "--nats-creds", creds); code == 0 || !strings.Contains(errOut, "chmod 600") {
		t.Errorf("world-readable credentials: %d %q", code, errOut)
	}
}

// TestServeNATSUsers: tell serve with NATS users and TLS on a loopback
// port; a worker with its credentials runs an uploaded job; a client
// without credentials, or without the CA, is refused.
func TestServeNATSUsers(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users")
	workerCreds := natsUser(t, users, "worker", "w1")
	aliceCreds := natsUser(t, users, "batch", "alice")
	keys := filepath.Join(dir, "keys")
	_, aliceKey, _ := runTell(t, "serve", "--add-key", "alice", "--api-keys", keys)
	aliceKey = strings.TrimSpace(aliceKey)
	cert, key := selfSigned(t, dir)
	re := regexp.MustCompile(`NATS for tell worker and tell batch at (tls://\S+\ntell serve: listening on http://\S+)/`)
	both, _, _ := startTell(t, re, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--workers", "0",
		"--nats-listen", "127.0.0.1:0", "--nats-users", users, "--nats-tls-cert", cert, "--nats-tls-key", key, "--api-keys", keys)
	natsURL, base, _ := strings.Cut(both, "\ntell serve: listening on ")
	if nc, err := nats.Connect(natsURL, nats.MaxReconnects(0), nats.RootCAs(cert)); err == nil {
		nc.Close()
		t.Fatal("a NATS client without credentials was let in")
	}
	if code, _, errOut := runTell(t, "worker", "--nats", natsURL, "--nats-creds", workerCreds); code == 0 || !strings.Contains(errOut, "certificate") {
		t.Errorf("a worker without the CA: %d %q", code, errOut)
	}
	if code, _, errOut := runTell(t, "worker", "--nats", natsURL, "--nats-ca", cert); code == 0 || !strings.Contains(strings.ToLower(errOut), "authorization") {
		t.Errorf("a worker without credentials: %d %q", code, errOut)
	}
	startTell(t, nil, "worker", "--nats", natsURL, "--nats-creds", workerCreds, "--nats-ca", cert, "--workdir", t.TempDir())
	code, m := uploadTo(t, base, aliceKey, portrait.AstronautPNG())
	if code != http.StatusAccepted {
		t.Fatalf("upload: %d %v", code, m)
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		req, _ := http.NewRequest("GET", base+"/v1/jobs/"+m["id"].(string), nil)
		req.Header.Set("Authorization", "Bearer "+aliceKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var st map[string]any
		json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if s, _ := st["status"].(string); s == "done" || s == "failed" {
			// Without the landmark model the analysis fails, but the
			// worker ran it: the job reached the worker and back.
			if s == "failed" && !strings.Contains(st["error"].(string), "landmark") {
				t.Fatalf("job: %v", st)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job did not finish: %v", st)
		}
	}
	// tell batch as alice: through the server, owned by alice.
	in := t.TempDir()
	os.WriteFile(filepath.Join(in, "face.png"), portrait.AstronautPNG(), 0o644)
	out := t.TempDir()
	code, stdout, stderr := runTell(t, "batch", in, "--nats", natsURL, "--nats-creds", aliceCreds, "--nats-ca", cert, "--out", out, "--quiet")
	var rec struct{ State, Error string }
	b, _ := os.ReadFile(filepath.Join(out, "face", "job.json"))
	json.Unmarshal(b, &rec)
	if rec.State != "done" && !(rec.State == "failed" && strings.Contains(rec.Error, "landmark")) {
		t.Fatalf("batch as alice: %d %q %q; job.json %s", code, stdout, stderr, b)
	}
	// Alice's credentials cannot act as bob.
	code, _, stderr = runTell(t, "batch", in, "--nats", natsURL, "--nats-creds", aliceCreds, "--nats-ca", cert, "--user", "bob", "--out", t.TempDir(), "--quiet")
	if code == 0 || !strings.Contains(stderr, `not user "bob"`) {
		t.Errorf("alice as bob: %d %q", code, stderr)
	}
}

// uploadTo posts an image to a tell serve.
func uploadTo(t *testing.T, base, key string, img []byte) (int, map[string]any) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, _ := mw.CreateFormFile("file", "face.png")
	fw.Write(img)
	mw.Close()
	req, _ := http.NewRequest("POST", base+"/v1/analyze", &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}
