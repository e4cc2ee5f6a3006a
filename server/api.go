package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/tell-project/tell/queue"
	"github.com/tell-project/tell/video"
	"github.com/tell-project/tell/viewer"
)

// routes registers the handlers and wraps them. Each path dispatches on
// the method itself, so that a wrong method gets a JSON 405 like every
// other error.
func (s *Server) routes() {
	m := http.NewServeMux()
	for _, r := range s.routeTable() {
		m.Handle(r.pattern, r.methods)
	}
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such resource: %s", displayName(r.URL.Path, "?"))
	})
	s.mux = m
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.reject(w, http.StatusForbidden, rejectOrigin, "cross-origin %s refused: state-changing requests must come from this server's own page or from a non-browser client", r.Method)
	}))
	s.handler = s.logRequests(s.checkHost(cop.Handler(s.authenticate(s.limitReads(m)))))
}

// route is one path of the API, its methods, and whether it needs a key.
type route struct {
	pattern string
	methods methods
	public  bool
}

func (s *Server) routeTable() []route {
	return []route{
		{"/{$}", methods{"GET": s.handlePage("index.html")}, true},
		{"/app.js", methods{"GET": s.handlePage("app.js")}, true},
		{"/app.css", methods{"GET": s.handlePage("app.css")}, true},
		{"/viewer.js", methods{"GET": func(w http.ResponseWriter, r *http.Request) { viewer.ServeAsset(w, "viewer.js") }}, true},
		{"/viewer.css", methods{"GET": func(w http.ResponseWriter, r *http.Request) { viewer.ServeAsset(w, "viewer.css") }}, true},
		{"/healthz", methods{"GET": func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		}}, true},
		{"/readyz", methods{"GET": s.handleReady}, true},
		{"/openapi.json", methods{"GET": s.handleOpenAPI}, true},
		{"/metrics", methods{"GET": s.met.handler().ServeHTTP}, false},
		{"/v1/version", methods{"GET": func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, map[string]string{"version": s.cfg.Version})
		}}, false},
		{"/v1/analyze", methods{"POST": s.handleAnalyze}, false},
		{"/v1/jobs", methods{"GET": s.handleList}, false},
		{"/v1/jobs/{id}", methods{"GET": s.handleStatus, "DELETE": s.handleDelete}, false},
		{"/v1/jobs/{id}/{file}", methods{"GET": s.handleOutput}, false},
		{"/v1/cot", methods{"POST": s.handleCoT}, false},
	}
}

// methods maps HTTP methods to handlers; HEAD is served by GET.
type methods map[string]http.HandlerFunc

func (ms methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	if h, ok := ms[method]; ok {
		h(w, r)
		return
	}
	allow := make([]string, 0, len(ms))
	for m := range ms {
		allow = append(allow, m)
	}
	sort.Strings(allow)
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeError(w, http.StatusMethodNotAllowed, "method %s not allowed on %s; allowed: %s", displayName(r.Method, "?"), displayName(r.URL.Path, "?"), strings.Join(allow, ", "))
}

// apiError is the body of every error response.
type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, apiError{Error: fmt.Sprintf(format, args...)})
}

// reject answers a refused request and counts it by reason.
func (s *Server) reject(w http.ResponseWriter, status int, reason, format string, args ...any) {
	s.met.rejected.WithLabelValues(reason).Inc()
	if sw, ok := w.(*statusWriter); ok {
		sw.reason = reason
	} else if rw, ok := w.(interface{ Unwrap() http.ResponseWriter }); ok {
		if sw, ok := rw.Unwrap().(*statusWriter); ok {
			sw.reason = reason
		}
	}
	writeError(w, status, format, args...)
}

// checkHost refuses requests whose Host is not this server's: a browser
// page on a rebinding DNS name must not reach a loopback server.
func (s *Server) checkHost(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hostsMu.RLock()
		ok := s.hosts.allows(r.Host)
		s.hostsMu.RUnlock()
		if !ok {
			s.reject(w, http.StatusForbidden, rejectHost, "Host %q is not served here (start tell serve with --allowed-hosts to add a name)", displayName(r.Host, "?"))
			return
		}
		h.ServeHTTP(w, r)
	})
}

