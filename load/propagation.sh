#!/usr/bin/env bash
# Revocation propagation: a control plane, N edges, a Redis and an upstream on 127.0.0.1. Creates COUNT API keys,
# warms them at every edge, then revokes them one by one while probing all edges continuously, and reports p50/p99/max
# from the revoke call's return to the first 401 at the last edge — once over Redis Streams, once over the HTTP feed,
# for each fleet size in FLEET_SIZES.
# Usage: load/propagation.sh   (env: COUNT=50, MODES="redis http", FLEET_SIZES="3" (e.g. "1 2 4 8"),
# PROBE_INTERVAL_MS=2: pause between one edge's probes; 0 = back to back, which saturates a 2-core box and then
# measures the probe rather than the edges)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COUNT="${COUNT:-50}"
MODES="${MODES:-redis http}"
FLEET_SIZES="${FLEET_SIZES:-3}"
OUT="$ROOT/load/out/propagation"
EMAIL=admin@load.test
PASSWORD='Load!passw0rd1'
rm -rf "$OUT" && mkdir -p "$OUT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 Logging__LogLevel__Default=Warning

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'; }
PIDS=()
stop_all() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done; PIDS=(); }
# shellcheck source=../scripts/services/redis.sh
source "$ROOT/scripts/services/redis.sh"
trap 'stop_all; authio_redis_stop' EXIT
wait_for() { for _ in $(seq 1 200); do curl -fs "$1" > /dev/null 2>&1 && return 0; sleep 0.1; done; echo "timed out waiting for $1" >&2; return 1; }

echo "== build (Release)"
dotnet build "$ROOT/src/ControlPlane" -c Release -nologo -v q -clp:ErrorsOnly
dotnet build "$ROOT/src/EdgeProxy" -c Release -nologo -v q -clp:ErrorsOnly
dotnet build "$ROOT/load/Authio.Load.Tools" -c Release -nologo -v q -clp:ErrorsOnly
TOOLS=(dotnet "$ROOT/load/Authio.Load.Tools/bin/Release/net10.0/Authio.Load.Tools.dll")
authio_redis_start > /dev/null

for size in $FLEET_SIZES; do
for mode in $MODES; do
  # Each run is a new deployment: nothing of the previous run's stream or revocation set.
  redis-cli -h 127.0.0.1 -p "${AUTHIO_TEST_REDIS##*:}" FLUSHALL > /dev/null
  cp_port=$(free_port); up_port=$(free_port); CP="http://127.0.0.1:$cp_port"
  redis_args=(); [ "$mode" = redis ] && redis_args=("--ControlPlane:Redis=$AUTHIO_TEST_REDIS")
  dotnet "$ROOT/src/ControlPlane/bin/Release/net10.0/Authio.ControlPlane.dll" --urls "$CP" \
    --ControlPlane:DataDirectory="$OUT/cp-$mode-$size" --ControlPlane:Issuer="$CP" \
    --ControlPlane:Bootstrap:OrgName=Load --ControlPlane:Bootstrap:AdminEmail=$EMAIL \
    --ControlPlane:Bootstrap:AdminPassword="$PASSWORD" --ControlPlane:Passwords:BcryptCost=10 \
    --ControlPlane:RateLimits:Enabled=false "${redis_args[@]}" > "$OUT/cp-$mode-$size.log" 2>&1 &
  PIDS+=($!)
  wait_for "$CP/.well-known/jwks.json"
  "${TOOLS[@]}" upstream --port "$up_port" > "$OUT/upstream-$mode-$size.log" 2>&1 & PIDS+=($!)
  edge_key=$("${TOOLS[@]}" edge-key --cp "$CP" --email $EMAIL --password "$PASSWORD")
  edges=()
  l2_key=$(head -c 32 /dev/urandom | base64) # the edges' shared API-key L2 MAC key
  for n in $(seq 1 "$size"); do
    port=$(free_port); admin=$(free_port)
    edge_redis=(); [ "$mode" = redis ] && edge_redis=("--Edge:Redis=$AUTHIO_TEST_REDIS" "--Edge:ApiKeys:CacheSigningKey=$l2_key")
    dotnet "$ROOT/src/EdgeProxy/bin/Release/net10.0/Authio.EdgeProxy.dll" --urls "http://127.0.0.1:$port" \
      --Edge:AdminUrls="http://127.0.0.1:$admin" --Edge:ControlPlane:Url="$CP" --Edge:ControlPlane:ApiKey="$edge_key" \
      "${edge_redis[@]}" --ReverseProxy:Routes:api:ClusterId=up --ReverseProxy:Routes:api:Match:Path='/api/{**rest}' \
      --ReverseProxy:Clusters:up:Destinations:d1:Address="http://127.0.0.1:$up_port/" > "$OUT/edge-$mode-$size-$n.log" 2>&1 &
    PIDS+=($!)
    wait_for "http://127.0.0.1:$admin/readyz"
    edges+=("http://127.0.0.1:$port")
  done
  echo "== $mode: control plane $CP, edges ${edges[*]}"
  "${TOOLS[@]}" propagation --cp "$CP" --email $EMAIL --password "$PASSWORD" --edges "$(IFS=,; echo "${edges[*]}")" \
    --count "$COUNT" --label "$mode, $size edges" --probe-interval-ms "${PROBE_INTERVAL_MS:-2}" | tee -a "$OUT/results.txt"
  stop_all
done
done
echo "== results"; cat "$OUT/results.txt"
