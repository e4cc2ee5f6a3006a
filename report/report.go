// Package report writes tell's analysis report: one self-contained HTML file
// (no scripts, no external resources) with an inline SVG timeline of AU
// intensities and spotted intervals, and for every event its onset and apex
// faces at their native resolution, the onset–apex difference, the optical
// flow between them as a colour overlay with its colour-wheel key, its AUs,
// emotion probabilities and chain of thought. A single image gets the face
// with its landmarks and a bar per AU instead of a timeline.
//
// Colours: AU curves use seven colours chosen to stay apart (CIELAB ΔE ≥ 20)
// for normal vision and simulated protanopia, deuteranopia and tritanopia;
// each curve is named at its end, so no colour has to be matched to a
// legend. At most seven AUs are drawn, the strongest; frames.csv has all.
//
// Limits: English only; face images are kept for a bounded number of events
// (analyze's MaxImages), later events are listed without pictures.
package report

import (
	"encoding/base64"
	"fmt"
	"html"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"
)

// Report is everything the page shows.
type Report struct {
	Title  string
	Input  string
	Status string // "complete" or "partial"
	Error  string // why the analysis stopped early, if it did
	Notes  []string
	FPS    float64
	// Codec and BitsPerPixel describe a video's compression ("" and 0
	// for images and folders).
	Codec        string
	BitsPerPixel float64
	Frames       int
	Reasoner     string
	AUs          []int // AU numbers, the columns of Timeline
	Timeline     *Timeline
	// ExprLabels name the expression probabilities of the timeline
	// (Timeline.AddExpression) and ExprModel the net that gave them.
	ExprLabels []string
	ExprModel  string
	Events     []Event
	// Still, when set, is the single image's view: shown instead of the
	// timeline.
	Still *Still
	// Faces are the faces beyond the first (face_id 0, whose view is
	// Timeline or Still), each with its own view; events say their face.
	Faces []Face
	// FlowKeyPNG is the colour-wheel key of the flow images (a disc:
	// the colour of a motion from its centre towards each point).
	FlowKeyPNG []byte
}

// Still is a single image's face and its measured AUs.
type Still struct {
	FacePNG   []byte       // the face at native resolution
	W, H      int          // its size in pixels
	Landmarks [][2]float32 // in FacePNG's pixels
	AUs       []AU         // every AU measured, with intensity and letter
}

// Face is one more face of the input: its face_id and its timeline (a
// video) or its view (a still).
type Face struct {
	ID       int
	Timeline *Timeline
	Still    *Still
}

// Event is one spotted expression.
type Event struct {
	ID                  int
	FaceID              int // the face it is on (frames.csv's face_id)
	Onset, Apex, Offset int // frame numbers (as in frames.csv)
	OnsetS, OffsetS     float64
	// OnsetPos and OffsetPos are the 0-based positions of the onset and
	// offset frames in the timeline (frame numbers may be a folder's own).
	OnsetPos, OffsetPos int
	Kind                string
	Label               string
	Confidence          float64
	AUs                 []AU
	Emotions            map[string]float64
	CoT                 string
	// Faces, all FaceSize×FaceSize pixels, the face's native resolution
	// in the video: onset and apex crops, the apex−onset difference
	// (amplified DiffGain times, mid grey = no change) and the flow
	// overlay on the apex face (full colour = FlowPeak pixels of motion).
	OnsetPNG, ApexPNG, DiffPNG, FlowPNG []byte
	FaceSize                            int
	DiffGain, FlowPeak                  float64
}

// AU is one AU of an event.
type AU struct {
	AU        int
	Name      string
	Side      string
	Intensity float64 // 0–5
	Letter    string
	SNR       float64 // rise over its own noise; 0 when not measured (a still)
}

// palette colours the AU curves: seven colours at least ΔE 24 apart in
// CIELAB for normal vision and for simulated protanopia, deuteranopia and
// tritanopia (TestPaletteDistinct), each a different hue name: black,
// indigo, orange, sky blue, vermillion, rose, purple (from Okabe–Ito's and
// Paul Tol's colour-blind-safe sets; no green, which those deficiencies
// confuse with red and orange).
var palette = []string{"#000000", "#332288", "#E69F00", "#56B4E9", "#CC3311", "#EE6677", "#AA4499"}

