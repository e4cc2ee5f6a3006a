package llmeval

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"sync"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/dataset"
)

// Measured returns an Options.Evidence that grounds the model in AUs tell
// measures itself instead of the manifest's coded ones: each sample's image
// or frames folder goes through the `tell analyze` pipeline (with lm
// finding the landmarks), and the evidence of its strongest spotted
// expression is used (a still image is one expression, measured against
// the landmark model's neutral shape). A clip in which nothing is spotted
// gives no evidence. Samples are measured one at a time: the landmarker is
// shared, and measuring is cheap next to a vision model's answer.
func Measured(lm analyze.Landmarker) func(ctx context.Context, s dataset.Sample) ([]cot.Evidence, error) {
	var mu sync.Mutex
	return func(ctx context.Context, s dataset.Sample) ([]cot.Evidence, error) {
		input := s.Image
		if input == "" {
			input = s.Frames
		}
		if input == "" {
			return nil, errors.New("measured evidence needs an image or a frames folder")
		}
		mu.Lock()
		defer mu.Unlock()
		dir, err := os.MkdirTemp("", "tell-eval-measure-*")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		var events [][]cot.Evidence
		capture := capturer(func(ev []cot.Evidence) { events = append(events, ev) })
		// A frames folder's rate is the manifest's fps column (or its
		// fps.txt): without either it is refused, not guessed.
		fps, err := s.Rate()
		if err != nil {
			return nil, err
		}
		if s.Image != "" {
			fps = 0
		}
		res, err := analyze.Run(ctx, input, analyze.Options{Out: dir, Landmarker: lm, Reasoner: capture, FPS: fps})
		if err != nil {
			return nil, fmt.Errorf("measuring %s: %w", input, err)
		}
		if len(events) == 0 || res == nil || len(res.Events) != len(events) {
			return nil, nil
		}
		best := 0
		for i, e := range res.Events {
			if e.Peak > res.Events[best].Peak {
				best = i
			}
		}
		return events[best], nil
	}
}

// capturer is an analyze.Reasoner that records each event's evidence and
// answers with the built-in engine (its answer is not used).
type capturer func(ev []cot.Evidence)

func (c capturer) Reason(_ context.Context, ev []cot.Evidence, _ []image.Image) (cot.CoT, error) {
	c(append([]cot.Evidence(nil), ev...))
	return cot.Explain(ev, cot.Options{})
}
