package portrait

import "testing"

func TestAstronaut(t *testing.T) {
	img, err := Astronaut()
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 512 || b.Dy() != 512 {
		t.Fatalf("bounds = %v, want 512x512", b)
	}
	// The portrait is colourful: a grey image would mean a wrong decode.
	r, g, b, _ := img.At(256, 100).RGBA()
	if r == g && g == b {
		t.Errorf("pixel (256,100) is grey (%d,%d,%d)", r, g, b)
	}
}
