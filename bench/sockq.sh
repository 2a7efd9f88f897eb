#!/usr/bin/env bash
# sockq.sh PORT OUT: samples the TCP queues of the connections to a relay listening on
# 127.0.0.1:PORT every INTERVAL seconds (default 0.1) until no socket listens on PORT any more,
# and writes one line per sample to OUT:
#
#   <ms since start> <relay recv-q max> <relay send-q max> <client send-q max> <client recv-q max>
#
# "relay recv-q" is what the kernel received on a relay-side socket that the relay has not read
# yet (the largest over its connections: under fan-out only a publisher sends much); "client
# send-q" is what a client wrote that the relay's kernel has not acknowledged (the largest over
# the clients' ends). If the relay reads its publisher promptly, both stay small while the
# publisher is sending; a publisher held back by the relay shows a full send queue. A summary
# (the largest of each, and how many samples) is printed on stdout at the end.
set -euo pipefail
PORT=$1
OUT=$2
INTERVAL=${INTERVAL:-0.1}
: >"$OUT"
start=$(date +%s%N)
while ss -tlnH "( sport = :$PORT )" | grep -q .; do
  now=$(date +%s%N)
  ss -tnH state established "( sport = :$PORT or dport = :$PORT )" | awk -v p=":$PORT" -v t=$(((now - start) / 1000000)) '
    { if (substr($3, length($3) - length(p) + 1) == p) { if ($1 > rr) rr = $1; if ($2 > rs) rs = $2 }
      else { if ($2 > cs) cs = $2; if ($1 > cr) cr = $1 } }
    END { printf "%d %d %d %d %d\n", t, rr, rs, cs, cr }' >>"$OUT"
  sleep "$INTERVAL"
done
awk '{ n++; if ($2 > a) { a = $2; ta = $1 } if ($3 > b) b = $3; if ($4 > c) { c = $4; tc = $1 } if ($5 > d) d = $5 }
  END { printf "samples %d; relay recv-q max %d B (at %d ms), relay send-q max %d B; client send-q max %d B (at %d ms), client recv-q max %d B\n", n, a, ta, b, c, tc, d }' "$OUT"
