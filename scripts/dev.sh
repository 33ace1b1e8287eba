#!/usr/bin/env bash
# Starts the whole stack on one machine with embedded defaults: the edge on :5080 (admin :9901), a demo upstream
# on :5081 and a local dev issuer whose tokens are printed with ready-to-run curl lines. Ctrl+C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build src/EdgeProxy -c Release -v quiet -nologo
exec dotnet src/EdgeProxy/bin/Release/net10.0/Authio.EdgeProxy.dll \
  --urls "${EDGE_URLS:-http://127.0.0.1:5080}" --Edge:Demo:Enabled=true --Logging:LogLevel:Default=Warning "$@"
