// Package eval holds tell's scorers and benchmark harnesses, apart from
// the pipeline they measure: synthetic clips with known truth through the
// whole analysis (ScoreSynthetic, `tell bench au`), spotting against coded
// clips (Spot, `tell bench spot`), the Exp-CoT engine on coded AUs (CoT,
// `tell bench cot`), pretrained appearance nets zero-shot on a manifest
// (Appearance, `tell eval --appearance faceapi|human`), and the timing
// harnesses that pair tell with a peer program (FER, Landmarks, Flow).
// The scores themselves (UF1, UAR, intervals, spotting matches) are
// package metrics'; trained classifiers are evaluated by package train.
//
// Whether a figure says anything about faces depends on its data: clips of
// synth.Basis are moved the way package au's basis decodes them, clips of
// synth.Muscle are not; coded clips and manifests are real faces.
//
// Limits: every clip is analysed in turn, one at a time.
package eval
