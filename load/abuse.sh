#!/usr/bin/env bash
# Honest neighbours under abuse: valid clients and a flood of expired tokens + random well-formed API keys, all from
# 127.0.0.1 (one address, as behind an office NAT), against one edge with the DEFAULT failure budget (10/s, burst 50).
# Phase "baseline": valid clients alone; phase "flood": valid clients with tokens the edge has not seen yet (every first
# use is a full validation, so the budget is in play) while the flood runs. Bounded: ~2 × SECONDS plus build.
# Usage: load/abuse.sh   (env: EDGE_DLL=path/to/Authio.EdgeProxy.dll, SECONDS_PER_PHASE=10 VALID_CONNS=8 FLOOD_CONNS=16 EDGE_PORT=18283 UP_PORT=18281). See load/README.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/load/out/abuse"
SECONDS_PER_PHASE="${SECONDS_PER_PHASE:-10}"
VALID_CONNS="${VALID_CONNS:-8}"
FLOOD_CONNS="${FLOOD_CONNS:-16}"
UP_PORT="${UP_PORT:-18281}"
EDGE_PORT="${EDGE_PORT:-18283}"
EDGE_ADMIN_PORT="${EDGE_ADMIN_PORT:-18284}"
ISSUER="https://id.authio.load/"
AUDIENCE="https://api.authio.load"

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

source "$ROOT/load/lib.sh"
require_free_ports "$UP_PORT" "$EDGE_PORT" "$EDGE_ADMIN_PORT"

build_edge_and_tools
# EDGE_DLL: another build of the edge to compare with (e.g. one from before the abuse guards), same scenario.
EDGE=(dotnet "${EDGE_DLL:-$ROOT/src/EdgeProxy/bin/Release/net10.0/Authio.EdgeProxy.dll}")

echo "== keys, tokens, random keys"
rm -rf "$OUT" && mkdir -p "$OUT"
"${TOOLS[@]}" keygen --out "$OUT/keys" >/dev/null
MINT=("${TOOLS[@]}" mint --key "$OUT/keys" --issuer "$ISSUER" --audience "$AUDIENCE")
"${MINT[@]}" --count 2000 > "$OUT/baseline.txt"
"${MINT[@]}" --count 2000 > "$OUT/fresh.txt"
"${MINT[@]}" --count 2000 --expired > "$OUT/expired.txt"
"${TOOLS[@]}" apikeys --count 20000 > "$OUT/apikeys.txt"
# One flood list: expired tokens and random keys interleaved.
paste -d '\n' "$OUT/expired.txt" <(head -n 2000 "$OUT/apikeys.txt") > "$OUT/flood.txt"
tail -n +2001 "$OUT/apikeys.txt" >> "$OUT/flood.txt"
wc -l "$OUT"/baseline.txt "$OUT"/fresh.txt "$OUT"/flood.txt | sed 's/^/   /'

echo "== start upstream and edge (default failure budget, no control plane: every random key is unknown)"
export Logging__LogLevel__Default=Warning
"${TOOLS[@]}" upstream --port "$UP_PORT" >"$OUT/upstream.log" 2>&1 & PIDS+=($!)
"${EDGE[@]}" --urls "http://127.0.0.1:$EDGE_PORT" "--Edge:AdminUrls=http://127.0.0.1:$EDGE_ADMIN_PORT" \
  "--Edge:Issuers:0:Issuer=$ISSUER" "--Edge:Issuers:0:Audiences:0=$AUDIENCE" "--Edge:Issuers:0:JwksUri=$OUT/keys/jwks.json" \
  "--ReverseProxy:Routes:all:ClusterId=up" "--ReverseProxy:Routes:all:Match:Path={**catch-all}" \
  "--ReverseProxy:Clusters:up:Destinations:d1:Address=http://127.0.0.1:$UP_PORT/" >"$OUT/edge.log" 2>&1 & PIDS+=($!)
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$EDGE_ADMIN_PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$EDGE_ADMIN_PORT/readyz" >/dev/null || { echo "edge not ready; see $OUT/edge.log" >&2; exit 1; }

echo "== run: ${SECONDS_PER_PHASE}s baseline, ${SECONDS_PER_PHASE}s with the flood (valid $VALID_CONNS conns, flood $FLOOD_CONNS conns, all from 127.0.0.1)"
"${TOOLS[@]}" abuse --edge "http://127.0.0.1:$EDGE_PORT" --baseline "$OUT/baseline.txt" --fresh "$OUT/fresh.txt" \
  --flood "$OUT/flood.txt" --seconds "$SECONDS_PER_PHASE" --valid-conns "$VALID_CONNS" --flood-conns "$FLOOD_CONNS" | tee "$OUT/result.txt"
echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg)"
