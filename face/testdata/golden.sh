#!/usr/bin/env bash
# golden.sh regenerates golden/*.txt: dlib's own landmarks (the peer program
# dlib_landmarks.cpp from the project's bench folder, built with its build
# line) for each image and box below. Run from face/testdata:
#   ./golden.sh /path/to/dlib_landmarks [model.dat]
# Each file is the program's output without its timing line.
set -euo pipefail
bin=${1:?usage: golden.sh DLIB_LANDMARKS_BINARY [MODEL]}
model=${2:-/usr/share/dlib/shape_predictor_68_face_landmarks.dat}
cases=(
	"astronaut ../../portrait/astronaut.png 179 83 88 88"
	"astronaut_large ../../portrait/astronaut.png 170 75 105 105"
	"astronaut_tight ../../portrait/astronaut.png 185 90 80 80"
	"astronaut_wide ../../portrait/astronaut.png 150 60 150 140"
	"small small.png 89 41 44 44"
	"small_loose small.png 85 38 52 52"
	"rotated rotated.png 179 83 88 88"
	"rotated_large rotated.png 172 78 100 100"
	"mirrored mirrored.png 246 83 88 88"
	"mirrored_tall mirrored.png 240 80 96 100"
	"edge edge.png -16 13 88 88"
	"edge_corner edge.png 0 0 80 100"
)
mkdir -p golden
for c in "${cases[@]}"; do
	read -r name img x y w h <<<"$c"
	{
		echo "# image $img"
		"$bin" "$model" "$img" "$x" "$y" "$w" "$h" | grep -v '^dlib_landmark_us='
	} >"golden/$name.txt"
done
