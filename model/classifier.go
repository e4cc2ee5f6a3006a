package model

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"os"
	"strconv"
	"strings"

	"github.com/tell-project/tell/atomicfile"
	"github.com/tell-project/tell/nn"
	"github.com/tell-project/tell/raster"
)

// Classifier is a trained model file: the members of a seed ensemble of one
// family, their shared input and classes, and the config they were trained
// under. Its methods are not safe for concurrent use.
type Classifier struct {
	Info
	// Config is the model's part of the config the members were trained
	// under.
	Config Config
	// Trained is the whole config as the trainer wrote it (package train's
	// Config in JSON, training settings included); Encode writes it back
	// unchanged, or Config's JSON when it is empty.
	Trained []byte
	Members []Net
	// Fingerprint identifies the data and config a run trained on (resume).
	Fingerprint string
	// Source is what a flow model's training rows were: SourceFlowImages
	// (flow images, whose channels the releases min-max normalise per
	// image), SourceFrames (frames rows: tell's own flow in pixels) or ""
	// (unknown, or mixed). tell analyze presents an event to the model in
	// the same form (see AsFlowImage).
	Source string
}

// Flow models' training sources (Classifier.Source).
const (
	SourceFlowImages = "flow-images"
	SourceFrames     = "frames"
)

// fileFormat is the "format" metadata of model files.
const fileFormat = "tell-model-1"

// MaxMembers bounds a seed ensemble: beyond this it costs time without a
// measurable gain.
const MaxMembers = 64

// Probabilities returns class probabilities [n][K]: each member's softmax,
// averaged over the members.
func (c *Classifier) Probabilities(xs [][]float32) [][]float32 {
	out := make([][]float32, len(xs))
	for i := range out {
		out[i] = make([]float32, len(c.Classes))
	}
	inv := 1 / float32(len(c.Members))
	for _, m := range c.Members {
		for i, s := range m.Scores(xs) {
			p := nn.Softmax(s)
			for k := range p {
				out[i][k] += p[k] * inv
			}
		}
	}
	return out
}

// Classify returns the arg-max class index of each score row (first on ties).
func Classify(scores [][]float32) []int {
	out := make([]int, len(scores))
	for i, s := range scores {
		best := 0
		for k, v := range s {
			if v > s[best] {
				best = k
			}
		}
		out[i] = best
	}
	return out
}

// InputFromFrames builds the model's input from an onset and an apex frame
// (aligned face crops, any equal size) exactly as package train prepares
// frames rows, for callers that classify clips outside a manifest (tell
// analyze).
func (c *Classifier) InputFromFrames(ctx context.Context, onset, apex *raster.Gray) ([]float32, error) {
	if c.Kind != KindFlow {
		return nil, fmt.Errorf("model: input is %s, not flow", c.Kind)
	}
	if onset.W != apex.W || onset.H != apex.H || onset.W < 3 || onset.H < 3 {
		return nil, fmt.Errorf("model: onset %dx%d and apex %dx%d frames", onset.W, onset.H, apex.W, apex.H)
	}
	x, _, err := FlowFromFrames(ctx, onset, apex, c.Layout)
	return x, err
}

// InputFromImage builds the model's input from an image as package train
// prepares rows: a flow image (u, v, strain as RGB) for flow models, a face
// for image models.
func (c *Classifier) InputFromImage(img image.Image) ([]float32, error) {
	if c.Kind == KindImage {
		return GreyInput(raster.FromImage(img), c.Layout), nil
	}
	return FlowImageInput(img, c.Layout)
}

