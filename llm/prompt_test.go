package llm_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"github.com/tell-project/tell/llm"
	"github.com/tell-project/tell/portrait"
)

func solid(w, h int, c color.RGBA) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(m.Pix); i += 4 {
		m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return m
}

func decodeDataURL(t *testing.T, u string) image.Image {
	t.Helper()
	prefix, dec := "data:image/png;base64,", png.Decode
	if strings.HasPrefix(u, "data:image/jpeg;base64,") {
		prefix, dec = "data:image/jpeg;base64,", jpeg.Decode
	}
	if !strings.HasPrefix(u, prefix) {
		t.Fatalf("not a PNG or JPEG data URL: %.40s", u)
	}
	b, err := base64.StdEncoding.DecodeString(u[len(prefix):])
	if err != nil {
		t.Fatal(err)
	}
	m, err := dec(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDataURL(t *testing.T) {
	// Small images go through unchanged.
	src := solid(3, 2, color.RGBA{10, 20, 30, 255})
	src.SetRGBA(1, 1, color.RGBA{200, 100, 0, 255})
	u, err := llm.DataURL(src, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := decodeDataURL(t, u)
	for y := 0; y < 2; y++ {
		for x := 0; x < 3; x++ {
			if color.RGBAModel.Convert(got.At(x, y)) != src.At(x, y) {
				t.Fatalf("pixel %d,%d changed", x, y)
			}
		}
	}
	// Large ones are area-averaged: a 4x2 image of two 2x2 blocks becomes
	// 2x1 of the block colours; a checkerboard averages to grey.
	two := solid(4, 2, color.RGBA{0, 0, 0, 255})
	for y := 0; y < 2; y++ {
		two.SetRGBA(2, y, color.RGBA{255, 255, 255, 255})
		two.SetRGBA(3, y, color.RGBA{255, 255, 255, 255})
	}
	got = decodeDataURL(t, must(llm.DataURL(two, 2)))
	if b := got.Bounds(); b.Dx() != 2 || b.Dy() != 1 {
		t.Fatalf("size %v", b)
	}
	if r, _, _, _ := got.At(0, 0).RGBA(); r != 0 {
		t.Fatalf("left block %v", got.At(0, 0))
	}
	if r, _, _, _ := got.At(1, 0).RGBA(); r>>8 != 255 {
		t.Fatalf("right block %v", got.At(1, 0))
	}
	chk := solid(2, 2, color.RGBA{0, 0, 0, 255})
	chk.SetRGBA(0, 0, color.RGBA{200, 200, 200, 255})
	chk.SetRGBA(1, 1, color.RGBA{200, 200, 200, 255})
	got = decodeDataURL(t, must(llm.DataURL(chk, 1)))
	if r, _, _, _ := got.At(0, 0).RGBA(); r>>8 != 100 {
		t.Fatalf("checkerboard average %v", got.At(0, 0))
	}
	if _, err := llm.DataURL(image.NewRGBA(image.Rect(0, 0, 0, 0)), 0); err == nil {
		t.Fatal("empty image accepted")
	}
}

func must(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}

func TestBuildLabelMessagesMicro(t *testing.T) {
	face, err := portrait.Astronaut()
	if err != nil {
		t.Fatal(err)
	}
	r := llm.Request{Evidence: smileEvidence, Classes: []string{"negative", "positive", "surprise"}, Apex: face, Onset: face, Flow: solid(64, 64, color.RGBA{128, 128, 0, 255})}
	msgs, err := llm.BuildLabelMessages(r, llm.PromptOptions{AUName: func(au int) string {
		return map[int]string{6: "Cheek Raiser", 12: "Lip Corner Puller"}[au]
	}}, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[0].Role != "system" || msgs[0].Text != llm.SystemPrompt || msgs[1].Role != "user" {
		t.Fatalf("layout %+v", msgs)
	}
	parts := msgs[1].Parts
	if len(parts) != 4 || parts[3].Type != "text" {
		t.Fatalf("want 3 images and a text, got %d parts", len(parts))
	}
	for i, p := range parts[:3] {
		if p.Type != "image_url" {
			t.Fatalf("part %+v", p)
		}
		// Faces go as JPEG, the flow image as lossless PNG.
		if want := map[bool]string{true: "data:image/png", false: "data:image/jpeg"}[i == 2]; !strings.HasPrefix(p.ImageURL.URL, want) {
			t.Fatalf("image %d: %.30s, want %s", i+1, p.ImageURL.URL, want)
		}
		if b := decodeDataURL(t, p.ImageURL.URL).Bounds(); max(b.Dx(), b.Dy()) > 448 {
			t.Fatalf("image not downscaled: %v", b)
		}
	}
	text := parts[3].Text
	for _, want := range []string{"image 1 is the aligned face at the apex frame", "image 2 is the aligned face at the onset frame", "image 3 is optical flow",
		"AU12 (Lip Corner Puller), left side: 4.00 (D, severe)", "AU6 (Cheek Raiser): 3.00 (C, marked)", "AU25: 1.50 (B, slight)", "micro-expression", "negative, positive, surprise", `{"label"`} {
		if !strings.Contains(text, want) {
			t.Errorf("prompt lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "AU4") {
		t.Errorf("AU below threshold offered as measured:\n%s", text)
	}
	// Strongest AU first.
	if strings.Index(text, "AU12") > strings.Index(text, "AU6") {
		t.Errorf("AUs not ordered by intensity:\n%s", text)
	}
	cm := llm.BuildCoTMessages(msgs, `{"label":"positive"}`, "positive", r, false)
	if len(cm) != 4 || cm[2].Role != "assistant" || cm[2].Text != `{"label":"positive"}` || cm[3].Role != "user" {
		t.Fatalf("CoT layout %+v", cm[2:])
	}
	for _, h := range []string{"why the expression is positive", "**Key Observations:**", "**Overall Emotional Interpretation:**", "**Conclusion:**"} {
		if !strings.Contains(cm[3].Content(), h) {
			t.Errorf("CoT request lacks %q", h)
		}
	}
	if len(msgs) != 2 {
		t.Fatal("BuildCoTMessages changed its input")
	}
}

func TestBuildLabelMessagesStill(t *testing.T) {
	msgs, err := llm.BuildLabelMessages(llm.Request{Classes: seven, Apex: solid(8, 8, color.RGBA{1, 2, 3, 255})}, llm.PromptOptions{}, false)
	if err != nil {
		t.Fatal(err)
	}
	text := msgs[1].Parts[1].Text
	if len(msgs[1].Parts) != 2 || !strings.Contains(text, "image 1 is the aligned face") || strings.Contains(text, "micro") ||
		!strings.Contains(text, "- none active") || !strings.Contains(text, "label only") {
		t.Fatalf("%d parts:\n%s", len(msgs[1].Parts), text)
	}
}

// strictOK checks OpenAI's strict-mode rules: every object lists all its
// properties as required and forbids others.
func strictOK(t *testing.T, path string, s map[string]any) {
	t.Helper()
	if s["type"] == "object" {
		props := s["properties"].(map[string]any)
		req := map[string]bool{}
		for _, r := range s["required"].([]any) {
			req[r.(string)] = true
		}
		if len(req) != len(props) || s["additionalProperties"] != false {
			t.Errorf("%s: required %v of %d properties, additionalProperties %v", path, req, len(props), s["additionalProperties"])
		}
		for k, v := range props {
			strictOK(t, path+"."+k, v.(map[string]any))
		}
	}
	if s["type"] == "array" {
		strictOK(t, path+"[]", s["items"].(map[string]any))
	}
}

func TestSchemas(t *testing.T) {
	for _, f := range []*llm.ResponseFormat{llm.LabelFormat(seven), llm.CoTFormat(seven)} {
		if f.Type != "json_schema" || f.JSONSchema == nil || f.JSONSchema.Name == "" || !f.JSONSchema.Strict {
			t.Fatalf("format %+v", f)
		}
		var s map[string]any
		if err := json.Unmarshal(f.JSONSchema.Schema, &s); err != nil {
			t.Fatal(err)
		}
		strictOK(t, f.JSONSchema.Name, s)
		if !strings.Contains(string(f.JSONSchema.Schema), `"enum":["anger","disgust","fear","happiness","neutral","sadness","surprise"]`) {
			t.Errorf("%s: class enum missing: %s", f.JSONSchema.Name, f.JSONSchema.Schema)
		}
	}
}
