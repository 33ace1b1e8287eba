#!/usr/bin/env bash
# The soak: three edges (own processes) following a real control plane and Redis for SOAK_SECONDS (default 600), with
# token churn, a logout (revocation) every 100 ms, API keys in use with one revoked and replaced every second, a
# signing-key rotation every 2 minutes (a third of the run when it is shorter than 6 minutes), the org's rate limit
# changed every 5 s, clients at half the capacity measured first, checking every answer (a session or key revoked
# more than the propagation bound ago must never be admitted; a live one never refused except as the org limit's
# 429). Writes soak.json, report.html and the charts soak-latency.svg / soak-memory.svg to OUT_DIR; fails on any wrong
# decision. The 60 s variant of the same scenario runs in CI (tests/EdgeProxy.Tests/Soak/SoakTests.cs).
# Usage: load/soak.sh            Env: SOAK_SECONDS (600), SOAK_ROTATE_SECONDS, SOAK_BOUND_MS (2000), SOAK_WORKERS (≥ 6),
#                                     SOAK_LOAD (0.5: the share of the capacity measured first that the clients
#                                     send), SOAK_RPS (a fixed total open-model rate instead), OUT_DIR (load/out/soak),
#                                     CONFIGURATION (Release), NO_BUILD=1 (use the builds already there)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT_DIR:-$ROOT/load/out/soak}"
CONFIGURATION="${CONFIGURATION:-Release}"
mkdir -p "$OUT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
command -v redis-server > /dev/null || { echo "redis-server not found: apt-get update && apt-get install -y redis-server" >&2; exit 1; }
if [ "${NO_BUILD:-0}" != 1 ]; then
  dotnet build -c "$CONFIGURATION" "$ROOT/Authio.Edge.sln" > "$OUT/build.log" 2>&1 || { tail -n 30 "$OUT/build.log" >&2; exit 1; }
fi
export AUTHIO_TEST_REDIS=soak AUTHIO_SOAK_SECONDS="${SOAK_SECONDS:-600}" AUTHIO_SOAK_OUT="$OUT"
[ -n "${SOAK_ROTATE_SECONDS:-}" ] && export AUTHIO_SOAK_ROTATE_SECONDS="$SOAK_ROTATE_SECONDS"
[ -n "${SOAK_BOUND_MS:-}" ] && export AUTHIO_SOAK_BOUND_MS="$SOAK_BOUND_MS"
[ -n "${SOAK_WORKERS:-}" ] && export AUTHIO_SOAK_WORKERS="$SOAK_WORKERS"
[ -n "${SOAK_RPS:-}" ] && export AUTHIO_SOAK_RPS="$SOAK_RPS"
[ -n "${SOAK_LOAD:-}" ] && export AUTHIO_SOAK_LOAD="$SOAK_LOAD"
rm -f "$OUT/soak.json"
status=0
dotnet test "$ROOT/tests/EdgeProxy.Tests" -c "$CONFIGURATION" --no-build --filter "FullyQualifiedName~Soak.SoakTests" \
  --logger "console;verbosity=detailed" > "$OUT/soak.log" 2>&1 || status=$?
grep -E "^ +[0-9]+ s, [0-9]+ requests" "$OUT/soak.log" || true
if [ -f "$OUT/soak.json" ]; then
  dotnet "$ROOT/load/Authio.Load.Tools/bin/$CONFIGURATION/net10.0/Authio.Load.Tools.dll" soak-report --result "$OUT/soak.json"
fi
[ "$status" = 0 ] || { echo "soak failed (wrong decisions or a broken run): see $OUT/soak.log" >&2; grep -A 12 "Error Message" "$OUT/soak.log" >&2 || true; }
exit "$status"
