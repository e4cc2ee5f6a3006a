package model

import (
	"fmt"
	"strings"

	"github.com/tell-project/tell/nn"
)

// Kind is what a model sees.
type Kind string

const (
	// KindFlow: optical flow u, v and optical strain (from `flow` images or
	// computed from `frames` onset→apex), optionally the apex frame.
	KindFlow Kind = "flow"
	// KindImage: one aligned grey face (still-image FER).
	KindImage Kind = "image"
)

// Layout describes one sample tensor: Frames×Channels×H×W float32, row-major.
// Motion[c] marks channel c as motion (flow u, v, strain): a static face has
// zero motion. The other channels are appearance (grey intensities).
type Layout struct {
	Frames, Channels, H, W int
	Motion                 []bool
}

// Len is the number of float32 values in one sample.
func (l Layout) Len() int { return l.Frames * l.Channels * l.H * l.W }

// StaticLen is the number of values of one static face (one frame).
func (l Layout) StaticLen() int { return l.Channels * l.H * l.W }

// HasAppearance reports whether any channel is appearance rather than motion.
func (l Layout) HasAppearance() bool {
	for c := 0; c < l.Channels; c++ {
		if c >= len(l.Motion) || !l.Motion[c] {
			return true
		}
	}
	return false
}

// LayoutOf returns the tensor layout of a kind.
func LayoutOf(k Kind, size int, apex bool) Layout {
	if k == KindImage {
		return Layout{Frames: 1, Channels: 1, H: size, W: size, Motion: []bool{false}}
	}
	if apex {
		return Layout{Frames: 1, Channels: 4, H: size, W: size, Motion: []bool{true, true, true, false}}
	}
	return Layout{Frames: 1, Channels: 3, H: size, W: size, Motion: []bool{true, true, true}}
}

// Input says what a model sees and how manifest rows become its input.
type Input struct {
	// Size is the side of the square input in pixels (default 28, as the
	// STSTNet/HTNet flow releases). Inputs of other sizes are resized.
	Size int `json:"size"`
	// Apex adds the apex frame (grey) as an extra appearance channel next
	// to u, v and strain (default false): the aligned apex frame of frames
	// rows, the image column of flow rows (the releases' apex crops; zero
	// when a row has none).
	Apex bool `json:"apex"`
	// Align detects and aligns the face of frames and image rows before
	// flow is computed (default true); flow-image rows are used as given.
	Align bool `json:"align"`
}

// DefaultInput returns the documented input defaults.
func DefaultInput() Input { return Input{Size: 28, Align: true} }

// Layout returns the tensor layout of this input for a kind of data.
func (in Input) Layout(k Kind) Layout { return LayoutOf(k, in.Size, in.Apex && k == KindFlow) }

// Info is what every model of a run shares: its input and its classes.
type Info struct {
	Kind    Kind
	Layout  Layout
	Classes []string
}

// Family is one kind of model ("cnn", "merclip"): its name, its
// hyper-parameters (a Spec) and how its networks are rebuilt from a model
// file. A family that trains also has a Fit method (package train's
// Family); this interface is what running a model needs.
type Family interface {
	// Name is the family's name in configs and model files.
	Name() string
	// DefaultSpec returns the family's default hyper-parameters.
	DefaultSpec() Spec
	// ParseSpec decodes JSON over the defaults (unknown fields are errors)
	// and validates the result.
	ParseSpec(b []byte) (Spec, error)
	// Decode rebuilds a network from the tensors and metadata its Encode
	// returned (tensor names as Encode gave them).
	Decode(spec Spec, info Info, tensors map[string]*nn.Tensor, meta map[string]string) (Net, error)
}

// Spec is a family's hyper-parameters; it marshals to JSON.
type Spec interface {
	// Validate reports the first fields that cannot work, naming them.
	Validate() error
	// Epochs is the number of passes over the training data.
	Epochs() int
	// WithEpochs returns a copy with the number of epochs replaced (--epochs).
	WithEpochs(n int) Spec
}

// Net is one trained network of a family. Its methods are not safe for
// concurrent use (networks reuse their buffers).
type Net interface {
	// Scores returns class scores (logits, one row of len(Classes) per
	// input) for prepared inputs (Layout.Len() values each).
	Scores(xs [][]float32) [][]float32
	// Encode returns the network's tensors and metadata, for model files.
	Encode() (map[string]*nn.Tensor, map[string]string)
}

// Families lists the model families a program knows; the first is the
// default. A program registers a family by listing it here (package
// cmd/tell lists cnn and merclip); there is no global registry.
type Families []Family

// Lookup returns the family called name.
func (fs Families) Lookup(name string) (Family, error) {
	for _, f := range fs {
		if f.Name() == name {
			return f, nil
		}
	}
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Name()
	}
	return nil, fmt.Errorf("unknown model family %q (want %s)", name, strings.Join(names, " or "))
}
