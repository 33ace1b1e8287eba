#!/usr/bin/env bash
# wrk against a rate-limited route of a local edge (demo stack in-process). Usage:
#   bash load/ratelimit/run.sh                 # anonymous route, limited per client IP
#   LIMIT="500/1s burst 100" DURATION=30s CONNECTIONS=64 bash load/ratelimit/run.sh
# Prints wrk's latency summary and "200: N  429: N  other: N  admitted/s: R". Stops the edge on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
LIMIT="${LIMIT:-1000/1s burst 1000}"
DURATION="${DURATION:-15s}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
PORT="${PORT:-5080}"
ADMIN_PORT="${ADMIN_PORT:-9901}"
command -v wrk > /dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }

dotnet build src/EdgeProxy -c Release -warnaserror 2>&1 | tail -n 2
log=$(mktemp)
dotnet src/EdgeProxy/bin/Release/net10.0/Authio.EdgeProxy.dll --urls "http://127.0.0.1:$PORT" \
  --Edge:AdminUrls="http://127.0.0.1:$ADMIN_PORT" --Edge:Demo:Enabled=true --Logging:LogLevel:Default=Warning \
  --ReverseProxy:Routes:limited:ClusterId=demo-upstream \
  "--ReverseProxy:Routes:limited:Match:Path=/limited/{**rest}" \
  --ReverseProxy:Routes:limited:Metadata:Authio.Anonymous=true \
  "--ReverseProxy:Routes:limited:Metadata:Authio.RateLimit=$LIMIT per ip" > "$log" 2>&1 &
edge=$!
trap 'kill "$edge" 2> /dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$ADMIN_PORT/healthz" > /dev/null 2>&1 && break
  sleep 0.1
done
echo "one request:"
curl -s -o /dev/null -D - "http://127.0.0.1:$PORT/limited/hello" | grep -iE '^(HTTP|ratelimit|retry-after)'
LIMIT="$LIMIT" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s load/ratelimit/count.lua "http://127.0.0.1:$PORT/limited/hello"
