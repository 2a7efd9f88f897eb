#!/usr/bin/env bash
# Fan-out benchmark of pizzapi against a Node socket.io 4.8 relay with the same handlers
# (bench/node-relay), measured the same way (shared/reference/performance.md):
#
#   (a) 1 session x 1,000 viewers at 100 events/s         (100k deliveries/s offered)
#   (b) the same, raising the rate until loss or p99 > 1 s (saturation, bounded steps)
#   (c) 1,000 sessions x 10 viewers at 1 event/s each      (10k deliveries/s offered)
#   (d) 10,000 idle viewers: RSS per viewer connection
#   (e) overload: 1 session x 1,000 viewers at twice the saturation rate of (b) for 30 s: RSS
#       growth, the longest send of the publisher, viewers dropped (P5)
#   (p) case (a) with viewers that start on HTTP long-polling and upgrade to the websocket, as
#       socket.io-client does by default (not in the default CASES)
#
# Each case gets a fresh server process pinned to CPU $SERVER_CPU; the load generator
# (`pizzapi bench`) is pinned to CPU $LOADGEN_CPU. Everything listens on and connects to
# 127.0.0.1 only, and every step is bounded in time. Results (JSON, logs, a Markdown table and,
# pizzapi's /metrics at the end of each case and, with PROFILE=1, CPU profiles of pizzapi under cases (a) and (b) and a heap profile with idle
# viewers, taken through bench/profserve) go to $OUT.
#
# Environment (all optional): OUT, SERVERS ("pizzapi node"), CASES ("a b c d"), DURATION (10s),
# OVERLOAD_RATE (twice the saturation rate (b) found, else 400), OVERLOAD_DURATION (30s),
# WARMUP (2s), SAT_RATES ("25 50 75 100 150 200 300 400"), SAT_DURATION (5s), IDLE_VIEWERS
# (10000), PROFILE (1), PROFILE_RATES ("100 300"), SERVER_CPU (0), LOADGEN_CPU (1), QUIET_MAX (15)
# and QUIET_WAIT (15): before each case, wait up to QUIET_WAIT seconds for the machine's other
# load to fall below QUIET_MAX percent of all CPUs; NICE (-20 as root, else 0): the niceness of
# the relays and the load generator, so that other processes on a shared machine take less of
# their CPUs. Other load still skews the numbers: the "other %" column tells how much there was.
# PUBLISHER_PROCESS (1): run the publishers in a process of their own (`pizzapi bench
# --publisher-process`), so that the load generator's viewers do not delay their sends (not in
# case (c): 1,000 processes do not fit in memory).
# BUILD_FROM (this tree) is the source tree pizzapi is built from (relay and load generator), e.g.
# `git archive <commit>` unpacked, to measure another build with this script.
# SOCKQ=1 samples the TCP queues of the relay's connections during each case (bench/sockq.sh):
# whether the relay reads its publisher promptly.
# SLOW_AFTER (2ms): every measured delivery at least this late goes to $OUT/<case>.slow.txt (when
# it was read, its latency, its session); GCTRACE=1 adds GODEBUG=gctrace=1 to pizzapi and to the
# load generator, whose collector cycles then appear in <case>.server.log and <case>.log.
# TRACE=1 writes a runtime trace of the load generator over 3 s after the warm-up to
# $OUT/<case>.trace (its start, in the slow log's clock, is in <case>.log).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/.artifacts/bench/$(date +%Y%m%d-%H%M%S)}
SERVERS=${SERVERS:-"pizzapi node"}
CASES=${CASES:-"a b c d"}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
SAT_RATES=${SAT_RATES:-"25 50 75 100 150 200 300 400"}
SAT_DURATION=${SAT_DURATION:-5s}
OVERLOAD_DURATION=${OVERLOAD_DURATION:-30s}
IDLE_VIEWERS=${IDLE_VIEWERS:-10000}
PROFILE=${PROFILE:-1}
PROFILE_RATES=${PROFILE_RATES:-"100 300"}
SOCKQ=${SOCKQ:-0}
PUBLISHER_PROCESS=${PUBLISHER_PROCESS:-1}
BUILD_FROM=${BUILD_FROM:-$ROOT}
QUIET_MAX=${QUIET_MAX:-15}
QUIET_WAIT=${QUIET_WAIT:-15}
if [[ $(id -u) == 0 ]]; then NICE=${NICE:--20}; else NICE=${NICE:-0}; fi
SERVER_CPU=${SERVER_CPU:-0}
LOADGEN_CPU=${LOADGEN_CPU:-1}
SLOW_AFTER=${SLOW_AFTER:-2ms}
NODE_KEY=bench-key
EMAIL=bench@example.com
PASSWORD=bench-password-123

