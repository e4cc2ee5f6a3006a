#!/usr/bin/env bash
# fer-golden.sh [PEER] regenerates the golden files that tie tell's
# TensorFlow.js runtime to TensorFlow.js itself, with the peer
# ../shared/bench/tfjs (fer.js and its node_modules: npm install once there):
#   appearance/testdata/crops/*.png     face crops of the committed portrait
#                                       (and the whole portrait/astronaut.png)
#   appearance/testdata/golden_*.txt    fer.js's 7 probabilities per crop
#   tfjs/testdata/{ops,weights}_golden.json  single ops and weight decoding
#   jpegdec/testdata/*.jpg, jpegjs_sha256.txt  JPEGs of the portrait (ffmpeg:
#                                       4:2:0, 4:4:4, 4:2:2, grey) and the
#                                       SHA-256 of jpeg-js's pixels for each
# Run from anywhere; PEER defaults to ../shared/bench/tfjs beside the repo.
set -euo pipefail
cd "$(dirname "$0")/.."
peer="$(cd "${1:-../shared/bench/tfjs}" && pwd)"
[ -d "$peer/node_modules" ] || { echo "fer-golden.sh: run npm install --ignore-scripts in $peer first" >&2; exit 1; }
P=portrait/astronaut.png J=jpegdec/testdata
ffmpeg -v error -y -i $P -vf "crop=160:176:150:40,scale=96:104" -pix_fmt yuvj420p -q:v 4 $J/face420.jpg
ffmpeg -v error -y -i $P -vf "crop=160:176:150:40,scale=100:100" -pix_fmt yuvj444p -q:v 2 $J/face444.jpg
ffmpeg -v error -y -i $P -vf "crop=160:176:150:40,scale=97:131" -pix_fmt yuvj422p -q:v 8 $J/face422_odd.jpg
ffmpeg -v error -y -i $P -vf "crop=160:176:150:40,scale=64:64" -pix_fmt gray -q:v 3 $J/face_grey.jpg
ffmpeg -v error -y -i $P -vf "scale=224:224" -pix_fmt yuvj420p -q:v 12 $J/whole420_lowq.jpg
NODE_PATH="$peer/node_modules" node $J/hash.js $J/*.jpg > $J/jpegjs_sha256.txt
rm -rf appearance/testdata/crops
go run ./appearance/testdata/mkcrops appearance/testdata/crops
cp $J/face420.jpg $J/face444.jpg appearance/testdata/crops/
for m in faceapi human; do
	node "$peer/fer.js" "$m" appearance/testdata/crops/* portrait/astronaut.png > "appearance/testdata/golden_$m.txt"
done
NODE_PATH="$peer/node_modules" node tfjs/testdata/golden.js tfjs/testdata
