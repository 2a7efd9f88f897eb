#!/usr/bin/env bash
# Cross-node fan-out benchmark (target P3 of shared/reference/performance.md: across 2 nodes via
# Redis, 100k deliveries/s, p50 <= 10 ms, p99 <= 70 ms, 0 lost), for pizzapi and for a pair of
# Node socket.io 4.8 relays on @socket.io/redis-streams-adapter (bench/node-relay, REDIS_URL set):
#
#   single-node: one node on its own (no Redis), viewers on it, at SINGLE_RATE: the reference;
#   same-node:   the two-node cluster with the viewers on node A, at BASELINE_RATE;
#   cross-node:  one session published on node A, VIEWERS viewers on node B, at each rate of
#                RATES events/s (RATES x VIEWERS deliveries/s offered), stopping at the first
#                rate that loses events, drops viewers or has p99 > 1 s.
#
# Every case gets fresh processes: its own redis-server (no persistence, loopback, a free port),
# for pizzapi a fresh PostgreSQL database (created, then dropped), and the relay nodes. The nodes
# and Redis are pinned to CPU $SERVER_CPU, the load generator (`pizzapi bench`) to CPU
# $LOADGEN_CPU: on a 2-core machine the cluster shares one core, so this measures what the
# cluster path costs, not how far two nodes scale. Results (JSON, logs and a Markdown table) go
# to $OUT.
#
# CPU: `pizzapi bench --server-pid` samples the node the viewers are on, from the end of the
# warm-up to the end of the drain; this script samples the other node and Redis from /proc over
# the DURATION after the warm-up. "cluster us/delivery" is the CPU of the nodes and Redis per
# delivery; "other %" is the machine's busy time not used by the nodes, Redis or the generator.
#
# Environment (all optional):
#   OUT                  results directory (.artifacts/bench/cluster-<time>)
#   SERVERS              "pizzapi node" ("" runs no case, only the profile)
#   RATES                "10 50 100 200" events/s of the cross-node cases ("" for none)
#   SINGLE_RATE          100 ("" for no single-node case)
#   BASELINE_RATE        100 ("" for no same-node case)
#   VIEWERS              1000
#   DURATION, WARMUP     10s, 2s (whole seconds)
#   CONCURRENCY          4 viewer connections opened at once (see bench/README.md)
#   SERVER_CPU           0, LOADGEN_CPU 1
#   NICE                 -20 as root, else 0
#   QUIET_MAX, QUIET_WAIT  15, 15: before each case wait up to QUIET_WAIT s for the machine's
#                        other load to fall below QUIET_MAX % of all CPUs (as in run.sh)
#   OTHER_MAX            35: a case with more other load (% of a core) is run once more and the
#                        quieter run kept
#   PG_URL               postgres://postgres@127.0.0.1:5432 (trust auth): where each pizzapi
#                        case gets a throwaway database
#   PROFILE              0; 1 takes a CPU profile of node PROFILE_ON (B; A: viewers on A) at
#                        PROFILE_RATE (100) events/s with bench/profserve (PROFSERVE: another
#                        profserve binary)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/.artifacts/bench/cluster-$(date +%Y%m%d-%H%M%S)}
SERVERS=${SERVERS-"pizzapi node"}
RATES=${RATES-"10 50 100 200"}
BASELINE_RATE=${BASELINE_RATE-100}
SINGLE_RATE=${SINGLE_RATE-100}
CONCURRENCY=${CONCURRENCY:-4}
VIEWERS=${VIEWERS:-1000}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
SERVER_CPU=${SERVER_CPU:-0}
LOADGEN_CPU=${LOADGEN_CPU:-1}
QUIET_MAX=${QUIET_MAX:-15}
QUIET_WAIT=${QUIET_WAIT:-15}
OTHER_MAX=${OTHER_MAX:-35}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
PROFILE=${PROFILE:-0}
PROFILE_RATE=${PROFILE_RATE:-100}
PROFILE_ON=${PROFILE_ON:-B}
if [[ $(id -u) == 0 ]]; then NICE=${NICE:--20}; else NICE=${NICE:-0}; fi
NODE_KEY=bench-key
EMAIL=bench@example.com
PASSWORD=bench-password-123
CLK_TCK=$(getconf CLK_TCK)

