package flow

import "testing"

// TestColorWheelKey: the key's colours are ColorWheel's for the motion
// from its centre: white at the centre, and the colour of a rightward
// (leftward, downward) flow at the right (left, bottom) rim; outside the
// disc is transparent.
func TestColorWheelKey(t *testing.T) {
	const n = 65
	key := ColorWheelKey(n)
	one := func(u, v float32) [4]uint8 {
		f := NewField(1, 1)
		f.U[0], f.V[0] = u, v
		img, err := ColorWheel(f, 1)
		if err != nil {
			t.Fatal(err)
		}
		return [4]uint8(img.Pix[:4])
	}
	at := func(x, y int) [4]uint8 { o := key.PixOffset(x, y); return [4]uint8(key.Pix[o : o+4]) }
	for _, c := range []struct {
		x, y int
		u, v float32
	}{{32, 32, 0, 0}, {64, 32, 1, 0}, {0, 32, -1, 0}, {32, 64, 0, 1}, {32, 0, 0, -1}} {
		if got, want := at(c.x, c.y), one(c.u, c.v); got != want {
			t.Errorf("key at (%d,%d) = %v, want ColorWheel's %v for (%v,%v)", c.x, c.y, got, want, c.u, c.v)
		}
	}
	if at(32, 32) != [4]uint8{255, 255, 255, 255} {
		t.Errorf("centre %v, want white", at(32, 32))
	}
	if at(0, 0)[3] != 0 {
		t.Error("corner outside the disc is not transparent")
	}
}
