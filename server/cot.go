package server

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"encoding/json"

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

// ChainOfThought answers a CoTRequest with the structure tell cot --json
// prints. A chain of thought that could not be made to agree with Label is
// returned, not an error: its verification says flagged.
func ChainOfThought(req CoTRequest) (cot.CoT, error) {
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
	var req CoTRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	c, err := ChainOfThought(req)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}
