package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode"
)

// routes registers the handlers. Each path dispatches on the method
// itself, so that a wrong method gets a JSON 405 like every other error.
func (s *Server) routes() {
	m := http.NewServeMux()
	m.Handle("/{$}", methods{"GET": s.handlePage("index.html")})
	m.Handle("/app.js", methods{"GET": s.handlePage("app.js")})
	m.Handle("/app.css", methods{"GET": s.handlePage("app.css")})
	m.Handle("/healthz", methods{"GET": func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}})
	m.Handle("/v1/version", methods{"GET": func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"version": s.cfg.Version})
	}})
	m.Handle("/v1/analyze", methods{"POST": s.handleAnalyze})
	m.Handle("/v1/jobs", methods{"GET": s.handleList})
	m.Handle("/v1/jobs/{id}", methods{"GET": s.handleStatus, "DELETE": s.handleDelete})
	m.Handle("/v1/jobs/{id}/{file}", methods{"GET": s.handleOutput})
	m.Handle("/v1/cot", methods{"POST": s.handleCoT})
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such resource: %s", r.URL.Path)
	})
	s.mux = m
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
	writeError(w, http.StatusMethodNotAllowed, "method %s not allowed on %s; allowed: %s", r.Method, r.URL.Path, strings.Join(allow, ", "))
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

// Accepted is the answer of POST /v1/analyze.
type Accepted struct {
	ID        string `json:"id"`
	StatusURL string `json:"status_url"`
}

func (s *Server) handleAnalyze(w http.ResponseWriter, r *http.Request) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		ct = ""
	}
	var j *job
	var status int
	switch ct {
	case "multipart/form-data":
		j, status, err = s.receiveUpload(w, r)
	case "application/json":
		j, status, err = s.pathJob(r)
	default:
		writeError(w, http.StatusUnsupportedMediaType, "POST /v1/analyze wants multipart/form-data with a \"file\" field (or JSON {\"path\"} when the server allows paths), not %q", r.Header.Get("Content-Type"))
		return
	}
	if err != nil {
		writeError(w, status, "%v", err)
		return
	}
	if err := s.jobs.start(j, func() { s.runJob(j) }); err != nil {
		j.cancel()
		close(j.done)
		os.RemoveAll(j.dir)
		writeError(w, http.StatusServiceUnavailable, "%v", err)
		return
	}
	url := "/v1/jobs/" + j.id
	w.Header().Set("Location", url)
	writeJSON(w, http.StatusAccepted, Accepted{ID: j.id, StatusURL: url})
}

// newJob makes a job and its folder.
func (s *Server) newJob() (*job, error) {
	id := newID()
	dir := filepath.Join(s.root, id)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, fmt.Errorf("job folder: %w", err)
	}
	ctx, cancel := context.WithCancel(s.ctx)
	return &job{id: id, dir: dir, out: filepath.Join(dir, "out"), created: time.Now().UTC(),
		ctx: ctx, cancel: cancel, done: make(chan struct{}), state: StateQueued}, nil
}

// receiveUpload streams the multipart field "file" into a new job's
// folder under a name of our making, after sniffing its content.
func (s *Server) receiveUpload(w http.ResponseWriter, r *http.Request) (*job, int, error) {
	// The multipart framing adds a little to the file itself.
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUpload+64<<10)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("multipart body: %w", err)
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, http.StatusBadRequest, errors.New("no \"file\" field in the upload")
		}
		if err != nil {
			return nil, uploadStatus(err), fmt.Errorf("multipart body: %w", uploadErr(err, s.cfg.MaxUpload))
		}
		if part.FormName() != "file" {
			part.Close()
			continue
		}
		j, status, err := s.storeUpload(part, part.FileName())
		part.Close()
		return j, status, err
	}
}

// storeUpload writes one uploaded file into a new job.
func (s *Server) storeUpload(part io.Reader, filename string) (*job, int, error) {
	head := make([]byte, 512)
	n, err := io.ReadFull(part, head)
	head = head[:n]
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, uploadStatus(err), fmt.Errorf("upload: %w", uploadErr(err, s.cfg.MaxUpload))
	}
	if n == 0 {
		return nil, http.StatusBadRequest, errors.New("upload: the file is empty")
	}
	ext, kind := Sniff(head)
	if ext == "" {
		return nil, http.StatusUnsupportedMediaType, fmt.Errorf("upload %q: not a PNG, JPEG or BMP image nor an MP4/MOV, Matroska/WebM, AVI or MPEG video", displayName(filename, ""))
	}
	j, err := s.newJob()
	if err != nil {
		return nil, http.StatusInternalServerError, err
	}
	fail := func(status int, err error) (*job, int, error) {
		j.cancel()
		os.RemoveAll(j.dir)
		return nil, status, err
	}
	j.input = filepath.Join(j.dir, "input"+ext)
	j.upload = true
	j.name = displayName(filename, kind+ext)
	f, err := os.OpenFile(j.input, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fail(http.StatusInternalServerError, fmt.Errorf("upload: %w", err))
	}
	written, err := io.Copy(f, io.MultiReader(bytes.NewReader(head), io.LimitReader(part, s.cfg.MaxUpload-int64(n)+1)))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(uploadStatus(err), fmt.Errorf("upload: %w", uploadErr(err, s.cfg.MaxUpload)))
	}
	if written > s.cfg.MaxUpload {
		return fail(http.StatusRequestEntityTooLarge, fmt.Errorf("upload: larger than the limit of %s", sizeText(s.cfg.MaxUpload)))
	}
	return j, 0, nil
}

