// Package report writes tell's analysis report: one self-contained HTML file
// (no scripts, no external resources) with an inline SVG timeline of AU
// intensities and spotted intervals, and for every event its onset and apex
// faces, the optical flow between them as a colour overlay, its AUs, emotion
// scores and chain of thought.
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
	Title    string
	Input    string
	Status   string // "complete" or "partial"
	Error    string // why the analysis stopped early, if it did
	Notes    []string
	FPS      float64
	Frames   int
	Reasoner string
	AUs      []int // AU numbers, the columns of Timeline
	Timeline *Timeline
	Events   []Event
}

// Event is one spotted expression.
type Event struct {
	ID                  int
	Onset, Apex, Offset int // frame numbers (as in frames.csv)
	OnsetS, OffsetS     float64
	Kind                string
	Label               string
	Confidence          float64
	AUs                 []AU
	Emotions            map[string]float64
	CoT                 string
	OnsetPNG, ApexPNG   []byte // face crops
	FlowPNG             []byte // flow colour overlay on the apex face
}

// AU is one AU of an event.
type AU struct {
	AU        int
	Name      string
	Side      string
	Intensity float64 // 0–5
	Letter    string
}

// palette for AU curves (colour-blind friendly, Okabe-Ito and Tol).
var palette = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#882255", "#117733", "#332288", "#999933"}

