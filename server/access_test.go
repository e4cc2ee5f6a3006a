package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tell-project/tell/queue"
)

func TestKeysFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	alice, err := AddKey(path, "alice")
	if err != nil {
		t.Fatal(err)
	}
	bob, err := AddKey(path, "bob@lab")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := AddKey(path, "alice"); err == nil {
		t.Error("a second key named alice was added")
	}
	if _, err := AddKey(path, "no spaces"); err == nil {
		t.Error("a bad name was accepted")
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte(alice)) || bytes.Contains(raw, []byte(bob)) || !strings.HasPrefix(alice, "tell_") || alice == bob {
		t.Fatalf("keys file keeps a key, or keys look wrong:\n%s", raw)
	}
	k, err := LoadKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{alice: "alice", bob: "bob@lab"} {
		if name, ok := k.Lookup(key); !ok || name != want {
			t.Errorf("Lookup: %q %v, want %q", name, ok, want)
		}
	}
	for _, bad := range []string{"", "tell_", alice + "x", strings.TrimPrefix(alice, "tell_"), strings.ToUpper(alice)} {
		if _, ok := k.Lookup(bad); ok {
			t.Errorf("Lookup(%q) accepted", bad)
		}
	}
	for _, tc := range []struct{ text, msg string }{
		{"", "no keys"},
		{"# only a comment\n", "no keys"},
		{"alice\n", "line 1"},
		{"alice sha256:abc\n", "line 1: the hash"},
		{"ok sha256:" + strings.Repeat("0", 64) + "\nok2 md5:00\n", "line 2"},
		{"a sha256:" + strings.Repeat("0", 64) + "\nb sha256:" + strings.Repeat("0", 64) + "\n", "twice"},
	} {
		if _, err := ParseKeys([]byte(tc.text)); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("ParseKeys(%q): %v, want %q", tc.text, err, tc.msg)
		}
	}
}

// keyedServer has two keys, alice and bob.
func keyedServer(t *testing.T, cfg Config) (s *Server, base, alice, bob string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys")
	alice, _ = AddKey(path, "alice")
	bob, _ = AddKey(path, "bob")
	keys, err := LoadKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Keys = keys
	s, ts := newTestServer(t, cfg)
	return s, ts.URL, alice, bob
}

func bearer(key string) []string { return []string{"Authorization", "Bearer " + key} }

func TestAuth(t *testing.T) {
	fake := newFake()
	close(fake.release)
	_, base, alice, bob := keyedServer(t, Config{Analysis: fake.analysis()})
	for _, p := range []string{"/v1/jobs", "/v1/version", "/metrics", "/v1/jobs/0123456789abcdef0123456789abcdef"} {
		code, hdr, _ := doHdr(t, "GET", base+p, "", nil)
		if code != 401 || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s without a key: %d", p, code)
		}
		if code, _, _ := doHdr(t, "GET", base+p, "", nil, bearer("tell_wrong")...); code != 401 {
			t.Errorf("%s with a wrong key: %d", p, code)
		}
	}
	for _, p := range []string{"/healthz", "/readyz", "/openapi.json", "/"} {
		if code, _, _ := get(t, base+p); code != 200 {
			t.Errorf("%s is public, got %d", p, code)
		}
	}
	body, ct := multipartBody(t, "file", "a.png", smallPNG(100))
	code, m := do(t, "POST", base+"/v1/analyze", ct, body, bearer(alice)...)
	if code != 202 {
		t.Fatalf("alice's upload: %d %v", code, m)
	}
	id := m["id"].(string)
	waitStateAuth(t, base, id, alice, StateDone)
	// Bob cannot see, fetch or delete alice's job; it does not exist for him.
	for _, req := range []struct{ method, path string }{{"GET", "/v1/jobs/" + id}, {"GET", "/v1/jobs/" + id + "/report.html"}, {"DELETE", "/v1/jobs/" + id}} {
		if code, _ := do(t, req.method, base+req.path, "", nil, bearer(bob)...); code != 404 {
			t.Errorf("bob %s %s: %d, want 404", req.method, req.path, code)
		}
	}
	if _, m := do(t, "GET", base+"/v1/jobs", "", nil, bearer(bob)...); len(m["jobs"].([]any)) != 0 {
		t.Errorf("bob lists %v", m)
	}
	if _, m := do(t, "GET", base+"/v1/jobs", "", nil, bearer(alice)...); len(m["jobs"].([]any)) != 1 {
		t.Errorf("alice lists %v", m)
	}
	if code, _, _ := get(t, base+"/v1/jobs/"+id+"/report.html", bearer(alice)...); code != 200 {
		t.Errorf("alice's report: %d", code)
	}
	if code, _ := do(t, "DELETE", base+"/v1/jobs/"+id, "", nil, bearer(alice)...); code != 204 {
		t.Errorf("alice deletes her job: %d", code)
	}
}

