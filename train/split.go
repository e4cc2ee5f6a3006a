package train

import (
	"fmt"

	"github.com/tell-project/tell/dataset"
)

// Split says how a run divides its rows into folds: the protocol, its size
// (k for kfold, the test share for holdout) and the seed of the division.
// The same Split over the same rows gives the same folds on every machine,
// which is what lets a fleet's workers train the folds a run planned.
type Split struct {
	Protocol string  `json:"protocol"`
	Folds    int     `json:"folds,omitempty"`    // kfold: k (default 5)
	Fraction float64 `json:"fraction,omitempty"` // holdout: test share (default 0.2)
	Seed     uint64  `json:"seed"`
}

// normal fills the defaults and drops what the protocol does not use.
func (s Split) normal() Split {
	switch s.Protocol {
	case ProtocolKFold:
		if s.Folds == 0 {
			s.Folds = 5
		}
		s.Fraction = 0
	case ProtocolHoldout:
		if s.Fraction == 0 {
			s.Fraction = 0.2
		}
		s.Folds = 0
	case ProtocolLOSO:
		s.Folds, s.Fraction = 0, 0
	}
	return s
}

// String names the split in fingerprints: two runs whose splits differ
// never share a fold.
func (s Split) String() string {
	s = s.normal()
	switch s.Protocol {
	case ProtocolKFold:
		return fmt.Sprintf("kfold/%d/%d", s.Folds, s.Seed)
	case ProtocolHoldout:
		return fmt.Sprintf("holdout/%g/%d", s.Fraction, s.Seed)
	}
	return s.Protocol
}

// Make divides samples into the split's folds.
func (s Split) Make(samples []dataset.Sample) ([]dataset.Fold, error) {
	s = s.normal()
	switch s.Protocol {
	case ProtocolLOSO:
		return dataset.LOSO(samples)
	case ProtocolKFold:
		return dataset.KFold(samples, s.Folds, s.Seed)
	case ProtocolHoldout:
		f, err := dataset.Holdout(samples, s.Fraction, s.Seed)
		if err != nil {
			return nil, err
		}
		return []dataset.Fold{f}, nil
	}
	return nil, fmt.Errorf("unknown protocol %q (want loso, kfold or holdout)", s.Protocol)
}
