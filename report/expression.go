package report

import (
	"fmt"
	"math"
	"strings"
)

// exprPalette colours the expression classes (Okabe-Ito, colour-blind
// safe), in the order of Report.ExprLabels; grey for the last (neutral).
var exprPalette = []string{"#D55E00", "#009E73", "#CC79A7", "#E69F00", "#0072B2", "#56B4E9", "#999999"}

// exprSVG draws the appearance net's probabilities over time, one line per
// class named at its end, on the AU timeline's time axis (same width,
// margins, ticks and event bands, so that a time is at the same place in
// both), or nothing when the run has none.
func exprSVG(r *Report) string {
	tl := r.Timeline
	if tl == nil || tl.NExpr == 0 || len(r.ExprLabels) != tl.NExpr || tl.Frames() == 0 {
		return ""
	}
	const W, H, left, top, bottom = plotW, 200.0, plotLeft, 10.0, 34.0
	pw, ph := W-left-plotRight, H-top-bottom
	ax := newTimeAxis(r)
	frames := tl.Frames()
	y := func(p float64) float64 { return top + ph*(1-p) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="100%%" role="img" aria-label="expression probabilities">`, W, H)
	fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="#fafafa" stroke="#ccc"/>`, left, top, pw, ph)
	for _, v := range []float64{0, 0.5, 1} {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#e4e4e4"/>`, left, left+pw, y(v), y(v))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="end" fill="#555">%s</text>`, left-6, y(v)+4, trimFloat(v))
	}
	fmt.Fprintf(&b, `<text x="12" y="%.1f" font-size="11" fill="#555" transform="rotate(-90 12 %.1f)" text-anchor="middle">probability</text>`, top+ph/2, top+ph/2)
	ax.ticks(&b, top+ph, H-4)
	ax.bands(&b, r.Events, top, ph, false)
	var labels []endLabel
	for k := 0; k < tl.NExpr; k++ {
		col := exprPalette[k%len(exprPalette)]
		var pts strings.Builder
		lastY, lastX := -1.0, 0.0
		flushLine := func() {
			if pts.Len() > 0 {
				fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.4" points="%s"/>`, col, strings.TrimSpace(pts.String()))
				pts.Reset()
			}
		}
		for i := 0; i < tl.Bins(); i++ {
			p, ok := tl.Expr(i, k)
			if !ok {
				flushLine()
				continue
			}
			fc := float64(i*tl.Width) + float64(tl.Width-1)/2
			lastX, lastY = ax.x(math.Min(fc, float64(frames-1))), y(float64(p))
			fmt.Fprintf(&pts, "%.1f,%.1f ", lastX, lastY)
		}
		flushLine()
		if lastY >= 0 {
			labels = append(labels, endLabel{lastY, r.ExprLabels[k], col})
		}
	}
	placeLabels(&b, labels, ax.x(float64(frames-1))+6, top, top+ph+4)
	b.WriteString(`</svg>`)
	return b.String()
}
