package llm

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"sort"
	"strings"

	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/facs"
)

// Request is what a Reasoner explains: one face (an image, or one event of a
// clip) with tell's AU measurements and the classes to choose from.
type Request struct {
	// Evidence is tell's own AU measurement, the grounding the answer is
	// checked against.
	Evidence []cot.Evidence
	// Classes is the label set; the answer must be one of them.
	Classes []string
	// Apex is the aligned face at the apex (or the still image). Onset and
	// Flow are given for micro-expressions: the onset frame and a flow
	// visualisation between onset and apex. Any may be nil.
	Apex, Onset, Flow image.Image
	// FlowCaption says how Flow encodes motion; empty means the manifest
	// layout (RGB = horizontal flow, vertical flow, optical strain).
	FlowCaption string
	// TrueLabel, when known, is used only by engines that verify against it
	// (the built-in Exp-CoT loop); the LLM never sees it.
	TrueLabel string
}

// Micro reports whether the request carries micro-expression inputs.
func (r Request) Micro() bool { return r.Onset != nil || r.Flow != nil }

// PromptOptions tunes the prompts.
type PromptOptions struct {
	// MaxImageSide downscales images whose longer side exceeds it (vision
	// encoders work at 224..448 px; bigger images only cost tokens).
	// 0 means 448; negative keeps images as they are.
	MaxImageSide int
	// MinIntensity is the intensity below which an AU is reported to the
	// model as not active. 0 means DefaultMinIntensity.
	MinIntensity float64
	// AUName names an AU ("Lip Corner Puller"); nil means the FACS
	// catalogue's name; a function returning "" leaves AUs unnamed.
	AUName func(au int) string
	// ImageDetail is the image_url detail hint ("low", "high", "auto", "").
	ImageDetail string
	// LosslessFaces sends face images as PNG; by default they go as JPEG
	// (quality 90: 4x faster to encode and ~7x smaller than PNG for a
	// 512x512 face). Flow images always go as PNG, since their channels
	// carry measurements.
	LosslessFaces bool
}

// DefaultMinIntensity is the intensity from which an AU counts as measured
// (present) for prompting and for the hallucination check.
const DefaultMinIntensity = cot.ActiveThreshold

func (o PromptOptions) minIntensity() float64 {
	if o.MinIntensity > 0 {
		return o.MinIntensity
	}
	return DefaultMinIntensity
}

// SystemPrompt frames the model as ExpLLM's expression analyst.
const SystemPrompt = `You are an expert in facial expression analysis with the Facial Action Coding System (FACS). ` +
	`You explain an expression the way ExpLLM does: first the key Action Units (AUs) with their intensity and the emotions each is usually tied to, ` +
	`then how they combine into a dominant emotion and any secondary ones, then the conclusion. ` +
	`Ground every statement in the AU measurements you are given: never claim an AU that is not listed as measured.`

// BuildLabelMessages returns the conversation up to the label request: the
// system prompt and one user turn with the images, the AU grounding and the
// question. structured says whether a JSON schema will constrain the answer.
func BuildLabelMessages(r Request, o PromptOptions, structured bool) ([]Message, error) {
	var parts []Part
	captions, err := imageParts(r, o, &parts)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	if len(captions) > 0 {
		b.WriteString("Images: ")
		b.WriteString(strings.Join(captions, "; "))
		b.WriteString(".\n\n")
	}
	b.WriteString(Grounding(r.Evidence, o))
	b.WriteString("\n\nTASK: ")
	if r.Micro() {
		b.WriteString("Recognise the micro-expression (a brief, involuntary facial movement between the onset and the apex frame). ")
	} else {
		b.WriteString("Recognise the facial expression. ")
	}
	fmt.Fprintf(&b, "Which expression is it? Choose exactly one of: %s.", strings.Join(r.Classes, ", "))
	if structured {
		b.WriteString(` Answer with a JSON object {"label": ...}.`)
	} else {
		b.WriteString(" Answer with the label only.")
	}
	parts = append(parts, TextPart(b.String()))
	return []Message{{Role: "system", Text: SystemPrompt}, {Role: "user", Parts: parts}}, nil
}