func TestAllowedHosts(t *testing.T) {
	cases := []struct {
		listen string
		extra  []string
		host   string
		ok     bool
	}{
		{"127.0.0.1:8080", nil, "127.0.0.1:8080", true},
		{"127.0.0.1:8080", nil, "localhost:8080", true},
		{"127.0.0.1:8080", nil, "LOCALHOST", true},
		{"127.0.0.1:8080", nil, "[::1]:8080", true},
		{"127.0.0.1:8080", nil, "evil.example", false},
		{"127.0.0.1:8080", nil, "evil.example:8080", false},
		{"127.0.0.1:8080", nil, "", false},
		{"127.0.0.1:8080", []string{"tell.lab.example"}, "tell.lab.example:8080", true},
		{"0.0.0.0:8080", nil, "localhost:8080", true},
		{"0.0.0.0:8080", nil, "0.0.0.0:8080", false},
		{"0.0.0.0:8080", nil, "10.0.0.5:8080", false},
		{"0.0.0.0:8080", []string{"10.0.0.5"}, "10.0.0.5:8080", true},
		{"192.0.2.7:80", nil, "192.0.2.7", true},
		{"192.0.2.7:80", nil, "localhost", false},
	}
	for _, tc := range cases {
		if got := allowedHosts(tc.listen, tc.extra).allows(tc.host); got != tc.ok {
			t.Errorf("listen %s extra %v: Host %q allowed=%v, want %v", tc.listen, tc.extra, tc.host, got, tc.ok)
		}
	}
	for addr, want := range map[string]bool{"127.0.0.1:1": true, "localhost:1": true, "[::1]:1": true, "0.0.0.0:1": false, ":8080": false, "[::]:1": false, "192.0.2.1:1": false, "bad": false} {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v", addr, got)
		}
	}
}

func TestHostAndOrigin(t *testing.T) {
	_, ts := newTestServer(t, Config{Analysis: newFake().analysis(), AllowedHosts: []string{"tell.lab.example"}})
	cot := func(hdr ...string) int {
		code, _ := do(t, "POST", ts.URL+"/v1/cot", "application/json", strings.NewReader(`{"aus":"6+12"}`), hdr...)
		return code
	}
	// DNS rebinding: a page on evil.example resolving to 127.0.0.1.
	if code, m := do(t, "GET", ts.URL+"/v1/jobs", "", nil, "Host", "evil.example"); code != 403 || !strings.Contains(fmt.Sprint(m["error"]), "Host") {
		t.Errorf("Host evil.example: %d %v", code, m)
	}
	if code, _ := do(t, "GET", ts.URL+"/healthz", "", nil, "Host", "tell.lab.example"); code != 200 {
		t.Errorf("allowed extra host: %d", code)
	}
	if c := cot("Origin", "https://evil.example"); c != 403 {
		t.Errorf("cross-site Origin on POST: %d", c)
	}
	if c := cot("Sec-Fetch-Site", "cross-site"); c != 403 {
		t.Errorf("Sec-Fetch-Site cross-site on POST: %d", c)
	}
	if code, _ := do(t, "DELETE", ts.URL+"/v1/jobs/0123456789abcdef0123456789abcdef", "", nil, "Origin", "https://evil.example"); code != 403 {
		t.Errorf("cross-site DELETE: %d", code)
	}
	if c := cot("Origin", ts.URL, "Sec-Fetch-Site", "same-origin"); c != 200 {
		t.Errorf("same-origin POST: %d", c)
	}
	if c := cot(); c != 200 {
		t.Errorf("non-browser POST: %d", c)
	}
	if code, _ := do(t, "GET", ts.URL+"/v1/jobs", "", nil, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"); code != 200 {
		t.Errorf("cross-site GET (reads are safe: CORS keeps the answer from the page): %d", code)
	}
}

