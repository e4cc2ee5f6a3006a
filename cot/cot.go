// Package cot is the Exp-CoT engine: it turns Action Unit evidence into
// ExpLLM's three-part chain of thought (Key Observations, Overall Emotional
// Interpretation, Conclusion), verifies it by reading the label back from the
// text alone, and exports it as instruction data.
//
// Limits: the reasoning is rule-based, from tables written from the
// literature (EMFACS prototypes, Davison's objective classes, the CASME II
// criteria), not learnt, and the text comes from English templates;
// verification reads those templates back, so it checks the engine's
// consistency, not the truth of its conclusion. An AU-to-emotion mapping
// cannot see context: the same AUs mean different things in different
// situations.
package cot

// The three headings of an ExpLLM chain of thought, exactly as they appear in
// the text.
const (
	HeadingObservations   = "**Key Observations:**"
	HeadingInterpretation = "**Overall Emotional Interpretation:**"
	HeadingConclusion     = "**Conclusion:**"
)

// MaxIntensity is the top of the intensity scale of Evidence and
// Observation: OpenFace's 0–5, the scale of tell analyze's frames.csv and
// events.json, on which the FACS letters A..E are 1..5 (facs.Letter.Value
// times MaxIntensity) and each letter covers ±0.5 around its value. Every
// number, letter and word the engine writes comes from this one scale.
const MaxIntensity = 5

// Evidence is one measured Action Unit.
type Evidence struct {
	AU         int     `json:"au"`                   // FACS number, e.g. 12
	Side       string  `json:"side,omitempty"`       // "", "left", "right" ("" = both / unspecified)
	Intensity  float64 `json:"intensity"`            // 0–5 (MaxIntensity), FACS letter A = 1 … E = 5
	Confidence float64 `json:"confidence,omitempty"` // in [0,1]; 0 means unknown
	// IntensityUnknown marks evidence whose intensity was not coded (a
	// dataset sheet's "4+7"); Intensity then holds a nominal value.
	IntensityUnknown bool `json:"intensity_unknown,omitempty"`
	// SNR is how clearly the action rose: its rise over this face's own
	// frame-to-frame noise for the AU, as tell analyze measures it per
	// event. Evidence with SNR ≥ SignificantSNR is an observed action at
	// any intensity, below FACS's trace level too (micro-expressions move
	// the face by fractions of a pixel); 0 means not measured (a coded
	// sheet, a still image), and then only intensities from
	// ActiveThreshold count.
	SNR    float64 `json:"snr,omitempty"`
	Onset  float64 `json:"onset,omitempty"` // seconds, optional timing
	Apex   float64 `json:"apex,omitempty"`
	Offset float64 `json:"offset,omitempty"`
}

// Observation is one line of Key Observations.
type Observation struct {
	AU            int      `json:"au"`
	Name          string   `json:"name"`
	Side          string   `json:"side,omitempty"`
	Intensity     float64  `json:"intensity"`      // 0–5, as Evidence
	IntensityWord string   `json:"intensity_word"` // the FACS word of Letter
	Emotions      []string `json:"emotions"`       // emotions this AU is usually tied to
	// Letter is the FACS intensity letter A..E ("" when not coded).
	Letter string `json:"letter,omitempty"`
	// IntensityUnknown: the source gave the AU without an intensity.
	IntensityUnknown bool `json:"intensity_unknown,omitempty"`
	// Movement is the plain description of the action ("pulling the right
	// corner of the lips").
	Movement string `json:"movement,omitempty"`
	// Indication: the value is not a measurement of this person's movement
	// (a still image against an average face shape, no neutral reference).
	Indication bool `json:"indication,omitempty"`
	// SNR is the evidence's rise over its own noise, when measured.
	SNR float64 `json:"snr,omitempty"`
}

// Interpretation is the Overall Emotional Interpretation.
type Interpretation struct {
	Dominant     string   `json:"dominant"`
	Secondary    []string `json:"secondary,omitempty"`
	Interactions []string `json:"interactions,omitempty"` // the AU interactions that decided it, e.g. "6+12"
	Rationale    string   `json:"rationale"`
	// Duration is onset to offset in seconds, when the evidence has timing.
	Duration float64 `json:"duration,omitempty"`
}

// Conclusion is the final label.
type Conclusion struct {
	Label      string  `json:"label"`
	Confidence float64 `json:"confidence"`
	// Emotion is the fine emotion behind Label when Label is coarser (a
	// MEGC2019 class such as "negative"); empty otherwise.
	Emotion string `json:"emotion,omitempty"`
}

// CoT is a structured chain of thought and its rendered text.
type CoT struct {
	Observations   []Observation  `json:"observations"`
	Interpretation Interpretation `json:"interpretation"`
	Conclusion     Conclusion     `json:"conclusion"`
	Text           string         `json:"text"`
	// Appearance is what a pretrained appearance model saw, when one was
	// part of the decision (Conclude).
	Appearance *Appearance `json:"appearance,omitempty"`
	// Verification records the Des2Exp check and any feedback rounds.
	Verification *Verification `json:"verification,omitempty"`
}

// Verification records two checks of the text, neither of which verifies
// the emotion itself: whether the label can be read back from the text
// alone (Des2Exp; a consistency check of the writing) and, when a true
// label was given (instruction data from annotated datasets), whether the
// text's label agrees with it after the feedback-reflection loop.
type Verification struct {
	ReadLabel string `json:"read_label"` // label Des2Exp read from the text alone
	// ReadBack: ReadLabel equals the Conclusion's label.
	ReadBack  bool   `json:"read_back"`
	TrueLabel string `json:"true_label,omitempty"`
	// MatchesTrueLabel: given TrueLabel, the text's label agrees with it.
	MatchesTrueLabel bool     `json:"matches_true_label,omitempty"`
	Attempts         int      `json:"attempts"`
	Feedback         []string `json:"feedback,omitempty"` // memory of failed attempts, why each failed
	// Doubt, when set, is why the label is uncertain (a caller's scorer:
	// its top two are close, or its experts disagree).
	Doubt string `json:"doubt,omitempty"`
	// Flagged: the text does not read back as its label, no attempt
	// matched the true label, or the label is in doubt.
	Flagged bool `json:"flagged"`
}
