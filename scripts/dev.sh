#!/usr/bin/env bash
# Starts the whole stack on one machine with embedded defaults (no Redis, no PostgreSQL):
#   control plane  http://127.0.0.1:5100  SQLite in ./data/dev, bootstrap org "Acme" with admin@acme.test
#   edge           http://127.0.0.1:5080  (admin listener :9901), trusting the control plane and a local dev issuer
#   demo upstream  http://127.0.0.1:5081  echoes the identity the edge forwarded
# It prints tokens and curl lines that succeed and fail. Ctrl+C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
CP=http://127.0.0.1:5100
ADMIN_PASSWORD="${AUTHIO_DEV_PASSWORD:-Dev!passw0rd}"

dotnet build src/ControlPlane -c Release -v quiet -nologo > /dev/null
dotnet build src/EdgeProxy -c Release -v quiet -nologo > /dev/null

pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null' EXIT INT TERM

dotnet src/ControlPlane/bin/Release/net10.0/Authio.ControlPlane.dll --urls "$CP" \
  --ControlPlane:DataDirectory=./data/dev --ControlPlane:Issuer="$CP" \
  --ControlPlane:Bootstrap:OrgName=Acme --ControlPlane:Bootstrap:AdminEmail=admin@acme.test \
  --ControlPlane:Bootstrap:AdminPassword="$ADMIN_PASSWORD" --Logging:LogLevel:Default=Warning &
pids+=($!)
for _ in $(seq 1 120); do curl -fs "$CP/.well-known/jwks.json" > /dev/null 2>&1 && break; sleep 0.5; done

dotnet src/EdgeProxy/bin/Release/net10.0/Authio.EdgeProxy.dll --urls "${EDGE_URLS:-http://127.0.0.1:5080}" \
  --Edge:Demo:Enabled=true --Logging:LogLevel:Default=Warning \
  --Edge:Issuers:0:Issuer="$CP" --Edge:Issuers:0:Audiences:0=authio-api \
  --Edge:Issuers:0:JwksUri="$CP/.well-known/jwks.json" "$@" &
pids+=($!)
sleep 3
cat <<EOT
==== Control plane ====
# Sign in as the bootstrap admin and call through the edge with the control plane's token:
TOKEN=\$(curl -s -X POST $CP/v1/auth/login -H 'Content-Type: application/json' \\
  -d '{"email":"admin@acme.test","password":"$ADMIN_PASSWORD"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
curl -s http://127.0.0.1:5080/api/hello -H "Authorization: Bearer \$TOKEN"      # 200: upstream sees the admin's identity
curl -s http://127.0.0.1:5080/admin/users -H "Authorization: Bearer \$TOKEN"    # 200: role mod carries scope 'admin'
# API reference: $CP/docs
EOT
wait -n "${pids[@]}"
