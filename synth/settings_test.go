package synth

import (
	"strings"
	"testing"
)

// TestSettingsApply: the text settings become the Config's fields; each
// wrong one is refused with its flag's name.
func TestSettingsApply(t *testing.T) {
	c := Config{Events: 3}
	s := Settings{Generator: "muscle", Size: "640x480", MicroAmp: "0.2,0.8", Codes: "1+2,12"}
	if err := s.Apply(&c); err != nil {
		t.Fatal(err)
	}
	if c.Model != Muscle || c.Width != 640 || c.Height != 480 || c.MicroAmp != [2]float64{0.2, 0.8} || c.MacroAmp != [2]float64{} || strings.Join(c.Codes, " ") != "1+2 12" || c.Long || c.Events != 0 {
		t.Errorf("config %+v", c)
	}
	for _, c := range []struct {
		s    Settings
		want string
	}{
		{Settings{Size: "10x10"}, `--size "10x10"`},
		{Settings{Size: "64"}, `--size "64"`},
		{Settings{Size: "640x480junk"}, `--size "640x480junk"`},
		{Settings{Size: "64.5x64"}, `--size "64.5x64"`},
		{Settings{Size: "64x64", Generator: "muscle", MicroAmp: "0.1,1,5"}, `--micro-amp "0.1,1,5"`},
		{Settings{Size: "64x64", Generator: "muscle", MicroAmp: "1,Inf"}, `--micro-amp "1,Inf"`},
		{Settings{Size: "64x64", Generator: "nope"}, "--generator: "},
		{Settings{Size: "64x64", MicroAmp: "1,2"}, "--micro-amp needs --generator muscle"},
		{Settings{Size: "64x64", Generator: "muscle", MacroAmp: "2,1"}, `--macro-amp "2,1"`},
		{Settings{Size: "64x64", Generator: "muscle", MacroAmp: "0,1"}, `--macro-amp "0,1"`},
		{Settings{Size: "64x64", Image: "face.png"}, "--image needs --landmarks"},
	} {
		var cfg Config
		if err := c.s.Apply(&cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.s, err, c.want)
		}
	}
	long := Config{Duration: 20, Events: 5}
	if err := s.Apply(&long); err != nil || !long.Long || long.Events != 5 {
		t.Errorf("long clips: %+v, %v", long, err)
	}
	if f, err := (Settings{}).Face(); err != nil || f == nil {
		t.Errorf("the astronaut: %v", err)
	}
}
