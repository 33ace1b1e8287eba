#!/usr/bin/env bash
# Starts the whole stack on one machine with embedded defaults (no Redis, no PostgreSQL):
#   control plane  http://127.0.0.1:5100  SQLite in ./data/dev, bootstrap org "Acme" with admin@acme.test
#   edge           http://127.0.0.1:5080  (admin listener :9901), following the control plane's feed (issuer, keys,
#                  revocations, org rate limits) with an edge:sync key it creates once and keeps in ./data/dev, plus a
#                  local dev issuer
#   demo upstream  http://127.0.0.1:5081  echoes the identity the edge forwarded
# It prints tokens and curl lines that succeed and fail. Ctrl+C stops everything.
#
#   bash scripts/dev.sh            reuse ./data/dev (first run: create it)
#   bash scripts/dev.sh --reset    delete ./data/dev first and start from scratch
# Any other argument goes to the edge (e.g. --Edge:RateLimit:...). Never prompts (works with CI=true and no stdin).
set -Eeuo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
CP=http://127.0.0.1:5100
EDGE_ADMIN=http://127.0.0.1:9901
DATA=./data/dev
ADMIN_EMAIL=admin@acme.test
ADMIN_PASSWORD="${AUTHIO_DEV_PASSWORD:-Dev!passw0rd}"
EDGE_KEY_FILE="$DATA/dev-edge.key"

say() { printf 'dev.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
# Whatever fails unexpectedly, say where instead of exiting silently.
trap 'rc=$?; say "stopped: line $LINENO exited with status $rc (see the messages above)."; exit $rc' ERR

edge_args=()
for arg in "$@"; do
  case "$arg" in
    --reset) RESET=1 ;;
    *) edge_args+=("$arg") ;;
  esac
done
if [ -n "${RESET:-}" ] && [ -d "$DATA" ]; then
  say "--reset: deleting $DATA (users, keys, audit log of the dev stack)"
  rm -rf "$DATA"
fi
mkdir -p "$DATA"

dotnet build src/ControlPlane -c Release -v quiet -nologo > /dev/null || die "building src/ControlPlane failed (run: dotnet build src/ControlPlane)"
dotnet build src/EdgeProxy -c Release -v quiet -nologo > /dev/null || die "building src/EdgeProxy failed (run: dotnet build src/EdgeProxy)"

