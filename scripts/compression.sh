#!/usr/bin/env bash
# compression.sh — where video compression starts to wash out sub-pixel
# motion: synthetic micro-expressions from the muscle generator (built
# independently of the AU estimator, real micro amplitudes) are encoded with
# H.264 (libx264, yuv420p) at several CRF qualities and lossless, and each
# version goes through `tell bench spot --known` (AUs described at the coded
# timing). Prints per quality: the bits per pixel ffprobe's bit rate gives,
# and the AU agreement with the coded AUs, beside the frames themselves.
# The warning threshold of analyze (analyze.LowBitsPerPixel) comes from
# this run; docs/measured.md has the figures. Run after `make build`.
#   N=8 SEED=25 SIZE=640x480 FPS=30 QUALITIES="lossless 12 15 18 23 28 35" scripts/compression.sh
set -euo pipefail
cd "$(dirname "$0")/.."
tell=${TELL:-bin/tell}
work=${COMPRESSION_DIR:-build/compression}
n=${N:-8}
seed=${SEED:-25}
size=${SIZE:-640x480}
fps=${FPS:-30}
mkdir -p "$work"
[ -f "$work/synth/manifest.csv" ] || "$tell" synth --out "$work/synth" --n "$n" --seed "$seed" --generator muscle --kind micro --fps "$fps" --size "$size" --no-mp4 --quiet
score() { # manifest → one line of the figures
	"$tell" bench spot "$1" --known | awk -F= '/^(aus_hit|au_precision|au_recall|apex_err_mean)=/{printf "%s=%s ", $1, $2}'
}
[ -n "${SKIP_FRAMES:-}" ] || echo "quality=frames bpp=- $(score "$work/synth/manifest.csv")"
for q in ${QUALITIES:-lossless 12 15 18 23 28 35}; do
	d="$work/crf-$q"
	mkdir -p "$d"
	head -1 "$work/synth/manifest.csv" >"$d/manifest.csv"
	bits=0 pixels=0
	for clip in "$work/synth"/clip*/; do
		name=$(basename "$clip")
		if [ "$q" = lossless ]; then
			opts=(-c:v libx264 -qp 0 -pix_fmt yuv444p)
		else
			opts=(-c:v libx264 -preset medium -crf "$q" -pix_fmt yuv420p)
		fi
		ffmpeg -nostdin -v error -y -framerate "$fps" -i "$clip/img%05d.png" "${opts[@]}" "$d/$name.mp4"
		read -r rate w h <<<"$(ffprobe -v error -select_streams v:0 -show_entries stream=bit_rate,width,height -of csv=p=0 "$d/$name.mp4" | awk -F, '{print $3, $1, $2}')"
		bits=$(awk -v a="$bits" -v r="$rate" 'BEGIN{print a + r}')
		pixels=$(awk -v a="$pixels" -v w="$w" -v h="$h" -v f="$fps" 'BEGIN{print a + w*h*f}')
		# The clip's rows with the video in place of the frames folder.
		awk -F, -v OFS=, -v clip="$name" -v video="$name.mp4" 'NR==1{for(i=1;i<=NF;i++){if($i=="frames")fc=i; if($i=="video")vc=i}; next}
			$fc==clip{$fc=""; $vc=video; print}' "$work/synth/manifest.csv" >>"$d/manifest.csv"
	done
	bpp=$(awk -v b="$bits" -v p="$pixels" 'BEGIN{printf "%.4f", b/p}')
	echo "quality=$q bpp=$bpp $(score "$d/manifest.csv")"
done
