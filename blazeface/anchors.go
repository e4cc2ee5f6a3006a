package blazeface

// Anchor is the centre of one of the net's prior boxes, in input pixels.
// The net regresses each face relative to an anchor: its centre as an
// offset from the anchor's, its size and keypoints in input pixels.
type Anchor struct{ X, Y float32 }

// Anchors returns the anchors of a size×size BlazeFace input in the order of
// the net's outputs: first a grid of stride size/16 with 2 anchors per cell
// (16×16×2 = 512), then a grid of stride size/8 with 6 per cell
// (8×8×6 = 384); within a grid row by row, left to right, the anchors of a
// cell together. Every anchor of a cell sits at the cell's centre (the
// model's anchors have a fixed unit size: only the centre matters).
func Anchors(size int) []Anchor {
	var out []Anchor
	for _, layer := range []struct{ stride, per int }{{size / 16, 2}, {size / 8, 6}} {
		n := (size + layer.stride - 1) / layer.stride
		for gy := 0; gy < n; gy++ {
			for gx := 0; gx < n; gx++ {
				a := Anchor{X: float32(layer.stride) * (float32(gx) + 0.5), Y: float32(layer.stride) * (float32(gy) + 0.5)}
				for range layer.per {
					out = append(out, a)
				}
			}
		}
	}
	return out
}
