#!/usr/bin/env bash
# The load kit: runs one scenario of load/scenarios/ against a local stack on 127.0.0.1 — a stub upstream, the edge
# (configured as the scenario's "stack" says), bare YARP for comparison mode, and a control plane when the scenario
# uses API keys — with credentials minted for it, then writes result.json and report.html. See load/README.md.
# Usage: load/kit.sh SCENARIO [--compare] [runner options: --duration 10s --warmup 2s --rps N --connections N --rounds N]
#   SCENARIO: a name from load/scenarios/ (steady-jwt, token-churn, ...) or a path to a .json/.yaml file.
#   --compare: also run the scenario against bare YARP (same upstream), alternating, and print the ratio.
# Env: OUT_DIR (default load/out/kit/<name>), EDGE_DLL (an edge build to test instead of src/EdgeProxy's Release build),
#      NO_BUILD=1 (use the Release builds already there: back-to-back runs skip the incremental builds).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ $# -ge 1 ] || { sed -n '2,9p' "$0" >&2; exit 2; }
SCENARIO=$1; shift
for candidate in "$SCENARIO" "$ROOT/load/scenarios/$SCENARIO.json" "$ROOT/load/scenarios/$SCENARIO.yaml"; do
  [ -f "$candidate" ] && { SCENARIO=$candidate; break; }
done
[ -f "$SCENARIO" ] || { echo "no scenario '$SCENARIO' (load/scenarios/: $(cd "$ROOT/load/scenarios" && ls | sed 's/\.[a-z]*$//' | xargs))" >&2; exit 2; }
command -v jq > /dev/null || { echo "jq not found: apt-get update && apt-get install -y jq" >&2; exit 1; }
COMPARE=0; RUN_ARGS=()
for arg in "$@"; do if [ "$arg" = --compare ]; then COMPARE=1; else RUN_ARGS+=("$arg"); fi; done

