package train

import (
	"strings"
	"testing"
)

// TestSettings: wrong values are refused with their flags' names; the
// overrides reach the config and 0 resamples become "none".
func TestSettings(t *testing.T) {
	ok := Settings{Manifest: "m.csv", Out: "run", Protocol: ProtocolLOSO, Folds: 5, Fraction: 0.2, Seed: -1, Bootstrap: 1000}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		set  func(*Settings)
		want string
	}{
		{func(s *Settings) { s.Out = "" }, "--manifest and --out are required"},
		{func(s *Settings) { s.Bootstrap = -1 }, "--bootstrap -1"},
		{func(s *Settings) { s.Bootstrap = MaxBootstrap + 1 }, "--bootstrap 100001"},
		{func(s *Settings) { s.Protocol, s.Folds = ProtocolKFold, 1 }, "--folds 1"},
		{func(s *Settings) { s.Protocol, s.Fraction = ProtocolHoldout, 1 }, "--test-fraction 1"},
		{func(s *Settings) { s.Workers = -2 }, "--workers -2"},
		{func(s *Settings) { s.Protocol = "x" }, `--protocol "x"`},
	} {
		s := ok
		c.set(&s)
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v", c.want, err)
		}
	}
	fs, _ := testFamilies()
	s := ok
	s.Seed, s.Epochs, s.Workers, s.Bootstrap = 7, 3, 2, 0
	cfg, err := s.LoadConfig(fs)
	if err != nil {
		t.Fatal(err)
	}
	def := DefaultConfig(fs)
	if cfg.Seed != 7 || cfg.Workers != 2 || string(cfg.JSON()) == string(def.JSON()) {
		t.Errorf("overrides not applied: seed %d workers %d", cfg.Seed, cfg.Workers)
	}
	if o := s.Options(cfg, fs); o.Bootstrap != -1 || o.Out != "run" || o.Config.Seed != 7 {
		t.Errorf("options %+v", o)
	}
	if (SweepOptions{Manifest: "m", Out: "o", Protocol: ProtocolHoldout}).Validate() == nil {
		t.Error("a sweep under holdout")
	}
}