type ownerKey struct{}

// owner is the caller's key name ("" without keys).
func owner(r *http.Request) string {
	o, _ := r.Context().Value(ownerKey{}).(string)
	return o
}

// client names the caller for rate limits and upload slots: its key, or
// without keys its address.
func client(r *http.Request) string {
	if o := owner(r); o != "" {
		return "key:" + o
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return "addr:" + host
}

// authenticate checks the Bearer key on every route that needs one.
func (s *Server) authenticate(h http.Handler) http.Handler {
	public := map[string]bool{}
	for _, r := range s.routeTable() {
		if r.public {
			public[strings.TrimSuffix(r.pattern, "{$}")] = true
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Keys == nil || public[r.URL.Path] {
			h.ServeHTTP(w, r)
			return
		}
		token, ok := bearerToken(r.Header.Get("Authorization"))
		name, valid := s.cfg.Keys.Lookup(token)
		if !ok || !valid {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tell"`)
			s.reject(w, http.StatusUnauthorized, rejectAuth, "an API key is required: send \"Authorization: Bearer KEY\"")
			return
		}
		if sw, ok := w.(*statusWriter); ok {
			sw.owner = name
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ownerKey{}, name)))
	})
}

// bearerToken reads "Bearer TOKEN"; the scheme's case does not matter
// (RFC 9110: auth schemes are case-insensitive).
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// admin reports whether the caller's key is an admin key.
func (s *Server) admin(r *http.Request) bool {
	o := owner(r)
	return o != "" && s.cfg.Keys.Admin(o)
}

// rateLimited spends a token of the caller's bucket; when there is none it
// answers 429 with Retry-After.
func (s *Server) rateLimited(w http.ResponseWriter, r *http.Request) bool {
	return s.spend(w, r, s.limit)
}

func (s *Server) spend(w http.ResponseWriter, r *http.Request, l *limiter) bool {
	ok, wait := l.allow(client(r), time.Now())
	if ok {
		return false
	}
	w.Header().Set("Retry-After", retryAfter(wait))
	s.reject(w, http.StatusTooManyRequests, rejectRate, "too many requests for this key; retry in %s s", retryAfter(wait))
	return true
}

