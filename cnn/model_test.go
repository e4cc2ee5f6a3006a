package cnn

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tell-project/tell/facs"
	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/nn"
	"github.com/tell-project/tell/train"
)

func flowInfo(size int, classes ...string) model.Info {
	return model.Info{Kind: model.KindFlow, Layout: model.Input{Size: size}.Layout(model.KindFlow), Classes: classes}
}

// wave is the generator's input formula: sin(0.731 i) + 0.5 cos(0.117 i).
func wave(n, off int) []float32 {
	x := make([]float32, n)
	for i := range x {
		j := float64(i + off)
		x[i] = float32(math.Sin(0.731*j) + 0.5*math.Cos(0.117*j))
	}
	return x
}

func split(x []float32, n int) [][]float32 {
	out := make([][]float32, n)
	l := len(x) / n
	for i := range out {
		out[i] = x[i*l : (i+1)*l]
	}
	return out
}

// TestTorchSTSTNet: with PyTorch's weights the model reproduces the peer's
// STSTNet (three streams of 3, 5 and 8 channels) in training mode (logits,
// loss, every gradient, the running statistics) and in evaluation mode.
func TestTorchSTSTNet(t *testing.T) {
	var g struct {
		Y          []int
		Params     map[string][]float32
		Logits     []float32
		Loss       float64
		Grads      map[string][]float32
		Running    map[string][]float32
		EvalLogits []float32 `json:"eval_logits"`
	}
	b, err := os.ReadFile("testdata/ststnet_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	m, err := NewModel(DefaultConfig(), 1, flowInfo(28, "a", "b", "c"))
	if err != nil {
		t.Fatal(err)
	}
	ps := map[string]*nn.Param{}
	for _, p := range m.Params() {
		ps[p.Name] = p
		w, ok := g.Params[p.Name]
		if !ok || len(w) != len(p.Data) {
			t.Fatalf("%s: %d PyTorch values for %v", p.Name, len(w), p.Shape)
		}
		copy(p.Data, w)
	}
	m.setTraining(true)
	nn.ZeroGrad(m.Params())
	logits, err := m.forward(m.batch(split(wave(5*3*28*28, 0), 5)))
	if err != nil {
		t.Fatal(err)
	}
	near(t, "logits", logits.Data, g.Logits, 1e-4)
	var ce nn.CrossEntropy
	loss, d, err := ce.Forward(logits, g.Y)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(float64(loss)-g.Loss) > 1e-5 {
		t.Errorf("loss %v, PyTorch %v", loss, g.Loss)
	}
	m.backward(d, nil, nil)
	for name, want := range g.Grads {
		near(t, "grad "+name, ps[name].Grad, want, 1e-4)
	}
	near(t, "running_mean", m.trunk.bn.RunMean, g.Running["bn.running_mean"], 1e-5)
	near(t, "running_var", m.trunk.bn.RunVar, g.Running["bn.running_var"], 1e-5)
	got := m.Scores(split(wave(2*3*28*28, 7), 2))
	near(t, "eval logits", append(got[0], got[1]...), g.EvalLogits, 1e-4)
}

func near(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	scale := 0.0
	for _, w := range want {
		scale = math.Max(scale, math.Abs(float64(w)))
	}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > tol*math.Max(1, scale) {
			t.Fatalf("%s[%d] = %v, PyTorch %v", what, i, got[i], want[i])
		}
	}
}

