package server

import (
	_ "embed"
	"net/http"
)

// openAPI is the OpenAPI 3 document of the routes; TestOpenAPI checks it
// against the route table and every answer against its schemas.
//
//go:embed openapi.json
var openAPI []byte

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(openAPI)
}