pids=()
stop_all() { [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null || true; }
trap stop_all EXIT
trap 'stop_all; exit 130' INT TERM

dotnet src/ControlPlane/bin/Release/net10.0/Authio.ControlPlane.dll --urls "$CP" \
  --ControlPlane:DataDirectory="$DATA" --ControlPlane:Issuer="$CP" \
  --ControlPlane:Bootstrap:OrgName=Acme --ControlPlane:Bootstrap:AdminEmail="$ADMIN_EMAIL" \
  --ControlPlane:Bootstrap:AdminPassword="$ADMIN_PASSWORD" --Logging:LogLevel:Default=Warning &
cp_pid=$!
pids+=("$cp_pid")
for _ in $(seq 1 120); do
  curl -fs "$CP/.well-known/jwks.json" > /dev/null 2>&1 && break
  kill -0 "$cp_pid" 2>/dev/null || die "the control plane exited during start-up (its messages are above). Is $DATA from an incompatible version? Then: bash scripts/dev.sh --reset"
  sleep 0.5
done
curl -fs "$CP/.well-known/jwks.json" > /dev/null 2>&1 || die "the control plane did not answer at $CP within 60 s (is port 5100 taken? try: ss -ltnp | grep 5100)"

# Signs the admin in: sets ADMIN_TOKEN, ORG_ID (the org signed in to) and LOGIN_PROBLEM (why not) and returns 0 or 1.
# An admin who belongs to several orgs (e.g. after POST /v1/orgs) must name one: the answer lists them, oldest first,
# and the oldest is the bootstrap org Acme.
ADMIN_TOKEN="" SIGNED_IN_ORG="" LOGIN_PROBLEM=""
login() {
  local body status org_field=""
  [ -n "${1:-}" ] && org_field=",\"org_id\":\"$1\""
  body="$(mktemp)"
  status="$(curl -s -o "$body" -w '%{http_code}' -X POST "$CP/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"$org_field}")" || status=000
  local text
  text="$(cat "$body")"
  rm -f "$body"
  case "$status" in
    200)
      ADMIN_TOKEN="$(printf '%s' "$text" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')"
      SIGNED_IN_ORG="${1:-}"
      return 0 ;;
    400)
      if [ -z "${1:-}" ] && printf '%s' "$text" | grep -q '"org_id"'; then
        local first
        first="$(printf '%s' "$text" | grep -oE 'org_[0-9a-f]+ \(Acme\)' | head -n 1 | cut -d' ' -f1 || true)"
        [ -n "$first" ] || first="$(printf '%s' "$text" | grep -oE 'org_[0-9a-f]+' | head -n 1 || true)"
        if [ -n "$first" ]; then
          say "$ADMIN_EMAIL belongs to several orgs; signing in to $first (Acme) with \"org_id\"."
          login "$first"
          return $?
        fi
      fi
      LOGIN_PROBLEM="sign-in refused (400): $text" ;;
    401) LOGIN_PROBLEM="the password of $ADMIN_EMAIL in $DATA is not the one this run uses (AUTHIO_DEV_PASSWORD, default Dev!passw0rd). Run with the password you set, or start afresh: bash scripts/dev.sh --reset" ;;
    423) LOGIN_PROBLEM="$ADMIN_EMAIL is locked out after repeated failed sign-ins: $(printf '%s' "$text" | sed -E 's/.*"detail":"([^"]+)".*/\1/') Wait that long, or start afresh: bash scripts/dev.sh --reset (deletes $DATA)" ;;
    429) LOGIN_PROBLEM="sign-in is rate limited: $(printf '%s' "$text" | sed -E 's/.*"detail":"([^"]+)".*/\1/') Wait and run dev.sh again." ;;
    000) LOGIN_PROBLEM="the control plane at $CP did not answer the sign-in" ;;
    *) LOGIN_PROBLEM="sign-in answered $status: $text" ;;
  esac
  return 1
}
login || say "WARNING: $LOGIN_PROBLEM"

# The edge's edge:sync key: created once, kept (owner-only) in the data directory and reused while it still works, so
# reruns neither need the admin's sign-in nor pile up keys.
EDGE_KEY=""
if [ -s "$EDGE_KEY_FILE" ]; then
  EDGE_KEY="$(cat "$EDGE_KEY_FILE")"
  code="$(curl -s -o /dev/null -w '%{http_code}' "$CP/v1/edge/snapshot" -H "Authorization: Bearer $EDGE_KEY")" || code=000
  if [ "$code" != 200 ]; then
    say "the saved edge key in $EDGE_KEY_FILE no longer works ($code); creating a new one."
    EDGE_KEY=""
  fi
fi
if [ -z "$EDGE_KEY" ]; then
  [ -n "$ADMIN_TOKEN" ] || die "cannot create the edge's sync key: $LOGIN_PROBLEM"
  created="$(curl -s -X POST "$CP/v1/api-keys" -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' \
    -d '{"name":"dev edge","scopes":["edge:sync"],"environment":"live"}')" || created=""
  EDGE_KEY="$(printf '%s' "$created" | sed -E 's/.*"key":"([^"]+)".*/\1/')"
  case "$EDGE_KEY" in sk_live_*) ;; *) die "could not create the edge's sync key at $CP: $created" ;; esac
  (umask 077; printf '%s\n' "$EDGE_KEY" > "$EDGE_KEY_FILE")
fi

dotnet src/EdgeProxy/bin/Release/net10.0/Authio.EdgeProxy.dll --urls "${EDGE_URLS:-http://127.0.0.1:5080}" \
  --Edge:Demo:Enabled=true --Logging:LogLevel:Default=Warning \
  --Edge:ControlPlane:Url="$CP" --Edge:ControlPlane:ApiKey="$EDGE_KEY" ${edge_args[@]+"${edge_args[@]}"} &
