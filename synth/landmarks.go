package synth

// astronautLandmarks are dlib's 68 facial landmarks (iBUG 300-W order) of the
// astronaut portrait (portrait.Astronaut, 512×512), in pixels.
//
// Provenance: measured once with dlib 19 (Debian libdlib-dev) and its
// shape_predictor_68_face_landmarks.dat (Debian libdlib-data) by
// scripts/peers/dlib_landmarks.cpp, run as
// `dlib_landmarks shape_predictor_68_face_landmarks.dat astronaut.png`;
// dlib's HOG detector chose the face box x=179 y=83 w=88 h=88. They are data,
// not a guess, and let synth work without detecting the face.
var astronautLandmarks = [68][2]float32{
	{179, 104}, {179, 116}, {180, 127}, {181, 139}, {185, 151}, {191, 160}, {200, 169}, {209, 176},
	{221, 178}, {232, 177}, {243, 171}, {253, 164}, {260, 154}, {265, 144}, {268, 132}, {270, 120},
	{272, 108}, {186, 94}, {192, 88}, {200, 87}, {208, 89}, {216, 92}, {236, 93}, {244, 91},
	{252, 91}, {260, 92}, {265, 98}, {225, 103}, {225, 111}, {225, 119}, {225, 127}, {214, 131},
	{219, 132}, {224, 134}, {229, 133}, {234, 132}, {195, 101}, {200, 98}, {207, 98}, {212, 104},
	{206, 104}, {199, 104}, {238, 105}, {244, 101}, {250, 101}, {255, 104}, {250, 107}, {244, 106},
	{201, 140}, {209, 139}, {218, 139}, {223, 141}, {229, 140}, {237, 140}, {245, 141}, {237, 151},
	{229, 155}, {222, 156}, {216, 155}, {208, 150}, {204, 141}, {217, 143}, {223, 144}, {229, 143},
	{243, 142}, {229, 150}, {223, 150}, {217, 150},
}

// AstronautLandmarks returns dlib's 68 landmarks of the astronaut portrait
// (portrait.Astronaut), in pixels, as an array: the caller's copy.
func AstronautLandmarks() [68][2]float32 { return astronautLandmarks }
