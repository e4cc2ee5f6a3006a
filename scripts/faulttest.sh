#!/usr/bin/env bash
# Fault test of a tell fleet on loopback (bounded): an external nats-server
# (built from the pinned module, JetStream, the users tell serve
# --print-nats-config writes), tell serve --nats URL with an API key, two
# tell workers with worker credentials. N distinct images are uploaded;
# meanwhile a worker, the server and the nats-server are each killed with
# SIGKILL and started again. Every job must end done, and once: the
# workers' logs must show one stored result per job.
#
#   scripts/faulttest.sh [N]        (default 30)
#
# Prints a table row to load-out/faulttest.md (| load | jobs | distinct ids |
# done | lost | duplicated results | seconds |). Needs ffmpeg and the dlib
# landmark model (scripts/deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-30}
OUT=load-out
mkdir -p "$OUT"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
go build -o "$work/tell" ./cmd/tell
go build -o "$work/nats-server" github.com/nats-io/nats-server/v2

# Users: the front door (server), two workers' credentials (one user), alice.
users="$work/users.txt"
for u in server:front worker:w1 batch:alice; do
  "$work/tell" serve --add-nats-user "$u" --nats-users "$users" > "$work/${u#*:}.creds" 2>/dev/null
  chmod 600 "$work/${u#*:}.creds"
done
key=$("$work/tell" serve --add-key alice --api-keys "$work/keys" 2>/dev/null)
natsport=$((20000 + RANDOM % 20000))
{
  echo "listen: 127.0.0.1:$natsport"
  echo "jetstream { store_dir: \"$work/js\" }"
  "$work/tell" serve --print-nats-config --nats-users "$users"
} > "$work/nats.conf"
url="nats://127.0.0.1:$natsport"

start_nats() { "$work/nats-server" -c "$work/nats.conf" >> "$work/nats.log" 2>&1 & natspid=$!; pids+=($natspid)
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$natsport) 2>/dev/null && return; sleep 0.1; done; echo "nats-server did not start"; exit 1; }
httpport=$((natsport + 1))
start_serve() { "$work/tell" serve --addr "127.0.0.1:$httpport" --nats "$url" --nats-creds "$work/front.creds" \
    --api-keys "$work/keys" --workers 0 --workdir "$work/wd-serve" --rate 0 --ack-wait 5s >> "$work/serve.log" 2>&1 & servepid=$!; pids+=($servepid)
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$httpport/healthz" >/dev/null && return; sleep 0.1; done; echo "tell serve did not start"; tail "$work/serve.log"; exit 1; }
start_worker() { # NAME
  "$work/tell" worker --nats "$url" --nats-creds "$work/w1.creds" --name "$1" --workdir "$work/wd-$1" >> "$work/worker-$1.log" 2>&1 & eval "wpid_$1=$!"; pids+=($!); }

start_nats
start_serve
start_worker a
start_worker b

# N distinct images: the portrait with its brightness moved a little.
mkdir -p "$work/in"
for i in $(seq "$N"); do
  ffmpeg -v error -i portrait/astronaut.png -vf "eq=brightness=$(printf '0.%03d' "$i")" "$work/in/f$i.png"
done
ids=()
submit() { # FILE: retries 429/503 and refused connections (a server being restarted)
  for _ in $(seq 600); do
    resp=$(curl -s -w ' %{http_code}' -H "Authorization: Bearer $key" -F "file=@$1" "http://127.0.0.1:$httpport/v1/analyze" || true)
    code=${resp##* }
    if [ "$code" = 202 ]; then echo "$resp" | sed -n 's/.*"id": "\([0-9a-f]*\)".*/\1/p'; return; fi
    sleep 0.2
  done
  echo "submit $1 failed: $resp" >&2; exit 1
}
start=$(date +%s.%N)
for i in $(seq "$N"); do
  ids+=("$(submit "$work/in/f$i.png")")
  case $i in
    $((N / 4))) kill -9 "$wpid_a"; echo "killed worker a after $i submissions"; start_worker a ;;
    $((N / 2))) kill -9 "$servepid"; echo "killed tell serve after $i submissions"; start_serve ;;
    $((3 * N / 4))) kill -9 "$natspid"; echo "killed nats-server after $i submissions"; sleep 1; start_nats ;;
  esac
done
# Wait for every job to end.
states=()
for id in "${ids[@]}"; do
  for _ in $(seq 1800); do
    st=$(curl -s -H "Authorization: Bearer $key" "http://127.0.0.1:$httpport/v1/jobs/$id" | sed -n 's/.*"status": "\([a-z]*\)".*/\1/p' | head -1)
    case $st in done|failed|canceled) break ;; esac
    sleep 0.2
  done
  states+=("$st")
done
end=$(date +%s.%N)
done_n=0; lost=0
for s in "${states[@]}"; do if [ "$s" = done ]; then done_n=$((done_n + 1)); else lost=$((lost + 1)); fi; done
# One stored result per job: "job finished" lines (a result stored by
# compare-and-set) across both workers' logs.
dups=0
for id in "${ids[@]}"; do
  n=$(cat "$work"/worker-*.log | grep -c "msg=\"job finished\" job=$id" || true)
  if [ "$n" -gt 1 ]; then dups=$((dups + n - 1)); fi
done
uniq=$(printf '%s\n' "${ids[@]}" | sort -u | wc -l)
secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
echo "| faults (kill -9 worker, tell serve, nats-server) | $N | $uniq | $done_n | $lost | $dups | $secs |" | tee "$OUT/faulttest.md"
[ "$lost" = 0 ] && [ "$dups" = 0 ] && [ "$uniq" = "$N" ]