edge_pid=$!
pids+=("$edge_pid")
for _ in $(seq 1 60); do
  curl -fs "$EDGE_ADMIN/readyz" > /dev/null 2>&1 && break
  kill -0 "$edge_pid" 2>/dev/null || die "the edge exited during start-up (its messages are above)."
  sleep 0.5
done
curl -fs "$EDGE_ADMIN/readyz" > /dev/null 2>&1 || say "the edge is not ready after 30 s: curl -s $EDGE_ADMIN/readyz says why."

# The sign-in line names the org only when the admin belongs to several (then it is required).
ORG_FIELD=""
[ -n "$SIGNED_IN_ORG" ] && ORG_FIELD=",\"org_id\":\"$SIGNED_IN_ORG\""
cat <<EOT
==== Admin console ====
# Open in a browser and sign in as the bootstrap admin ($ADMIN_EMAIL / $ADMIN_PASSWORD):
$CP/admin/
==== Control plane ====
# Sign in as the bootstrap admin and call through the edge with the control plane's token:
TOKEN=\$(curl -s -X POST $CP/v1/auth/login -H 'Content-Type: application/json' \\
  -d '{"email":"$ADMIN_EMAIL","password":"$ADMIN_PASSWORD"$ORG_FIELD}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
curl -s http://127.0.0.1:5080/api/hello -H "Authorization: Bearer \$TOKEN"      # 200: upstream sees the admin's identity
curl -s http://127.0.0.1:5080/admin/users -H "Authorization: Bearer \$TOKEN"    # 200: role mod carries scope 'admin'
# An API key, through the edge (the secret never reaches the upstream):
KEY=\$(curl -s -X POST $CP/v1/api-keys -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' \\
  -d '{"name":"demo","scopes":["read:applications"],"environment":"live"}' | sed -E 's/.*"key":"([^"]+)".*/\1/')
curl -s http://127.0.0.1:5080/api/hello -H "Authorization: Bearer \$KEY"        # 200: X-Authio-Key-Id upstream
# A rate limit for the whole org, applied by the edge without a restart; 429 once spent. edge_applied waits until the
# edge's feed position (/readyz) passes the one before the change, i.e. the edge has applied it:
feed_seq() { curl -s $EDGE_ADMIN/readyz | sed -E 's/.*"sequence":([0-9]+).*/\1/'; }
edge_applied() { for _ in \$(seq 1 100); do [ "\$(feed_seq)" -gt "\$1" ] && return 0; sleep 0.1; done; echo "edge: no new change after 10 s (an unchanged limit sends none)" >&2; }
ORG=\$(curl -s $CP/v1/org -H "Authorization: Bearer \$TOKEN" | sed -E 's/^\{"id":"([^"]+)".*/\1/')
curl -s http://127.0.0.1:5080/orgs/\$ORG/applications -H "Authorization: Bearer \$TOKEN"  # 200: the token's read:* covers the route's read:applications
SEQ=\$(feed_seq); curl -s -X PUT $CP/v1/orgs/\$ORG/rate-limits -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' -d '{"default":"5/1m per org"}'; edge_applied \$SEQ
for i in 1 2 3 4 5 6; do curl -s -o /dev/null -w '%{http_code} ' http://127.0.0.1:5080/api/hello -H "Authorization: Bearer \$TOKEN"; done; echo
SEQ=\$(feed_seq); curl -s -X PUT $CP/v1/orgs/\$ORG/rate-limits -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' -d '{"default":null}'; edge_applied \$SEQ
# Sign out: the session's revocation reaches the edge within milliseconds (then 401 with the same, unexpired token):
SEQ=\$(feed_seq); curl -s -X POST $CP/v1/auth/logout -H "Authorization: Bearer \$TOKEN"; edge_applied \$SEQ
curl -s http://127.0.0.1:5080/api/hello -H "Authorization: Bearer \$TOKEN"
# API reference: $CP/docs
EOT
if [ -n "$LOGIN_PROBLEM" ]; then
  say "WARNING: the sign-in line above will not work yet: $LOGIN_PROBLEM"
fi
trap - ERR
wait -n "${pids[@]}" || true
say "a service stopped (its messages are above); stopping the rest."