ISSUER="https://id.authio.load/"
AUDIENCE="https://api.authio.load"
EMAIL=admin@load.test
PASSWORD='Load!passw0rd1'
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 Logging__LogLevel__Default=Warning
source "$ROOT/load/lib.sh"

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'; }
wait_for() {
  for _ in $(seq 1 300); do curl -fs -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "timed out waiting for $1; logs in $OUT" >&2; tail -n 20 "$OUT"/*.log >&2; exit 1
}
start() { local name=$1; shift; "$@" > "$OUT/$name.log" 2>&1 & PIDS+=($!); }

if [ "${NO_BUILD:-0}" = 1 ]; then
  TOOLS=(dotnet "$ROOT/load/Authio.Load.Tools/bin/Release/net10.0/Authio.Load.Tools.dll")
else
  build_edge_and_tools
fi
SPEC=$("${TOOLS[@]}" scenario --scenario "$SCENARIO")
NAME=$(jq -r .name <<< "$SPEC")
NEEDS_CP=$(jq -r .stack.controlPlane <<< "$SPEC")
FORWARD_AUTH=$(jq -r .stack.forwardAuth <<< "$SPEC")
mapfile -t EDGE_EXTRA < <(jq -r '.stack.edgeArgs[]' <<< "$SPEC")
MINT_KIND=$(jq -r '.credentials.mint.kind // empty' <<< "$SPEC")
MINT_COUNT=$(jq -r '.credentials.mint.count // 1' <<< "$SPEC")
OUT="${OUT_DIR:-$ROOT/load/out/kit/$NAME}"
rm -rf "$OUT" && mkdir -p "$OUT"
if [ "$NEEDS_CP" = true ] && [ "${NO_BUILD:-0}" != 1 ]; then
  echo "== build control plane (Release)"
  dotnet build "$ROOT/src/ControlPlane/Authio.ControlPlane.csproj" -c Release -nologo -v q -clp:ErrorsOnly
fi
EDGE_DLL="${EDGE_DLL:-$ROOT/src/EdgeProxy/bin/Release/net10.0/Authio.EdgeProxy.dll}"

echo "== stack for $NAME (logs in $OUT)"
"${TOOLS[@]}" keygen --out "$OUT/keys" > /dev/null
UP_PORT=$(free_port); EDGE_PORT=$(free_port); ADMIN_PORT=$(free_port)
start upstream "${TOOLS[@]}" upstream --port "$UP_PORT"
EDGE_ARGS=(
  --urls "http://127.0.0.1:$EDGE_PORT" "--Edge:AdminUrls=http://127.0.0.1:$ADMIN_PORT"
  "--Edge:Issuers:0:Issuer=$ISSUER" "--Edge:Issuers:0:Audiences:0=$AUDIENCE" "--Edge:Issuers:0:JwksUri=$OUT/keys/jwks.json"
  "--ReverseProxy:Routes:all:ClusterId=up" "--ReverseProxy:Routes:all:Match:Path={**catch-all}"
  "--ReverseProxy:Clusters:up:Destinations:d1:Address=http://127.0.0.1:$UP_PORT/"
)
TARGET="http://127.0.0.1:$EDGE_PORT"; TARGET_NAME=edge
if [ "$FORWARD_AUTH" = true ]; then
  FA_PORT=$(free_port)
  EDGE_ARGS+=("--Edge:ForwardAuth:Urls=http://127.0.0.1:$FA_PORT")
  TARGET="http://127.0.0.1:$FA_PORT"; TARGET_NAME="edge forward-auth"
fi
CP_ARGS=()
if [ "$NEEDS_CP" = true ]; then
  CP="http://127.0.0.1:$(free_port)"
  # Rate limits off: the kit creates its API keys in a burst from one address.
  start control-plane dotnet "$ROOT/src/ControlPlane/bin/Release/net10.0/Authio.ControlPlane.dll" --urls "$CP" \
    --ControlPlane:DataDirectory="$OUT/cp-data" --ControlPlane:Issuer="$CP" \
    --ControlPlane:Bootstrap:OrgName=Load --ControlPlane:Bootstrap:AdminEmail=$EMAIL \
    --ControlPlane:Bootstrap:AdminPassword="$PASSWORD" --ControlPlane:Passwords:BcryptCost=10 --ControlPlane:RateLimits:Enabled=false
  wait_for "$CP/.well-known/jwks.json"
  EDGE_KEY=$("${TOOLS[@]}" edge-key --cp "$CP" --email $EMAIL --password "$PASSWORD")
  EDGE_ARGS+=("--Edge:ControlPlane:Url=$CP" "--Edge:ControlPlane:ApiKey=$EDGE_KEY")
  CP_ARGS=(--cp "$CP" --email "$EMAIL" --password "$PASSWORD")
fi
start edge dotnet "$EDGE_DLL" "${EDGE_ARGS[@]}" "${EDGE_EXTRA[@]}"
wait_for "http://127.0.0.1:$UP_PORT/"
wait_for "http://127.0.0.1:$ADMIN_PORT/readyz"
BASELINE_ARGS=()
if [ "$COMPARE" = 1 ]; then
  BARE_PORT=$(free_port)
  start bare-yarp "${TOOLS[@]}" bare-yarp --port "$BARE_PORT" --upstream "http://127.0.0.1:$UP_PORT/"
  wait_for "http://127.0.0.1:$BARE_PORT/"
  BASELINE_ARGS=(--baseline "http://127.0.0.1:$BARE_PORT" --baseline-name bare-yarp)
fi

CREDENTIAL_ARGS=()
if [ -n "$MINT_KIND" ]; then
  echo "== mint $MINT_COUNT × $MINT_KIND"
  "${TOOLS[@]}" mint --kind "$MINT_KIND" --count "$MINT_COUNT" --key "$OUT/keys" --issuer "$ISSUER" --audience "$AUDIENCE" \
    "${CP_ARGS[@]}" > "$OUT/credentials.txt"
  CREDENTIAL_ARGS=(--credentials "$OUT/credentials.txt")
fi

"${TOOLS[@]}" run --scenario "$SCENARIO" --target "$TARGET" --target-name "$TARGET_NAME" "${BASELINE_ARGS[@]}" "${CREDENTIAL_ARGS[@]}" "${CP_ARGS[@]}" \
  --out "$OUT" "${RUN_ARGS[@]}"
