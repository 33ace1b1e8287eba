#!/usr/bin/env bash
# Verify one audit seal (checkpoint or retention cut: a compact JWS, ES256) with openssl alone, and print its payload.
#   docs/audit-verify-seal.sh '<jws>' jwks.json
# Take the JWS from an export line {"seal":…,"throughSeq":…,"jws":"…"}; jwks.json from /.well-known/jwks.json.
# Needs bash, openssl, jq, xxd, basenc (coreutils). Exit 0 and the payload when the signature verifies, else 1.
set -euo pipefail
jws="$1"; jwks="$2"
IFS=. read -r h p s <<<"$jws"
b64url() { local v="$1"; while (( ${#v} % 4 )); do v="$v="; done; printf '%s' "$v" | basenc --base64url -d; }
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT

kid="$(b64url "$h" | jq -r .kid)"
[ "$(b64url "$h" | jq -r .alg)" = ES256 ] || { echo "not ES256" >&2; exit 1; }
x="$(jq -r --arg k "$kid" '.keys[] | select(.kid == $k) | .x' "$jwks")"
y="$(jq -r --arg k "$kid" '.keys[] | select(.kid == $k) | .y' "$jwks")"
[ -n "$x" ] || { echo "kid $kid not in $jwks" >&2; exit 1; }

# P-256 public key: the fixed SubjectPublicKeyInfo prefix, then 04 || x || y.
{ printf '3059301306072a8648ce3d020106082a8648ce3d030107034200' | xxd -r -p; printf '\x04'; b64url "$x"; b64url "$y"; } > "$tmp/key.der"
openssl pkey -pubin -inform DER -in "$tmp/key.der" -out "$tmp/key.pem"

# JWS signature r || s (32 bytes each) → DER SEQUENCE of two INTEGERs (minimal, with a 00 when the top bit is set).
sig="$(b64url "$s" | xxd -p -c 64)"
int() { local v; v="$(printf '%s' "$1" | sed -E 's/^(00)+//')"; [ -z "$v" ] && v=00
  (( 0x${v:0:2} >= 0x80 )) && v="00$v"; printf '02%02x%s' $(( ${#v} / 2 )) "$v"; }
body="$(int "${sig:0:64}")$(int "${sig:64:64}")"
printf '30%02x%s' $(( ${#body} / 2 )) "$body" | xxd -r -p > "$tmp/sig.der"

printf '%s.%s' "$h" "$p" > "$tmp/input"
openssl dgst -sha256 -verify "$tmp/key.pem" -signature "$tmp/sig.der" "$tmp/input" >&2
b64url "$p"; echo
