#!/usr/bin/env bash
# Where the box's CPU goes per request: the proxy's, the upstream's and wrk's own CPU (from /proc/PID/stat and
# /usr/bin/time), the edge against bare YARP on the same upstream, interleaved slices after a warm-up of each
# (load/README.md "Session of 2026-11-30 04:06–07:00 UTC"). On a closed loop that saturates both cores, the
# throughput ratio is the ratio of these totals: a proxy that is cheaper per request can still lose when the
# requests it forwards cost the upstream more, and the other way round.
# AGAINST=anon puts edge-anon (the same edge, the route marked anonymous: no token work, no identity headers) in bare
# YARP's place: what authenticating costs the proxy and the upstream.
# Usage: [TOK=rotating|single] [SLICES=6] [AGAINST=bare|anon] [EDGE_DLL=...] load/cpu-split.sh   (ports 19281, 19283-19286)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"; OUT="$ROOT/load/out/cpu-split"; mkdir -p "$OUT/cwd"
TOK="${TOK:-rotating}"; SLICES="${SLICES:-6}"; AGAINST="${AGAINST:-bare}"
[[ "$AGAINST" == bare || "$AGAINST" == anon ]] || { echo "AGAINST must be bare or anon, not '$AGAINST'" >&2; exit 2; }
[[ "$TOK" == rotating || "$TOK" == single ]] || { echo "TOK must be rotating or single, not '$TOK'" >&2; exit 2; }
[[ "$SLICES" =~ ^[1-9][0-9]?$ ]] || { echo "SLICES must be a whole number from 1 to 99, not '$SLICES'" >&2; exit 2; }
EDGE_DLL="${EDGE_DLL:-$ROOT/src/EdgeProxy/bin/Release/net10.0/Authio.EdgeProxy.dll}"
[ -f "$EDGE_DLL" ] || { echo "no edge build at $EDGE_DLL (dotnet build -c Release src/EdgeProxy)" >&2; exit 2; }
TOOLS=(dotnet "$ROOT/load/Authio.Load.Tools/bin/Release/net10.0/Authio.Load.Tools.dll")
PIDS=()
# Waits for the processes to go, so the next run finds its ports free.
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${PIDS[@]}"; do while kill -0 "$p" 2>/dev/null; do sleep 0.1; done; done' EXIT
source "$ROOT/load/lib.sh"
require_free_ports 19281 19283 19284 19285 19286
export Logging__LogLevel__Default=Warning
(cd "$OUT/cwd" && exec "${TOOLS[@]}" upstream --port 19281) > "$OUT/up.log" 2>&1 & UP=$!; PIDS+=("$UP")
mint_single_token "$OUT"
mint_rotating_tokens "$OUT"
start_load_edge "$EDGE_DLL" 19283 19284 "$OUT" 19281 ""; EDGE=$LAST
if [ "$AGAINST" = anon ]; then
  start_load_edge "$EDGE_DLL" 19285 19286 "$OUT" 19281 "" --ReverseProxy:Routes:all:Metadata:Authio.Anonymous=true; BARE=$LAST
else
  (cd "$OUT/cwd" && exec "${TOOLS[@]}" bare-yarp --port 19285 --upstream http://127.0.0.1:19281/) > "$OUT/bare.log" 2>&1 & BARE=$!; PIDS+=("$BARE")
  for _ in $(seq 1 100); do curl -fs -o /dev/null http://127.0.0.1:19285/ && break; sleep 0.2; done
fi
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# One wrk run: "requests proxy-ticks upstream-ticks wrk-centiseconds".
run() { # port pid duration
  local p0 u0 out
  p0=$(ticks "$2"); u0=$(ticks "$UP")
  out=$( { /usr/bin/time -f "WRKCPU %U %S" env TOKENS_FILE="$OUT/$TOK.txt" wrk -t2 -c64 -d"$3" -s "$ROOT/load/tokens.lua" "http://127.0.0.1:$1/api/items"; } 2>&1 )
  echo "$(echo "$out" | grep -o 'requests=[0-9]*' | cut -d= -f2) $(( $(ticks "$2") - p0 )) $(( $(ticks "$UP") - u0 )) $(echo "$out" | awk '/WRKCPU/ { print int(($2 + $3) * 100) }')"
}
# 24 s of load each first: a fresh process keeps compiling for 20–25 s (load/README.md "Launches").
for _ in 1 2 3; do run 19283 "$EDGE" 8s > /dev/null; run 19285 "$BARE" 8s > /dev/null; done
declare -A SUM=([edge]="0 0 0 0" [bare]="0 0 0 0")
add() { local -a a b; read -r -a a <<< "${SUM[$1]}"; read -r -a b <<< "$2"; SUM[$1]="$((a[0]+b[0])) $((a[1]+b[1])) $((a[2]+b[2])) $((a[3]+b[3]))"; }
for k in $(seq 1 "$SLICES"); do # edge-bare, bare-edge, …
  if (( k % 2 )); then add edge "$(run 19283 "$EDGE" 4s)"; add bare "$(run 19285 "$BARE" 4s)"
  else add bare "$(run 19285 "$BARE" 4s)"; add edge "$(run 19283 "$EDGE" 4s)"; fi
done
python3 - "$(getconf CLK_TCK)" "$SLICES" "${SUM[edge]}" "${SUM[bare]}" "$([ "$AGAINST" = anon ] && echo edge-anon || echo "bare YARP")" <<'PY'
import sys
tck, slices, other = int(sys.argv[1]), int(sys.argv[2]), sys.argv[5]
rows = {name: list(map(int, sys.argv[i].split())) for name, i in (("edge", 3), (other, 4))}
for name, (r, p, u, w) in rows.items():
    us = lambda ticks, per=1e6 / tck: ticks * per / r
    print(f"{name:9}  {r / (slices * 4):7.0f} req/s   µs of CPU per request: proxy {us(p):5.1f}  upstream {us(u):5.1f}  wrk {w * 1e4 / r:5.1f}  total {us(p) + us(u) + w * 1e4 / r:5.1f}")
print(f"edge / {other}: {rows['edge'][0] / rows[other][0]:.3f}")
PY