// TestModelGradients checks every parameter's gradient of the loss (BatchNorm
// in training mode, class weights, label smoothing; with and without the AU
// head) against central finite differences, on a small input.
func TestModelGradients(t *testing.T) {
	for _, tc := range []struct{ auWeight, textWeight float64 }{{0, 0}, {0.7, 0}, {0, 0.7}} {
		auWeight := tc.auWeight
		cfg := DefaultConfig()
		cfg.Net.Streams = []int{2, 3}
		cfg.AU.Weight = auWeight
		cfg.Text.Weight = tc.textWeight
		m, err := NewModel(cfg, 4, flowInfo(8, "a", "b", "c"))
		if err != nil {
			t.Fatal(err)
		}
		var al *aligner
		params := m.Params()
		if cfg.Text.Weight > 0 {
			al = newAligner(cfg.Text, m.feat, 4, 1)
			params = append(params, al.params()...)
		}
		for i := range m.trunk.bn.G.Data { // away from the defaults, so that γ and β matter
			m.trunk.bn.G.Data[i] = 0.7 + 0.2*float32(i)
			m.trunk.bn.B.Data[i] = 0.1 * float32(i)
		}
		xs := split(wave(4*3*8*8, 3), 4)
		y := []int{0, 2, 1, 2}
		codes := []facs.Code{facs.MustParse("4+L10"), {}, facs.MustParse("R12+6"), facs.MustParse("1+2")}
		ce := nn.CrossEntropy{Weights: []float32{1, 2, 0.5}, Smoothing: 0.1}
		var bce auLoss
		loss := func() float64 {
			m.setTraining(true)
			nn.ZeroGrad(params)
			if al != nil {
				al.rng = rand.New(rand.NewPCG(1, 2)) // the same sentences each time
			}
			s, err := m.forward(m.batch(xs))
			if err != nil {
				t.Fatal(err)
			}
			l, d, err := ce.Forward(s, y)
			if err != nil {
				t.Fatal(err)
			}
			var dau *nn.Tensor
			if m.au != nil {
				var la float32
				la, dau = bce.forward(m.au.Forward(m.flat), codes, float32(auWeight))
				l += la
			}
			var dfeat *nn.Tensor
			if al != nil {
				var lt float32
				if lt, dfeat, err = al.step(m.flat, codes); err != nil || dfeat == nil {
					t.Fatalf("alignment: %v (features gradient %v)", err, dfeat)
				}
				l += lt
			}
			m.backward(d, dau, dfeat)
			return float64(l)
		}
		loss()
		grads := make([][]float32, len(params))
		for i, p := range params {
			grads[i] = append([]float32(nil), p.Grad...)
		}
		// A small step: the max-pool and ReLU kinks make larger ones cross
		// into another branch.
		const h = 1e-3
		for i, p := range params {
			for j := 0; j < len(p.Data); j += max(1, len(p.Data)/12) {
				old := p.Data[j]
				p.Data[j] = old + h
				lp := loss()
				p.Data[j] = old - h
				lm := loss()
				p.Data[j] = old
				num := (lp - lm) / (2 * h)
				if an := float64(grads[i][j]); math.Abs(num-an) > 2e-3+5e-2*math.Abs(num) {
					t.Errorf("au %v text %v: %s[%d]: analytic %.6f, numeric %.6f", auWeight, tc.textWeight, p.Name, j, an, num)
				}
			}
		}
	}
}

// TestAUTargets: sides as coded, bilateral on both, mirrored by
// train.MirrorAUs; AUs past 46 ignored.
func TestAUTargets(t *testing.T) {
	tg := make([]float32, 2*maxAU)
	auTargets(tg, facs.MustParse("4+L12+R14+51"))
	on := map[int]bool{}
	for i, v := range tg {
		if v == 1 {
			on[i] = true
		}
	}
	want := map[int]bool{6: true, 7: true, 22: true, 27: true}
	if len(on) != len(want) || !on[6] || !on[7] || !on[22] || !on[27] {
		t.Errorf("targets on %v, want %v", on, want)
	}
	auTargets(tg, train.MirrorAUs(facs.MustParse("L12")))
	if tg[22] != 0 || tg[23] != 1 {
		t.Errorf("mirrored L12: %v %v, want right side", tg[22], tg[23])
	}
}

