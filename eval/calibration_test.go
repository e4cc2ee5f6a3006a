package eval

import (
	"math"
	"testing"
)

// TestFitTemperatureKnownAnswer: two labels scored 1 and 0, the first
// right in 8 of 10 rows: the likelihood's maximum is σ(t) = 0.8, t = ln 4.
func TestFitTemperatureKnownAnswer(t *testing.T) {
	var rows []calibrationRow
	for i := range 10 {
		truth := 0
		if i >= 8 {
			truth = 1
		}
		rows = append(rows, calibrationRow{scores: []float64{1, 0}, truth: truth})
	}
	if got, want := fitTemperature(rows), math.Log(4); math.Abs(got-want) > 1e-6 {
		t.Errorf("fitted %v, want ln 4 = %v", got, want)
	}
	// Scores 0.5 apart: t = 2 ln 4.
	for i := range rows {
		rows[i].scores = []float64{0.75, 0.25}
	}
	if got, want := fitTemperature(rows), 2*math.Log(4); math.Abs(got-want) > 1e-6 {
		t.Errorf("fitted %v, want 2 ln 4 = %v", got, want)
	}
	if got := fitTemperature(nil); got != 1 {
		t.Errorf("no rows: %v", got)
	}
}
