#!/usr/bin/env bash
# Load test, old server against new, alternating on this machine (loopback
# only, bounded): each round starts one tell serve (--jobs 1), drives it with
# N = 4, 16, 64 clients uploading 320×240 images (3 jobs each) and 34-frame
# clips (1 each), stops it, then does the same with the next binary.
# Servers with a rate limit run with --rate 0 (see below).
#
#   scripts/loadtest.sh [OLD_REV] [ROUNDS] [NAME=REV ...]
#
# OLD_REV (default: the commit before the queue landed) is "old", this
# working tree "new"; each NAME=REV adds a server built from REV (e.g.
# main=main), measured in the same rounds. LOADTEST_NO_APPEARANCE=1 adds
# "new-noapp": this tree with the appearance net's models hidden
# (TELL_MODELS set to an empty folder), which separates the server's share
# from the analysis's. ROUNDS defaults to 2.
# Writes the table to load-out/loadtest.md. Needs ffmpeg and the dlib
# landmark model (scripts/deps.sh). The in-process load and fault test
# (slow bodies, hostile inputs, memory) is `TELL_LOAD=1 go test -run
# LoadAndFaults -v ./server`.
set -euo pipefail
cd "$(dirname "$0")/.."
OLD_REV=${1:-afbf94c}
ROUNDS=${2:-2}
shift $(( $# < 2 ? $# : 2 ))
OUT=load-out
mkdir -p "$OUT"
rm -f "$OUT/loadtest.md" "$OUT/cpu.txt"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
build_rev() { # NAME REV
  git worktree add --detach "$work/src-$1" "$2" >/dev/null 2>&1
  (cd "$work/src-$1" && go build -o "$work/tell-$1" ./cmd/tell)
  git worktree remove --force "$work/src-$1"
}
names=(old)
build_rev old "$OLD_REV"
go build -o "$work/tell-new" ./cmd/tell
names+=(new)
for spec in "$@"; do
  build_rev "${spec%%=*}" "${spec#*=}"
  names+=("${spec%%=*}")
done
if [ "${LOADTEST_NO_APPEARANCE:-}" = 1 ]; then
  ln -s "$work/tell-new" "$work/tell-new-noapp"
  mkdir -p "$work/no-models"
  names+=(new-noapp)
fi
go test -c -o "$work/server.test" ./server
echo "| server | load | clients | jobs | submit p50 ms | submit p99 ms | job p50 s | job p99 s | jobs/s | lost | failed |" > "$OUT/loadtest.md"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |" >> "$OUT/loadtest.md"
port=18431
for round in $(seq "$ROUNDS"); do
  for which in "${names[@]}"; do
    port=$((port + 1))
    args=(serve --addr "127.0.0.1:$port" --jobs 1 --workdir "$work/wd-$which-$round")
    # Servers on the job queue keep it in a data folder.
    help=$("$work/tell-$which" serve --help 2>&1 || true)
    if [[ $help == *--data* ]]; then args+=(--data "$work/data-$which-$round"); fi
    # The N clients stand for N users, but all come from one loopback
    # address: a per-client rate limit would measure its own cap (50
    # POST+DELETE/s = 25 jobs/s), not the server. The old server had none.
    if [[ $help == *--rate* ]]; then args+=(--rate 0); fi
    mkdir -p "$work/wd-$which-$round"
    env=()
    if [ "$which" = new-noapp ]; then env=(TELL_MODELS="$work/no-models"); fi
    env "${env[@]}" "$work/tell-$which" "${args[@]}" > "$work/serve-$which-$round.log" 2>&1 &
    pid=$!
    for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
    TELL_LOAD_URL="http://127.0.0.1:$port" TELL_LOAD_OUT="$OUT/loadtest.md" TELL_LOAD_LABEL="$which r$round |" \
      "$work/server.test" -test.run '^TestLoadExternal$' -test.timeout 60m > "$work/client-$which-$round.log" 2>&1 \
      || { echo "client failed ($which round $round):"; tail -20 "$work/client-$which-$round.log"; }
    # The server's CPU seconds (user+system, ticks of 1/100 s), before it stops.
    echo "$which round $round: server CPU $(awk '{print ($14+$15)/100}' "/proc/$pid/stat") s" | tee -a "$OUT/cpu.txt"
    kill -INT "$pid"; wait "$pid" || true
  done
done
cat "$OUT/loadtest.md" "$OUT/cpu.txt"