mkdir -p "$OUT/bin"
INDEX=$OUT/index.txt
: >"$INDEX"
BIN=$OUT/bin/pizzapi
PROFSERVE=${PROFSERVE:-$OUT/bin/profserve}

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

# ---------------------------------------------------------------------------------------------
# Processes and databases this script started, so that cleanup can remove them (and only them).
PIDS=()
DBS=()

# stop_pid PID: SIGTERM, then SIGKILL after 5 s.
stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# forget_pid PID: drop a process that has been waited for from PIDS.
forget_pid() {
  local keep=() p
  for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

# stop_all: every process started for the current case, newest first, then its databases.
stop_all() {
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[i]}"; done
  PIDS=()
  for db in "${DBS[@]}"; do
    timeout 20 psql "$PG_URL/postgres" -qAtc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 ||
      say "could not drop database $db"
  done
  DBS=()
  REDIS_PID="" REDIS_URL="" DB_URL=""
}
cleanup() {
  stop_all
  rm -rf "$OUT"/data.*
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
say "building pizzapi (and the profiling harness) into $OUT/bin"
(cd "$ROOT" && go build -o "$BIN" ./cmd/pizzapi)
if [[ $PROFILE == 1 && ! -x $PROFSERVE ]]; then (cd "$ROOT" && go build -o "$PROFSERVE" ./bench/profserve); fi
if [[ " $SERVERS " == *" node "* && ! -d "$ROOT/bench/node-relay/node_modules/@socket.io/redis-streams-adapter" ]]; then
  say "installing the Node relay's dependencies (npm ci)"
  (cd "$ROOT/bench/node-relay" && npm ci --no-audit --no-fund >&2)
fi
if [[ " $SERVERS " == *" pizzapi "* || $PROFILE == 1 ]] && ! timeout 10 psql "$PG_URL/postgres" -qAtc 'SELECT 1' >/dev/null; then
  say "PostgreSQL at $PG_URL is not reachable: set PG_URL, or SERVERS=node"
  exit 1
fi

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}

# cpu_ticks PID: utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/PID/stat,
# counted after the command name, which may contain spaces).
cpu_ticks() {
  [[ -n $1 ]] || { echo 0 && return; }
  sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }' || echo 0
}

# ---------------------------------------------------------------------------------------------
REDIS_PID=""
REDIS_URL=""

# start_redis LOG: a fresh redis-server on a free loopback port, no persistence, pinned.
start_redis() {
  local log=$1 port
  port=$(free_port)
  nice -n "$NICE" taskset -c "$SERVER_CPU" redis-server --port "$port" --bind 127.0.0.1 --save "" \
    --appendonly no --dir "$OUT" --logfile "$log" &
  REDIS_PID=$!
  PIDS+=("$REDIS_PID")
  for _ in $(seq 1 50); do
    if [[ $(timeout 2 redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null) == PONG ]]; then
      REDIS_URL=redis://127.0.0.1:$port
      return 0
    fi
    kill -0 "$REDIS_PID" 2>/dev/null || break
    sleep 0.1
  done
  say "redis-server did not start:"
  cat "$log" >&2 || true
  return 1
}

# create_db: a throwaway PostgreSQL database; sets DB_URL.
DB_URL=""
create_db() {
  local db
  db=pizzapi_cluster_bench_$$_$(date +%s%N | tail -c 7)
  timeout 20 psql "$PG_URL/postgres" -qAtc "CREATE DATABASE \"$db\"" >/dev/null
  DBS+=("$db")
  DB_URL="$PG_URL/$db?sslmode=disable"
}

