package analyze

import (
	"context"
	"testing"

	"github.com/tell-project/tell/merclip"
	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/synth"
)

// TestBuiltinModel: the embedded model, fused with the Exp-CoT prior, on
// micro-expressions of the prototypes from seeds it was not trained on.
func TestBuiltinModel(t *testing.T) {
	if testing.Short() {
		t.Skip("renders and analyses 14 clips")
	}
	r, err := NewBuiltinModelReasoner(model.Families{merclip.Family{}})
	if err != nil {
		t.Fatal(err)
	}
	clips, err := synth.Plan(testFace(t), synth.Config{Seed: testSeed(), Kind: "micro"}, 14)
	if err != nil {
		t.Fatal(err)
	}
	correct := 0
	for _, c := range clips {
		res, err := RunSource(context.Background(), &clipSource{c: c}, c.Name, Options{Out: t.TempDir(), Landmarker: landmarkerFor(t, c), Reasoner: r, Name: "builtin-model"})
		if err != nil {
			t.Fatal(err)
		}
		ev, _ := bestMatch(res, c.Events[0])
		label := "(missed)"
		if ev != nil {
			label = ev.Label
		}
		if label == c.Events[0].Label {
			correct++
		}
		t.Logf("%s %3.0f fps %-9s -> %s", c.Name, c.FPS, c.Events[0].Label, label)
	}
	t.Logf("emotion accuracy %d/%d", correct, len(clips))
	if acc := float64(correct) / float64(len(clips)); acc < 0.8 {
		t.Errorf("emotion accuracy %.2f < 0.8", acc)
	}
}