// Write renders r as HTML to w.
func Write(w io.Writer, r *Report) error {
	data := struct {
		*Report
		Plot     template.HTML
		Duration string
		Views    []eventView
	}{Report: r, Plot: template.HTML(plotSVG(r))}
	if r.FPS > 0 {
		data.Duration = fmt.Sprintf("%.2f s", float64(r.Frames)/r.FPS)
	}
	for _, e := range r.Events {
		data.Views = append(data.Views, newEventView(e))
	}
	if err := page.Execute(w, data); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

type eventView struct {
	Event
	OnsetImg, ApexImg, FlowImg template.URL
	CoTHTML                    template.HTML
	EmotionRows                []emotionRow
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

func newEventView(e Event) eventView {
	v := eventView{Event: e, OnsetImg: dataURL(e.OnsetPNG), ApexImg: dataURL(e.ApexPNG), FlowImg: dataURL(e.FlowPNG)}
	v.CoTHTML = template.HTML(cotHTML(e.CoT))
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

// plotSVG draws the AU timeline: one curve per AU that reached presence
// (at most ten, strongest first), spotted intervals as bands, lost-face
// stretches in grey.
func plotSVG(r *Report) string {
	const W, H, left, right, top, bottom = 1000.0, 280.0, 46.0, 150.0, 14.0, 34.0
	pw, ph := W-left-right, H-top-bottom
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
	x := func(frame float64) float64 { return left + pw*frame/float64(max(1, frames-1)) }
	y := func(v float64) float64 { return top + ph*(1-math.Min(v, 5)/5) }
	// Grid and axes: intensity 0..5, time ticks.
	for v := 0; v <= 5; v++ {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#e4e4e4"/>`, left, left+pw, y(float64(v)), y(float64(v)))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="end" fill="#555">%d</text>`, left-6, y(float64(v))+4, v)
	}
	fps := r.FPS
	if fps <= 0 {
		fps = 1
	}
	dur := float64(frames) / fps
	step := niceStep(dur / 8)
	for t := 0.0; t <= dur+1e-9; t += step {
		fx := x(t * fps)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#999"/>`, fx, fx, top+ph, top+ph+4)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle" fill="#555">%s</text>`, fx, top+ph+16, trimFloat(t))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle" fill="#555">time (s)</text>`, left+pw/2, H-4)
	fmt.Fprintf(&b, `<text x="12" y="%.1f" font-size="11" fill="#555" transform="rotate(-90 12 %.1f)" text-anchor="middle">AU intensity (0–5)</text>`, top+ph/2, top+ph/2)
	// Lost-face bins.
	for i, lost := range tl.Lost {
		if lost {
			x0, x1 := x(float64(i*tl.Width)), x(float64(min(frames-1, (i+1)*tl.Width)))
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#bbb" opacity="0.5"/>`, x0, top, math.Max(1, x1-x0), ph)
		}
	}
	// Spotted intervals (frame numbers are 1-based like frames.csv).
	for _, e := range r.Events {
		x0, x1 := x(float64(e.Onset-1)), x(float64(e.Offset-1))
		col := "#E69F00"
		if e.Kind == "macro" {
			col = "#56B4E9"
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" opacity="0.25"/>`, x0, top, math.Max(2, x1-x0), ph, col)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="middle" fill="#333">#%d %s</text>`, (x0+x1)/2, top+10, e.ID, html.EscapeString(e.Label))
	}
	// AU curves: those that reach presence, strongest first, at most ten.
	type auMax struct {
		k int
		m float32
	}
	var ms []auMax
	for k := 0; k < tl.NAU && k < len(r.AUs); k++ {
		var m float32
		for i := 0; i < tl.Bins(); i++ {
			m = max(m, tl.AU[i*tl.NAU+k])
		}
		if m >= 0.45 {
			ms = append(ms, auMax{k, m})
		}
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].m > ms[j].m })
	if len(ms) > len(palette) {
		ms = ms[:len(palette)]
	}
	for ci, am := range ms {
		var pts strings.Builder
		for i := 0; i < tl.Bins(); i++ {
			fc := float64(i*tl.Width) + float64(tl.Width-1)/2
			fmt.Fprintf(&pts, "%.1f,%.1f ", x(math.Min(fc, float64(frames-1))), y(float64(tl.AU[i*tl.NAU+am.k])))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.4" points="%s"/>`, palette[ci], strings.TrimSpace(pts.String()))
		ly := top + 12 + float64(ci)*16
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="3"/>`, left+pw+12, left+pw+30, ly-4, ly-4, palette[ci])
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" fill="#333">AU%02d</text>`, left+pw+36, ly, r.AUs[am.k])
	}
	if len(ms) == 0 {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="12" fill="#666">no AU reached presence</text>`, left+10, top+ph/2)
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
}).Parse(pageHTML))

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
.event h3{margin:0 0 8px;font-size:16px} .faces{display:flex;gap:12px;flex-wrap:wrap}
.faces figure{margin:0;text-align:center;font-size:12px;color:#555} .faces img{width:160px;height:160px;image-rendering:auto;border:1px solid #ccc}
table{border-collapse:collapse;font-size:13px;margin:8px 0} td,th{padding:2px 8px;text-align:left;border-bottom:1px solid #eee} caption{caption-side:bottom;font-size:11px;color:#666;text-align:left;max-width:260px}
.bar{display:inline-block;height:10px;background:#0072B2;vertical-align:middle}
.cot{background:#f7f7f7;border-left:3px solid #0072B2;padding:8px 12px;font-size:14px;line-height:1.45}
.cols{display:flex;gap:24px;flex-wrap:wrap}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<div class="meta">Input: <code>{{.Input}}</code> · {{.Frames}} frames{{if .FPS}} at {{f2 .FPS}} fps ({{.Duration}}){{end}} · {{len .Events}} expression(s) spotted · reasoner: {{.Reasoner}}</div>
{{if ne .Status "complete"}}<div class="banner"><strong>Partial result.</strong> {{.Error}}</div>{{end}}
{{range .Notes}}<div class="banner">{{.}}</div>{{end}}
<h2>AU intensity timeline</h2>
{{.Plot}}
<div class="meta">Bands: spotted expressions (orange micro, blue macro); grey: no face tracked.</div>
<h2>Spotted expressions</h2>
{{if not .Views}}<p>No expression was spotted.</p>{{end}}
{{range .Views}}<div class="event" id="event-{{.ID}}">
<h3>#{{.ID}} · {{.Label}} ({{.Kind}}) · frames {{.Onset}}–{{.Offset}} (apex {{.Apex}}) · {{f2 .OnsetS}}–{{f2 .OffsetS}} s · confidence {{pct .Confidence}}</h3>
<div class="cols">
<div class="faces">
{{if .OnsetImg}}<figure><img src="{{.OnsetImg}}" alt="onset face"><figcaption>onset</figcaption></figure>{{end}}
{{if .ApexImg}}<figure><img src="{{.ApexImg}}" alt="apex face"><figcaption>apex</figcaption></figure>{{end}}
{{if .FlowImg}}<figure><img src="{{.FlowImg}}" alt="optical flow onset to apex"><figcaption>flow onset→apex</figcaption></figure>{{end}}
</div>
<div>
<table><caption>Intensity as OpenFace's 0–5 scale with its FACS letter; the explanation below uses the 0–1 FACS scale.</caption><tr><th>AU</th><th>name</th><th>side</th><th>intensity (0–5)</th></tr>
{{range .AUs}}<tr><td>AU{{.AU}}</td><td>{{.Name}}</td><td>{{.Side}}</td><td>{{f2 .Intensity}} ({{.Letter}})</td></tr>{{end}}
</table>
<table><tr><th>emotion</th><th>probability</th></tr>
{{range .EmotionRows}}<tr><td>{{.Name}}</td><td><span class="bar" style="width:{{.Width}}px"></span> {{pct .P}}</td></tr>{{end}}
</table>
</div>
</div>
<div class="cot">{{.CoTHTML}}</div>
</div>
{{end}}
</body>
</html>
`
