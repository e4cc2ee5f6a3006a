// Package viewer is tell's clip viewer: a page that plays a run's clip
// (preview.jpgs, package preview) beside its AU intensity and expression
// probability curves (frames.csv) and its spotted expressions
// (events.json), with a cursor on the frame shown; a click on a curve
// seeks to that time, a click on an event band to the event's onset, and
// a card shows the expression the frame is in; a face is chosen among
// several when frames.csv has more than one face_id. `tell view RUN`
// serves it for a finished run (Handler); tell serve's job page mounts the
// same script (assets) on a job's outputs.
//
// Everything is served locally: the page loads nothing from elsewhere,
// and works under a policy of default-src 'self'.
//
// Limits: the clip plays from the preview (JPEG, at most 480 pixels on
// its longer side, one frame in k for long clips), not from the input;
// a run made before previews existed shows its curves without the clip.
package viewer

import (
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"

	"github.com/tell-project/tell/preview"
)

// assets holds the page: view.html and view.js (tell view's page),
// viewer.js and viewer.css (the viewer, which tell serve's page mounts).
//
//go:embed web/view.html web/view.js web/viewer.js web/viewer.css
var assets embed.FS

// files are the run outputs the viewer reads and Handler serves.
var files = []string{"events.json", "frames.csv", "report.html", preview.Name}

// Policy is the Content-Security-Policy of the viewer's page: its own
// scripts and styles only, images from itself (and the data: icon).
const Policy = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

var types = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".json": "application/json; charset=utf-8",
	".csv":  "text/csv; charset=utf-8",
	".jpgs": "application/octet-stream",
}

// ServeAsset writes one of assets ("viewer.js") with its type and Policy.
func ServeAsset(w http.ResponseWriter, name string) {
	b, err := fs.ReadFile(assets, "web/"+name)
	if err != nil {
		http.Error(w, "no such file", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", types[path.Ext(name)])
	w.Header().Set("Content-Security-Policy", Policy)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}

// Handler serves the viewer on the finished run in dir: "/" the page,
// "/viewer.js" and the other assets, "/run/NAME" the run's files (nothing
// else of dir). It checks that dir holds a run.
func Handler(dir string) (http.Handler, error) {
	for _, need := range []string{"events.json", "frames.csv"} {
		if _, err := os.Stat(filepath.Join(dir, need)); err != nil {
			return nil, fmt.Errorf("viewer: %s is not a finished run of tell analyze: %w", dir, err)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { ServeAsset(w, "view.html") })
	for _, a := range []string{"view.js", "viewer.js", "viewer.css"} {
		mux.HandleFunc("GET /"+a, func(w http.ResponseWriter, r *http.Request) { ServeAsset(w, a) })
	}
	mux.HandleFunc("GET /run/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if !slices.Contains(files, name) {
			http.Error(w, "not an output of a run", http.StatusNotFound)
			return
		}
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			http.Error(w, name+": not in this run", http.StatusNotFound)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", types[path.Ext(name)])
		policy := "default-src 'none'; sandbox"
		if name == "report.html" {
			policy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"
		}
		w.Header().Set("Content-Security-Policy", policy)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, name, st.ModTime(), f)
	})
	return mux, nil
}
