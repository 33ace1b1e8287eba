#!/usr/bin/env bash
# Starts the whole stack on one machine with embedded defaults (no Redis, no PostgreSQL):
#   control plane  http://127.0.0.1:5100  SQLite in ./data/dev, bootstrap org "Acme" with admin@acme.test
#   edge           http://127.0.0.1:5080  (admin listener :9901), following the control plane's feed (issuer, keys,
#                  revocations, org rate limits) with an edge:sync key it creates, plus a local dev issuer
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

# The edge follows the control plane's change feed (issuer, keys, revocations, org rate limits) with an edge:sync key.
login() {
  curl -fs -X POST "$CP/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"email\":\"admin@acme.test\",\"password\":\"$ADMIN_PASSWORD\"}" | sed -E 's/.*"access_token":"([^"]+)".*/\1/'
}
ADMIN_TOKEN="$(login)"
EDGE_KEY="$(curl -fs -X POST "$CP/v1/api-keys" -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' \
  -d '{"name":"dev edge","scopes":["edge:sync"],"environment":"live"}' | sed -E 's/.*"key":"([^"]+)".*/\1/')"
case "$EDGE_KEY" in sk_live_*) ;; *) echo "dev.sh: could not create the edge's sync key at $CP" >&2; exit 1 ;; esac

dotnet src/EdgeProxy/bin/Release/net10.0/Authio.EdgeProxy.dll --urls "${EDGE_URLS:-http://127.0.0.1:5080}" \
  --Edge:Demo:Enabled=true --Logging:LogLevel:Default=Warning \
  --Edge:ControlPlane:Url="$CP" --Edge:ControlPlane:ApiKey="$EDGE_KEY" "$@" &
pids+=($!)
sleep 3
cat <<EOT
==== Control plane ====
# Sign in as the bootstrap admin and call through the edge with the control plane's token:
TOKEN=\$(curl -s -X POST $CP/v1/auth/login -H 'Content-Type: application/json' \\
  -d '{"email":"admin@acme.test","password":"$ADMIN_PASSWORD"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
curl -s http://127.0.0.1:5080/api/hello -H "Authorization: Bearer \$TOKEN"      # 200: upstream sees the admin's identity
curl -s http://127.0.0.1:5080/admin/users -H "Authorization: Bearer \$TOKEN"    # 200: role mod carries scope 'admin'
# An API key, through the edge (the secret never reaches the upstream):
KEY=\$(curl -s -X POST $CP/v1/api-keys -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' \\
  -d '{"name":"demo","scopes":["read:applications"],"environment":"live"}' | sed -E 's/.*"key":"([^"]+)".*/\1/')
curl -s http://127.0.0.1:5080/api/hello -H "Authorization: Bearer \$KEY"        # 200: X-Authio-Key-Id upstream
# A rate limit for the whole org, applied by the edge within milliseconds (no restart); 429 once spent:
ORG=\$(curl -s $CP/v1/org -H "Authorization: Bearer \$TOKEN" | sed -E 's/^\{"id":"([^"]+)".*/\1/')
curl -s http://127.0.0.1:5080/orgs/\$ORG/applications -H "Authorization: Bearer \$TOKEN"  # 200: the token's read:* covers the route's read:applications
curl -s -X PUT $CP/v1/orgs/\$ORG/rate-limits -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' -d '{"default":"5/1m per org"}'
for i in 1 2 3 4 5 6; do curl -s -o /dev/null -w '%{http_code} ' http://127.0.0.1:5080/api/hello -H "Authorization: Bearer \$TOKEN"; done; echo
curl -s -X PUT $CP/v1/orgs/\$ORG/rate-limits -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' -d '{"default":null}'
# Sign out: the session is revoked at the edge at once (401 with the same, unexpired token):
curl -s -X POST $CP/v1/auth/logout -H "Authorization: Bearer \$TOKEN"; curl -s http://127.0.0.1:5080/api/hello -H "Authorization: Bearer \$TOKEN"
# API reference: $CP/docs
EOT
wait -n "${pids[@]}"