// TestConfig: fields left out keep their defaults; impossible values and
// unknown fields are refused, naming the field.
func TestConfig(t *testing.T) {
	c, err := ParseConfig([]byte(`{"train":{"epochs":20},"augment":{"flip":0.5}}`))
	if err != nil || c.Train.Epochs != 20 || c.Augment.Flip != 0.5 || c.Train.Batch != 64 || c.channels() != 16 {
		t.Fatalf("parsed %+v, %v", c, err)
	}
	for _, tc := range []struct{ json, field string }{
		{`{"net":{"streams":[]}}`, "net.streams"},
		{`{"net":{"streams":[4,0]}}`, "net.streams[1]"},
		{`{"train":{"lr":0}}`, "train.lr"},
		{`{"train":{"warmup":500}}`, "train.warmup"},
		{`{"augment":{"flip":2}}`, "augment.flip"},
		{`{"augment":{"rotate":90}}`, "augment.rotate"},
		{`{"net":{"dropout":1}}`, "net.dropout"},
		{`{"nett":{}}`, "nett"},
	} {
		if _, err := ParseConfig([]byte(tc.json)); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: error %v, want one naming %s", tc.json, err, tc.field)
		}
	}
	// The alignment and LocalStaticFaceMix stay out of the default's JSON,
	// so that configs (and their runs' fingerprints) written before them
	// keep their hash; set, they round-trip.
	if b, _ := json.Marshal(DefaultConfig()); strings.Contains(string(b), "text") || strings.Contains(string(b), "mix") {
		t.Errorf("default config JSON %s names the alignment or the mix", b)
	}
	c, err = ParseConfig([]byte(`{"text":{"weight":0.5},"augment":{"mix":{"p":0.5}}}`))
	if err != nil || c.Text.Weight != 0.5 || c.Augment.Mix.P != 0.5 || c.Text.tower().Dim != 32 || c.Text.embed() != 32 {
		t.Fatalf("parsed %+v, %v", c, err)
	}
	if b, _ := json.Marshal(c); !strings.Contains(string(b), `"text":{"weight":0.5}`) || !strings.Contains(string(b), `"mix":{"p":0.5}`) {
		t.Errorf("JSON %s", b)
	}
	for _, tc := range []struct{ json, field string }{
		{`{"augment":{"mix":{"p":2}}}`, "augment.mix.p"},
		{`{"augment":{"mix":{"p":0.5,"alpha":3}}}`, "augment.mix.alpha"},
		{`{"text":{"weight":-1}}`, "text.weight"},
		{`{"text":{"weight":1,"heads":3}}`, "text"},
	} {
		if _, err := ParseConfig([]byte(tc.json)); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: error %v, want one naming %s", tc.json, err, tc.field)
		}
	}
	if _, err := NewModel(DefaultConfig(), 1, flowInfo(4, "a")); err == nil {
		t.Error("a 4×4 input accepted")
	}
	// --epochs below the default warm-up shortens the warm-up.
	if s := DefaultConfig().WithEpochs(1).(Config); s.Validate() != nil || s.Train.Warmup != 1 || s.Train.Epochs != 1 {
		t.Errorf("WithEpochs(1): %+v, %v", s.Train, s.Validate())
	}
}

