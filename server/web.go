package server

import (
	"embed"
	"net/http"
	"path"
)

// web holds the page: plain HTML, CSS and a little JavaScript, no external
// assets, so that it works offline and under a strict policy.
//
//go:embed web/index.html web/app.js web/app.css
var web embed.FS

var pageTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
}

// pagePolicy allows our own scripts and styles only; reports are framed
// from our own origin.
const pagePolicy = "default-src 'self'; img-src 'self' data:; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func (s *Server) handlePage(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := web.ReadFile("web/" + name)
		if err != nil {
			writeError(w, http.StatusInternalServerError, "page %s: %v", name, err)
			return
		}
		w.Header().Set("Content-Type", pageTypes[path.Ext(name)])
		w.Header().Set("Content-Security-Policy", pagePolicy)
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(b)
	}
}