// Write renders r as HTML to w.
func Write(w io.Writer, r *Report) error {
	data := struct {
		*Report
		Duration string
		First    faceSection
		Others   []faceSection
	}{Report: r}
	if r.FPS > 0 {
		data.Duration = fmt.Sprintf("%.2f s", float64(r.Frames)/r.FPS)
	}
	flowKey := dataURL(r.FlowKeyPNG)
	data.First = newFaceSection(r, 0, r.Timeline, r.Still, flowKey)
	for _, f := range r.Faces {
		data.Others = append(data.Others, newFaceSection(r, f.ID, f.Timeline, f.Still, flowKey))
	}
	if err := page.Execute(w, data); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// faceSection is what the page shows of one face: its timeline or still
// view and its events.
type faceSection struct {
	ID        int
	Still     *Still
	StillSVG  template.HTML
	Plot      template.HTML
	ExprPlot  template.HTML
	ExprModel string
	Curves    []curve
	// Magnified is the AU axis's top when below 5 ("" otherwise).
	Magnified string
	Views     []eventView
	FlowKey   template.URL
}

// newFaceSection renders face id's part of r: its timeline or still and
// the events on it (all events when r has one face).
func newFaceSection(r *Report, id int, tl *Timeline, still *Still, flowKey template.URL) faceSection {
	sub := *r
	sub.Timeline, sub.Still, sub.Events = tl, still, nil
	for _, e := range r.Events {
		if len(r.Faces) == 0 || e.FaceID == id {
			sub.Events = append(sub.Events, e)
		}
	}
	curves := pickCurves(&sub)
	fs := faceSection{ID: id, Still: still, Plot: template.HTML(plotSVG(&sub, curves)), ExprPlot: template.HTML(exprSVG(&sub)),
		ExprModel: r.ExprModel, Curves: curves, FlowKey: flowKey}
	if sc := intensityScale(curves); sc < 5 && len(curves) > 0 {
		fs.Magnified = trimFloat(sc)
	}
	if still != nil {
		fs.StillSVG = template.HTML(stillSVG(still))
	}
	colour := map[int]string{}
	for _, c := range curves {
		colour[c.au] = c.colour
	}
	for _, e := range sub.Events {
		fs.Views = append(fs.Views, newEventView(e, colour))
	}
	return fs
}

type eventView struct {
	Event
	OnsetImg, ApexImg, DiffImg, FlowImg template.URL
	CoTHTML                             template.HTML
	EmotionRows                         []emotionRow
	AURows                              []auRow
}

type auRow struct {
	AU
	Colour template.CSS // the AU's curve colour, "" when not drawn
}

type emotionRow struct {
	Name  string
	P     float64
	Width float64
}

func dataURL(png []byte) template.URL {
	if len(png) == 0 {
		return ""
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
}

func newEventView(e Event, colour map[int]string) eventView {
	v := eventView{Event: e, OnsetImg: dataURL(e.OnsetPNG), ApexImg: dataURL(e.ApexPNG), DiffImg: dataURL(e.DiffPNG), FlowImg: dataURL(e.FlowPNG)}
	v.CoTHTML = template.HTML(cotHTML(e.CoT))
	for _, a := range e.AUs {
		v.AURows = append(v.AURows, auRow{AU: a, Colour: template.CSS(colour[a.AU])})
	}
	for k, p := range e.Emotions {
		v.EmotionRows = append(v.EmotionRows, emotionRow{k, p, math.Round(p * 100)})
	}
	sort.Slice(v.EmotionRows, func(i, j int) bool {
		if v.EmotionRows[i].P != v.EmotionRows[j].P {
			return v.EmotionRows[i].P > v.EmotionRows[j].P
		}
		return v.EmotionRows[i].Name < v.EmotionRows[j].Name
	})
	return v
}

// cotHTML escapes the chain of thought and turns its **headings** bold.
func cotHTML(text string) string {
	s := html.EscapeString(text)
	var b strings.Builder
	for {
		i := strings.Index(s, "**")
		if i < 0 {
			break
		}
		j := strings.Index(s[i+2:], "**")
		if j < 0 {
			break
		}
		b.WriteString(s[:i])
		b.WriteString("<strong>")
		b.WriteString(s[i+2 : i+2+j])
		b.WriteString("</strong>")
		s = s[i+2+j+2:]
	}
	b.WriteString(s)
	return strings.ReplaceAll(b.String(), "\n", "<br>\n")
}

// curve is one AU drawn on the timeline.
type curve struct {
	k      int // column in the timeline
	au     int
	peak   float32
	event  bool // an AU of a spotted event
	colour string
}

// intensityScale is the top of the AU timeline's axis: 5 (the whole FACS
// scale) when a drawn curve reaches 2, else the smallest of 0.25, 0.5, 1
// and 2 that holds the curves, so that the small rises of a
// micro-expression are seen (the axis then says it is magnified).
func intensityScale(curves []curve) float64 {
	var peak float64
	for _, c := range curves {
		peak = math.Max(peak, float64(c.peak))
	}
	for _, top := range []float64{0.25, 0.5, 1, 2} {
		if peak <= top*0.95 {
			return top
		}
	}
	return 5
}

// timeAxis places frame positions on a plot's x axis; the AU and the
// appearance plots share it, so that their times line up.
type timeAxis struct {
	frames   int
	fps      float64
	left, pw float64
}

// plot margins shared by the timelines (viewBox units).
const plotW, plotLeft, plotRight = 1000.0, 46.0, 88.0

func newTimeAxis(r *Report) timeAxis {
	fps := r.FPS
	if fps <= 0 {
		fps = 1
	}
	return timeAxis{frames: r.Timeline.Frames(), fps: fps, left: plotLeft, pw: plotW - plotLeft - plotRight}
}

func (a timeAxis) x(frame float64) float64 {
	return a.left + a.pw*frame/float64(max(1, a.frames-1))
}

// ticks draws the time ticks and their labels below a plot whose area
// ends at y bottom, and the axis title at y title.
func (a timeAxis) ticks(b *strings.Builder, bottom, title float64) {
	dur := float64(a.frames) / a.fps
	step := niceStep(dur / 8)
	for t := 0.0; t <= dur+1e-9; t += step {
		fx := a.x(t * a.fps)
		fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#999"/>`, fx, fx, bottom, bottom+4)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle" fill="#555">%s</text>`, fx, bottom+16, trimFloat(t))
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle" fill="#555">time (s)</text>`, a.left+a.pw/2, title)
}

// bands draws the spotted intervals over a plot area.
func (a timeAxis) bands(b *strings.Builder, events []Event, top, ph float64, labels bool) {
	for _, e := range events {
		x0, x1 := a.x(float64(e.OnsetPos)), a.x(float64(e.OffsetPos))
		col := "#f3d27a"
		if e.Kind == "macro" {
			col = "#b9d3ea"
		}
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" opacity="0.55"/>`, x0, top, math.Max(2, x1-x0), ph, col)
		if labels {
			fmt.Fprintf(b, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="middle" fill="#333">#%d %s</text>`, (x0+x1)/2, top+10, e.ID, html.EscapeString(e.Label))
		}
	}
}

// endLabel is a curve's name at its right end.
type endLabel struct {
	y      float64
	text   string
	colour string
}

// placeLabels nudges end labels apart (gap apart, within top..bottom) and
// draws them at x.
func placeLabels(b *strings.Builder, labels []endLabel, x, top, bottom float64) {
	sort.SliceStable(labels, func(i, j int) bool { return labels[i].y < labels[j].y })
	const gap = 13.0
	for i := range labels {
		labels[i].y = math.Max(labels[i].y, top+8)
		if i > 0 {
			labels[i].y = math.Max(labels[i].y, labels[i-1].y+gap)
		}
	}
	for i := len(labels) - 1; i >= 0; i-- {
		lim := bottom
		if i < len(labels)-1 {
			lim = labels[i+1].y - gap
		}
		labels[i].y = math.Min(labels[i].y, lim)
	}
	for _, l := range labels {
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" font-size="12" font-weight="600" fill="%s" dominant-baseline="middle">%s</text>`, x, l.y, l.colour, html.EscapeString(l.text))
	}
}

// pickCurves chooses the AUs the timeline draws: the events' AUs first
// (a micro-expression's AUs rise well below presence, and the timeline
// must show what the event tables list), then those that reach presence,
// strongest first, at most one per palette colour; each keeps its colour
// in the event tables.
func pickCurves(r *Report) []curve {
	tl := r.Timeline
	if tl == nil || tl.Frames() == 0 || r.Still != nil {
		return nil
	}
	inEvent := map[int]bool{}
	for _, e := range r.Events {
		for _, a := range e.AUs {
			inEvent[a.AU] = true
		}
	}
	var cs []curve
	for k := 0; k < tl.NAU && k < len(r.AUs); k++ {
		var m float32
		for i := 0; i < tl.Bins(); i++ {
			m = max(m, tl.AU[i*tl.NAU+k])
		}
		if m >= 0.45 || inEvent[r.AUs[k]] && m > 0 {
			cs = append(cs, curve{k: k, au: r.AUs[k], peak: m, event: inEvent[r.AUs[k]]})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].event != cs[j].event {
			return cs[i].event
		}
		return cs[i].peak > cs[j].peak
	})
	if len(cs) > len(palette) {
		cs = cs[:len(palette)]
	}
	for i := range cs {
		cs[i].colour = palette[i]
	}
	return cs
}

// plotSVG draws the AU timeline: the chosen curves, each named at its
// right end, spotted intervals as bands, lost-face stretches in grey.
func plotSVG(r *Report, curves []curve) string {
	const W, H, left, top, bottom = plotW, 280.0, plotLeft, 14.0, 34.0
	pw, ph := W-left-plotRight, H-top-bottom
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="100%%" role="img" aria-label="AU intensity timeline">`, W, H)
	fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="#fafafa" stroke="#ccc"/>`, left, top, pw, ph)
	tl := r.Timeline
	frames := 0
	if tl != nil {
		frames = tl.Frames()
	}
	if frames == 0 {
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-size="14" fill="#666">no frames analysed</text></svg>`, left+10, top+30)
		return b.String()
	}
	ax := newTimeAxis(r)
	scale := intensityScale(curves)
	y := func(v float64) float64 { return top + ph*(1-math.Min(v, scale)/scale) }
	// Grid and axes: intensity 0..5 with the FACS letters, or a magnified
	// scale for small rises; time ticks.
	for i := 0; i <= 5; i++ {
		v := scale * float64(i) / 5
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#e4e4e4"/>`, left, left+pw, y(v), y(v))
		label := trimFloat(v)
		if scale == 5 && i > 0 {
			label = fmt.Sprintf("%d %c", i, 'A'+i-1)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="end" fill="#555">%s</text>`, left-6, y(v)+4, label)
	}
	ax.ticks(&b, top+ph, H-4)
	axis := "AU intensity (0–5, FACS letter)"
	if scale < 5 {
		axis = fmt.Sprintf("AU intensity, magnified (0–%s of 5)", trimFloat(scale))
	}
	fmt.Fprintf(&b, `<text x="12" y="%.1f" font-size="11" fill="#555" transform="rotate(-90 12 %.1f)" text-anchor="middle">%s</text>`, top+ph/2, top+ph/2, axis)
	// Lost-face bins.
	for i, lost := range tl.Lost {
		if lost {
			x0, x1 := ax.x(float64(i*tl.Width)), ax.x(float64(min(frames-1, (i+1)*tl.Width)))
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#bbb" opacity="0.5"/>`, x0, top, math.Max(1, x1-x0), ph)
		}
	}
	ax.bands(&b, r.Events, top, ph, true)
	// Curves, then their names at the line ends, nudged apart.
	var labels []endLabel
	lastX := 0.0
	for _, c := range curves {
		var pts strings.Builder
		var ly float64
		for i := 0; i < tl.Bins(); i++ {
			fc := math.Min(float64(i*tl.Width)+float64(tl.Width-1)/2, float64(frames-1))
			ly = y(float64(tl.AU[i*tl.NAU+c.k]))
			lastX = ax.x(fc)
			fmt.Fprintf(&pts, "%.1f,%.1f ", lastX, ly)
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.8" stroke-linejoin="round" points="%s" data-au="%d"/>`, c.colour, strings.TrimSpace(pts.String()), c.au)
		labels = append(labels, endLabel{ly, fmt.Sprintf("AU%02d", c.au), c.colour})
	}
	placeLabels(&b, labels, lastX+6, top, top+ph+4)
	if len(curves) == 0 {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="12" fill="#666">no AU reached presence</text>`, left+10, top+ph/2)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// stillSVG draws a single image's face with its 68 landmarks: the image
// at its pixel size (scaled up to at least 320 px for the eye), the points
// on top.
func stillSVG(s *Still) string {
	if len(s.FacePNG) == 0 || s.W <= 0 || s.H <= 0 {
		return ""
	}
	scale := math.Max(1, 320/float64(max(s.W, s.H)))
	w, h := float64(s.W)*scale, float64(s.H)*scale
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %d %d" role="img" aria-label="the face with its 68 landmarks">`, w, h, s.W, s.H)
	fmt.Fprintf(&b, `<image width="%d" height="%d" href="%s"/>`, s.W, s.H, dataURL(s.FacePNG))
	r := math.Max(0.8, float64(max(s.W, s.H))/200)
	for _, p := range s.Landmarks {
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="%.1f" fill="#E69F00" stroke="#000" stroke-width="%.2f"/>`, p[0], p[1], r, r/3)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// niceStep rounds a tick step to 1, 2 or 5 times a power of ten.
func niceStep(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.3f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": func(p float64) string { return fmt.Sprintf("%.0f%%", p*100) },
	"f2":  func(v float64) string { return fmt.Sprintf("%.2f", v) },
	"f0":  func(v float64) string { return fmt.Sprintf("%.0f", v) },
	"bar": func(v float64) float64 { return math.Round(math.Max(0, math.Min(v, 5)) * 30) },
	"plural": func(n int, noun string) string {
		if n == 1 {
			return "1 " + noun
		}
		return fmt.Sprintf("%d %ss", n, noun)
	},
}).Parse(pageHTML + faceHTML))

// faceHTML is one face's part of the page (a faceSection).
const faceHTML = `{{define "face"}}{{if .Still}}<h2>The face</h2>
<div class="cols">
<div>{{.StillSVG}}<div class="meta">{{.Still.W}}×{{.Still.H}} px, as in the image; dots: the 68 landmarks.</div></div>
<div><table><caption>Every AU tell measures, against the landmark model's neutral face: intensity on OpenFace's 0–5 scale with its FACS letter (A = 1 trace … E = 5 maximum); pale below trace.</caption>
<tr><th>AU</th><th>name</th><th>intensity (0–5)</th></tr>
{{range .Still.AUs}}<tr><td>AU{{printf "%02d" .AU}}</td><td>{{.Name}}</td><td><span class="aubar{{if not .Letter}} low{{end}}" style="width:{{bar .Intensity}}px"></span> {{f2 .Intensity}}{{if .Letter}} ({{.Letter}}){{end}}</td></tr>{{end}}
</table></div>
</div>
{{else}}<h2>AU intensity timeline</h2>
{{.Plot}}
<div class="meta">Each curve is named at its end (the spotted expressions' AUs, then the strongest others: {{len .Curves}} in all; frames.csv has every AU){{if .Magnified}}; the intensity axis is magnified to 0–{{.Magnified}} so that the small rises are seen{{end}}. Bands: spotted expressions (yellow micro, blue macro); grey: no face tracked.</div>
{{if .ExprPlot}}<h2>Expression probabilities from appearance</h2>
{{.ExprPlot}}
<div class="meta">{{.ExprModel}}, per frame (mean per plotted bin); gaps: no face.</div>{{end}}
{{end}}<h2>{{if .Still}}Expression{{else}}Spotted expressions{{end}}</h2>
{{if not .Views}}<p>No expression was spotted.</p>{{end}}
{{range .Views}}<div class="event" id="event-{{.ID}}">
<h3>#{{.ID}} · {{.Label}} ({{.Kind}}) · probability {{pct .Confidence}}{{if ne .Kind "still"}} · frames {{.Onset}}–{{.Offset}} (apex {{.Apex}}) · {{f2 .OnsetS}}–{{f2 .OffsetS}} s{{end}}</h3>
<div class="cols">
{{if .ApexImg}}<div class="faces">
{{if .OnsetImg}}<figure><img src="{{.OnsetImg}}" width="{{.FaceSize}}" height="{{.FaceSize}}" alt="onset face"><figcaption>onset, frame {{.Onset}}</figcaption></figure>{{end}}
<figure><img src="{{.ApexImg}}" width="{{.FaceSize}}" height="{{.FaceSize}}" alt="apex face"><figcaption>apex, frame {{.Apex}}</figcaption></figure>
{{if .DiffImg}}<figure><img src="{{.DiffImg}}" width="{{.FaceSize}}" height="{{.FaceSize}}" alt="apex minus onset"><figcaption>apex − onset, ×{{f0 .DiffGain}} (dark: darker at apex, light: lighter)</figcaption></figure>{{end}}
{{if .FlowImg}}<figure><img src="{{.FlowImg}}" width="{{.FaceSize}}" height="{{.FaceSize}}" alt="optical flow onset to apex"><figcaption>flow onset→apex; full colour = {{f2 .FlowPeak}} px</figcaption></figure>
{{if $.FlowKey}}<div class="key"><img src="{{$.FlowKey}}" width="56" height="56" alt="colour-wheel key"><span>key: the colour of a motion from the centre towards each point</span></div>{{end}}{{end}}
</div>{{end}}
<div>
<table><caption>Intensity on OpenFace's 0–5 scale with its FACS letter (A = 1 trace … E = 5 maximum), the same numbers as frames.csv and the explanation below, and how many times its own noise the rise was (every listed AU rose clearly, below trace level too){{if not $.Still}}; a coloured line marks an AU drawn in the timeline{{end}}.</caption><tr><th>AU</th><th>name</th><th>side</th><th>intensity (0–5)</th><th>× noise</th></tr>
{{range .AURows}}<tr><td>{{if .Colour}}<span class="sw" style="background:{{.Colour}}"></span>{{end}}AU{{printf "%02d" .AU.AU}}</td><td>{{.Name}}</td><td>{{.Side}}</td><td>{{f2 .Intensity}}{{if .Letter}} ({{.Letter}}){{end}}</td><td>{{if .SNR}}{{printf "%.1f" .SNR}}{{end}}</td></tr>{{end}}
</table>
<table><tr><th>emotion</th><th>probability</th></tr>
{{range .EmotionRows}}<tr><td>{{.Name}}</td><td><span class="bar" style="width:{{.Width}}px"></span> {{pct .P}}</td></tr>{{end}}
</table>
</div>
</div>
<div class="cot">{{.CoTHTML}}</div>
</div>
{{end}}
{{end}}`

const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;margin:28px 0 8px}
.meta{color:#555;font-size:14px} .banner{background:#fff3cd;border:1px solid #e0c060;padding:8px 12px;margin:12px 0;border-radius:4px}
.event{border:1px solid #ddd;border-radius:6px;padding:12px 16px;margin:14px 0}
.event h3{margin:0 0 8px;font-size:16px} .faces{display:flex;gap:12px;flex-wrap:wrap;align-items:flex-start}
.faces figure{margin:0;text-align:center;font-size:12px;color:#555;max-width:220px} .faces img{border:1px solid #ccc;image-rendering:pixelated}
.key{display:flex;flex-direction:column;align-items:center;font-size:11px;color:#555;max-width:110px;text-align:center}
table{border-collapse:collapse;font-size:13px;margin:8px 0} td,th{padding:2px 8px;text-align:left;border-bottom:1px solid #eee} caption{caption-side:bottom;font-size:11px;color:#666;text-align:left;max-width:300px}
.bar{display:inline-block;height:10px;background:#0072B2;vertical-align:middle}
.sw{display:inline-block;width:14px;height:3px;vertical-align:middle;margin-right:4px}
.cot{background:#f7f7f7;border-left:3px solid #0072B2;padding:8px 12px;font-size:14px;line-height:1.45}
.cols{display:flex;gap:24px;flex-wrap:wrap}
.aubar{display:inline-block;height:12px;background:#0072B2;vertical-align:middle} .aubar.low{background:#b8c9d8}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<div class="meta">Input: <code>{{.Input}}</code> · {{if .Still}}a single image{{else}}{{.Frames}} frames{{if .FPS}} at {{f2 .FPS}} fps ({{.Duration}}){{end}}{{if .Codec}} · {{.Codec}}{{if .BitsPerPixel}}, {{printf "%.3f" .BitsPerPixel}} bits per pixel{{end}}{{end}} · {{plural (len .Events) "expression"}} spotted{{end}} · reasoner: {{.Reasoner}}</div>
{{if ne .Status "complete"}}<div class="banner"><strong>Partial result.</strong> {{.Error}}</div>{{end}}
{{range .Notes}}<div class="banner">{{.}}</div>{{end}}
{{if .Others}}<h2 id="face-0">Face 0</h2>{{end}}{{template "face" .First}}
{{range .Others}}<h2 id="face-{{.ID}}">Face {{.ID}}</h2>
{{template "face" .}}{{end}}
</body>
</html>
`
