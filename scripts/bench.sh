#!/usr/bin/env bash
# bench.sh flow|landmarks|nn|video|au|all — the commands behind docs/measured.md's
# component figures, tell and its peer side by side where the peer is a
# Debian package (scripts/peers/ holds the peer programs). Each part prints
# name=value lines. Quote ratios from one run: the parts alternate tell and
# the peer, and a shared machine's absolute times drift.
#   flow       TV-L1 on pairs with known flow (flow_pair.py on the portrait),
#              tell bench flow (default, fast) and OpenCV's DualTVL1, 128 and 224 px
#              (peer: python3-opencv)
#   landmarks  tell bench landmarks on the portrait, dlib's C++ on the same box
#              (peer: libdlib-dev, g++), and detection+landmarks+alignment per
#              640x480 frame (go test -bench Pipeline640|Tracked640 ./face)
#   nn         tell bench nn (one training step), SGEMM 1024 (go test -bench
#              Gemm/1024 ./nn), PyTorch's step (peer: python3-torch)
#   video      a one-hour 640x480 MP4 (tell synth's 20 s clip looped by ffmpeg)
#              through tell analyze, under /usr/bin/time -v
#   au         tell bench au on both synthetic generators (AU F1 per AU, spotting F1)
# Run from the repository root after `make build`.
set -euo pipefail
cd "$(dirname "$0")/.."
tell=${TELL:-bin/tell}
work=${BENCH_DIR:-build/bench}
mkdir -p "$work"
peers=scripts/peers
# Debian's numpy misbehaves under OpenBLAS tuning variables set for other programs.
py() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 "$@"; }
have_py() { py -c "import $1" 2>/dev/null; }
portrait=portrait/astronaut.png

flow() {
	if ! have_py cv2; then
		echo "flow: the OpenCV peer needs python3-opencv (apt-get install python3-opencv)" >&2
		return 1
	fi
	for size in 128 224; do
		d="$work/flow-$size"
		py "$peers/flow_pair.py" "$portrait" "$size" "$d" 1 >/dev/null
		for round in 1 2 3; do
			echo "== flow ${size}x${size} round $round"
			"$tell" bench flow --gt "$d/gt.flo" "$d/a.png" "$d/b.png" | grep -E '^(epe|tell_tvl1_ms)='
			"$tell" bench flow --preset fast --gt "$d/gt.flo" "$d/a.png" "$d/b.png" | grep -E '^(epe|tell_tvl1_ms)=' | sed 's/^/fast_/'
			py "$peers/opencv_flow.py" "$d/a.png" "$d/b.png" - "$d/gt.flo"
		done
	done
}

landmarks() {
	box=$("$tell" bench landmarks "$portrait" | tee "$work/landmarks.txt" | awk '/^box /{print $2, $3, $4, $5}')
	grep tell_landmark_us "$work/landmarks.txt"
	if command -v g++ >/dev/null && [ -e /usr/include/dlib/image_processing.h ]; then
		g++ -O3 -march=native -o "$work/dlib_landmarks" "$peers/dlib_landmarks.cpp" -ldlib -lpthread -ljpeg -lpng \
			/lib/x86_64-linux-gnu/libblas.so.3 /lib/x86_64-linux-gnu/liblapack.so.3
		for round in 1 2 3; do
			"$tell" bench landmarks "$portrait" | grep tell_landmark_us
			# shellcheck disable=SC2086
			"$work/dlib_landmarks" /usr/share/dlib/shape_predictor_68_face_landmarks.dat "$portrait" $box | grep dlib_landmark_us
		done
	else
		echo "landmarks: the dlib peer needs libdlib-dev and g++" >&2
	fi
	go test -run '^$' -bench 'Pipeline640|Tracked640' -count 3 ./face | grep -E '^Benchmark'
}

nn() {
	for round in 1 2 3; do
		"$tell" bench nn | grep tell_step_ms
		if have_py torch; then
			py "$peers/torch_step.py" 2 | grep torch_step_ms
		elif [ "$round" = 1 ]; then
			echo "nn: the PyTorch peer needs python3-torch" >&2
		fi
	done
	go test -run '^$' -bench 'Gemm/1024' -count 3 ./nn | grep -E '^Benchmark'
}

video() {
	"$tell" synth --out "$work/hour" --n 1 --seed 7 --long 20 --events 5 --fps 30 --size 640x480 --scale 1.25 --no-frames --quiet
	ffmpeg -loglevel error -y -stream_loop 179 -i "$work/hour/clip000.mp4" -c copy "$work/hour.mp4"
	/usr/bin/time -v "$tell" analyze "$work/hour.mp4" --appearance none --out "$work/hour-analysis" --quiet --force 2>"$work/hour-time.txt"
	grep -E 'Elapsed|Maximum resident' "$work/hour-time.txt"
	grep -o '"frames_per_second":[0-9.]*' "$work/hour-analysis/events.json"
}

au() {
	"$tell" bench au --generator basis --kind micro --n 40 --seed 16001
	"$tell" bench au --generator muscle --kind micro --n 40 --seed 16001
	"$tell" bench au --generator muscle --kind micro --n 40 --seed 16001 --micro-amp 0.5,3
	"$tell" bench au --generator muscle --kind macro --n 20 --seed 16101
}

case "${1:-all}" in
flow | landmarks | nn | video | au) "$1" ;;
all) flow; landmarks; nn; video; au ;;
*)
	echo "usage: scripts/bench.sh flow|landmarks|nn|video|au|all" >&2
	exit 2
	;;
esac