func TestRateLimit(t *testing.T) {
	_, ts := newTestServer(t, Config{Analysis: newFake().analysis(), Rate: 1, Burst: 2})
	var codes []int
	var retry string
	for range 3 {
		code, hdr, _ := doHdr(t, "POST", ts.URL+"/v1/cot", "application/json", strings.NewReader(`{"aus":"6+12"}`))
		codes = append(codes, code)
		retry = hdr.Get("Retry-After")
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != 429 || retry != "1" {
		t.Errorf("codes %v, Retry-After %q", codes, retry)
	}
	// Reads have their own bucket (10×Rate by default).
	if code, _ := do(t, "GET", ts.URL+"/v1/jobs", "", nil); code != 200 {
		t.Errorf("GET after the limit: %d", code)
	}
}

// slowUpload opens a raw connection, sends an upload's headers and then
// its body one byte every interval; it returns the status line the server
// answered with and when.
func slowUpload(t *testing.T, base, key string, interval time.Duration, stop <-chan struct{}) (status string, after time.Duration) {
	return slowRequest(t, base, "/v1/analyze", key, "multipart/form-data; boundary=x", "", interval, stop)
}

// slowRequest is slowUpload to any path with any content type, sending
// prefix at once before the trickle.
func slowRequest(t *testing.T, base, path, key, ct, prefix string, interval time.Duration, stop <-chan struct{}) (status string, after time.Duration) {
	addr := strings.TrimPrefix(base, "http://")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Error(err)
		return "", 0
	}
	defer c.Close()
	start := time.Now()
	auth := ""
	if key != "" {
		auth = "Authorization: Bearer " + key + "\r\n"
	}
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\n%sContent-Type: %s\r\nContent-Length: 100000\r\n\r\n%s", path, addr, auth, ct, prefix)
	answer := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(c).ReadString('\n')
		answer <- strings.TrimSpace(line)
	}()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case line := <-answer:
			return line, time.Since(start)
		case <-stop:
			return "", time.Since(start)
		case <-tick.C:
			c.Write([]byte("-"))
		}
	}
}

