package model

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tell-project/tell/nn"
	"github.com/tell-project/tell/raster"
)

// lin is a family for these tests: one linear layer over the input.
type lin struct{}

type linSpec struct {
	Epochs_ int `json:"epochs"`
}

func (s linSpec) Validate() error {
	if s.Epochs_ <= 0 {
		return errors.New("epochs: must be positive")
	}
	return nil
}
func (s linSpec) Epochs() int           { return s.Epochs_ }
func (s linSpec) WithEpochs(n int) Spec { s.Epochs_ = n; return s }

func (lin) Name() string      { return "lin" }
func (lin) DefaultSpec() Spec { return linSpec{Epochs_: 3} }
func (lin) ParseSpec(b []byte) (Spec, error) {
	s := linSpec{Epochs_: 3}
	if err := decodeStrict(b, &s); err != nil {
		return s, err
	}
	return s, s.Validate()
}

type linNet struct{ w *nn.Tensor } // [K, L]

func (n *linNet) Scores(xs [][]float32) [][]float32 {
	k, l := n.w.Shape[0], n.w.Shape[1]
	out := make([][]float32, len(xs))
	for i, x := range xs {
		out[i] = make([]float32, k)
		for c := 0; c < k; c++ {
			for j, v := range n.w.Data[c*l : (c+1)*l] {
				out[i][c] += v * x[j]
			}
		}
	}
	return out
}

func (n *linNet) Encode() (map[string]*nn.Tensor, map[string]string) {
	return map[string]*nn.Tensor{"w": n.w}, map[string]string{"note": "lin"}
}

func (lin) Decode(spec Spec, info Info, ts map[string]*nn.Tensor, meta map[string]string) (Net, error) {
	n := &linNet{w: nn.NewTensor(len(info.Classes), info.Layout.Len())}
	if meta["note"] != "lin" {
		return nil, errors.New("note missing")
	}
	return n, CopyTensors(map[string]*nn.Tensor{"w": n.w}, ts)
}

type other struct{ lin }

func (other) Name() string { return "other" }

func testClassifier(members int) *Classifier {
	cfg := DefaultConfig(Families{lin{}})
	cfg.Input.Size = 2
	info := Info{Kind: KindFlow, Layout: cfg.Input.Layout(KindFlow), Classes: []string{"a", "b"}}
	c := &Classifier{Info: info, Config: cfg, Fingerprint: "fp"}
	for m := 0; m < members; m++ {
		w := nn.NewTensor(2, info.Layout.Len())
		for i := range w.Data {
			w.Data[i] = float32((i*7+m*3)%5) - 2
		}
		c.Members = append(c.Members, &linNet{w: w})
	}
	return c
}

// TestClassifierRoundTrip: a saved classifier loads with the same scores,
// classes, config and fingerprint; the trainer's config is kept byte for
// byte; its probabilities are the members' mean softmax.
func TestClassifierRoundTrip(t *testing.T) {
	fs := Families{lin{}, other{}}
	c := testClassifier(2)
	c.Trained = []byte(`{"model": "lin", "seed": 4, "input": {"size": 2}, "lin": {"epochs": 5}}`)
	c.Source = SourceFlowImages
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path, fs)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Trained, c.Trained) || back.Fingerprint != "fp" || back.Source != SourceFlowImages || back.Config.Spec.Epochs() != 5 ||
		back.Config.Input.Size != 2 || back.Layout.Len() != 12 || len(back.Members) != 2 {
		t.Fatalf("loaded %+v", back)
	}
	x := [][]float32{{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}}
	p := back.Probabilities(x)[0]
	s0, s1 := nn.Softmax(c.Members[0].Scores(x)[0]), nn.Softmax(c.Members[1].Scores(x)[0])
	for k := range p {
		if d := p[k] - (s0[k]+s1[k])/2; d > 1e-6 || d < -1e-6 {
			t.Fatalf("probabilities %v, want the mean of %v and %v", p, s0, s1)
		}
	}
	// Without the trainer's config the model's own part is written.
	c.Trained = nil
	b, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err = Decode(b, fs)
	if err != nil || back.Config.Spec.Epochs() != 3 || back.Config.Model != "lin" {
		t.Fatalf("decoded %+v, %v", back, err)
	}
}

