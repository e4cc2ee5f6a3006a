#!/usr/bin/env bash
# fer-golden.sh [PEER] regenerates the golden files that tie tell's
# TensorFlow.js runtime to TensorFlow.js itself, with the peer
# ../shared/bench/tfjs (fer.js and its node_modules: npm install once there):
#   appearance/testdata/crops/*.png     face crops of the committed portrait
#                                       (and the whole portrait/astronaut.png)
#   appearance/testdata/golden_*.txt    fer.js's 7 probabilities per crop
#   tfjs/testdata/{ops,weights}_golden.json  single ops and weight decoding
# Run from anywhere; PEER defaults to ../shared/bench/tfjs beside the repo.
set -euo pipefail
cd "$(dirname "$0")/.."
peer="$(cd "${1:-../shared/bench/tfjs}" && pwd)"
[ -d "$peer/node_modules" ] || { echo "fer-golden.sh: run npm install --ignore-scripts in $peer first" >&2; exit 1; }
rm -rf appearance/testdata/crops
go run ./appearance/testdata/mkcrops appearance/testdata/crops
for m in faceapi human; do
	node "$peer/fer.js" "$m" appearance/testdata/crops/*.png portrait/astronaut.png > "appearance/testdata/golden_$m.txt"
done
NODE_PATH="$peer/node_modules" node tfjs/testdata/golden.js tfjs/testdata
