#!/usr/bin/env bash
# fer-golden.sh [PEER] regenerates the golden files that tie tell's
# TensorFlow.js runtime to TensorFlow.js itself, with the peer
# ../shared/bench/tfjs (fer.js and its node_modules: npm install once there):
#   appearance/testdata/crops/*.png     face crops of the committed portrait
#                                       (and the whole portrait/astronaut.png)
#   appearance/testdata/golden_*.txt    fer.js's 7 probabilities per crop
#   tfjs/testdata/{ops,weights}_golden.json  single ops and weight decoding
#   blazeface/testdata/golden.json      BlazeFace's raw outputs on scene.png and
#                                       TF.js's non-max suppression of its boxes
#   gaze/testdata/golden.json           the iris model's outputs on eyes.png
#   jpegdec/testdata/*.jpg, jpegjs_sha256.txt  JPEGs of the portrait (ffmpeg:
#                                       4:2:0, 4:4:4, 4:2:2, grey; OpenCV:
#                                       progressive colour and grey) and the
#                                       SHA-256 of jpeg-js's pixels for each
#   jpegdec/testdata/dlib_gray_sha256.txt  the SHA-256 of dlib's grey of each
#                                       JPEG, when DLIB_GRAY names a build of
#                                       scripts/peers/dlib_gray.cpp (its header
#                                       says how to build it)
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
"${PYTHON:-python3}" - "$P" "$J" <<'PY' # needs OpenCV (python3-opencv)
import sys, cv2
im = cv2.imread(sys.argv[1])[60:183, 160:277]
cv2.imwrite(sys.argv[2] + "/face_prog420.jpg", im, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1, cv2.IMWRITE_JPEG_QUALITY, 80])
cv2.imwrite(sys.argv[2] + "/face_prog_grey.jpg", cv2.cvtColor(im, cv2.COLOR_BGR2GRAY), [cv2.IMWRITE_JPEG_PROGRESSIVE, 1, cv2.IMWRITE_JPEG_QUALITY, 70])
PY
NODE_PATH="$peer/node_modules" node $J/hash.js $J/*.jpg > $J/jpegjs_sha256.txt
if [ -n "${DLIB_GRAY:-}" ]; then
	tmp=$(mktemp)
	{
		echo "# grey pixels dlib's load_image gives (libjpeg-turbo, default settings; scripts/peers/dlib_gray.cpp), SHA-256 of the 8-bit rows"
		for f in $J/*.jpg; do
			"$DLIB_GRAY" "$f" "$tmp"
			read -r w h < <(sed -n 2p "$tmp")
			echo "$(basename "$f") $w $h $(tail -c $((w * h)) "$tmp" | sha256sum | cut -d' ' -f1)"
		done
	} > $J/dlib_gray_sha256.txt
	rm -f "$tmp"
fi
rm -rf appearance/testdata/crops
go run ./appearance/testdata/mkcrops appearance/testdata/crops
cp $J/face420.jpg $J/face444.jpg appearance/testdata/crops/
for m in faceapi human; do
	node "$peer/fer.js" "$m" appearance/testdata/crops/* portrait/astronaut.png > "appearance/testdata/golden_$m.txt"
done
NODE_PATH="$peer/node_modules" node tfjs/testdata/golden.js tfjs/testdata
NODE_PATH="$peer/node_modules" node blazeface/testdata/golden.js blazeface/testdata
NODE_PATH="$peer/node_modules" node gaze/testdata/golden.js gaze/testdata