// limitReads spends a token of the caller's read bucket on GET and HEAD.
func (s *Server) limitReads(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && s.spend(w, r, s.readLimit) {
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Accepted is the answer of POST /v1/analyze.
type Accepted struct {
	ID        string `json:"id"`
	StatusURL string `json:"status_url"`
}

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 200

func (s *Server) handleAnalyze(w http.ResponseWriter, r *http.Request) {
	if s.rateLimited(w, r) {
		return
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		ct = ""
	}
	if ct != "multipart/form-data" && ct != "application/json" {
		s.reject(w, http.StatusUnsupportedMediaType, rejectMedia, "POST /v1/analyze wants multipart/form-data with a \"file\" field (or JSON {\"path\"} when the server allows paths), not %q", displayName(r.Header.Get("Content-Type"), ""))
		return
	}
	id := newID()
	if key := r.Header.Get("Idempotency-Key"); key != "" {
		if len(key) > maxIdempotencyKey {
			s.reject(w, http.StatusBadRequest, rejectBad, "Idempotency-Key: at most %d characters", maxIdempotencyKey)
			return
		}
		id = idFor(owner(r), key)
		// A job submitted before under this key is the answer, body unread.
		if j, err := s.q.Get(r.Context(), id); err == nil && j.Owner == owner(r) {
			s.accepted(w, j, http.StatusOK)
			return
		}
	}
	if r.ContentLength > s.cfg.MaxUpload+maxJSONBody {
		s.reject(w, http.StatusRequestEntityTooLarge, rejectTooLarge, "upload of %d bytes is larger than the limit of %s", r.ContentLength, sizeText(s.cfg.MaxUpload))
		return
	}
	// Room in the queue and in the key's quota, checked from the headers
	// before the body is read (nothing is held yet: a body that does not
	// come holds no place).
	if !s.roomFor(w, owner(r)) {
		return
	}
	pb := newPacedBody(w, r, s.cfg.BodyGrace, s.cfg.MinBodyRate)
	r.Body = pb
	var in *input
	var release func()
	if ct == "multipart/form-data" {
		in, release, err = s.receiveUpload(w, r, pb)
	} else {
		in, err = s.pathInput(w, r, pb)
		if err == nil {
			if release = s.uploadsIn.take(client(r), owner(r) != ""); release == nil {
				in.cleanup()
				err = refuse(http.StatusTooManyRequests, rejectUploads, "too many uploads in progress; retry shortly")
			}
		}
	}
	if err != nil {
		s.refuseInput(w, err)
		return
	}
	defer release()
	defer in.cleanup()
	j, status, err := s.submit(r.Context(), owner(r), id, in)
	if err != nil {
		s.refuseInput(w, err)
		return
	}
	s.accepted(w, j, status)
}

// roomFor answers 429 and returns false when the queue or the key's
// quota has no room for one more job.
func (s *Server) roomFor(w http.ResponseWriter, key string) bool {
	if s.index.total() >= s.cfg.MaxJobs {
		s.evict(time.Now(), 1)
	}
	if s.index.total() >= s.cfg.MaxJobs {
		s.busy(w, rejectQueue, "the server keeps %d jobs, none of them finished; retry later", s.cfg.MaxJobs)
		return false
	}
	if reason := s.quota.room(key, s.index.count(StateQueued), s.index.owner(key)); reason != "" {
		s.busyFor(w, reason)
		return false
	}
	return true
}

// busyFor answers 429 for a quota reason.
func (s *Server) busyFor(w http.ResponseWriter, reason string) {
	if reason == rejectKeyQueue {
		s.busy(w, reason, "this key has %d jobs waiting, its quota; retry when some have started", s.cfg.KeyQueued)
		return
	}
	s.busy(w, reason, "too many jobs waiting (%d); retry later", s.cfg.MaxQueued)
}

// submit checks an input's budget, charges the key and queues the job: the
// path of uploads, server-side paths and tell batch's submissions over
// NATS alike. The job is held when the key has its jobs in flight.
func (s *Server) submit(ctx context.Context, key, id string, in *input) (queue.Job, int, error) {
	// A queue place, held until the job is in the index.
	release, held, reason := s.quota.reserve(key, s.index.count(StateQueued), s.index.owner(key))
	if release == nil {
		msg := fmt.Sprintf("too many jobs waiting (%d); retry later", s.cfg.MaxQueued)
		if reason == rejectKeyQueue {
			msg = fmt.Sprintf("this key has %d jobs waiting, its quota; retry when some have started", s.cfg.KeyQueued)
		}
		return queue.Job{}, 0, &inputError{http.StatusTooManyRequests, reason, msg, s.queueWait(reason)}
	}
	defer release()
	e, err := s.cfg.Budget.check(ctx, in.path, in.kind, in.name, in.fps, s.cfg.Memory)
	if err != nil {
		status := budgetStatus(err)
		reason := rejectBudget
		switch {
		case status == http.StatusForbidden:
			reason = rejectPath
		case status >= 500:
			reason = rejectNotReady
		}
		return queue.Job{}, 0, &inputError{status: status, reason: reason, msg: scrubPaths(err, in.path, in.name).Error()}
	}
	refund, wait, ok := s.quota.charge(key, e.Work, time.Now())
	if !ok {
		return queue.Job{}, 0, &inputError{http.StatusTooManyRequests, rejectKeyWork,
			fmt.Sprintf("this key has submitted %s in the last hour, its quota; this input is %s; retry in %s s", WorkText(s.cfg.KeyWorkPerHour), WorkText(e.Work), retryAfter(wait)), wait}
	}
	rd, err := in.open()
	if err != nil {
		refund()
		return queue.Job{}, 0, &inputError{status: http.StatusForbidden, reason: rejectPath, msg: fmt.Sprintf("%s: not found or not allowed", in.name)}
	}
	defer rd.Close()
	j, created, err := s.q.Submit(ctx, queue.Job{ID: id, Owner: key, Name: in.name, Kind: in.kind, Ext: in.ext, FPS: in.fps, Work: e.Work, Held: held}, rd)
	if err != nil {
		refund()
		s.log.Error("submitting a job", "err", err)
		return queue.Job{}, 0, &inputError{status: http.StatusServiceUnavailable, reason: rejectNotReady, msg: "the job queue is not available; retry later"}
	}
	if !created {
		refund() // the same job submitted before: charged then
	}
	s.index.put(j)
	if j.Held {
		s.log.Info("job held: its key has its jobs in flight", "job", j.ID, "key", key)
	}
	return j, http.StatusAccepted, nil
}

// queueWait is the Retry-After of a full queue.
func (s *Server) queueWait(reason string) time.Duration {
	if reason != rejectQueue && reason != rejectKeyQueue {
		return time.Second
	}
	secs := s.met.meanJob.mean(5) * float64(s.index.count(StateQueued)+1) / float64(max(1, s.index.count(StateRunning)))
	return time.Duration(math.Min(300, math.Max(1, secs)) * float64(time.Second))
}

func (s *Server) accepted(w http.ResponseWriter, j queue.Job, status int) {
	url := "/v1/jobs/" + j.ID
	w.Header().Set("Location", url)
	writeJSON(w, status, Accepted{ID: j.ID, StatusURL: url})
}

// busy answers 429 with a Retry-After estimated from the jobs waiting and
// the mean job time.
func (s *Server) busy(w http.ResponseWriter, reason, format string, args ...any) {
	w.Header().Set("Retry-After", retryAfter(s.queueWait(reason)))
	s.reject(w, http.StatusTooManyRequests, reason, format, args...)
}

// inputError is a refused input with its status and reason; retry, when
// set, is the Retry-After of a 429 or 503.
type inputError struct {
	status int
	reason string
	msg    string
	retry  time.Duration
}

func (e *inputError) Error() string { return e.msg }

func refuse(status int, reason, format string, args ...any) error {
	return &inputError{status: status, reason: reason, msg: fmt.Sprintf(format, args...)}
}

func (s *Server) refuseInput(w http.ResponseWriter, err error) {
	var ie *inputError
	switch {
	case isSlow(err):
		s.reject(w, http.StatusRequestTimeout, rejectSlow, "the request body arrived slower than %d bytes per second over %s; send it faster", s.cfg.MinBodyRate, s.cfg.BodyGrace)
	case errors.As(err, &ie):
		if ie.status == http.StatusTooManyRequests || ie.status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", retryAfter(max(ie.retry, time.Second)))
		}
		s.reject(w, ie.status, ie.reason, "%s", ie.msg)
	default:
		// The error may name a path on the server: it goes to the log only.
		s.log.Error("receiving an input", "err", err)
		writeError(w, http.StatusInternalServerError, "receiving the input failed")
	}
}

// input is an upload or a server-side path, checked and ready to queue.
type input struct {
	path, name, kind, ext string
	fps                   float64
	files                 []string // the frames of a folder, resolved
	cleanup               func()
}

// open returns the bytes the queue stores: the file, or a tar of frames.
func (in *input) open() (io.ReadCloser, error) {
	if in.kind != "frames" {
		return os.Open(in.path)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(queue.Tar(pw, in.files)) }()
	return pr, nil
}

// receiveUpload streams the multipart field "file" into a temporary file
// under a name of our making, after sniffing its content. The upload
// takes its place (Config.MaxUploads) once the file's first bytes have
// arrived; release gives it back.
func (s *Server) receiveUpload(w http.ResponseWriter, r *http.Request, pb *pacedBody) (in *input, release func(), err error) {
	// The multipart framing adds a little to the file itself.
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUpload+64<<10)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, refuse(http.StatusBadRequest, rejectBad, "multipart body: %v", err)
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, nil, refuse(http.StatusBadRequest, rejectBad, "no \"file\" field in the upload")
		}
		if err != nil {
			return nil, nil, s.bodyErr("multipart body", err, pb)
		}
		if part.FormName() != "file" {
			part.Close()
			continue
		}
		// The part is not closed: closing reads it to its end, which a
		// refused upload must not wait for.
		return s.storeUpload(part, part.FileName(), pb, func() func() { return s.uploadsIn.take(client(r), owner(r) != "") })
	}
}