// BuildCoTMessages continues the label conversation: the model's label
// answer as the assistant turn, then the chain-of-thought request
// conditioned on that label (ExpLLM's test-time order).
func BuildCoTMessages(labelMsgs []Message, labelAnswer, label string, r Request, structured bool) []Message {
	msgs := append([]Message(nil), labelMsgs...)
	msgs = append(msgs, Message{Role: "assistant", Text: labelAnswer})
	var b strings.Builder
	fmt.Fprintf(&b, "Explain step by step why the expression is %s, using only the measured AUs above. ", label)
	if structured {
		b.WriteString("Fill in the JSON fields: observations (one per active AU: au number, name, side, intensity 0..5 as measured, intensity_word, emotions it is usually tied to), " +
			"interpretation (dominant emotion, secondary emotions, the AU interactions that decided it such as \"6+12\", and a rationale of about 100 words), " +
			"conclusion (label and confidence 0..1). ")
		fmt.Fprintf(&b, "The conclusion label must be one of: %s.", strings.Join(r.Classes, ", "))
	} else {
		fmt.Fprintf(&b, "Write three parts, each starting with its heading exactly as here:\n%s one line per active AU: AU number and name, side if one-sided, intensity (0..5 as measured, with its FACS letter or a word such as slight, marked), the emotions it is usually tied to.\n%s how the AUs combine and interact, which emotion dominates, which are secondary.\n%s the final label, one of: %s.\nAbout 130 words in all.",
			cot.HeadingObservations, cot.HeadingInterpretation, cot.HeadingConclusion, strings.Join(r.Classes, ", "))
	}
	msgs = append(msgs, Message{Role: "user", Parts: []Part{TextPart(b.String())}})
	return msgs
}

// Grounding renders the measured AUs as the text the model is grounded in.
func Grounding(ev []cot.Evidence, o PromptOptions) string {
	active := activeEvidence(ev, o.minIntensity())
	var b strings.Builder
	b.WriteString("Action Units measured by tell from the face (intensity on OpenFace's 0..5 scale; FACS letters A=1 trace, B=2 slight, C=3 marked, D=4 severe, E=5 maximum):\n")
	if len(active) == 0 {
		b.WriteString("- none active\n")
	}
	for _, e := range active {
		fmt.Fprintf(&b, "- AU%d", e.AU)
		name := facsName
		if o.AUName != nil {
			name = o.AUName
		}
		if n := name(e.AU); n != "" {
			fmt.Fprintf(&b, " (%s)", n)
		}
		if e.Side != "" {
			fmt.Fprintf(&b, ", %s side", e.Side)
		}
		if e.IntensityUnknown {
			b.WriteString(": present (intensity not coded)")
		} else {
			fmt.Fprintf(&b, ": %.2f", e.Intensity)
			if l := facs.LetterOfIntensity(e.Intensity); l.Valid() {
				fmt.Fprintf(&b, " (%s, %s)", l, l.Word())
			}
		}
		if e.Confidence > 0 {
			fmt.Fprintf(&b, " (confidence %.2f)", e.Confidence)
		}
		b.WriteByte('\n')
	}
	b.WriteString("Only these AUs are active; any other AU was measured as absent.")
	return b.String()
}

// activeEvidence returns evidence at or above min, strongest first.
func activeEvidence(ev []cot.Evidence, min float64) []cot.Evidence {
	var out []cot.Evidence
	for _, e := range ev {
		if e.Intensity >= min {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Intensity != out[j].Intensity {
			return out[i].Intensity > out[j].Intensity
		}
		return out[i].AU < out[j].AU
	})
	return out
}

func imageParts(r Request, o PromptOptions, parts *[]Part) ([]string, error) {
	type img struct {
		m       image.Image
		caption string
		flow    bool
	}
	flowCap := r.FlowCaption
	if flowCap == "" {
		flowCap = "optical flow from onset to apex (red = horizontal motion, green = vertical motion, blue = optical strain)"
	}
	var imgs []img
	if r.Apex != nil {
		c := "the aligned face"
		if r.Micro() {
			c = "the aligned face at the apex frame"
		}
		imgs = append(imgs, img{r.Apex, c, false})
	}
	if r.Onset != nil {
		imgs = append(imgs, img{r.Onset, "the aligned face at the onset frame", false})
	}
	if r.Flow != nil {
		imgs = append(imgs, img{r.Flow, flowCap, true})
	}
	var captions []string
	for i, im := range imgs {
		var u string
		var err error
		if im.flow || o.LosslessFaces {
			u, err = DataURL(im.m, o.MaxImageSide)
		} else {
			u, err = JPEGDataURL(im.m, o.MaxImageSide, 90)
		}
		if err != nil {
			return nil, fmt.Errorf("llm: image %d (%s): %w", i+1, im.caption, err)
		}
		*parts = append(*parts, Part{Type: "image_url", ImageURL: &ImageURL{URL: u, Detail: o.ImageDetail}})
		captions = append(captions, fmt.Sprintf("image %d is %s", i+1, im.caption))
	}
	return captions, nil
}

// DataURL encodes m as a base64 PNG data URL, downscaled (area average) so
// that its longer side is at most maxSide (0 means 448, negative: keep).
func DataURL(m image.Image, maxSide int) (string, error) {
	m, err := fit(m, maxSide)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, m); err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// JPEGDataURL is DataURL as a JPEG of the given quality (1..100).