// FuzzParseConfig: no input panics the config reader, and an accepted
// config builds a model.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"net":{"streams":[4,4],"dropout":0.3}}`))
	f.Add([]byte(`{"train":{"epochs":3,"cosine":true,"warmup":1},"augment":{"shift":1.5}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b)
		if err != nil || c.channels() > 256 {
			return
		}
		if _, err := NewModel(c, 1, flowInfo(8, "a", "b")); err != nil {
			t.Fatalf("valid config %s does not build: %v", b, err)
		}
	})
}

var families = model.Families{Family{}}

// TestLOSOLearnsDeterministicRoundTrip: on synthetic flows with
// class-specific motion the family reaches UF1 ≥ 0.9 under LOSO while the
// label-shuffled control stays near chance; the same seed gives the same
// fold predictions; the saved final model (a two-member seed ensemble with
// its BatchNorm statistics) scores the same after loading.
func TestLOSOLearnsDeterministicRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 3×6 folds")
	}
	cfg := train.DefaultConfig(families)
	spec := cfg.Spec.(Config)
	spec.Train.Epochs, spec.Train.Batch, spec.Train.LR = 10, 16, 3e-3
	spec.Augment = AugmentConfig{Flip: 0.5, Shift: 1, Rotate: 5, Scale: 0.05}
	cfg.Spec = spec
	run := func(shuffle bool, members int) (*train.RunResult, string) {
		man, err := train.WriteSynth(t.TempDir(), train.SynthOptions{Seed: 5, Subjects: train.SynthSubjects(6, 4), ShuffleLabels: shuffle})
		if err != nil {
			t.Fatal(err)
		}
		c := cfg
		c.Members = members
		out := t.TempDir()
		res, err := train.Run(context.Background(), train.RunOptions{Manifest: man, Protocol: train.ProtocolLOSO, Out: out,
			Config: c, Families: families, NoFinal: members == 1, Bootstrap: -1})
		if err != nil {
			t.Fatal(err)
		}
		return res, out
	}
	learn, out := run(false, 2)
	shuf, _ := run(true, 1)
	t.Logf("UF1 %.3f (shuffled labels %.3f)", learn.Report.UF1, shuf.Report.UF1)
	if learn.Report.UF1 < 0.9 {
		t.Errorf("UF1 %.3f < 0.9 on learnable data", learn.Report.UF1)
	}
	if shuf.Report.UF1 > 0.55 {
		t.Errorf("UF1 %.3f on shuffled labels: the pipeline leaks", shuf.Report.UF1)
	}
	again, _ := run(false, 2)
	if again.Report.UF1 != learn.Report.UF1 || again.Report.Accuracy != learn.Report.Accuracy {
		t.Errorf("same seed: UF1 %v then %v", learn.Report.UF1, again.Report.UF1)
	}
	c, err := model.Load(filepath.Join(out, "model.safetensors"), families)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Members) != 2 {
		t.Fatalf("%d members, want 2", len(c.Members))
	}
	x := [][]float32{wave(c.Layout.Len(), 1)}
	b, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	c2, err := model.Decode(b, families)
	if err != nil {
		t.Fatal(err)
	}
	p, p2 := c.Probabilities(x)[0], c2.Probabilities(x)[0]
	for k := range p {
		if p[k] != p2[k] {
			t.Fatalf("probabilities %v after decoding, want %v", p2, p)
		}
	}
	m := c.Members[0].(*Model)
	if m.trunk.bn.RunVar[0] == 1 && m.trunk.bn.RunMean[0] == 0 {
		t.Error("running statistics not saved")
	}
}

// TestAlignAndMixLearn: with the AU-text alignment and LocalStaticFaceMix
// the family still learns synthetic flows (rows with AU codes), and they
// change the weights it learns; off, nothing changes.
func TestAlignAndMixLearn(t *testing.T) {
	man, err := train.WriteSynth(t.TempDir(), train.SynthOptions{Seed: 5, Subjects: train.SynthSubjects(4, 4)})
	if err != nil {
		t.Fatal(err)
	}
	run := func(text, mix float64) (float64, []byte) {
		cfg := train.DefaultConfig(families)
		spec := cfg.Spec.(Config)
		spec.Train.Epochs, spec.Train.Batch, spec.Train.LR = 10, 16, 3e-3
		spec.Text.Weight, spec.Augment.Mix.P = text, mix
		cfg.Spec = spec
		out := t.TempDir()
		res, err := train.Run(context.Background(), train.RunOptions{Manifest: man, Protocol: train.ProtocolHoldout, HoldoutFraction: 0.25, Out: out,
			Config: cfg, Families: families, Bootstrap: -1})
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(out, "model.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		return res.Report.UF1, b
	}
	plain, wPlain := run(0, 0)
	both, wBoth := run(0.5, 0.5)
	t.Logf("UF1 %.3f, with alignment and mix %.3f", plain, both)
	if both < 0.8 {
		t.Errorf("UF1 %.3f < 0.8 with the alignment and the mix", both)
	}
	if _, w := run(0.5, 0); bytes.Equal(wPlain, w) || bytes.Equal(wBoth, w) {
		t.Error("the alignment alone changed no weight, or the mix changed none")
	}
	if _, w := run(0, 0); !bytes.Equal(w, wPlain) {
		t.Error("the same config trained other weights")
	}
}

// TestTestFlip: with augment.test_flip the scores are the mean of the
// scores of the input and of its mirror image.
func TestTestFlip(t *testing.T) {
	cfg := DefaultConfig()
	m, err := NewModel(cfg, 2, flowInfo(12, "a", "b", "c"))
	if err != nil {
		t.Fatal(err)
	}
	x := wave(m.Layout.Len(), 4)
	mx := append([]float32(nil), x...)
	train.Mirror(mx, m.Layout)
	plain := m.Scores([][]float32{x, mx})
	m.Cfg.Augment.TestFlip = true
	got := m.Scores([][]float32{x})[0]
	for k := range got {
		if want := 0.5 * (plain[0][k] + plain[1][k]); math.Abs(float64(got[k]-want)) > 1e-6 {
			t.Fatalf("score %d = %v, want %v", k, got[k], want)
		}
	}
}

// TestCenter: with net.center the median u and v of every input are zero,
// strain untouched; centring commutes with the mirror image (u → −u).
func TestCenter(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Net.Center = true
	m, err := NewModel(cfg, 1, flowInfo(6, "a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	x := wave(m.Layout.Len(), 2)
	for i := range x[:36] {
		x[i] += 0.4
	}
	c := m.center(x)
	for ch := 0; ch < 2; ch++ {
		if med := median(c[ch*36 : (ch+1)*36]); math.Abs(float64(med)) > 1e-6 {
			t.Errorf("channel %d median %v after centring", ch, med)
		}
	}
	for i := 72; i < 108; i++ {
		if c[i] != x[i] {
			t.Fatal("strain changed")
		}
	}
	mx := append([]float32(nil), x...)
	train.Mirror(mx, m.Layout)
	a := m.center(mx)
	b := append([]float32(nil), c...)
	train.Mirror(b, m.Layout)
	near(t, "centre∘mirror", a, b, 1e-6)
	if median([]float32{3, 1, 2, 10}) != 2.5 || median([]float32{5, 1, 3}) != 3 {
		t.Error("median")
	}
}

// TestEarlyStop: train.early_stop needs validation subjects; with them the
// model returned is the epoch with the best validation UF1 (its UF1 on the
// validation set equals the best one logged).
func TestEarlyStop(t *testing.T) {
	man, err := train.WriteSynth(t.TempDir(), train.SynthOptions{Seed: 8, Subjects: train.SynthSubjects(4, 3)})
	if err != nil {
		t.Fatal(err)
	}
	ld, err := train.Load(context.Background(), man, model.Input{Size: 12}, "", "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Train.Epochs, cfg.Train.Batch, cfg.Train.EarlyStop = 6, 8, true
	d := &train.FitData{Info: model.Info{Kind: ld.Data.Kind, Layout: ld.Data.Layout, Classes: ld.Classes}}
	val := &train.ValData{}
	for i, s := range ld.Data.Samples {
		if s.Subject == "s04" {
			val.X, val.Y = append(val.X, ld.Data.X[i]), append(val.Y, ld.Y[i])
			continue
		}
		d.X, d.Y = append(d.X, ld.Data.X[i]), append(d.Y, ld.Y[i])
	}
	if _, err := Fit(context.Background(), cfg, d, train.FitOptions{Seed: 1}); err == nil || !strings.Contains(err.Error(), "validation") {
		t.Fatalf("early stop without validation: %v", err)
	}
	d.Val = val
	var log strings.Builder
	m, err := Fit(context.Background(), cfg, d, train.FitOptions{Seed: 1, Log: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	best := -1.0
	for _, line := range strings.Split(log.String(), "\n") {
		if i := strings.Index(line, "msg=validation "); i >= 0 {
			var ep int
			var uf1 float64
			fmt.Sscanf(line[strings.Index(line, "epoch="):], "epoch=%d uf1=%g", &ep, &uf1)
			best = math.Max(best, uf1)
		}
	}
	if !strings.Contains(log.String(), "early stop") || best < 0 {
		t.Fatalf("no early stop in the log:\n%s", log.String())
	}
	if got := m.validationUF1(val); math.Abs(got-best) > 1e-9 {
		t.Errorf("returned model's validation UF1 %v, best logged %v", got, best)
	}
}

// TestCost: each addition to the default costs more, by the parts it adds;
// class weights cost nothing.
func TestCost(t *testing.T) {
	info := flowInfo(28, "a", "b", "c")
	cost := func(js string) float64 {
		c, err := ParseConfig([]byte(js))
		if err != nil {
			t.Fatal(err)
		}
		return c.Cost(info, 270, 39)
	}
	base := cost(`{}`)
	if got := cost(`{"train":{"class_weights":false}}`); got != base {
		t.Errorf("class weights changed the cost: %g vs %g", got, base)
	}
	for _, js := range []string{`{"augment":{"test_flip":true}}`, `{"augment":{"mix":{"p":0.5}}}`, `{"au":{"weight":0.2}}`, `{"text":{"weight":0.5}}`, `{"train":{"epochs":75}}`} {
		if got := cost(js); !(got > base) {
			t.Errorf("%s costs %g, not more than the default's %g", js, got, base)
		}
	}
	if r := cost(`{"train":{"epochs":75}}`) / base; math.Abs(r-1.5) > 0.01 {
		t.Errorf("75 epochs cost %.3f× 50 epochs", r)
	}
}
