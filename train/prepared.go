package train

import (
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/tell-project/tell/dataset"
	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/nn"
)

// preparedFormat is the "format" metadata of prepared rows sent to a fleet.
const preparedFormat = "tell-prepared-1"

// preparedRow is what a fleet worker needs of a manifest row (its input
// files stay with the submitter: the row travels prepared).
type preparedRow struct {
	ID      string `json:"id"`
	Subject string `json:"subject"`
	Label   string `json:"label"`
	Dataset string `json:"dataset,omitempty"`
	AUs     string `json:"aus,omitempty"`
	Line    int    `json:"line,omitempty"`
	// Input is the row's input column: "flow" (an image) or "frames"
	// (model files record which, model.Classifier.Source); the paths stay
	// with the submitter.
	Input string `json:"input,omitempty"`
}

// encodePrepared writes prepared rows as safetensors (readable from
// Python): "x" [N, Layout.Len()], "static" [N, Layout.StaticLen()] when a
// row has a static face, and in the metadata the format, the kind, the
// layout, the rows (id, subject, label, dataset, AU string), which rows
// have a static face, and scope (see Fleet.Scope).
func encodePrepared(ld *Loaded, scope string) ([]byte, error) {
	d := ld.Data
	n, L, S := len(d.Samples), d.Layout.Len(), d.Layout.StaticLen()
	x := nn.NewTensor(n, L)
	rows := make([]preparedRow, n)
	statics := make([]byte, n)
	anyStatic := false
	for i, s := range d.Samples {
		if len(d.X[i]) != L {
			return nil, fmt.Errorf("train: row %s has %d values, the layout %d", s.ID, len(d.X[i]), L)
		}
		copy(x.Data[i*L:], d.X[i])
		rows[i] = preparedRow{ID: s.ID, Subject: s.Subject, Label: s.Label, Dataset: s.Dataset, AUs: s.AUs, Line: s.Line}
		switch {
		case s.Flow != "":
			rows[i].Input = "flow"
		case s.Frames != "":
			rows[i].Input = "frames"
		}
		statics[i] = '0'
		if i < len(d.Static) && d.Static[i] != nil {
			statics[i], anyStatic = '1', true
		}
	}
	tensors := map[string]*nn.Tensor{"x": x}
	if anyStatic {
		st := nn.NewTensor(n, S)
		for i := range d.Samples {
			if statics[i] == '1' {
				if len(d.Static[i]) != S {
					return nil, fmt.Errorf("train: row %s has a static face of %d values, the layout %d", d.Samples[i].ID, len(d.Static[i]), S)
				}
				copy(st.Data[i*S:], d.Static[i])
			}
		}
		tensors["static"] = st
	}
	lj, _ := json.Marshal(d.Layout)
	rj, _ := json.Marshal(rows)
	meta := map[string]string{"format": preparedFormat, "kind": string(d.Kind), "layout": string(lj), "rows": string(rj),
		"static_rows": string(statics), "scope": scope}
	return nn.EncodeSafetensors(tensors, meta)
}

// decodePrepared reads rows written by encodePrepared into a Loaded whose
// classes, labels and AU codes are built as Load builds them.
func decodePrepared(b []byte) (*Loaded, error) {
	tensors, meta, err := nn.DecodeSafetensors(b)
	if err != nil {
		return nil, err
	}
	if meta["format"] != preparedFormat {
		return nil, fmt.Errorf("not prepared rows (format %q, want %q)", meta["format"], preparedFormat)
	}
	d := &Data{Kind: model.Kind(meta["kind"])}
	if d.Kind != model.KindFlow && d.Kind != model.KindImage {
		return nil, fmt.Errorf("prepared rows: unknown kind %q", d.Kind)
	}
	if err := json.Unmarshal([]byte(meta["layout"]), &d.Layout); err != nil {
		return nil, fmt.Errorf("prepared rows: layout: %w", err)
	}
	var rows []preparedRow
	if err := json.Unmarshal([]byte(meta["rows"]), &rows); err != nil {
		return nil, fmt.Errorf("prepared rows: rows: %w", err)
	}
	l := d.Layout
	if l.Frames <= 0 || l.Channels <= 0 || l.H <= 0 || l.W <= 0 || l.Frames > 1024 || l.Channels > 64 || l.H > 4096 || l.W > 4096 || len(l.Motion) > l.Channels {
		return nil, fmt.Errorf("prepared rows: layout %+v", l)
	}
	n, L, S := len(rows), l.Len(), l.StaticLen()
	x := tensors["x"]
	if x == nil || len(x.Shape) != 2 || x.Shape[0] != n || x.Shape[1] != L || L <= 0 {
		return nil, fmt.Errorf("prepared rows: tensor x is missing or not [%d, %d]", n, L)
	}
	statics := meta["static_rows"]
	if len(statics) != n {
		return nil, fmt.Errorf("prepared rows: static_rows has %d entries for %d rows", len(statics), n)
	}
	st := tensors["static"]
	for i, r := range rows {
		ds := dataset.Sample{ID: r.ID, Subject: r.Subject, Label: r.Label, Dataset: r.Dataset, AUs: r.AUs, Line: r.Line}
		// One name per row: the split's leak guard compares input paths,
		// which it checked on the submitter's real paths already.
		switch r.Input {
		case "flow":
			ds.Flow = "(prepared " + r.ID + ")"
		case "frames":
			ds.Frames = "(prepared " + r.ID + ")"
		}
		d.Samples = append(d.Samples, ds)
		d.X = append(d.X, x.Data[i*L:(i+1)*L:(i+1)*L])
		var s []float32
		if statics[i] == '1' {
			if st == nil || len(st.Shape) != 2 || st.Shape[0] != n || st.Shape[1] != S {
				return nil, fmt.Errorf("prepared rows: tensor static is missing or not [%d, %d]", n, S)
			}
			s = st.Data[i*S : (i+1)*S : (i+1)*S]
		}
		d.Static = append(d.Static, s)
	}
	if n == 0 {
		return nil, fmt.Errorf("prepared rows: none")
	}
	return newLoaded(d, slog.New(slog.DiscardHandler)), nil
}