// bodyErr classifies an error reading the request body. The pace is read
// from the body itself: a multipart reader reports a cut inside a part's
// headers as a malformed header.
func (s *Server) bodyErr(what string, err error, pb *pacedBody) error {
	var mb *http.MaxBytesError
	switch {
	case isSlow(err) || pb != nil && pb.slow:
		return errSlowBody
	case errors.As(err, &mb):
		return refuse(http.StatusRequestEntityTooLarge, rejectTooLarge, "%s: larger than the limit of %s", what, sizeText(s.cfg.MaxUpload))
	}
	return refuse(http.StatusBadRequest, rejectBad, "%s: %v", what, err)
}

// storeUpload writes one uploaded file into a temporary file; take gives
// the upload its place once the first bytes are in (nil: none free).
func (s *Server) storeUpload(part io.Reader, filename string, pb *pacedBody, take func() func()) (*input, func(), error) {
	head := make([]byte, 512)
	n, err := io.ReadFull(part, head)
	head = head[:n]
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, nil, s.bodyErr("upload", err, pb)
	}
	if n == 0 {
		return nil, nil, refuse(http.StatusBadRequest, rejectBad, "upload: the file is empty")
	}
	ext, kind := video.Sniff(head)
	if ext == "" {
		return nil, nil, refuse(http.StatusUnsupportedMediaType, rejectMedia, "upload %q: not a PNG, JPEG or BMP image nor an MP4/MOV, Matroska/WebM, AVI or MPEG video", displayName(filename, ""))
	}
	release := take()
	if release == nil {
		return nil, nil, &inputError{status: http.StatusTooManyRequests, reason: rejectUploads, msg: "too many uploads in progress; retry shortly", retry: time.Second}
	}
	f, err := os.CreateTemp(s.uploads, "upload-*"+ext)
	if err != nil {
		release()
		return nil, nil, err
	}
	in := &input{path: f.Name(), name: displayName(filename, kind+ext), kind: kind, ext: ext, cleanup: func() { os.Remove(f.Name()) }}
	written, err := io.Copy(f, io.MultiReader(strings.NewReader(string(head)), io.LimitReader(part, s.cfg.MaxUpload-int64(n)+1)))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && written > s.cfg.MaxUpload {
		err = refuse(http.StatusRequestEntityTooLarge, rejectTooLarge, "upload: larger than the limit of %s", sizeText(s.cfg.MaxUpload))
	}
	if err != nil {
		in.cleanup()
		release()
		var ie *inputError
		if errors.As(err, &ie) {
			return nil, nil, err
		}
		return nil, nil, s.bodyErr("upload", err, pb)
	}
	return in, release, nil
}

