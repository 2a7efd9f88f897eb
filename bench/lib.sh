# Functions shared by bench/run.sh and bench/cluster.sh (sourced; they set QUIET_MAX, QUIET_WAIT,
# NODE_KEY, EMAIL and PASSWORD first).

say() { printf '== %s\n' "$*" >&2; }

# busy_percent: how busy all CPUs together were over the next second, in percent.
busy_percent() {
  local a b
  a=$(head -1 /proc/stat)
  sleep 1
  b=$(head -1 /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN {
    n = split(a, x); split(b, y); busy = 0; total = 0
    for (i = 2; i <= 9 && i <= n; i++) { d = y[i] - x[i]; total += d; if (i != 5 && i != 6) busy += d }
    printf "%d", (total > 0 ? 100 * busy / total : 0)
  }'
}

# wait_quiet: wait (at most QUIET_WAIT seconds) until the machine is nearly idle.
wait_quiet() {
  local busy waited=0
  while :; do
    busy=$(busy_percent)
    ((busy <= QUIET_MAX || waited >= QUIET_WAIT)) && break
    ((waited == 0)) && say "machine busy ($busy %), waiting up to ${QUIET_WAIT}s for it to quieten"
    waited=$((waited + 1))
  done
  ((busy > QUIET_MAX)) && say "machine still $busy % busy: this run will be noisy"
  return 0
}

# auth_flags SERVER: how `pizzapi bench` signs in to that relay.
auth_flags() {
  if [[ $1 == node ]]; then
    echo "--api-key $NODE_KEY"
  else
    echo "--email $EMAIL --password $PASSWORD"
  fi
}

# saturated FILE: true when a run lost events, dropped viewers or had p99 above 1 s.
saturated() {
  [[ -f $1 ]] || return 0
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    process.exit(r.lost > 0 || r.viewersDropped > 0 || r.latencyMs.p99 > 1000 ? 0 : 1);
  ' "$1"
}