func JPEGDataURL(m image.Image, maxSide, quality int) (string, error) {
	m, err := fit(m, maxSide)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: quality}); err != nil {
		return "", err
	}
	return "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

func fit(m image.Image, maxSide int) (image.Image, error) {
	if maxSide == 0 {
		maxSide = 448
	}
	b := m.Bounds()
	if b.Empty() {
		return nil, fmt.Errorf("empty image")
	}
	if maxSide > 0 && max(b.Dx(), b.Dy()) > maxSide {
		return downscale(m, maxSide), nil
	}
	return m, nil
}

// toRGBA returns m as *image.RGBA, converting once with image/draw (which
// has fast paths for the decoders' YCbCr, NRGBA and Gray images) instead of
// per-pixel interface calls.
func toRGBA(m image.Image) *image.RGBA {
	if r, ok := m.(*image.RGBA); ok {
		return r
	}
	b := m.Bounds()
	r := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(r, r.Bounds(), m, b.Min, draw.Src)
	return r
}

// downscale averages source pixels into each destination pixel (a box
// filter over the source rows and columns each output pixel covers).
func downscale(m image.Image, maxSide int) *image.RGBA {
	src := toRGBA(m)
	sb := src.Bounds()
	w, h := sb.Dx(), sb.Dy()
	dw, dh := maxSide, maxSide
	if w >= h {
		dh = max(1, h*maxSide/w)
	} else {
		dw = max(1, w*maxSide/h)
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	// Column spans are the same for every row: compute them once.
	x0s := make([]int, dw+1)
	for x := 0; x <= dw; x++ {
		x0s[x] = x * w / dw
	}
	var acc [4]uint32
	for y := 0; y < dh; y++ {
		y0, y1 := y*h/dh, max((y+1)*h/dh, y*h/dh+1)
		drow := dst.Pix[y*dst.Stride:]
		for x := 0; x < dw; x++ {
			x0, x1 := x0s[x], max(x0s[x+1], x0s[x]+1)
			acc = [4]uint32{}
			for sy := y0; sy < y1; sy++ {
				row := src.Pix[(sy)*src.Stride+x0*4 : (sy)*src.Stride+x1*4]
				for i := 0; i < len(row); i += 4 {
					acc[0] += uint32(row[i])
					acc[1] += uint32(row[i+1])
					acc[2] += uint32(row[i+2])
					acc[3] += uint32(row[i+3])
				}
			}
			n := uint32((y1 - y0) * (x1 - x0))
			drow[x*4] = uint8((acc[0] + n/2) / n)
			drow[x*4+1] = uint8((acc[1] + n/2) / n)
			drow[x*4+2] = uint8((acc[2] + n/2) / n)
			drow[x*4+3] = uint8((acc[3] + n/2) / n)
		}
	}
	return dst
}

// LabelFormat is the structured-output format of the label request.
func LabelFormat(classes []string) *ResponseFormat {
	s := map[string]any{
		"type":                 "object",
		"properties":           map[string]any{"label": map[string]any{"type": "string", "enum": classes}},
		"required":             []string{"label"},
		"additionalProperties": false,
	}
	return schemaFormat("expression_label", s)
}

// CoTFormat is the structured-output format of the chain-of-thought
// request: cot.CoT's fields without the rendered text.
func CoTFormat(classes []string) *ResponseFormat {
	str := map[string]any{"type": "string"}
	strs := map[string]any{"type": "array", "items": str}
	obj := func(props map[string]any) map[string]any {
		req := make([]string, 0, len(props))
		for k := range props {
			req = append(req, k)
		}
		sort.Strings(req)
		return map[string]any{"type": "object", "properties": props, "required": req, "additionalProperties": false}
	}
	s := obj(map[string]any{
		"observations": map[string]any{"type": "array", "items": obj(map[string]any{
			"au":             map[string]any{"type": "integer"},
			"name":           str,
			"side":           map[string]any{"type": "string", "enum": []string{"", "left", "right"}},
			"intensity":      map[string]any{"type": "number"},
			"intensity_word": str,
			"emotions":       strs,
		})},
		"interpretation": obj(map[string]any{
			"dominant":     str,
			"secondary":    strs,
			"interactions": strs,
			"rationale":    str,
		}),
		"conclusion": obj(map[string]any{
			"label":      map[string]any{"type": "string", "enum": classes},
			"confidence": map[string]any{"type": "number"},
		}),
	})
	return schemaFormat("expllm_chain_of_thought", s)
}

func schemaFormat(name string, schema map[string]any) *ResponseFormat {
	raw, err := json.Marshal(schema)
	if err != nil {
		panic(err) // maps of strings and slices always marshal
	}
	return &ResponseFormat{Type: "json_schema", JSONSchema: &JSONSchema{Name: name, Strict: true, Schema: raw}}
}