// TestSlowBodies: uploads that trickle before their file has begun hold
// no upload place and are cut (408) after about the grace; those that
// trickle once their file has begun hold at most their key's places; a
// trickle inside a part's headers is cut as slow too (it was a 400
// "malformed MIME header"); another key's uploads go through meanwhile.
func TestSlowBodies(t *testing.T) {
	fake := newFake()
	close(fake.release)
	const grace = 800 * time.Millisecond
	_, base, alice, bob := keyedServer(t, Config{Analysis: fake.analysis(), MaxUploads: 8, MaxUploadsPerKey: 2, BodyGrace: grace, MinBodyRate: 1000})
	stop := make(chan struct{})
	defer close(stop)
	type result struct {
		kind   string
		status string
		after  time.Duration
	}
	fileHead := "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n" + string(smallPNG(200)) + strings.Repeat("\x00", 600)
	kinds := map[string]string{
		"before the file":      "",
		"inside part headers":  "--x\r\nContent-Disposition: form-data; name=\"file\"; filen",
		"inside the file data": fileHead,
	}
	results := make(chan result, 18)
	var wg sync.WaitGroup
	for kind, prefix := range kinds {
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, d := slowRequest(t, base, "/v1/analyze", alice, "multipart/form-data; boundary=x", prefix, 20*time.Millisecond, stop)
				results <- result{kind, s, d}
			}()
		}
	}
	// Bob's uploads go through meanwhile, at their usual pace.
	time.Sleep(100 * time.Millisecond)
	for i := range 3 {
		body, ct := multipartBody(t, "file", "b.png", smallPNG(200))
		start := time.Now()
		code, m := do(t, "POST", base+"/v1/analyze", ct, body, bearer(bob)...)
		if code != 202 || time.Since(start) >= grace { // held up by the trickles would take until their cut
			t.Errorf("bob's upload %d during the trickle: %d %v in %v", i, code, m, time.Since(start))
		}
	}
	wg.Wait()
	close(results)
	cut, refused := map[string]int{}, map[string]int{}
	for r := range results {
		switch {
		case strings.Contains(r.status, " 408 "):
			cut[r.kind]++
			if r.after < grace || r.after > grace+2*time.Second {
				t.Errorf("%s: cut after %v, want about %v", r.kind, r.after, grace)
			}
		case strings.Contains(r.status, " 429 "):
			refused[r.kind]++
			if r.after > grace/2 {
				t.Errorf("%s: refused only after %v", r.kind, r.after)
			}
		default:
			t.Errorf("%s: trickling upload answered %q after %v", r.kind, r.status, r.after)
		}
	}
	for kind, want := range map[string][2]int{"before the file": {6, 0}, "inside part headers": {6, 0}, "inside the file data": {2, 4}} {
		if cut[kind] != want[0] || refused[kind] != want[1] {
			t.Errorf("%s: %d cut, %d refused; want %d and %d", kind, cut[kind], refused[kind], want[0], want[1])
		}
	}
}

// TestCoTFairSlots: two requests of key A trickling their bodies hold no
// chain-of-thought place, and A filling the shared pool still leaves B its
// own place. (Before, the two trickles held both places of the pool and B
// got 429 on 45 of 46 requests.)
func TestCoTFairSlots(t *testing.T) {
	const grace = 2 * time.Second
	s, base, alice, bob := keyedServer(t, Config{Analysis: newFake().analysis(), MaxCoT: 2, BodyGrace: grace, MinBodyRate: 1000, Rate: -1})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slowRequest(t, base, "/v1/cot", alice, "application/json", `{"aus":"`, 50*time.Millisecond, stop)
		}()
	}
	time.Sleep(200 * time.Millisecond)
	for i := range 20 {
		if code, m := do(t, "POST", base+"/v1/cot", "application/json", strings.NewReader(`{"aus":"6+12"}`), bearer(bob)...); code != 200 {
			t.Errorf("bob's chain %d while alice trickles: %d %v", i, code, m)
		}
	}
	close(stop)
	wg.Wait()
	// Alice holding her own place and every place of the pool she may:
	// bob still has his own.
	var held []func()
	for {
		r := s.cotSlots.take("key:alice", true)
		if r == nil {
			break
		}
		held = append(held, r)
	}
	if len(held) != 2 { // her own and half the pool
		t.Errorf("alice holds %d places, want 2", len(held))
	}
	if code, m := do(t, "POST", base+"/v1/cot", "application/json", strings.NewReader(`{"aus":"6+12"}`), bearer(bob)...); code != 200 {
		t.Errorf("bob while alice holds her places: %d %v", code, m)
	}
	for _, r := range held {
		r()
	}
}

