package analyze

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tell-project/tell/model"
)

// TestSettingsValidate: each wrong value is refused with its flag's name;
// the interval is none, or onset and offset with an optional apex.
func TestSettingsValidate(t *testing.T) {
	ok := Settings{Face: "auto", Appearance: "faceapi", Reasoner: "builtin", MaxFaces: DefaultMaxFaces, MaxPixels: 1000}
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
		{func(s *Settings) { s.Appearance = "nope" }, `--appearance: unknown model "nope"`},
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

// TestStart: Start loads what Options loads and opens the input as Run
// would (a still portrait: one frame, its colour kept when the appearance
// net is installed); a models error comes before the input's, an output
// that cannot be written is refused before anything starts, and a missing input is
// the input's error.
func TestStart(t *testing.T) {
	dlibLandmarker(t) // skips without dlib's model
	still, err := filepath.Abs(filepath.Join("..", "portrait", "astronaut.png"))
	if err != nil {
		t.Fatal(err)
	}
	base := Settings{Out: filepath.Join(t.TempDir(), "out"), Face: "auto", Appearance: "none", MaxFaces: 1, MaxPixels: 1 << 24, Reasoner: "builtin"}
	warn := func(string) {}
	opt, src, err := base.Start(context.Background(), still, model.Families{}, warn, nil)
	if err != nil {
		t.Fatal(err)
	}
	if opt.Landmarker == nil || src.Frames() != 1 {
		t.Errorf("landmarker %v, %d frames", opt.Landmarker, src.Frames())
	}
	want, err := base.Options(model.Families{}, warn)
	if err != nil {
		t.Fatal(err)
	}
	if opt.MaxPixels != want.MaxPixels || opt.FPS != want.FPS || (opt.Appearance == nil) != (want.Appearance == nil) {
		t.Errorf("Start's options %+v, Options' %+v", opt, want)
	}
	src.Close()

	bad := base
	bad.Landmarks = filepath.Join(t.TempDir(), "none.dat")
	if _, _, err := bad.Start(context.Background(), filepath.Join(t.TempDir(), "none.mp4"), model.Families{}, warn, nil); err == nil || !strings.Contains(err.Error(), "none.dat") {
		t.Errorf("missing model and input: %v, want the model's error", err)
	}
	if _, _, err := base.Start(context.Background(), filepath.Join(t.TempDir(), "none.mp4"), model.Families{}, warn, nil); err == nil || !strings.Contains(err.Error(), "none.mp4") {
		t.Errorf("missing input: %v", err)
	}
	done := filepath.Join(t.TempDir(), "done") // a file where the folder goes
	if err := os.WriteFile(done, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	fin := base
	fin.Out = done
	if _, _, err := fin.Start(context.Background(), still, model.Families{}, warn, nil); !errors.Is(err, ErrOutputExists) {
		t.Errorf("finished output: %v, want ErrOutputExists", err)
	}
}