func sizeText(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// displayName is the client's file name reduced to a harmless label: the
// last path element, printable, at most 100 characters. It is shown, never
// used as a path.
func displayName(name, fallback string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, name)
	if rs := []rune(name); len(rs) > 100 {
		name = string(rs[:100])
	}
	if name == "" || name == "." || name == ".." {
		return fallback
	}
	return name
}

// pathRequest is POST /v1/analyze's JSON body.
type pathRequest struct {
	Path string  `json:"path"`
	FPS  float64 `json:"fps,omitempty"`
}

func resolveRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	return abs, err
}

// inside resolves p (symbolic links and all) and reports whether it lies
// under root; the resolved path is returned.
func inside(root, p string) (string, bool) {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", false
	}
	rel, err := filepath.Rel(root, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", false
	}
	return real, true
}

// pathInput makes an input of a file or folder on the server, only under
// Config.AllowPaths: the path and, for a folder, every frame in it are
// resolved (symbolic links too) and must stay inside. A path that does
// not exist gets the same answer as one outside, so that answers do not
// tell which files exist.
func (s *Server) pathInput(w http.ResponseWriter, r *http.Request, pb *pacedBody) (*input, error) {
	if s.allowRoot == "" {
		return nil, refuse(http.StatusForbidden, rejectPath, "server-side paths are disabled: upload the file as multipart \"file\" (or start tell serve with --allow-paths DIR)")
	}
	var req pathRequest
	if err := decodeJSON(w, r, &req); err != nil {
		if isSlow(err) || pb.slow {
			return nil, errSlowBody
		}
		if err == errJSONTooLarge {
			return nil, refuse(http.StatusRequestEntityTooLarge, rejectTooLarge, "%v", err)
		}
		return nil, refuse(http.StatusBadRequest, rejectBad, "%v", err)
	}
	if req.Path == "" {
		return nil, refuse(http.StatusBadRequest, rejectBad, "JSON body: \"path\" is required")
	}
	if req.FPS != 0 && video.CheckFPS(req.FPS) != nil {
		return nil, refuse(http.StatusBadRequest, rejectBad, "JSON body: \"fps\" %g: want 0 (a video's own rate) or %d to %d", req.FPS, video.MinFPS, video.MaxFPS)
	}
	shown := displayName(req.Path, "?")
	denied := refuse(http.StatusForbidden, rejectPath, "path %q: not found or not allowed", shown)
	p := req.Path
	if !filepath.IsAbs(p) {
		p = filepath.Join(s.allowRoot, p)
	}
	real, ok := inside(s.allowRoot, filepath.Clean(p))
	if !ok {
		return nil, denied
	}
	st, err := os.Stat(real)
	if err != nil {
		return nil, denied
	}
	rel, _ := filepath.Rel(s.allowRoot, real)
	name := filepath.ToSlash(rel)
	if name == "." {
		name = filepath.Base(s.allowRoot)
	}
	in := &input{path: real, name: name, fps: req.FPS, cleanup: func() {}}
	switch {
	case st.IsDir():
		files, err := video.FrameFiles(real)
		if err != nil {
			return nil, denied
		}
		for i, f := range files {
			rf, ok := inside(s.allowRoot, f)
			if !ok {
				return nil, refuse(http.StatusForbidden, rejectPath, "path %q: frame %q is not found or not allowed", shown, filepath.Base(f))
			}
			if fi, err := os.Stat(rf); err != nil || !fi.Mode().IsRegular() {
				return nil, refuse(http.StatusForbidden, rejectPath, "path %q: frame %q is not found or not allowed", shown, filepath.Base(f))
			}
			files[i] = rf
		}
		if len(files) == 0 {
			return nil, refuse(http.StatusUnprocessableEntity, rejectBudget, "path %q: the folder holds no PNG, JPEG or BMP frames", shown)
		}
		// A folder has no rate of its own: the request's, else its
		// fps.txt (the job's tar carries the frames only).
		if in.fps == 0 {
			side, ok, err := video.FolderRate(real)
			if err != nil || !ok {
				return nil, refuse(http.StatusUnprocessableEntity, rejectBad, "path %q: a folder of frames has no frame rate of its own: give \"fps\" in the request or write it in the folder's %s", shown, video.RateFile)
			}
			in.fps = side
		}
		in.kind, in.ext, in.files = "frames", ".tar", files
		// The budget reads the folder by its frames, resolved.
		in.path = real
	case st.Mode().IsRegular():
		if st.Size() > s.cfg.MaxUpload {
			return nil, refuse(http.StatusRequestEntityTooLarge, rejectTooLarge, "path %q: larger than the limit of %s", shown, sizeText(s.cfg.MaxUpload))
		}
		f, err := os.Open(real)
		if err != nil {
			return nil, denied
		}
		head := make([]byte, 512)
		n, _ := io.ReadFull(f, head)
		f.Close()
		ext, kind := video.Sniff(head[:n])
		if ext == "" {
			return nil, refuse(http.StatusUnsupportedMediaType, rejectMedia, "path %q: not a PNG, JPEG or BMP image nor a known video", shown)
		}
		in.kind, in.ext = kind, ext
	default:
		return nil, denied
	}
	return in, nil
}