func uploadStatus(err error) int {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

func uploadErr(err error, limit int64) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return fmt.Errorf("larger than the limit of %s", sizeText(limit))
	}
	return err
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

// Sniff recognises an upload from its first bytes and returns the file
// extension it is stored under (which decides how package video opens it)
// and its kind ("image" or "video"); ext is "" for anything else.
func Sniff(head []byte) (ext, kind string) {
	has := func(off int, sig string) bool {
		return len(head) >= off+len(sig) && string(head[off:off+len(sig)]) == sig
	}
	switch {
	case has(0, "\x89PNG\r\n\x1a\n"):
		return ".png", "image"
	case has(0, "\xff\xd8\xff"):
		return ".jpg", "image"
	case has(0, "BM") && len(head) >= 18 && bmpInfoSize(head[14:18]):
		return ".bmp", "image"
	case has(4, "ftyp"):
		if has(8, "qt  ") {
			return ".mov", "video"
		}
		return ".mp4", "video"
	case has(0, "\x1a\x45\xdf\xa3"):
		return ".mkv", "video"
	case has(0, "RIFF") && has(8, "AVI "):
		return ".avi", "video"
	case has(0, "\x00\x00\x01\xba"), has(0, "\x00\x00\x01\xb3"):
		return ".mpg", "video"
	}
	return "", ""
}

// bmpInfoSize checks the BMP info header's size field: "BM" alone starts
// too many text files.
func bmpInfoSize(b []byte) bool {
	n := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
	switch n {
	case 12, 40, 52, 56, 64, 108, 124:
		return true
	}
	return false
}

// pathRequest is POST /v1/analyze's JSON body.
type pathRequest struct {
	Path string `json:"path"`
}

// pathJob makes a job for a file or folder on the server, only under
// Config.AllowPaths (symbolic links resolved before the check).
func (s *Server) pathJob(r *http.Request) (*job, int, error) {
	if s.allowRoot == "" {
		return nil, http.StatusForbidden, errors.New("server-side paths are disabled: upload the file as multipart \"file\" (or start tell serve with --allow-paths DIR)")
	}
	var req pathRequest
	if err := decodeJSON(r, &req); err != nil {
		return nil, http.StatusBadRequest, err
	}
	if req.Path == "" {
		return nil, http.StatusBadRequest, errors.New("JSON body: \"path\" is required")
	}
	p := req.Path
	if !filepath.IsAbs(p) {
		p = filepath.Join(s.allowRoot, p)
	}
	real, err := filepath.EvalSymlinks(filepath.Clean(p))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, http.StatusNotFound, fmt.Errorf("path %q: not found", req.Path)
		}
		return nil, http.StatusBadRequest, fmt.Errorf("path %q: %w", req.Path, err)
	}
	rel, err := filepath.Rel(s.allowRoot, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return nil, http.StatusForbidden, fmt.Errorf("path %q: outside the allowed folder", req.Path)
	}
	j, err := s.newJob()
	if err != nil {
		return nil, http.StatusInternalServerError, err
	}
	j.input, j.name = real, rel
	return j, 0, nil
}

// decodeJSON reads a small JSON body strictly: unknown fields are errors,
// so that a misspelt field is not silently ignored.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxJSONBody+1))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if err == io.EOF {
			return errors.New("JSON body: empty")
		}
		return fmt.Errorf("JSON body: %w", err)
	}
	if dec.More() {
		return errors.New("JSON body: more than one value")
	}
	return nil
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	js := s.jobs.list()
	out := make([]JobStatus, len(js))
	for i, j := range js {
		out[i] = j.status()
	}
	writeJSON(w, http.StatusOK, map[string]any{"jobs": out})
}

func (s *Server) job(w http.ResponseWriter, r *http.Request) (*job, bool) {
	j, ok := s.jobs.get(r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusNotFound, "no job %q", displayName(r.PathValue("id"), ""))
	}
	return j, ok
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	if j, ok := s.job(w, r); ok {
		writeJSON(w, http.StatusOK, j.status())
	}
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) {
	if j, ok := s.job(w, r); ok {
		s.remove(j)
		s.log.Info("job deleted", "job", j.id)
		w.WriteHeader(http.StatusNoContent)
	}
}

// Content types and policies of the outputs. The report is our own
// self-contained HTML: it may style itself and show data: images, and be
// framed by our page only.
var outputHeaders = map[string][2]string{
	"events.json": {"application/json; charset=utf-8", ""},
	"frames.csv":  {"text/csv; charset=utf-8", ""},
	"report.html": {"text/html; charset=utf-8", "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"},
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
	st := j.status()
	if st.Finished == nil {
		writeError(w, http.StatusConflict, "job %s is %s; outputs come when it has finished", j.id, st.State)
		return
	}
	f, err := os.Open(filepath.Join(j.out, name))
	if err != nil {
		writeError(w, http.StatusNotFound, "job %s has no %s (status %s)", j.id, name, st.State)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "%s: %v", name, err)
		return
	}
	w.Header().Set("Content-Type", hdr[0])
	if hdr[1] != "" {
		w.Header().Set("Content-Security-Policy", hdr[1])
	}
	http.ServeContent(w, r, name, fi.ModTime(), f)
}

// scrub replaces the server's own paths in a job's error text by the
// names the client knows.
func (s *Server) scrub(msg string, j *job) string {
	msg = strings.ReplaceAll(msg, j.input, j.name)
	msg = strings.ReplaceAll(msg, j.out, "the job's outputs")
	return strings.ReplaceAll(msg, s.root, "workdir")
}
