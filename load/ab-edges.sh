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
[[ "$ROUNDS" =~ ^[1-9][0-9]{0,2}$ ]] || { echo "ROUNDS must be a whole number from 1 to 999, not '$ROUNDS'" >&2; exit 2; }
[[ -f "$A_DLL" && -f "$B_DLL" ]] || { echo "no edge build at A_DLL=$A_DLL or B_DLL=$B_DLL (dotnet build -c Release src/EdgeProxy)" >&2; exit 2; }
TOOLS=(dotnet "$ROOT/load/Authio.Load.Tools/bin/Release/net10.0/Authio.Load.Tools.dll")
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
source "$ROOT/load/lib.sh"
require_free_ports 19281 19283 19284 19285 19286
export Logging__LogLevel__Default=Warning
"${TOOLS[@]}" upstream --port 19281 > "$OUT/up.log" 2>&1 & PIDS+=($!)
mint_single_token "$OUT"
start_load_edge "$A_DLL" 19283 19284 "$OUT" 19281 "${A_ENV:-}"
start_load_edge "$B_DLL" 19285 19286 "$OUT" 19281 "${B_ENV:-}"
rps() { TOKENS_FILE="$OUT/single.txt" wrk -t2 -c64 -d"$1" -s "$ROOT/load/tokens.lua" "http://127.0.0.1:$2/api/items" | grep -o 'rps=[0-9]*' | cut -d= -f2; }
for port in 19283 19285 19283 19285; do rps 5s "$port" > /dev/null; done # warm both (tiering)
RATIOS=()
for round in $(seq 1 "$ROUNDS"); do
  a=$(rps 8s 19283); b=$(rps 8s 19285)
  ratio=$(python3 -c "print(f'{$b / $a:.3f}')"); RATIOS+=("$ratio")
  echo "round $round  A $a rps  B $b rps  B/A $ratio"
done
echo "median B/A $(printf '%s\n' "${RATIOS[@]}" | sort -n | python3 -c "import sys; v=[float(x) for x in sys.stdin]; n=len(v); print(f'{(v[n//2] if n % 2 else (v[n//2-1] + v[n//2]) / 2):.3f}')")"
