package analyze

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestSettingsValidate: each wrong value is refused with its flag's name;
// the interval is none, or onset and offset with an optional apex.
func TestSettingsValidate(t *testing.T) {
	ok := Settings{Face: "auto", Reasoner: "builtin", MaxFaces: DefaultMaxFaces, MaxPixels: 1000}
	if err := ok.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	given := func(names ...string) map[string]bool {
		m := map[string]bool{}
		for _, n := range names {
			m[n] = true
		}
		return m
	}
	for _, c := range []struct {
		set  func(*Settings)
		want string
	}{
		{func(s *Settings) { s.FPS, s.Given = 0, given("fps") }, "--fps: "},
		{func(s *Settings) { s.FPS, s.Given = 5000, given("fps") }, "--fps: "},
		{func(s *Settings) { s.MaxPixels = 0 }, "--max-pixels 0"},
		{func(s *Settings) { s.MaxFaces = 65 }, "--max-faces 65"},
		{func(s *Settings) { s.Face = "nope" }, "--face: "},
		{func(s *Settings) { s.Reasoner = "nope" }, `--reasoner "nope"`},
		{func(s *Settings) { s.Reasoner, s.Model = "llm", "builtin" }, "--reasoner llm and --model are alternatives"},
		{func(s *Settings) { s.Neutral = filepath.Join(t.TempDir(), "none.png") }, "--neutral: "},
		{func(s *Settings) { s.Onset, s.Given = 3, given("onset") }, "--onset and --offset go together"},
		{func(s *Settings) { s.Apex, s.Given = "4", given("apex") }, "--onset and --offset go together"},
		{func(s *Settings) { s.Onset, s.Offset, s.Given = 3, 2, given("onset", "offset") }, "offset 2 is before the onset 3"},
		{func(s *Settings) { s.Offset, s.Apex, s.Given = 9, "x", given("onset", "offset", "apex") }, `--apex "x"`},
		{func(s *Settings) { s.Offset, s.Apex, s.Given = 9, "10", given("onset", "offset", "apex") }, "apex 10 is outside"},
	} {
		s := ok
		c.set(&s)
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v", c.want, err)
		}
	}
	for _, c := range []struct {
		s    Settings
		want *Interval
	}{
		{Settings{}, nil},
		{Settings{Onset: 0, Offset: 9, Given: given("onset", "offset")}, &Interval{Onset: 0, Offset: 9}},
		{Settings{Onset: 2, Offset: 9, Apex: "auto", Given: given("onset", "offset", "apex")}, &Interval{Onset: 2, Offset: 9}},
		{Settings{Onset: 2, Offset: 9, Apex: "5", Given: given("onset", "offset", "apex")}, &Interval{Onset: 2, Apex: 5, Offset: 9}},
	} {
		iv, err := c.s.Interval()
		if err != nil || (iv == nil) != (c.want == nil) || iv != nil && *iv != *c.want {
			t.Errorf("%+v: interval %+v, %v; want %+v", c.s, iv, err, c.want)
		}
	}
}