// TestDecodeErrors: damaged or foreign files are refused, naming what is
// wrong.
func TestDecodeErrors(t *testing.T) {
	fs := Families{lin{}}
	good, err := testClassifier(1).Encode()
	if err != nil {
		t.Fatal(err)
	}
	tensors, meta, err := nn.DecodeSafetensors(good)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key, value, want string
	}{
		{"format", "tell-model-0", "not a tell model"},
		{"family", "cnn", `unknown model family "cnn"`},
		{"config", `{"model": "lin", "input": {"size": 0}}`, "input.size"},
		{"config", `{"model": "lin", "input": {"sise": 2}}`, "sise"},
		{"classes", `[]`, "classes"},
		{"kind", "audio", "input kind"},
		{"members", "0", "members"},
		{"members", "2", "member 1"},
	} {
		m := map[string]string{}
		for k, v := range meta {
			m[k] = v
		}
		m[tc.key] = tc.value
		b, err := nn.EncodeSafetensors(tensors, m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(b, fs); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%s: error %v, want one naming %s", tc.key, tc.value, err, tc.want)
		}
	}
	if _, err := Decode(good[:len(good)/2], fs); err == nil {
		t.Error("a truncated file decodes")
	}
	short := map[string]*nn.Tensor{"m0.w": nn.NewTensor(2, 3)}
	b, _ := nn.EncodeSafetensors(short, meta)
	if _, err := Decode(b, fs); err == nil || !strings.Contains(err.Error(), "shape") {
		t.Errorf("wrong shape: %v", err)
	}
}

// TestParseConfig: the model's part is read over the defaults; the
// trainer's fields are left to it (ParseConfig) or decoded into the
// caller's struct, any other field refused (ParseConfigWith).
func TestParseConfig(t *testing.T) {
	fs := Families{lin{}, other{}}
	c, err := ParseConfig([]byte(`{"model": "other", "seed": 3, "input": {"apex": true}, "other": {"epochs": 7}}`), fs)
	if err != nil || c.Model != "other" || !c.Input.Apex || c.Input.Size != 28 || c.Spec.Epochs() != 7 {
		t.Fatalf("parsed %+v, %v", c, err)
	}
	back, err := ParseConfig(c.JSON(), fs)
	if err != nil || back.Model != c.Model || back.Input != c.Input || back.Spec != c.Spec {
		t.Fatalf("round trip %+v, %v\n%s", back, err, c.JSON())
	}
	var extra struct {
		Seed int `json:"seed"`
	}
	if _, err := ParseConfigWith([]byte(`{"seed": 3}`), fs, &extra); err != nil || extra.Seed != 3 {
		t.Fatalf("extra %+v, %v", extra, err)
	}
	for _, tc := range []struct{ json, want string }{
		{`{"seeed": 3}`, `unknown field "seeed"`},
		{`{"other": {}}`, `a section for model "other", but model is "lin"`},
		{`{"model": 3}`, "model"},
		{`{"model": "nope"}`, "nope"},
		{`{"input": {"size": 0}}`, ""},
		{`{"lin": {"epochs": 0}}`, "epochs"},
	} {
		_, err := ParseConfigWith([]byte(tc.json), fs, &extra)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v (validation is the caller's)", tc.json, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %s", tc.json, err, tc.want)
		}
	}
	if _, err := ParseConfig([]byte(`{"input": {"size": 2000}}`), fs); err == nil || !strings.Contains(err.Error(), "input.size") {
		t.Errorf("size 2000: %v", err)
	}
}

