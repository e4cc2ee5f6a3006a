// Package portrait embeds the public-domain face image that tell uses for
// synthetic clips, demos and tests.
//
// Limits: one face, smiling broadly (lips parted over the teeth): it is not
// a neutral face; synth.Neutralize bends a neutral version from it.
//
// astronaut.png is the NASA portrait of astronaut Eileen Collins (public
// domain, NASA image S94-38380), as shipped by scikit-image
// (skimage/data/astronaut.png, Debian package python3-skimage), 512×512 RGB.
package portrait

import (
	"bytes"
	_ "embed"
	"fmt"
	"image"
	"image/png"
)

//go:embed astronaut.png
var astronautPNG []byte

// AstronautPNG returns the PNG bytes of the astronaut portrait.
func AstronautPNG() []byte { return astronautPNG }

// Astronaut decodes the astronaut portrait.
func Astronaut() (image.Image, error) {
	img, err := png.Decode(bytes.NewReader(astronautPNG))
	if err != nil {
		return nil, fmt.Errorf("portrait: decode astronaut.png: %w", err)
	}
	return img, nil
}