// TestSlots: own places first, then the pool, at most perKey per key;
// released places serve others.
func TestSlots(t *testing.T) {
	s := newSlots(1, 2, 2)
	a1, a2 := s.take("a", true), s.take("a", true)
	if a1 == nil || a2 == nil || s.take("a", true) != nil {
		t.Fatal("a: want exactly 2 places")
	}
	b1 := s.take("b", true) // b's own place
	b2 := s.take("b", true) // the pool's last
	anon := s.take("addr", false)
	if b1 == nil || b2 == nil || anon != nil {
		t.Fatalf("b: %v %v; anonymous with the pool full: %v", b1 != nil, b2 != nil, anon != nil)
	}
	a2() // a's pool place back
	a2() // twice is once
	if anon = s.take("addr", false); anon == nil {
		t.Fatal("a freed pool place was not given")
	}
	if s.take("c", false) != nil {
		t.Fatal("the pool gave more than its places")
	}
	for _, r := range []func(){a1, b1, b2, anon} {
		r()
	}
	if s.used != 0 || len(s.held) != 0 {
		t.Fatalf("after all releases: %d used, %v held", s.used, s.held)
	}
}

func TestIdempotencyKey(t *testing.T) {
	fake := newFake()
	close(fake.release)
	_, base, alice, bob := keyedServer(t, Config{Analysis: fake.analysis()})
	body, ct := multipartBody(t, "file", "a.png", smallPNG(100))
	code, m := do(t, "POST", base+"/v1/analyze", ct, body, append(bearer(alice), "Idempotency-Key", "clip-17")...)
	if code != 202 {
		t.Fatalf("first: %d %v", code, m)
	}
	id := m["id"].(string)
	// The repeat is answered from its headers: this body never ends.
	req, _ := http.NewRequest("POST", base+"/v1/analyze", blockingReader{})
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+alice)
	req.Header.Set("Idempotency-Key", "clip-17")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(b, []byte(id)) {
		t.Errorf("repeat: %d %s", resp.StatusCode, b)
	}
	// Bob's same key is another job.
	body, ct = multipartBody(t, "file", "a.png", smallPNG(100))
	code, m = do(t, "POST", base+"/v1/analyze", ct, body, append(bearer(bob), "Idempotency-Key", "clip-17")...)
	if code != 202 || m["id"] == id {
		t.Errorf("bob: %d %v", code, m)
	}
	waitStateAuth(t, base, id, alice, StateDone)
	if n := fake.runs.Load(); n > 2 {
		t.Errorf("%d runs for two jobs", n)
	}
}

