#!/usr/bin/env bash
# Two edge builds (or one build under two environments) side by side on the one-token requests, interleaved rounds:
# for a change whose effect is smaller than run.sh's round-to-round noise (load/README.md "Where the rest goes").
# Usage: A_DLL=/path/to/before/Authio.EdgeProxy.dll [B_DLL=...] [A_ENV="VAR=value"] [B_ENV=...] [ROUNDS=6] load/ab-edges.sh
#   B_DLL defaults to this tree's Release build; prints every round's RPS and B/A, then the median.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"; OUT="$ROOT/load/out/ab-edges"; mkdir -p "$OUT"
A_DLL="${A_DLL:?A_DLL: the edge build to compare against}"
B_DLL="${B_DLL:-$ROOT/src/EdgeProxy/bin/Release/net10.0/Authio.EdgeProxy.dll}"
ROUNDS="${ROUNDS:-6}"
source "$ROOT/load/lib.sh"
require_counts ROUNDS
[[ -f "$A_DLL" && -f "$B_DLL" ]] || { echo "no edge build at A_DLL=$A_DLL or B_DLL=$B_DLL (dotnet build -c Release src/EdgeProxy)" >&2; exit 2; }
TOOLS=(dotnet "$ROOT/load/Authio.Load.Tools/bin/Release/net10.0/Authio.Load.Tools.dll")
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
require_free_ports 19281 19283 19284 19285 19286
export Logging__LogLevel__Default=Warning
"${TOOLS[@]}" upstream --port 19281 > "$OUT/up.log" 2>&1 & PIDS+=($!)
mint_single_token "$OUT"
start_load_edge "$A_DLL" 19283 19284 "$OUT" 19281 "${A_ENV:-}"; A_PID=$LAST
start_load_edge "$B_DLL" 19285 19286 "$OUT" 19281 "${B_ENV:-}"; B_PID=$LAST
TICK_US=$((1000000 / $(getconf CLK_TCK)))
# One wrk run against an edge: "RPS µs-of-the-edge's-CPU-per-request".
measure() { # duration port pid
  local before after out
  before=$(awk '{ print $14 + $15 }' "/proc/$3/stat")
  out=$(TOKENS_FILE="$OUT/single.txt" wrk -t2 -c64 -d"$1" -s "$ROOT/load/tokens.lua" "http://127.0.0.1:$2/api/items" | grep '^RESULT')
  after=$(awk '{ print $14 + $15 }' "/proc/$3/stat")
  python3 -c "f = dict(kv.split('=') for kv in '$out'.split()[1:]); print(f['rps'], round(($after - $before) * $TICK_US / int(f['requests']), 1))"
}
for port in 19283 19285 19283 19285 19283 19285 19283 19285; do measure 5s "$port" "$([ $port = 19283 ] && echo "$A_PID" || echo "$B_PID")" > /dev/null; done # 20 s each: the edge settles after 20–25 s of load (tiering)
RATIOS=()
for round in $(seq 1 "$ROUNDS"); do
  # A-B in odd rounds, B-A in even ones: neither build always runs first.
  if (( round % 2 )); then read -r a a_cpu <<< "$(measure 8s 19283 "$A_PID")"; read -r b b_cpu <<< "$(measure 8s 19285 "$B_PID")"
  else read -r b b_cpu <<< "$(measure 8s 19285 "$B_PID")"; read -r a a_cpu <<< "$(measure 8s 19283 "$A_PID")"; fi
  ratio=$(python3 -c "print(f'{$b / $a:.3f}')"); RATIOS+=("$ratio")
  echo "round $round  A $a rps ($a_cpu µs CPU/req)  B $b rps ($b_cpu µs CPU/req)  B/A $ratio"
done
echo "median B/A $(printf '%s\n' "${RATIOS[@]}" | sort -n | python3 -c "import sys; v=[float(x) for x in sys.stdin]; n=len(v); print(f'{(v[n//2] if n % 2 else (v[n//2-1] + v[n//2]) / 2):.3f}')")"
