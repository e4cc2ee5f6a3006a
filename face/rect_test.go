package face

import "testing"

func TestParseRect(t *testing.T) {
	if r, err := ParseRect("179, 83,88,88"); err != nil || r != (Rect{X: 179, Y: 83, W: 88, H: 88}) {
		t.Errorf("ParseRect = %v, %v", r, err)
	}
	for _, bad := range []string{"", "1,2,3", "1,2,3,x", "1,2,0,4", "1,2,3,-1", "1,2,3,4,5"} {
		if _, err := ParseRect(bad); err == nil {
			t.Errorf("ParseRect(%q) accepted", bad)
		}
	}
}
