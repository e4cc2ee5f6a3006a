package cot

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/tell-project/tell/facs"
)

// Format is an instruction-data layout for fine-tuning a vision LLM.
type Format string

// Export formats.
const (
	// FormatExpLLM: ExpLLM's conversation — a system prompt and TASK /
	// USER / ASSISTANT turns, one label-only task and one CoT task — plus
	// the structured CoT.
	FormatExpLLM Format = "expllm"
	// FormatLLaVA: {"id","image","conversations":[{"from":"human",...}]},
	// "<image>" in the first human turn.
	FormatLLaVA Format = "llava"
	// FormatShareGPT: {"messages":[{"role","content"}],"images":[...]} as
	// LLaMA-Factory reads it.
	FormatShareGPT Format = "sharegpt"
)

// ParseFormat checks a format name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case FormatExpLLM, FormatLLaVA, FormatShareGPT:
		return f, nil
	}
	return "", fmt.Errorf("cot: unknown export format %q (want expllm, llava or sharegpt)", s)
}

// SystemPrompt opens every exported conversation.
const SystemPrompt = "You are an expert in facial expression analysis. You read the face's Action Units (FACS) " +
	"and explain how they combine into an emotion."

// Record is one sample to export (a manifest row, decoupled from the
// dataset package).
type Record struct {
	ID, Subject, Label, Dataset, Emotion string
	Image                                string // a face image; or Frames + Apex
	Frames, Apex                         string
	AUs                                  string // FACS string
	// AUsRaw is the coder's original AU text (manifest column aus_raw),
	// exported next to the canonical AUs where it differs.
	AUsRaw string
	Line   int // manifest line, for reports
}

// ExportOptions steer Export.
type ExportOptions struct {
	Format Format
	// Seed varies the phrasing; each record mixes in its id, so records
	// differ while the whole export stays reproducible.
	Seed uint64
	// Classes is the label set named in the label question and handed to
	// the engine (see Options.Classes).
	Classes []string
	// BaseDir, when set, makes image paths relative to it (where they lie
	// inside it), as LLaVA-style trainers join them to an image folder.
	BaseDir string
	// MaxTries bounds the feedback loop per record.
	MaxTries int
	// Rewrite, when set, may rephrase each verified CoT (tell export
	// --rewrite-with: a vision LLM, package llm). It returns the CoT to
	// write: a new text counts as rewritten; the same text means the
	// original was kept, and the last Verification.Feedback line says why.
	// An error stops the export.
	Rewrite func(ctx context.Context, r Record, c CoT) (CoT, error)
}

// ExportSummary counts what happened to every row.
type ExportSummary struct {
	Rows      int `json:"rows"`
	Written   int `json:"written"`    // records written
	WithCoT   int `json:"with_cot"`   // records with a CoT turn
	LabelOnly int `json:"label_only"` // records with the label turn only
	NoImage   int `json:"no_image"`   // skipped: no image, or frames+apex not resolvable
	NoLabel   int `json:"no_label"`   // skipped: empty label
	NoAUs     int `json:"no_aus"`     // label-only: no AU string
	BadAUs    int `json:"bad_aus"`    // label-only: no AU of the string is FACS
	// PartAUs counts records whose AU string was partly FACS: their CoT
	// comes from the FACS part (the rest is listed in Problems).
	PartAUs   int `json:"part_aus,omitempty"`
	Flagged   int `json:"flagged"`   // label-only: CoT could not be reconciled with the label
	Rewritten int `json:"reflected"` // CoT verified after feedback rounds
	// LLMRewritten and LLMKept count the CoTs an ExportOptions.Rewrite
	// rephrased and those whose original text it kept.
	LLMRewritten int `json:"llm_rewritten,omitempty"`
	LLMKept      int `json:"llm_kept,omitempty"`
	// Problems lists one line per skipped or degraded row.
	Problems []string `json:"problems,omitempty"`
}

func (s *ExportSummary) problem(r Record, format string, args ...any) {
	where := r.ID
	if r.Line > 0 {
		where = fmt.Sprintf("line %d (%s)", r.Line, r.ID)
	}
	s.Problems = append(s.Problems, where+": "+fmt.Sprintf(format, args...))
}

// String is the human summary printed at the end of an export.
func (s ExportSummary) String() string {
	return fmt.Sprintf("rows=%d written=%d with_cot=%d (part_aus=%d) label_only=%d (no_aus=%d bad_aus=%d flagged=%d) reflected=%d skipped: no_image=%d no_label=%d",
		s.Rows, s.Written, s.WithCoT, s.PartAUs, s.LabelOnly, s.NoAUs, s.BadAUs, s.Flagged, s.Rewritten, s.NoImage, s.NoLabel) + s.llmString()
}

func (s ExportSummary) llmString() string {
	if s.LLMRewritten+s.LLMKept == 0 {
		return ""
	}
	return fmt.Sprintf(" llm_rewritten=%d llm_kept=%d", s.LLMRewritten, s.LLMKept)
}