mkdir -p "$OUT/bin"
INDEX=$OUT/index.txt
: >"$INDEX"
BIN=$OUT/bin/pizzapi

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

say "building pizzapi (and the profiling harness) into $OUT/bin"
(cd "$BUILD_FROM" && go build -o "$BIN" ./cmd/pizzapi && go build -o "$OUT/bin/profserve" ./bench/profserve)
if [[ " $SERVERS " == *" node "* && ! -d "$ROOT/bench/node-relay/node_modules/socket.io" ]]; then
  say "installing the Node relay's dependencies (npm ci)"
  (cd "$ROOT/bench/node-relay" && npm ci --no-audit --no-fund >&2)
fi
if [[ ${GCTRACE:-0} == 1 ]]; then export GODEBUG=gctrace=1; fi

SERVER_PID=""
SERVER_URL=""
PPROF_URL=""

# start_server KIND LOG: starts a fresh relay pinned to $SERVER_CPU and waits for its URL.
start_server() {
  local kind=$1 log=$2 dir
  dir=$(mktemp -d "$OUT/data.XXXXXX")
  case $kind in
  pizzapi) nice -n "$NICE" taskset -c "$SERVER_CPU" "$BIN" serve --host 127.0.0.1 --port 0 --data-dir "$dir" >"$log" 2>&1 & ;;
  profserve) nice -n "$NICE" taskset -c "$SERVER_CPU" "$OUT/bin/profserve" -data-dir "$dir" >"$log" 2>&1 & ;;
  node) PORT=0 HOST=127.0.0.1 BENCH_API_KEY=$NODE_KEY nice -n "$NICE" taskset -c "$SERVER_CPU" node "$ROOT/bench/node-relay/relay.mjs" >"$log" 2>&1 & ;;
  esac
  SERVER_PID=$!
  SERVER_URL=""
  for _ in $(seq 1 200); do
    SERVER_URL=$(grep -so 'listening on http://127\.0\.0\.1:[0-9]*' "$log" | head -1 | cut -d' ' -f3 || true)
    [[ -n $SERVER_URL ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z $SERVER_URL ]]; then
    say "$kind did not start:"
    cat "$log" >&2
    stop_server
    return 1
  fi
  PPROF_URL=$(grep -o 'pprof on http://127\.0\.0\.1:[0-9]*' "$log" | head -1 | cut -d' ' -f3 || true)
}

# stop_server: SIGTERM, then SIGKILL after 5 s, the server started by start_server only.
stop_server() {
  [[ -z $SERVER_PID ]] && return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
trap stop_server EXIT

# run_case SERVER NAME BENCH-FLAGS...: a fresh server, one bench run, results in $OUT.
run_case() {
  local server=$1 name=$2
  shift 2
  local base=$OUT/$server-$name
  wait_quiet
  say "$server: case $name: $*"
  if ! start_server "$server" "$base.server.log"; then
    echo "$server $name $base.json" >>"$INDEX"
    return 0
  fi
  local sockq=""
  if [[ $SOCKQ == 1 ]]; then
    "$ROOT/bench/sockq.sh" "${SERVER_URL##*:}" "$base.sockq" >"$base.sockq.txt" 2>&1 &
    sockq=$!
  fi
  local pub=()
  # Case (c) has 1,000 publishers: a process each exhausts the machine's memory (OOM-killed
  # relay on 2026-12-07), so they stay in the generator's process there.
  [[ $PUBLISHER_PROCESS == 1 && $name != c-* ]] && pub=(--publisher-process)
  [[ ${TRACE:-0} == 1 ]] && pub+=(--trace "$base.trace")
  # shellcheck disable=SC2046
  if ! timeout 600 nice -n "$NICE" taskset -c "$LOADGEN_CPU" "$BIN" bench --url "$SERVER_URL" $(auth_flags "$server") \
    --server-pid "$SERVER_PID" --slow-log "$base.slow.txt" --slow-after "$SLOW_AFTER" --json "${pub[@]}" "$@" >"$base.json" 2>"$base.log"; then
    say "$server: case $name failed: $(tail -1 "$base.log")"
    rm -f "$base.json"
  fi
  [[ $server == pizzapi ]] && curl -sf --max-time 5 "$SERVER_URL/metrics" >"$base.metrics.txt" 2>/dev/null || true
  stop_server
  if [[ -n $sockq ]]; then
    wait "$sockq" || true
    say "$server: case $name: socket queues: $(cat "$base.sockq.txt")"
  fi
  echo "$server $name $base.json" >>"$INDEX"
}

for server in $SERVERS; do
  overload=${OVERLOAD_RATE:-400}
  for c in $CASES; do
    case $c in
    a) run_case "$server" a-1x1000@100 --sessions 1 --viewers 1000 --rate 100 --duration "$DURATION" --warmup "$WARMUP" ;;
    p) run_case "$server" p-1x1000@100-polling --sessions 1 --viewers 1000 --rate 100 --duration "$DURATION" --warmup "$WARMUP" --viewer-polling ;;
    b)
      for rate in $SAT_RATES; do
        run_case "$server" "b-1x1000@$rate" --sessions 1 --viewers 1000 --rate "$rate" --duration "$SAT_DURATION" --warmup "$WARMUP"
        if saturated "$OUT/$server-b-1x1000@$rate.json"; then
          say "$server: saturated at $rate events/s"
          overload=${OVERLOAD_RATE:-$((rate * 2))}
          break
        fi
      done
      ;;
    c) run_case "$server" c-1000x10@1 --sessions 1000 --viewers 10 --rate 1 --duration "$DURATION" --warmup "$WARMUP" --concurrency 32 ;;
    d) run_case "$server" "d-idle-$IDLE_VIEWERS" --sessions 1 --viewers "$IDLE_VIEWERS" --rate 0 --duration 5s ;;
    e) run_case "$server" "e-overload@$overload" --sessions 1 --viewers 1000 --rate "$overload" --duration "$OVERLOAD_DURATION" --warmup "$WARMUP" ;;
    esac
  done
