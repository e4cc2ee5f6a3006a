package cot

// Temperature turns the engine's evidence scores into probabilities: over
// the labels the engine may conclude (Reading.Labels),
//
//	p(label) = softmax(Temperature × a(label)),
//
// a(label) the evidence's score (Reading.Scores). The conclusion's
// confidence is its label's p, and tell analyze's AU expert gives the same
// probabilities (its λ when the AUs decide alone).
//
// Fitted, not chosen: the temperature that maximises the likelihood of the
// coders' labels given their own AUs on the CASME II coding sheet
// (CASME2-coding-20140508.xlsx, the development sheet; `tell bench cot`
// prints the fit as temperature_fit), both tasks pooled (129 basic-emotion
// rows, 147 three-class rows): 6.215 (basic alone 6.213, three-class alone
// 6.218). SAMM's sheet was never seen. Refitted leaving one subject out at
// a time (25 folds), so that no row's confidence comes from a fit that saw
// it, the expected calibration error (10 bins) is 0.211 on basic emotions
// and 0.107 on three classes; the engine's former confidence formula
// (match × margin × strength, not fitted) gave 0.270 and 0.289 on the same
// rows (docs/experts.md).
//
// A temperature moves no label and no ranking: every probability is
// monotone in its score. It cannot undo a rule the sheet's coders do not
// follow (AU4 alone reads anger; CASME II's coders call those rows
// disgust): such rows stay confident and wrong.
const Temperature = 6.2

// DoubtMargin is the gap between the two most probable labels below which
// a label is in doubt: a caller whose two best calibrated probabilities
// are closer than this says the label is uncertain between them (tell
// analyze's events.json doubt). On calibrated probabilities it means the
// two are nearly equally likely: when they share most of the mass, the
// first is right little more than half the time. On the CASME II sheet
// (`tell bench cot`, at Temperature) 3 of 129 basic-emotion rows fall
// within it (1 right; the truth one of the two in 2) and 2 of 147
// three-class rows (1 right, 2); a margin of 0.15 would also flag 23
// basic rows of which 22 are right (CASME II's 4+7, which both its
// disgust criterion and Davison's anger class match, and which its coders
// always call disgust): no longer doubt in the calibrated sense.
const DoubtMargin = 0.1