// FuzzParseConfig: no input panics the reader, and what it accepts
// round-trips through JSON.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"model": "lin", "input": {"size": 8}, "lin": {"epochs": 2}}`))
	f.Add([]byte(`{"seed": 1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fs := Families{lin{}}
		c, err := ParseConfig(b, fs)
		if err != nil {
			return
		}
		back, err := ParseConfig(c.JSON(), fs)
		if err != nil || back.Input != c.Input || back.Spec != c.Spec {
			t.Fatalf("round trip of %s: %+v, %v", b, back, err)
		}
	})
}

// TestLayout: the layouts of each kind, with and without the apex channel.
func TestLayout(t *testing.T) {
	in := DefaultInput()
	if l := in.Layout(KindFlow); l.Len() != 3*28*28 || l.HasAppearance() {
		t.Errorf("flow layout %+v", l)
	}
	in.Apex = true
	if l := in.Layout(KindFlow); l.Channels != 4 || !l.HasAppearance() || l.StaticLen() != 4*28*28 {
		t.Errorf("flow+apex layout %+v", l)
	}
	if l := in.Layout(KindImage); l.Channels != 1 || !l.HasAppearance() {
		t.Errorf("image layout %+v (apex applies to flow only)", l)
	}
}

// TestInputs: a still face becomes its grey values over 255 at the layout's
// size; a flow image's mid grey is zero motion; frames of different sizes
// are refused.
func TestInputs(t *testing.T) {
	c := &Classifier{Info: Info{Kind: KindImage, Layout: LayoutOf(KindImage, 4, false)}}
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = 102
	}
	x, err := c.InputFromImage(img)
	if err != nil || len(x) != 16 {
		t.Fatal(len(x), err)
	}
	for _, v := range x {
		if d := v - 0.4; d > 1e-6 || d < -1e-6 {
			t.Fatalf("grey input %v, want 0.4", x)
		}
	}
	c.Kind, c.Layout = KindFlow, LayoutOf(KindFlow, 4, false)
	fl := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := 0; i < 64; i++ {
		fl.Set(i%8, i/8, color.RGBA{128, 128, 0, 255})
	}
	x, err = c.InputFromImage(fl)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range x {
		if v > 0.01 || v < -0.01 {
			t.Fatalf("mid-grey flow image gives %v, want ~0", x)
		}
	}
	if _, err := c.InputFromFrames(t.Context(), raster.NewGray(8, 8), raster.NewGray(6, 6)); err == nil {
		t.Error("frames of different sizes accepted")
	}
}

// TestAsFlowImage: tell's flow re-encoded as a release flow image: each
// channel min-max normalised (u, v to [−1, 1], strain to [0, 1]) in 8-bit
// steps; the apex channel kept.
func TestAsFlowImage(t *testing.T) {
	l := LayoutOf(KindFlow, 4, true)
	plane := l.H * l.W
	x := make([]float32, l.Len())
	for i := 0; i < plane; i++ {
		x[i] = float32(i) * 0.3          // u: 0 .. 4.5 px
		x[plane+i] = -2 + float32(i)*0.1 // v: −2 .. −0.5
		x[2*plane+i] = float32(i % 4)    // strain: 0 .. 3
		x[3*plane+i] = 0.25              // apex grey
	}
	y, err := AsFlowImage(x, l)
	if err != nil {
		t.Fatal(err)
	}
	near := func(a, b float32) bool { return math.Abs(float64(a-b)) < 1e-6 }
	if !near(y[0], -1) || !near(y[plane-1], 1) || !near(y[plane], -1) || !near(y[2*plane-1], 1) {
		t.Errorf("u %v..%v, v %v..%v: want each −1..1", y[0], y[plane-1], y[plane], y[2*plane-1])
	}
	if !near(y[2*plane], 0) || !near(y[2*plane+3], 1) || !near(y[2*plane+1], 85.0/255) {
		t.Errorf("strain %v: want 0, 85/255, .., 1", y[2*plane:2*plane+4])
	}
	for i := 0; i < plane; i++ {
		if y[3*plane+i] != 0.25 {
			t.Fatalf("apex channel changed: %v", y[3*plane+i])
		}
		// 8-bit steps: u·127.5 + 127.5 is an integer.
		if v := float64(y[i])*127.5 + 127.5; math.Abs(v-math.Round(v)) > 1e-3 {
			t.Fatalf("u %v is not an 8-bit level", y[i])
		}
	}
	if _, err := AsFlowImage(x[:5], l); err == nil {
		t.Error("short input accepted")
	}
}