NODE_PID=""
NODE_URL=""

# start_node KIND LOG: a relay node (KIND pizzapi, profserve or node) pinned to $SERVER_CPU, in
# the cluster of $REDIS_URL (and $DB_URL) when set, else on its own; waits until it listens and,
# for pizzapi, until GET /health answers 200.
start_node() {
  local kind=$1 log=$2 dir serve_flags=() prof_flags=()
  dir=$(mktemp -d "$OUT/data.XXXXXX")
  if [[ -n $REDIS_URL ]]; then
    serve_flags=(--redis-url "$REDIS_URL" --database-url "$DB_URL")
    prof_flags=(-redis-url "$REDIS_URL" -database-url "$DB_URL")
  fi
  case $kind in
  pizzapi)
    nice -n "$NICE" taskset -c "$SERVER_CPU" "$BIN" serve --host 127.0.0.1 --port 0 --data-dir "$dir" \
      "${serve_flags[@]}" >"$log" 2>&1 &
    ;;
  profserve)
    nice -n "$NICE" taskset -c "$SERVER_CPU" "$PROFSERVE" -data-dir "$dir" "${prof_flags[@]}" >"$log" 2>&1 &
    ;;
  node)
    REDIS_URL=$REDIS_URL PORT=0 HOST=127.0.0.1 BENCH_API_KEY=$NODE_KEY \
      nice -n "$NICE" taskset -c "$SERVER_CPU" node "$ROOT/bench/node-relay/relay.mjs" >"$log" 2>&1 &
    ;;
  esac
  NODE_PID=$!
  PIDS+=("$NODE_PID")
  NODE_URL=""
  for _ in $(seq 1 200); do
    NODE_URL=$(grep -so 'listening on http://127\.0\.0\.1:[0-9]*' "$log" | head -1 | cut -d' ' -f3 || true)
    [[ -n $NODE_URL ]] && break
    kill -0 "$NODE_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -n $NODE_URL && $kind != node ]]; then
    local ok=""
    for _ in $(seq 1 200); do
      if curl -sf -o /dev/null --max-time 2 "$NODE_URL/health"; then ok=1 && break; fi
      kill -0 "$NODE_PID" 2>/dev/null || break
      sleep 0.1
    done
    [[ -n $ok ]] || NODE_URL=""
  fi
  if [[ -z $NODE_URL ]]; then
    say "$kind node did not start (or never became healthy):"
    tail -20 "$log" >&2 || true
    return 1
  fi
}

# start_cluster SERVER BASE [PROFILED]: Redis, (PostgreSQL,) node A and node B; sets A_PID A_URL
# B_PID B_URL. With PROFILED (A or B), that pizzapi node is bench/profserve and PPROF_URL its pprof.
A_PID="" A_URL="" B_PID="" B_URL="" PPROF_URL=""
start_cluster() {
  local server=$1 base=$2 profiled=${3:-} kind_a=$1 kind_b=$1
  [[ $profiled == A ]] && kind_a=profserve
  [[ $profiled == B ]] && kind_b=profserve
  start_redis "$base.redis.log" || return 1
  if [[ $server == pizzapi ]]; then create_db || return 1; fi
  start_node "$kind_a" "$base.nodeA.log" || return 1
  A_PID=$NODE_PID A_URL=$NODE_URL
  start_node "$kind_b" "$base.nodeB.log" || return 1
  B_PID=$NODE_PID B_URL=$NODE_URL
  PPROF_URL=""
  if [[ -n $profiled ]]; then
    PPROF_URL=$(grep -so 'pprof on http://127\.0\.0\.1:[0-9]*' "$base.node$profiled.log" | head -1 | cut -d' ' -f3 || true)
  fi
}

# start_single SERVER BASE: one node on its own (no Redis, pizzapi on SQLite) as node A.
start_single() {
  REDIS_PID="" REDIS_URL="" DB_URL="" B_PID="" B_URL=""
  start_node "$1" "$2.nodeA.log" || return 1
  A_PID=$NODE_PID A_URL=$NODE_URL
}

