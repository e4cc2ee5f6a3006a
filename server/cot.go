package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/facs"
)

// CoTRequest is the body of POST /v1/cot: exactly one of AUs (a FACS
// string, as tell cot --aus) and Evidence (any shape tell cot --au-json
// reads); the rest as tell cot's flags.
type CoTRequest struct {
	AUs      string          `json:"aus,omitempty"`
	Evidence json.RawMessage `json:"evidence,omitempty"`
	Label    string          `json:"label,omitempty"`
	Seed     uint64          `json:"seed,omitempty"`
	Classes  []string        `json:"classes,omitempty"`
	Dataset  string          `json:"dataset,omitempty"`
}

// Bounds of a CoTRequest: a FACS string of a real face is tens of bytes.
const (
	MaxCoTAUs      = 1024
	MaxCoTEvidence = 16 << 10
	MaxCoTClasses  = 32
	MaxCoTName     = 64 // a label, class or dataset name
)

// ErrCoTTooLarge is returned (wrapped) for a request over the bounds.
var ErrCoTTooLarge = errors.New("over the request's bounds")

// check enforces the bounds before any parsing.
func (req *CoTRequest) check() error {
	switch {
	case len(req.AUs) > MaxCoTAUs:
		return fmt.Errorf("aus: %d bytes, at most %d: %w", len(req.AUs), MaxCoTAUs, ErrCoTTooLarge)
	case len(req.Evidence) > MaxCoTEvidence:
		return fmt.Errorf("evidence: %d bytes, at most %d: %w", len(req.Evidence), MaxCoTEvidence, ErrCoTTooLarge)
	case len(req.Classes) > MaxCoTClasses:
		return fmt.Errorf("classes: %d, at most %d: %w", len(req.Classes), MaxCoTClasses, ErrCoTTooLarge)
	case len(req.Label) > MaxCoTName:
		return fmt.Errorf("label: %d bytes, at most %d: %w", len(req.Label), MaxCoTName, ErrCoTTooLarge)
	case len(req.Dataset) > MaxCoTName:
		return fmt.Errorf("dataset: %d bytes, at most %d: %w", len(req.Dataset), MaxCoTName, ErrCoTTooLarge)
	}
	for _, c := range req.Classes {
		if len(c) > MaxCoTName {
			return fmt.Errorf("classes: a name of %d bytes, at most %d: %w", len(c), MaxCoTName, ErrCoTTooLarge)
		}
	}
	return nil
}

// ChainOfThought answers a CoTRequest with the structure tell cot --json
// prints. A chain of thought that could not be made to agree with Label is
// returned, not an error: its verification says flagged. Requests over
// the bounds (MaxCoTAUs...) fail with ErrCoTTooLarge before any parsing.
func ChainOfThought(req CoTRequest) (cot.CoT, error) {
	if err := req.check(); err != nil {
		return cot.CoT{}, err
	}
	hasAUs := strings.TrimSpace(req.AUs) != ""
	ev := bytes.TrimSpace(req.Evidence)
	hasEv := len(ev) > 0 && string(ev) != "null"
	if hasAUs == hasEv {
		return cot.CoT{}, errors.New("give exactly one of \"aus\" (a FACS string such as \"4B+7A+L10\") and \"evidence\"")
	}
	var evidence []cot.Evidence
	if hasAUs {
		code, err := facs.Parse(req.AUs)
		if err != nil {
			return cot.CoT{}, fmt.Errorf("aus: %w", err)
		}
		evidence = cot.EvidenceFromCode(code)
	} else {
		var err error
		if ev[0] != '[' && ev[0] != '{' {
			return cot.CoT{}, errors.New("evidence: want a list [{\"au\":12,...}] or an object {\"AU12\":0.4}")
		}
		if evidence, err = cot.ParseEvidenceJSON(ev); err != nil {
			return cot.CoT{}, fmt.Errorf("evidence: %w", err)
		}
	}
	o := cot.Options{Seed: req.Seed, Dataset: req.Dataset}
	for _, c := range req.Classes {
		if c = strings.TrimSpace(c); c != "" {
			o.Classes = append(o.Classes, c)
		}
	}
	return cot.Generate(evidence, req.Label, o)
}

func (s *Server) handleCoT(w http.ResponseWriter, r *http.Request) {
	if s.rateLimited(w, r) {
		return
	}
	// JSON only: a text/plain or form body is what a cross-site page can
	// send without a CORS preflight.
	if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || ct != "application/json" {
		s.reject(w, http.StatusUnsupportedMediaType, rejectMedia, "POST /v1/cot wants Content-Type application/json")
		return
	}
	// The body first, paced: a request holds a place only once its body
	// has arrived, so that trickling requests shut out nobody.
	pb := newPacedBody(w, r, s.cfg.BodyGrace, s.cfg.MinBodyRate)
	r.Body = pb
	var req CoTRequest
	if err := decodeJSON(w, r, &req); err != nil {
		if isSlow(err) || pb.slow {
			s.refuseInput(w, errSlowBody)
			return
		}
		if err == errJSONTooLarge {
			s.reject(w, http.StatusRequestEntityTooLarge, rejectTooLarge, "%v", err)
			return
		}
		s.reject(w, http.StatusBadRequest, rejectBad, "%v", err)
		return
	}
	// The key's own place first, then the shared pool.
	release := s.cotSlots.take(client(r), owner(r) != "")
	if release == nil {
		w.Header().Set("Retry-After", "1")
		s.reject(w, http.StatusTooManyRequests, rejectCoTBusy, "too many chains of thought at once; retry shortly")
		return
	}
	defer release()
	c, err := ChainOfThought(req)
	if errors.Is(err, ErrCoTTooLarge) {
		s.reject(w, http.StatusRequestEntityTooLarge, rejectTooLarge, "%v", err)
		return
	}
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}
