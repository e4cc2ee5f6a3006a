package train

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