done

if [[ $PROFILE == 1 ]]; then
  for rate in $PROFILE_RATES; do
    base=$OUT/profile-1x1000@$rate
    wait_quiet
    say "pizzapi CPU profile: 1 session x 1000 viewers at $rate events/s"
    start_server profserve "$base.server.log" || continue
    timeout 300 nice -n "$NICE" taskset -c "$LOADGEN_CPU" "$BIN" bench --url "$SERVER_URL" $(auth_flags pizzapi) --server-pid "$SERVER_PID" \
      --sessions 1 --viewers 1000 --rate "$rate" --duration 10s --warmup 2s >"$base.txt" 2>"$base.log" &
    bench=$!
    for _ in $(seq 1 600); do
      grep -q publishing "$base.log" 2>/dev/null && break
      kill -0 "$bench" 2>/dev/null || break
      sleep 0.1
    done
    sleep 2 # past the warm-up
    curl -sf -o "$base.pprof" "$PPROF_URL/debug/pprof/profile?seconds=8" || say "no profile"
    wait "$bench" || true
    stop_server
    if [[ -s $base.pprof ]]; then
      go tool pprof -top -nodecount 40 "$OUT/bin/profserve" "$base.pprof" >"$base.top.txt" 2>/dev/null || true
      go tool pprof -top -cum -nodecount 60 "$OUT/bin/profserve" "$base.pprof" >"$base.cum.txt" 2>/dev/null || true
    fi
  done
fi

if [[ $PROFILE == 1 ]]; then
  base=$OUT/profile-idle-$IDLE_VIEWERS
  say "pizzapi heap profile: $IDLE_VIEWERS idle viewers"
  if start_server profserve "$base.server.log"; then
    timeout 300 nice -n "$NICE" taskset -c "$LOADGEN_CPU" "$BIN" bench --url "$SERVER_URL" $(auth_flags pizzapi) --server-pid "$SERVER_PID" \
      --sessions 1 --viewers "$IDLE_VIEWERS" --rate 0 --duration 8s >"$base.txt" 2>"$base.log" &
    bench=$!
    for _ in $(seq 1 1200); do
      grep -q holding "$base.log" 2>/dev/null && break
      kill -0 "$bench" 2>/dev/null || break
      sleep 0.1
    done
    sleep 2
    curl -sf "$PPROF_URL/debug/pprof/goroutine?debug=1" | head -1 >"$base.goroutines.txt" || true
    curl -sf -o "$base.heap.pprof" "$PPROF_URL/debug/pprof/heap?gc=1" || say "no heap profile"
    grep -E '^(VmRSS|RssAnon|RssFile|Threads)' "/proc/$SERVER_PID/status" >"$base.status.txt" || true
    # The Go runtime's own view: heap in use, goroutine stacks, goroutines.
    curl -sf "$SERVER_URL/metrics" | grep -E '^go_(goroutines|memstats_(heap_alloc|heap_inuse|stack_inuse|sys|next_gc)_bytes) ' >"$base.gometrics.txt" || true
    wait "$bench" || true
    stop_server
    if [[ -s $base.heap.pprof ]]; then
      go tool pprof -top -sample_index=inuse_space -nodecount 30 "$OUT/bin/profserve" "$base.heap.pprof" >"$base.heap.txt" 2>/dev/null || true
    fi
  fi
fi

rm -rf "$OUT"/data.*
node "$ROOT/bench/table.mjs" "$INDEX" | tee "$OUT/table.md"
say "results in $OUT"