// errJSONTooLarge is a JSON body over maxJSONBody (413).
var errJSONTooLarge = fmt.Errorf("JSON body: larger than %d KiB", maxJSONBody>>10)

// decodeJSON reads a small JSON body strictly: unknown fields are errors,
// so that a misspelt field is not silently ignored.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mb *http.MaxBytesError
		if isSlow(err) {
			return err
		}
		if errors.As(err, &mb) {
			return errJSONTooLarge
		}
		if err == io.EOF {
			return errors.New("JSON body: empty")
		}
		if err == io.ErrUnexpectedEOF {
			return errors.New("JSON body: cut short")
		}
		return fmt.Errorf("JSON body: %w", err)
	}
	if dec.More() {
		return errors.New("JSON body: more than one value")
	}
	return nil
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	// An admin key lists every key's jobs.
	js := s.index.list(owner(r), s.admin(r))
	out := make([]JobStatus, len(js))
	for i, j := range js {
		out[i] = statusOf(j)
	}
	writeJSON(w, http.StatusOK, map[string]any{"jobs": out})
}

// job fetches the caller's job named by the path; another owner's job is
// "not found", like a job that does not exist. The index (kept current by
// a watch) answers first; the store answers for a job the index has not
// seen yet (submitted through another server a moment ago).
func (s *Server) job(w http.ResponseWriter, r *http.Request) (queue.Job, bool) {
	id := r.PathValue("id")
	if validID(id) {
		j, ok := s.index.get(id)
		if !ok {
			var err error
			j, err = s.q.Get(r.Context(), id)
			if err != nil && !errors.Is(err, queue.ErrNotFound) {
				s.log.Error("reading a job", "job", id, "err", err)
				writeError(w, http.StatusServiceUnavailable, "the job queue is not available; retry later")
				return queue.Job{}, false
			}
			ok = err == nil
		}
		if ok && (j.Owner == owner(r) || s.admin(r)) {
			return j, true
		}
	}
	writeError(w, http.StatusNotFound, "no job %q", displayName(id, ""))
	return queue.Job{}, false
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	if j, ok := s.job(w, r); ok {
		writeJSON(w, http.StatusOK, statusOf(j))
	}
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) {
	if s.rateLimited(w, r) {
		return
	}
	j, ok := s.job(w, r)
	if !ok {
		return
	}
	if err := s.q.Delete(r.Context(), j.ID); err != nil && !errors.Is(err, queue.ErrNotFound) {
		s.log.Error("deleting a job", "job", j.ID, "err", err)
		writeError(w, http.StatusServiceUnavailable, "the job queue is not available; retry later")
		return
	}
	s.index.remove(j.ID)
	s.log.Info("job deleted", "job", j.ID, "owner", j.Owner)
	s.wakeDispatcher()
	w.WriteHeader(http.StatusNoContent)
}

