package train

import (
	"errors"
	"fmt"

	"github.com/tell-project/tell/model"
)

// MaxBootstrap bounds a command line's --bootstrap: 100,000 resamples
// already give interval ends stable to the third decimal.
const MaxBootstrap = 100000

// Resamples checks a command line's --bootstrap count, 0 meaning none,
// and returns it as RunOptions, SweepOptions and EvalOptions take it
// (negative for none).
func Resamples(n int) (int, error) {
	switch {
	case n < 0 || n > MaxBootstrap:
		return 0, fmt.Errorf("--bootstrap %d: want 0 (none) to %d resamples", n, MaxBootstrap)
	case n == 0:
		return -1, nil
	}
	return n, nil
}

// Settings are tell train's command line: Validate checks them, its
// errors naming the flags, Config loads the training config with their
// overrides, and Options makes the run's options.
type Settings struct {
	Manifest string  // --manifest
	Protocol string  // --protocol: loso, kfold or holdout
	Folds    int     // --folds: k for kfold
	Fraction float64 // --test-fraction: the test share for holdout
	Out      string  // --out: the run folder
	Cache    string  // --cache: the prepare cache (default Out/cache)
	Config   string  // --config: a JSON config over the defaults
	// Seed (≥ 0), Epochs and Workers (> 0) override the config's.
	Seed            int64
	Epochs, Workers int
	Bootstrap       int  // --bootstrap: resamples, 0 for none
	NoFinal         bool // --no-final: no final model
}

// LoadConfig reads the config (the defaults without --config) and
// applies the overrides.
func (s Settings) LoadConfig(fs model.Families) (Config, error) {
	cfg := DefaultConfig(fs)
	if s.Config != "" {
		var err error
		if cfg, err = LoadConfig(s.Config, fs); err != nil {
			return cfg, err
		}
	}
	if s.Seed >= 0 {
		cfg.Seed = s.Seed
	}
	if s.Epochs > 0 {
		cfg.Spec = cfg.Spec.WithEpochs(s.Epochs)
	}
	if s.Workers > 0 {
		cfg.Workers = s.Workers
	}
	return cfg, cfg.Validate()
}

// Validate checks the settings; what the protocol needs of the manifest
// is CheckProtocol's.
func (s Settings) Validate() error {
	if s.Manifest == "" || s.Out == "" {
		return errors.New("--manifest and --out are required")
	}
	if _, err := Resamples(s.Bootstrap); err != nil {
		return err
	}
	switch {
	case s.Protocol == ProtocolKFold && s.Folds < 2:
		return fmt.Errorf("--folds %d: k-fold needs at least 2 folds", s.Folds)
	case s.Protocol == ProtocolHoldout && !(s.Fraction > 0 && s.Fraction < 1):
		return fmt.Errorf("--test-fraction %v: want a share between 0 and 1", s.Fraction)
	case s.Workers < 0:
		return fmt.Errorf("--workers %d: want 0 (one per core) or more", s.Workers)
	}
	return CheckProtocolName(s.Protocol)
}

// CheckProtocolName checks a command line's --protocol.
func CheckProtocolName(protocol string) error {
	switch protocol {
	case ProtocolLOSO, ProtocolKFold, ProtocolHoldout:
		return nil
	}
	return fmt.Errorf("--protocol %q: want loso, kfold or holdout", protocol)
}

// Options are the run's options for the settings (after Validate) and
// the config LoadConfig returned.
func (s Settings) Options(cfg Config, fs model.Families) RunOptions {
	boot, _ := Resamples(s.Bootstrap)
	return RunOptions{Manifest: s.Manifest, Protocol: s.Protocol, Folds: s.Folds, HoldoutFraction: s.Fraction,
		Out: s.Out, Cache: s.Cache, Config: cfg, Families: fs, Bootstrap: boot, NoFinal: s.NoFinal}
}

// Validate checks a sweep's options as a command line gives them (tell
// sweep), its errors naming the flags; Bootstrap is Resamples' (negative
// for none).
func (o SweepOptions) Validate() error {
	switch {
	case o.Manifest == "" || o.Out == "":
		return errors.New("--manifest and --out are required")
	case o.Protocol != ProtocolKFold && o.Protocol != ProtocolLOSO:
		return fmt.Errorf("--protocol %q: want kfold or loso", o.Protocol)
	case o.Protocol == ProtocolKFold && o.Folds < 2:
		return fmt.Errorf("--folds %d: k-fold needs at least 2 folds", o.Folds)
	case o.Seeds < 1 || o.FirstSeed < 0:
		return fmt.Errorf("--seeds %d --first-seed %d: want at least one seed from 0 up", o.Seeds, o.FirstSeed)
	case !(o.Rule.Margin >= 0):
		return fmt.Errorf("--margin %v: want ≥ 0", o.Rule.Margin)
	case o.Workers < 0:
		return fmt.Errorf("--workers %d: want 0 (one per core) or more", o.Workers)
	}
	return nil
}

// LoadCandidates reads the candidate configs of a sweep.
func LoadCandidates(paths []string, fs model.Families) ([]Candidate, error) {
	var cands []Candidate
	for _, p := range paths {
		c, err := LoadCandidate(p, fs)
		if err != nil {
			return nil, err
		}
		cands = append(cands, c)
	}
	return cands, nil
}
