package face

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseRect parses a box written "x,y,w,h" in pixels (a command line's
// --box); the width and height must be positive.
func ParseRect(s string) (Rect, error) {
	f := strings.Split(s, ",")
	if len(f) != 4 {
		return Rect{}, fmt.Errorf("want x,y,w,h, got %q", s)
	}
	var v [4]int
	for i, p := range f {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return Rect{}, fmt.Errorf("%q: %w", s, err)
		}
		v[i] = n
	}
	if v[2] < 1 || v[3] < 1 {
		return Rect{}, fmt.Errorf("%q: width and height must be positive", s)
	}
	return Rect{X: v[0], Y: v[1], W: v[2], H: v[3]}, nil
}