// Content types and policies of the outputs. The report is our own
// self-contained HTML without scripts: it runs none (script-src 'none'),
// is sandboxed (no same origin: it cannot read the API with the user's
// credentials even if a face's label were crafted), may style itself and
// show data: images, and may be framed by our page only.
var outputHeaders = map[string][2]string{
	"events.json":  {"application/json; charset=utf-8", "default-src 'none'; sandbox"},
	"frames.csv":   {"text/csv; charset=utf-8", "default-src 'none'; sandbox"},
	"report.html":  {"text/html; charset=utf-8", "default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"},
	"preview.jpgs": {"application/octet-stream", "default-src 'none'; sandbox"},
}

func (s *Server) handleOutput(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	hdr, known := outputHeaders[name]
	if !known {
		writeError(w, http.StatusNotFound, "no such output %q; a job has %s", displayName(name, ""), strings.Join(outputFiles, ", "))
		return
	}
	j, ok := s.job(w, r)
	if !ok {
		return
	}
	if !queue.Terminal(j.State) {
		writeError(w, http.StatusConflict, "job %s is %s; outputs come when it has finished", j.ID, j.State)
		return
	}
	rd, size, err := s.q.Output(r.Context(), j, name)
	if err != nil {
		writeError(w, http.StatusNotFound, "job %s has no %s (status %s)", j.ID, name, j.State)
		return
	}
	defer rd.Close()
	w.Header().Set("Content-Type", hdr[0])
	w.Header().Set("Content-Security-Policy", hdr[1])
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.Header().Set("Cache-Control", "private, no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		io.Copy(w, rd)
	}
}