func TestMetrics(t *testing.T) {
	fake := newFake()
	close(fake.release)
	_, ts := newTestServer(t, Config{Analysis: fake.analysis()})
	code, m := upload(t, ts.URL, "a.png", smallPNG(100))
	if code != 202 {
		t.Fatal(code, m)
	}
	waitState(t, ts.URL, m["id"].(string), StateDone)
	upload(t, ts.URL, "bomb.png", pngHeader(50000, 50000))
	do(t, "GET", ts.URL+"/v1/jobs", "", nil, "Host", "evil.example")
	var text string
	for i := 0; ; i++ {
		_, hdr, b := get(t, ts.URL+"/metrics")
		text = string(b)
		if strings.Contains(text, "tell_job_seconds_count 1") || i > 200 {
			if !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain") {
				t.Errorf("content type %q", hdr.Get("Content-Type"))
			}
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{
		`tell_jobs{state="done"} 1`,
		`tell_jobs{state="queued"} 0`,
		`tell_queue_depth 0`,
		`tell_job_seconds_count 1`,
		`tell_frames_total 10`,
		`tell_job_frames_per_second_count 1`,
		`tell_stage_cpu_seconds_total{stage="flow"} 2`,
		`tell_stage_cpu_seconds_total{stage="decode"} 0`,
		`tell_rejected_requests_total{reason="budget"} 1`,
		`tell_rejected_requests_total{reason="host"} 1`,
		`tell_rejected_requests_total{reason="rate"} 0`,
		`tell_http_requests_total{code="202"} 1`,
		`go_goroutines`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// TestRequestLogs: one structured line per request, naming the key but
// never the key itself, nor the uploaded file's name or the CoT body.
func TestRequestLogs(t *testing.T) {
	var buf syncBuffer
	fake := newFake()
	close(fake.release)
	_, base, alice, _ := keyedServer(t, Config{Analysis: fake.analysis(), Log: slog.New(slog.NewJSONHandler(&buf, nil))})
	body, ct := multipartBody(t, "file", "Jane Doe interview.png", smallPNG(100))
	code, m := do(t, "POST", base+"/v1/analyze", ct, body, bearer(alice)...)
	if code != 202 {
		t.Fatal(code, m)
	}
	waitStateAuth(t, base, m["id"].(string), alice, StateDone)
	do(t, "POST", base+"/v1/cot", "application/json", strings.NewReader(`{"aus":"6+12","label":"secretlabel"}`), bearer(alice)...)
	do(t, "GET", base+"/v1/jobs", "", nil, bearer("tell_wrong-key-text")...)
	logs := buf.String()
	for _, bad := range []string{alice, "tell_wrong-key-text", "Jane", "secretlabel"} {
		if strings.Contains(logs, bad) {
			t.Errorf("the log holds %q", bad)
		}
	}
	for _, want := range []string{`"msg":"request","method":"POST","route":"/v1/analyze","status":202`, `"key":"alice"`, `"status":401`, `"refused":"auth"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %s:\n%.2000s", want, logs)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestIndexKeepsNewest: the record a server put in its index after a
// submit never replaces a newer one its watch reported first.
func TestIndexKeepsNewest(t *testing.T) {
	ix := newIndex()
	ix.apply(queue.Event{Job: queue.Job{ID: "a", State: StateDone}})
	ix.put(queue.Job{ID: "a", State: StateQueued})
	if j, _ := ix.get("a"); j.State != StateDone || ix.count(StateQueued) != 0 || ix.count(StateDone) != 1 {
		t.Errorf("index went back to %v", j.State)
	}
	ix.put(queue.Job{ID: "b", State: StateQueued})
	if j, ok := ix.get("b"); !ok || j.State != StateQueued {
		t.Errorf("a new job not indexed: %v %v", j, ok)
	}
}

// TestPaceWindow: the pace is measured over the last window, not from the
// start. A body that sends 1.25 MiB at once and then 1 byte a second is
// cut about a window after it slowed down (the average from the start
// held it for 30 s); a steady body at the pace is never cut; a trickle
// from the start is cut at the grace.
func TestPaceWindow(t *testing.T) {
	const grace = 10 * time.Second
	const rate = 64 << 10
	t0 := time.Unix(1000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	since := func(d time.Time) float64 { return d.Sub(t0).Seconds() }

	burst := &pacedBody{start: t0, grace: grace, rate: rate}
	for i := range 20 { // 1.25 MiB in the first second
		burst.arrived(at(float64(i)*0.05), 64<<10)
	}
	for s := 2; s <= 9; s++ { // then a byte a second
		burst.arrived(at(float64(s)), 1)
	}
	if d := since(burst.deadline()); d < 10 || d > 12 {
		t.Errorf("burst then trickle: cut at %.1f s, want about 11 s (a window after the burst)", d)
	}

	steady := &pacedBody{start: t0, grace: grace, rate: rate}
	for i := 0; i < 600; i++ { // 80 KiB/s for 60 s, in tenths
		now := at(float64(i) * 0.1)
		steady.arrived(now, 8<<10)
		if d := steady.deadline(); !d.After(now) {
			t.Fatalf("steady body at %.1f s: deadline %.1f s", since(now), since(d))
		}
	}

	trickle := &pacedBody{start: t0, grace: grace, rate: rate}
	for s := 0; s < 9; s++ {
		trickle.arrived(at(float64(s)), 1)
	}
	if d := since(trickle.deadline()); d != 10 {
		t.Errorf("trickle: cut at %.1f s, want the grace, 10 s", d)
	}

	slowedDown := &pacedBody{start: t0, grace: grace, rate: rate}
	for i := 0; i < 300; i++ { // 128 KiB/s for 30 s, then nothing
		slowedDown.arrived(at(float64(i)*0.1), 12800)
	}
	if d := since(slowedDown.deadline()); d < 34 || d > 36 {
		t.Errorf("a steady body that stops at 30 s: cut at %.1f s, want about 35 s", d)
	}
}