// Save writes the classifier to path atomically as one safetensors file:
// member i's tensors under "m<i>.<name>", and in the metadata the format
// ("tell-model-1"), the config ("config", JSON: Trained), the classes
// ("classes", JSON array), the input kind ("kind"), the number of members
// ("members"), each member's own metadata under "m<i>.<key>", the run
// fingerprint and, when known, the training rows' source ("source").
// Python's safetensors reads it.
func (c *Classifier) Save(path string) error {
	b, err := c.Encode()
	if err != nil {
		return fmt.Errorf("model: save %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, b)
}

// Encode returns the classifier as the bytes Save writes.
func (c *Classifier) Encode() ([]byte, error) {
	tensors := map[string]*nn.Tensor{}
	cls, _ := json.Marshal(c.Classes)
	cfg := c.Trained
	if len(cfg) == 0 {
		cfg = c.Config.JSON()
	}
	meta := map[string]string{
		"format":      fileFormat,
		"family":      c.Config.Model,
		"config":      string(cfg),
		"classes":     string(cls),
		"kind":        string(c.Kind),
		"members":     strconv.Itoa(len(c.Members)),
		"fingerprint": c.Fingerprint,
	}
	if c.Source != "" {
		meta["source"] = c.Source
	}
	for i, m := range c.Members {
		ts, md := m.Encode()
		p := fmt.Sprintf("m%d.", i)
		for k, t := range ts {
			tensors[p+k] = t
		}
		for k, v := range md {
			meta[p+k] = v
		}
	}
	return nn.EncodeSafetensors(tensors, meta)
}

// Load reads a model file written by Save; fs must know its family. Errors
// name the file and what is wrong.
func Load(path string, fs Families) (*Classifier, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("model: load: %w", err)
	}
	c, err := Decode(b, fs)
	if err != nil {
		return nil, fmt.Errorf("model: load %s: %w", path, err)
	}
	return c, nil
}

// Decode reads a model file's bytes (see Save).
func Decode(b []byte, fs Families) (*Classifier, error) {
	tensors, meta, err := nn.DecodeSafetensors(b)
	if err != nil {
		return nil, err
	}
	if meta["format"] != fileFormat {
		return nil, fmt.Errorf("not a tell model (format %q, want %q)", meta["format"], fileFormat)
	}
	fam, err := fs.Lookup(meta["family"])
	if err != nil {
		return nil, err
	}
	cfg, err := ParseConfig([]byte(meta["config"]), fs)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if cfg.Model != fam.Name() {
		return nil, fmt.Errorf("config is for model %q, file for %q", cfg.Model, fam.Name())
	}
	var classes []string
	if err := json.Unmarshal([]byte(meta["classes"]), &classes); err != nil || len(classes) == 0 {
		return nil, fmt.Errorf("classes: %q is not a list of class names", meta["classes"])
	}
	kind := Kind(meta["kind"])
	if kind != KindFlow && kind != KindImage {
		return nil, fmt.Errorf("unknown input kind %q", kind)
	}
	n, err := strconv.Atoi(meta["members"])
	if err != nil || n < 1 || n > MaxMembers {
		return nil, fmt.Errorf("members: %q, want 1 to %d", meta["members"], MaxMembers)
	}
	c := &Classifier{Info: Info{Kind: kind, Layout: cfg.Input.Layout(kind), Classes: classes}, Config: cfg,
		Trained: []byte(meta["config"]), Fingerprint: meta["fingerprint"], Source: meta["source"]}
	for i := 0; i < n; i++ {
		p := fmt.Sprintf("m%d.", i)
		ts := map[string]*nn.Tensor{}
		for k, t := range tensors {
			if rest, ok := strings.CutPrefix(k, p); ok {
				ts[rest] = t
			}
		}
		md := map[string]string{}
		for k, v := range meta {
			if rest, ok := strings.CutPrefix(k, p); ok {
				md[rest] = v
			}
		}
		m, err := fam.Decode(cfg.Spec, c.Info, ts, md)
		if err != nil {
			return nil, fmt.Errorf("member %d: %w", i, err)
		}
		c.Members = append(c.Members, m)
	}
	return c, nil
}

// CopyTensors copies src[name] into each dst[name], checking that every
// tensor is present with its shape: the common part of a family's Decode.
func CopyTensors(dst, src map[string]*nn.Tensor) error {
	for name, d := range dst {
		t, ok := src[name]
		if !ok {
			return fmt.Errorf("tensor %q missing", name)
		}
		if len(t.Shape) != len(d.Shape) {
			return fmt.Errorf("tensor %q has shape %v, want %v", name, t.Shape, d.Shape)
		}
		for i := range t.Shape {
			if t.Shape[i] != d.Shape[i] {
				return fmt.Errorf("tensor %q has shape %v, want %v", name, t.Shape, d.Shape)
			}
		}
		copy(d.Data, t.Data)
	}
	return nil
}