// Readiness is the answer of GET /readyz.
type Readiness struct {
	Ready  bool   `json:"ready"`
	Queue  string `json:"queue"`
	Worker string `json:"worker"`
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	rd := Readiness{Ready: true, Queue: "ok", Worker: "local"}
	if s.cfg.NoWorker {
		rd.Worker = "none (tell worker processes run the jobs)"
	}
	if err := s.q.Ready(ctx); err != nil {
		rd.Ready, rd.Queue = false, err.Error()
	} else if err := s.index.broken(); err != nil {
		rd.Ready, rd.Queue = false, "the job index is restarting its watch: "+err.Error()
	}
	status := http.StatusOK
	if !rd.Ready {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, rd)
}

// statusWriter records a response for the log, and starts the write
// deadline when the response starts: an upload's time does not count
// against its answer, a slow reader of an answer is still cut.
type statusWriter struct {
	http.ResponseWriter
	status int
	n      int64
	owner  string
	reason string
	// hasBody: the request came with a body that a refusal leaves unread.
	hasBody bool
}

// responseWriteTimeout bounds writing one response.
const responseWriteTimeout = 5 * time.Minute

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		_ = http.NewResponseController(w.ResponseWriter).SetWriteDeadline(time.Now().Add(responseWriteTimeout))
		// Without this, net/http reads up to 256 KiB of an unread body
		// before it sends the answer: a refusal would wait for a trickle.
		if w.hasBody && code != http.StatusAccepted && code != http.StatusNoContent {
			w.Header().Set("Connection", "close")
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs one line per request: method, route, status, size,
// time, the key's name (never the key) and the refusal reason. Request
// bodies, file names and query strings are never logged: they may name or
// show a person.
func (s *Server) logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, hasBody: r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody}
		h.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		s.met.requests.WithLabelValues(strconv.Itoa(sw.status)).Inc()
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelWarn
		}
		attrs := []any{"method", r.Method, "route", routeOf(r), "status", sw.status, "bytes", sw.n,
			"ms", time.Since(start).Milliseconds(), "remote", r.RemoteAddr}
		if sw.owner != "" {
			attrs = append(attrs, "key", sw.owner)
		}
		if sw.reason != "" {
			attrs = append(attrs, "refused", sw.reason)
		}
		s.log.Log(r.Context(), level, "request", attrs...)
	})
}

// routeOf is the request's path with a job id kept (it is random, not
// personal) but anything unknown cut, so that logs hold no request text.
func routeOf(r *http.Request) string {
	p := r.URL.Path
	if len(p) > 80 {
		p = p[:80] + "…"
	}
	return strings.Map(func(c rune) rune {
		if c < 0x20 || c == 0x7f {
			return -1
		}
		return c
	}, p)
}
