#!/usr/bin/env bash
# Edge memory under token churn: one edge in front of a minimal upstream on 127.0.0.1, TOKENS distinct valid ES256
# tokens picked at random by CONNS clients for DURATION seconds, the edge's resident memory (VmRSS) and GC heap printed every
# INTERVAL seconds, then one SUMMARY line (RSS after warm-up, growth over the second half, errors, hit rate).
# Usage: load/memory.sh                      (env: TOKENS=200000 DURATION=180 WARMUP=30 INTERVAL=5 CONNS=32,
#                                             EDGE_ARGS="--Edge:Tokens:CacheCapacity=100000" extra edge arguments,
#                                             EDGE_ENV="DOTNET_GCHeapHardLimit=0xA000000" extra edge environment
#                                             (the edge always gets DOTNET_GCName=libclrgc.so and
#                                             DOTNET_GCgen0size=0x400000, as in the container image),
#                                             LABEL=name for the log in load/out/memory/)
# Exit status 0 only with 0 client errors and 0 non-2xx answers. See load/README.md, "Memory".
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/load/out/memory"
TOKENS="${TOKENS:-200000}"
# DURATION, not SECONDS: bash sets SECONDS itself (seconds since the shell started), so it is never unset.
SECONDS_RUN="${DURATION:-180}"
WARMUP="${WARMUP:-30}"
INTERVAL="${INTERVAL:-5}"
CONNS="${CONNS:-32}"
LABEL="${LABEL:-churn-$TOKENS}"
UP_PORT="${UP_PORT:-18281}"
EDGE_PORT="${EDGE_PORT:-18282}"
EDGE_ADMIN_PORT="${EDGE_ADMIN_PORT:-18283}"
ISSUER="https://id.authio.load/"
AUDIENCE="https://api.authio.load"
read -r -a EXTRA_ARGS <<< "${EDGE_ARGS:-}"
read -r -a EXTRA_ENV <<< "${EDGE_ENV:-}"

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
mkdir -p "$OUT"

# Tokens are minted once per count and reused (valid for 2 h), so repeated runs compare like with like.
if [ ! -s "$OUT/keys/jwks.json" ] || [ ! -s "$OUT/tokens-$TOKENS.txt" ] || [ -n "$(find "$OUT/tokens-$TOKENS.txt" -mmin +90)" ]; then
  echo "== mint $TOKENS tokens"
  rm -rf "$OUT/keys" && "${TOOLS[@]}" keygen --out "$OUT/keys" > /dev/null
  rm -f "$OUT"/tokens-*.txt
  "${TOOLS[@]}" mint --key "$OUT/keys" --issuer "$ISSUER" --audience "$AUDIENCE" --count "$TOKENS" > "$OUT/tokens-$TOKENS.txt"
fi
echo "   $(wc -l < "$OUT/tokens-$TOKENS.txt") tokens, $(head -1 "$OUT/tokens-$TOKENS.txt" | tr -d '\n' | wc -c) bytes each"

"${TOOLS[@]}" upstream --port "$UP_PORT" > "$OUT/upstream.log" 2>&1 & PIDS+=($!)
# As the container image runs the edge (Dockerfile): the segments GC and a 4 MiB generation-0 budget, unless EDGE_ENV
# says otherwise.
env Logging__LogLevel__Default=Warning DOTNET_GCName=libclrgc.so DOTNET_GCgen0size=0x400000 "${EXTRA_ENV[@]}" dotnet "$ROOT/src/EdgeProxy/bin/Release/net10.0/Authio.EdgeProxy.dll" \
  --urls "http://127.0.0.1:$EDGE_PORT" "--Edge:AdminUrls=http://127.0.0.1:$EDGE_ADMIN_PORT" \
  "--Edge:Issuers:0:Issuer=$ISSUER" "--Edge:Issuers:0:Audiences:0=$AUDIENCE" "--Edge:Issuers:0:JwksUri=$OUT/keys/jwks.json" \
  --ReverseProxy:Routes:all:ClusterId=up "--ReverseProxy:Routes:all:Match:Path={**catch-all}" \
  "--ReverseProxy:Clusters:up:Destinations:d1:Address=http://127.0.0.1:$UP_PORT/" "${EXTRA_ARGS[@]}" > "$OUT/edge-$LABEL.log" 2>&1 &
EDGE_PID=$!; PIDS+=($EDGE_PID)
for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$EDGE_ADMIN_PORT/readyz" > /dev/null 2>&1 && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$EDGE_ADMIN_PORT/readyz" > /dev/null || { echo "edge not ready, see $OUT/edge-$LABEL.log" >&2; exit 1; }
echo "== edge pid $EDGE_PID ready at $(awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' "/proc/$EDGE_PID/status") resident; env: ${EDGE_ENV:-none}; args: ${EDGE_ARGS:-none}"
status=0
"${TOOLS[@]}" churn --edge "http://127.0.0.1:$EDGE_PORT" --metrics "http://127.0.0.1:$EDGE_ADMIN_PORT/metrics" --pid "$EDGE_PID" \
  --tokens "$OUT/tokens-$TOKENS.txt" --seconds "$SECONDS_RUN" --warmup "$WARMUP" --interval "$INTERVAL" --conns "$CONNS" \
  | tee "$OUT/$LABEL.log" || status=$?
# Where the resident memory is at the end: per mapped file, the GC's reservation, and the other anonymous mappings.
if [ -r "/proc/$EDGE_PID/smaps" ]; then
  awk '/^[0-9a-f]+-[0-9a-f]+ / { name = NF >= 6 ? $6 : "[anon]" }
       /^Size:/ { current = name; if (name == "[anon]") current = "[anon: GC heap, native heap, stacks, JIT code]" }
       /^Rss:/ { rss[current] += $2 }
       END { for (n in rss) if (rss[n] >= 512) printf "%8.1f MiB  %s\n", rss[n] / 1024, n }' "/proc/$EDGE_PID/smaps" \
    | sort -rn | tee "$OUT/$LABEL.smaps.txt" | head -25
fi
kill -0 "$EDGE_PID" 2>/dev/null || { echo "edge exited during the run (see $OUT/edge-$LABEL.log)" >&2; status=1; }
grep -iE "OutOfMemory|fatal" "$OUT/edge-$LABEL.log" && status=1
exit $status