// Export writes one JSON line per exportable record to w: a label-only turn
// and, when the AUs give a CoT that agrees with the label (Des2Exp and the
// feedback loop), a CoT turn conditioned on the label, as ExpLLM trains.
// Rows without an image or a label are skipped; rows without usable AUs or
// whose CoT stays flagged get the label turn only; every such row is
// counted and listed in the summary.
func Export(ctx context.Context, w io.Writer, recs []Record, o ExportOptions) (ExportSummary, error) {
	var sum ExportSummary
	if _, err := ParseFormat(string(o.Format)); err != nil {
		return sum, err
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	classes := o.Classes
	for _, r := range recs {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		sum.Rows++
		if strings.TrimSpace(r.Label) == "" {
			sum.NoLabel++
			sum.problem(r, "no label: skipped")
			continue
		}
		img, err := recordImage(r)
		if err != nil {
			sum.NoImage++
			sum.problem(r, "%v: skipped", err)
			continue
		}
		if o.BaseDir != "" {
			img = relativeTo(o.BaseDir, img)
		}
		var c *CoT
		switch strings.TrimSpace(r.AUs) {
		case "":
			sum.NoAUs++
			sum.problem(r, "no AUs: label turn only")
		default:
			code, remarks := facs.ParseLenient(r.AUs)
			if code.Empty() && len(remarks) == 0 { // "?": not coded
				sum.NoAUs++
				sum.problem(r, "AUs %q not coded: label turn only", r.AUs)
				break
			}
			if len(remarks) > 0 {
				if code.Empty() {
					sum.BadAUs++
					sum.problem(r, "AUs %q: no FACS code: label turn only", r.AUs)
					break
				}
				sum.PartAUs++
				texts := make([]string, len(remarks))
				for i, rm := range remarks {
					texts[i] = strconv.Quote(rm.Text)
				}
				sum.problem(r, "AUs %q: %s not FACS; CoT from %q", r.AUs, strings.Join(texts, ", "), code.String())
			}
			got, err := Generate(EvidenceFromCode(code), r.Label, Options{
				Seed: o.Seed ^ idHash(r.ID), Classes: classes, Dataset: r.Dataset, MaxTries: o.MaxTries})
			if err != nil {
				sum.BadAUs++
				sum.problem(r, "%v: label turn only", err)
				break
			}
			if got.Verification.Flagged {
				sum.Flagged++
				sum.problem(r, "CoT does not support label %q (%s): label turn only", r.Label, strings.Join(got.Verification.Feedback, "; "))
				break
			}
			if got.Verification.Attempts > 1 {
				sum.Rewritten++
			}
			if o.Rewrite != nil {
				rw, err := o.Rewrite(ctx, r, got)
				if err != nil {
					return sum, fmt.Errorf("cot: export %s: rewrite: %w", r.ID, err)
				}
				if rw.Text != got.Text {
					sum.LLMRewritten++
				} else {
					sum.LLMKept++
					if v := rw.Verification; v != nil && len(v.Feedback) > 0 {
						sum.problem(r, "built-in text kept: %s", v.Feedback[len(v.Feedback)-1])
					}
				}
				got = rw
			}
			c = &got
		}
		// Encode writes the newline; no HTML escaping keeps "<image>" literal.
		if err := enc.Encode(record(o.Format, r, img, classes, c)); err != nil {
			return sum, fmt.Errorf("cot: export %s: %w", r.ID, err)
		}
		sum.Written++
		if c != nil {
			sum.WithCoT++
		} else {
			sum.LabelOnly++
		}
	}
	if err := bw.Flush(); err != nil {
		return sum, fmt.Errorf("cot: export: %w", err)
	}
	return sum, nil
}

func idHash(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}

func labelQuestion(classes []string) string {
	q := "What is the facial expression in this image?"
	if len(classes) > 0 {
		q += " Answer with one word from: " + strings.Join(classes, ", ") + "."
	}
	return q
}

func cotQuestion(label string) string {
	return fmt.Sprintf("The expression is %s. Explain why from the facial Action Units, under the headings %s, %s and %s.",
		label, HeadingObservations, HeadingInterpretation, HeadingConclusion)
}

type turn struct {
	From  string `json:"from,omitempty"`
	Value string `json:"value,omitempty"`
	Role  string `json:"role,omitempty"`
	Text  string `json:"content,omitempty"`
}

type expllmTask struct {
	Task      string `json:"task"`
	User      string `json:"user"`
	Assistant string `json:"assistant"`
}

func record(f Format, r Record, img string, classes []string, c *CoT) any {
	label := strings.TrimSpace(r.Label)
	switch f {
	case FormatLLaVA:
		conv := []turn{{From: "human", Value: "<image>\n" + labelQuestion(classes)}, {From: "gpt", Value: label}}
		if c != nil {
			conv = append(conv, turn{From: "human", Value: cotQuestion(label)}, turn{From: "gpt", Value: c.Text})
		}
		return struct {
			ID            string `json:"id"`
			Image         string `json:"image"`
			Conversations []turn `json:"conversations"`
		}{r.ID, img, conv}
	case FormatShareGPT:
		msgs := []turn{{Role: "system", Text: SystemPrompt}, {Role: "user", Text: "<image>" + labelQuestion(classes)}, {Role: "assistant", Text: label}}
		if c != nil {
			msgs = append(msgs, turn{Role: "user", Text: cotQuestion(label)}, turn{Role: "assistant", Text: c.Text})
		}
		return struct {
			ID       string   `json:"id"`
			Messages []turn   `json:"messages"`
			Images   []string `json:"images"`
		}{r.ID, msgs, []string{img}}
	}
	aus, raw := exportAUs(r)
	tasks := []expllmTask{{Task: "label", User: "<image>\n" + labelQuestion(classes), Assistant: label}}
	if c != nil {
		tasks = append(tasks, expllmTask{Task: "cot", User: "<image>\n" + cotQuestion(label), Assistant: c.Text})
	}
	return struct {
		ID      string       `json:"id"`
		Image   string       `json:"image"`
		Label   string       `json:"label"`
		Subject string       `json:"subject,omitempty"`
		Dataset string       `json:"dataset,omitempty"`
		AUs     string       `json:"aus,omitempty"`
		AUsRaw  string       `json:"aus_raw,omitempty"`
		System  string       `json:"system"`
		Tasks   []expllmTask `json:"tasks"`
		CoT     *CoT         `json:"cot,omitempty"`
	}{r.ID, img, label, r.Subject, r.Dataset, aus, raw, SystemPrompt, tasks, c}
}

// exportAUs returns the canonical FACS part of a record's AU string and the
// coder's original text when it says more than that (free text, "ref(...)",
// spacing): the original from aus_raw, else from aus itself.
func exportAUs(r Record) (aus, raw string) {
	c, remarks := facs.ParseLenient(r.AUs)
	aus = c.String()
	switch {
	case r.AUsRaw != "" && r.AUsRaw != aus:
		raw = r.AUsRaw
	case len(remarks) > 0:
		raw = r.AUs
	}
	return aus, raw
}

// recordImage returns the record's image: Image, or the apex frame of
// Frames. The file must exist.
func recordImage(r Record) (string, error) {
	if r.Image != "" {
		if st, err := os.Stat(r.Image); err != nil || st.IsDir() {
			return "", fmt.Errorf("image %q not found", r.Image)
		}
		return r.Image, nil
	}
	if r.Frames == "" {
		return "", fmt.Errorf("no image (neither image nor frames)")
	}
	if r.Apex == "" {
		return "", fmt.Errorf("frames %q without an apex", r.Frames)
	}
	return ApexFrame(r.Frames, r.Apex)
}

var lastNumber = regexp.MustCompile(`(\d+)\D*$`)

// ApexFrame finds the apex image in a folder of frames: apex is a file
// name, or a frame number matched against the last number in each file
// name ("img46.jpg", "reg_img46.jpg", "006_05562.jpg", "image0000123.bmp").
func ApexFrame(frames, apex string) (string, error) {
	apex = strings.TrimSpace(apex)
	if p := filepath.Join(frames, apex); filepath.Ext(apex) != "" {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
		return "", fmt.Errorf("apex frame %q not found", p)
	}
	n, err := strconv.Atoi(apex)
	if err != nil {
		return "", fmt.Errorf("apex %q is neither a file name nor a frame number", apex)
	}
	ents, err := os.ReadDir(frames)
	if err != nil {
		return "", fmt.Errorf("frames folder: %w", err)
	}
	var hits []string
	for _, e := range ents {
		if e.IsDir() || !isImageName(e.Name()) {
			continue
		}
		m := lastNumber.FindStringSubmatch(strings.TrimSuffix(e.Name(), filepath.Ext(e.Name())))
		if m == nil {
			continue
		}
		if k, err := strconv.Atoi(m[1]); err == nil && k == n {
			hits = append(hits, e.Name())
		}
	}
	switch len(hits) {
	case 0:
		return "", fmt.Errorf("no frame numbered %d in %q", n, frames)
	case 1:
		return filepath.Join(frames, hits[0]), nil
	}
	sort.Strings(hits)
	return "", fmt.Errorf("frame %d is ambiguous in %q: %s", n, frames, strings.Join(hits, ", "))
}

func isImageName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp":
		return true
	}
	return false
}

func relativeTo(dir, p string) string {
	ad, err1 := filepath.Abs(dir)
	ap, err2 := filepath.Abs(p)
	if err1 != nil || err2 != nil {
		return p
	}
	rel, err := filepath.Rel(ad, ap)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return ap
	}
	return filepath.ToSlash(rel)
}