# seconds DURATION: a Go-style duration of whole seconds ("10s") as a number.
seconds() { echo "${1%s}"; }

# run_once SERVER NAME VIEWERS_ON RATE BASE: one cluster (VIEWERS_ON A or B) or one node on its
# own (VIEWERS_ON single), one bench run; the generator samples the viewers' node (--server-pid),
# this function samples the other node and Redis.
run_once() {
  local server=$1 name=$2 on=$3 rate=$4 base=$5 vpid vurl opid bench t0 t1 o0 o1 r0 r1 start=start_cluster
  wait_quiet
  say "$server: $name: 1 session on A, $VIEWERS viewers on $on, $rate events/s"
  [[ $on == single ]] && start=start_single
  if ! "$start" "$server" "$base"; then
    stop_all
    return 1
  fi
  case $on in
  B) vpid=$B_PID vurl=$B_URL opid=$A_PID ;;
  A) vpid=$A_PID vurl=$A_URL opid=$B_PID ;;
  single) vpid=$A_PID vurl=$A_URL opid="" ;;
  esac
  # shellcheck disable=SC2046
  timeout 300 nice -n "$NICE" taskset -c "$LOADGEN_CPU" "$BIN" bench --url "$A_URL" --viewer-url "$vurl" \
    $(auth_flags "$server") --server-pid "$vpid" --json --sessions 1 --viewers "$VIEWERS" --rate "$rate" \
    --duration "$DURATION" --warmup "$WARMUP" --concurrency "$CONCURRENCY" >"$base.json" 2>"$base.log" &
  bench=$!
  PIDS+=("$bench")
  for _ in $(seq 1 1200); do
    grep -q publishing "$base.log" 2>/dev/null && break
    kill -0 "$bench" 2>/dev/null || break
    sleep 0.05
  done
  sleep "$(seconds "$WARMUP")"
  t0=$(date +%s.%N) o0=$(cpu_ticks "$opid") r0=$(cpu_ticks "$REDIS_PID")
  for _ in $(seq 1 "$(($(seconds "$DURATION") * 10))"); do
    kill -0 "$bench" 2>/dev/null || break
    sleep 0.1
  done
  t1=$(date +%s.%N) o1=$(cpu_ticks "$opid") r1=$(cpu_ticks "$REDIS_PID")
  local ok=1
  wait "$bench" || ok=0
  forget_pid "$bench"
  stop_all
  if ((!ok)); then
    say "$server: $name failed: $(tail -1 "$base.log")"
    rm -f "$base.json"
    return 1
  fi
  awk -v on="$on" -v t="$CLK_TCK" -v t0="$t0" -v t1="$t1" -v o="$((o1 - o0))" -v r="$((r1 - r0))" 'BEGIN {
    dt = t1 - t0; other = (on == "B") ? "A" : (on == "A") ? "B" : ""
    printf "{\"viewersOn\":\"%s\",\"sampledNode\":\"%s\",\"sampledSeconds\":%.3f,", on, other, dt
    printf "\"sampledCpuSeconds\":%.3f,\"sampledCpuPercent\":%.1f,", o / t, 100 * o / t / dt
    printf "\"redisCpuSeconds\":%.3f,\"redisCpuPercent\":%.1f}\n", r / t, 100 * r / t / dt
  }' >"$base.extra.json"
}

# other_load BASE: the run's other load (percent of a core), "999" without a result.
other_load() {
  node -e '
    const fs = require("fs");
    try {
      const r = JSON.parse(fs.readFileSync(process.argv[1] + ".json", "utf8"));
      const x = JSON.parse(fs.readFileSync(process.argv[1] + ".extra.json", "utf8"));
      console.log(Math.round(Math.max(0, r.otherCpuPercent - x.sampledCpuPercent - x.redisCpuPercent)));
    } catch { console.log(999); }
  ' "$1"
}

