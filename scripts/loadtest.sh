#!/usr/bin/env bash
# Load test, old server against new, alternating on this machine (loopback
# only, bounded): each round starts one tell serve (--jobs 1), drives it with
# N = 4, 16, 64 clients uploading 320×240 images (3 jobs each) and 34-frame
# clips (1 each), stops it, then does the same with the other binary.
#
#   scripts/loadtest.sh [OLD_REV] [ROUNDS]     (default: the commit before
#                                               the queue landed, 2 rounds)
# Writes the table to load-out/loadtest.md. Needs ffmpeg and the dlib
# landmark model (scripts/deps.sh). The in-process load and fault test
# (slow bodies, hostile inputs, memory) is `TELL_LOAD=1 go test -run
# LoadAndFaults -v ./server`.
set -euo pipefail
cd "$(dirname "$0")/.."
OLD_REV=${1:-afbf94c}
ROUNDS=${2:-2}
OUT=load-out
mkdir -p "$OUT"
rm -f "$OUT/loadtest.md" "$OUT/cpu.txt"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
git worktree add --detach "$work/old" "$OLD_REV" >/dev/null 2>&1
(cd "$work/old" && go build -o "$work/tell-old" ./cmd/tell)
git worktree remove --force "$work/old"
go build -o "$work/tell-new" ./cmd/tell
go test -c -o "$work/server.test" ./server
echo "| server | load | clients | jobs | submit p50 ms | submit p99 ms | job p50 s | job p99 s | jobs/s | lost | failed |" > "$OUT/loadtest.md"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |" >> "$OUT/loadtest.md"
port=18431
for round in $(seq "$ROUNDS"); do
  for which in old new; do
    port=$((port + 1))
    args=(serve --addr "127.0.0.1:$port" --jobs 1 --workdir "$work/wd-$which-$round")
    if [ "$which" = new ]; then args+=(--data "$work/data-$round"); fi
    mkdir -p "$work/wd-$which-$round"
    "$work/tell-$which" "${args[@]}" > "$work/serve-$which-$round.log" 2>&1 &
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
