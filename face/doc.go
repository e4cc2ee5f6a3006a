// Package face finds faces, locates their 68 landmarks and aligns them.
//
// Limits: pigo's cascade finds near-frontal faces; profiles and strongly
// tilted heads are missed. The landmark model is dlib's
// shape_predictor_68_face_landmarks.dat (Debian libdlib-data), trained on
// the iBUG 300-W data, whose terms restrict commercial use: check them
// before shipping. Head pose comes from a 3-D mean face and a guessed focal
// length, so its distances are approximate.
//
//   - Detector (pigo v1.4.6 cascade, embedded): Detect(img) → []Detection{Box, Score},
//     boxes in the landmark model's convention (dlib's HOG detector boxes).
//   - Predictor: dlib's shape_predictor_68_face_landmarks.dat read and run in pure Go,
//     exactly as dlib runs it (its integer output is our output rounded).
//     LoadPredictor(ResolveModelPath(flag)) once; Predict(img, box) → Shape is safe for
//     concurrent use.
//   - Tracker: Update(frame) → []Face with stable IDs; re-checks each face in a small
//     window and runs a full detection only when needed.
//   - Align(img, shape, size) → aligned size×size image and the Transform from the
//     frame to it (Transform.Inverse maps back).
//
// Images are *raster.Gray with 0..255 intensities, converted from colour by
// raster.FromImage, which is dlib's own conversion (landmarks on a PNG equal dlib's;
// on a JPEG they differ only through Go's inverse DCT, see docs/measured.md).
package face