# run_case SERVER NAME VIEWERS_ON RATE: run_once, and once more when other load disturbed it
# (keeping the quieter run); appends the result to the index.
run_case() {
  local server=$1 name=$2 on=$3 rate=$4 base=$OUT/$1-$2 other other2
  run_once "$server" "$name" "$on" "$rate" "$base" || true
  other=$(other_load "$base")
  if ((other > OTHER_MAX && other < 999)); then
    say "$server: $name: other load $other % of a core, running it again"
    if run_once "$server" "$name" "$on" "$rate" "$base.2"; then
      other2=$(other_load "$base.2")
      if ((other2 < other)); then
        for f in "$base".2.*; do mv "$f" "$base${f#"$base".2}"; done
      fi
    fi
  fi
  echo "$server $name $on $rate $base.json $base.extra.json" >>"$INDEX"
}

for server in $SERVERS; do
  if [[ -n $SINGLE_RATE ]]; then
    run_case "$server" "single-node@$SINGLE_RATE" single "$SINGLE_RATE"
  fi
  if [[ -n $BASELINE_RATE ]]; then
    run_case "$server" "same-node@$BASELINE_RATE" A "$BASELINE_RATE"
  fi
  for rate in $RATES; do
    run_case "$server" "cross-node@$rate" B "$rate"
    if saturated "$OUT/$server-cross-node@$rate.json"; then
      say "$server: saturated at $rate events/s"
      break
    fi
  done
done

# A CPU profile of the node the viewers are on (PROFILE_ON: B, or A for the same-node case),
# through bench/profserve.
if [[ $PROFILE == 1 ]]; then
  base=$OUT/profile-viewers-on-$PROFILE_ON@$PROFILE_RATE
  if ! "$PROFSERVE" -h 2>&1 | grep -q -- -redis-url; then
    say "skipping the profile: $PROFSERVE has no -redis-url/-database-url flags"
  else
    wait_quiet
    say "pizzapi CPU profile of node $PROFILE_ON: 1 session on A, $VIEWERS viewers on $PROFILE_ON, $PROFILE_RATE events/s"
    if start_cluster pizzapi "$base" "$PROFILE_ON"; then
      if [[ $PROFILE_ON == B ]]; then vpid=$B_PID vurl=$B_URL; else vpid=$A_PID vurl=$A_URL; fi
      # shellcheck disable=SC2046
      timeout 300 nice -n "$NICE" taskset -c "$LOADGEN_CPU" "$BIN" bench --url "$A_URL" --viewer-url "$vurl" \
        $(auth_flags pizzapi) --server-pid "$vpid" --sessions 1 --viewers "$VIEWERS" --rate "$PROFILE_RATE" \
        --duration 10s --warmup 2s --concurrency "$CONCURRENCY" >"$base.txt" 2>"$base.log" &
      bench=$!
      PIDS+=("$bench")
      for _ in $(seq 1 1200); do
        grep -q publishing "$base.log" 2>/dev/null && break
        kill -0 "$bench" 2>/dev/null || break
        sleep 0.05
      done
      sleep 2
      curl -sf --max-time 30 -o "$base.pprof" "$PPROF_URL/debug/pprof/profile?seconds=8" || say "no profile"
      wait "$bench" || true
      forget_pid "$bench"
      if [[ -s $base.pprof ]]; then
        go tool pprof -top -nodecount 40 "$PROFSERVE" "$base.pprof" >"$base.top.txt" 2>/dev/null || true
        go tool pprof -top -cum -nodecount 60 "$PROFSERVE" "$base.pprof" >"$base.cum.txt" 2>/dev/null || true
      fi
    fi
    stop_all
  fi
fi

rm -rf "$OUT"/data.*
node "$ROOT/bench/table.mjs" --cluster "$INDEX" | tee "$OUT/table.md"
say "results in $OUT"
