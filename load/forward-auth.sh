#!/usr/bin/env bash
# Forward-auth under wrk: bare nginx in front of the upstream vs nginx + the edge's forward-auth listener
# (deploy/forward-auth/nginx.conf as shipped) vs nginx + an ES256 check in njs (load/forward-auth/jwt.js), all with
# one repeated valid token, rounds alternating the order. Prints every round's RPS ratio to bare nginx and the median.
# Usage: load/forward-auth.sh   (env: THREADS=2 CONNS=64 DURATION=8s WARMUP=2s PREWARM=20s ROUNDS=5, ports via *_PORT).
# Needs nginx (nginx-light) and, for the njs anchor, libnginx-mod-http-js; without it that target is skipped.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/load/out-forward-auth"
LUA="$ROOT/load/tokens.lua"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-64}"
DURATION="${DURATION:-8s}"
WARMUP="${WARMUP:-2s}"
PREWARM="${PREWARM:-20s}"
ROUNDS="${ROUNDS:-5}"
source "$ROOT/load/lib.sh"
require_counts ROUNDS
require_seconds DURATION WARMUP PREWARM
UP_PORT="${UP_PORT:-18281}"
EDGE_PORT="${EDGE_PORT:-18282}"
EDGE_ADMIN_PORT="${EDGE_ADMIN_PORT:-18283}"
FA_PORT="${FA_PORT:-18284}"
BARE_PORT="${BARE_PORT:-18285}"
AUTH_PORT="${AUTH_PORT:-18286}"
NJS_PORT="${NJS_PORT:-18287}"
ISSUER="https://id.authio.load/"
AUDIENCE="https://api.authio.load"
NGINX="${AUTHIO_NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"
NJS_MODULE="${NJS_MODULE:-/usr/lib/nginx/modules/ngx_http_js_module.so}"

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 1; }
[ -x "$NGINX" ] || { echo "nginx not found: apt-get install -y nginx-light" >&2; exit 1; }
require_free_ports "$UP_PORT" "$EDGE_PORT" "$EDGE_ADMIN_PORT" "$FA_PORT" "$BARE_PORT" "$AUTH_PORT" "$NJS_PORT"
build_edge_and_tools
EDGE=(dotnet "$ROOT/src/EdgeProxy/bin/Release/net10.0/Authio.EdgeProxy.dll")

echo "== keys and tokens"
rm -rf "$OUT" && mkdir -p "$OUT/tmp" && chmod 777 "$OUT/tmp"
"${TOOLS[@]}" keygen --out "$OUT/keys"
"${TOOLS[@]}" mint --key "$OUT/keys" --issuer "$ISSUER" --audience "$AUDIENCE" --count 1 > "$OUT/single.txt"
# The njs anchor's key: the JWK's point as SPKI DER (the fixed P-256 prefix, then 04 || x || y).
python3 - "$OUT/keys/jwks.json" "$OUT/key.spki" "$OUT/key.kid" <<'PY'
import base64, json, sys
k = json.load(open(sys.argv[1]))["keys"][0]
b = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
open(sys.argv[2], "wb").write(bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200") + b"\x04" + b(k["x"]) + b(k["y"]))
open(sys.argv[3], "w").write(k["kid"])
PY

echo "== start upstream, edge (forward-auth listener), three nginx"
export Logging__LogLevel__Default=Warning
start() { local name=$1; shift; "$@" >"$OUT/$name.log" 2>&1 & PIDS+=($!); LAST_PID=$!; }
start upstream "${TOOLS[@]}" upstream --port "$UP_PORT"
start edge "${EDGE[@]}" --urls "http://127.0.0.1:$EDGE_PORT" "--Edge:AdminUrls=http://127.0.0.1:$EDGE_ADMIN_PORT" \
  "--Edge:ForwardAuth:Urls=http://127.0.0.1:$FA_PORT" \
  "--Edge:ForwardAuth:SharedSecretHeader=X-Edge-Forward-Auth-Secret" "--Edge:ForwardAuth:SharedSecret=change-me-to-the-shared-secret" \
  "--Edge:Issuers:0:Issuer=$ISSUER" "--Edge:Issuers:0:Audiences:0=$AUDIENCE" "--Edge:Issuers:0:JwksUri=$OUT/keys/jwks.json" \
  "--ReverseProxy:Routes:all:ClusterId=up" "--ReverseProxy:Routes:all:Match:Path={**catch-all}" \
  "--ReverseProxy:Clusters:up:Destinations:d1:Address=http://127.0.0.1:$UP_PORT/"
EDGE_PID=$LAST_PID

nginx_conf() { # name load-module-line server-block
  local dir="$OUT/nginx-$1"
  mkdir -p "$dir"
  cp "$ROOT/deploy/forward-auth/authio-check.conf" "$dir/"
  cat > "$dir/nginx.conf" <<CONF
daemon off;
worker_processes 1;
$2
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $OUT/tmp/body; proxy_temp_path $OUT/tmp/proxy; fastcgi_temp_path $OUT/tmp/fastcgi;
    uwsgi_temp_path $OUT/tmp/uwsgi; scgi_temp_path $OUT/tmp/scgi;
    $3
}
CONF
  start "nginx-$1" "$NGINX" -p "$dir/" -c "$dir/nginx.conf"
}
UPSTREAM_BLOCK="upstream app { server 127.0.0.1:$UP_PORT; keepalive 32; }"
PROXY="proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_pass http://app;"
# Bare: nginx proxying to the upstream, nothing else.
nginx_conf bare "" "$UPSTREAM_BLOCK server { listen 127.0.0.1:$BARE_PORT; location / { $PROXY } }"
# nginx + edge: the shipped configuration with its three addresses replaced (as the nginx tests do).
sed -e "s/server 127.0.0.1:9002;/server 127.0.0.1:$FA_PORT;/" -e "s/server 127.0.0.1:8080;/server 127.0.0.1:$UP_PORT;/" \
  -e "s/listen 8000;/listen 127.0.0.1:$AUTH_PORT;/" "$ROOT/deploy/forward-auth/nginx.conf" > "$OUT/authio-forward-auth.conf"
mkdir -p "$OUT/nginx-edge" && cp "$OUT/authio-forward-auth.conf" "$OUT/nginx-edge/"
nginx_conf edge "" "include authio-forward-auth.conf;"
HAVE_NJS=0
if [ -f "$NJS_MODULE" ]; then
  HAVE_NJS=1
  cp "$ROOT/load/forward-auth/jwt.js" "$OUT/"
  nginx_conf njs "load_module $NJS_MODULE;" "js_path $OUT/; js_import jwt from jwt.js; $UPSTREAM_BLOCK
    server { listen 127.0.0.1:$NJS_PORT;
      set \$jwt_key_file $OUT/key.spki; set \$jwt_kid $(cat "$OUT/key.kid"); set \$jwt_issuer $ISSUER; set \$jwt_audience $AUDIENCE;
      location / { auth_request /_jwt; $PROXY }
      location = /_jwt { internal; js_content jwt.verify; } }"
else
  echo "   njs module not found ($NJS_MODULE): the njs anchor is not measured (apt-get install -y libnginx-mod-http-js)"
fi

wait_for() {
  for _ in $(seq 1 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.2; done
  echo "timed out waiting for $1; logs in $OUT" >&2; tail -n 20 "$OUT"/*.log "$OUT"/nginx-*/error.log >&2; exit 1
}
wait_for "http://127.0.0.1:$UP_PORT/"
wait_for "http://127.0.0.1:$EDGE_ADMIN_PORT/readyz"
wait_for "http://127.0.0.1:$BARE_PORT/"
wait_for "http://127.0.0.1:$AUTH_PORT/"
[ "$HAVE_NJS" = 1 ] && wait_for "http://127.0.0.1:$NJS_PORT/"

status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
TOKEN=$(head -n1 "$OUT/single.txt")
checks="edge:valid=$(status -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$AUTH_PORT/api/items") edge:none=$(status "http://127.0.0.1:$AUTH_PORT/api/items")"
# A forged signature: one character inside it changed (not the last one, which carries only 2 bits: ES256's last
# base64url character is A, Q, g or w, so replacing it with a fixed letter left a quarter of the tokens unchanged).
SIG_CHAR=${TOKEN: -10:1}; FORGED="${TOKEN:0:${#TOKEN}-10}$([ "$SIG_CHAR" = A ] && echo B || echo A)${TOKEN: -9}"
[ "$HAVE_NJS" = 1 ] && checks+=" njs:valid=$(status -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$NJS_PORT/api/items") njs:forged=$(status -H "Authorization: Bearer $FORGED" "http://127.0.0.1:$NJS_PORT/api/items")"
echo "   sanity: $checks"
case "$checks" in
  "edge:valid=200 edge:none=401"|"edge:valid=200 edge:none=401 njs:valid=200 njs:forged=401") ;;
  *) echo "sanity check failed" >&2; tail -n 5 "$OUT"/nginx-*/error.log >&2; exit 1 ;;
esac

RESULTS="$OUT/results.tsv"
printf 'target\tround\trps\tp50_ms\tp99_ms\tnon2xx\n' > "$RESULTS"
bench() { # target round port
  local file="$OUT/wrk-$1-$2.txt" url="http://127.0.0.1:$3/api/items"
  TOKENS_FILE="$OUT/single.txt" wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" -s "$LUA" "$url" > /dev/null
  TOKENS_FILE="$OUT/single.txt" wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$LUA" "$url" > "$file"
  local line; line=$(grep '^RESULT' "$file")
  printf '%s\t%s\t%s\n' "$1" "$2" "$(sed -E 's/RESULT rps=([^ ]+) p50_ms=([^ ]+) p99_ms=([^ ]+) requests=[^ ]+ non2xx=([^ ]+) socket_errors=.*/\1\t\2\t\3\t\4/' <<< "$line")" \
    | tee -a "$RESULTS" | awk -F'\t' '{ printf "   %-12s #%s %8s rps  p50 %7s ms  p99 %7s ms  non-2xx %s\n", $1, $2, $3, $4, $5, $6 }'
}

# The edge is JIT-compiled: a fresh process keeps compiling for its first 20–25 s under load (load/README.md "Launches"),
# so it is loaded for PREWARM, unrecorded, before the first round; nginx is native and needs none.
echo "== pre-warm: $PREWARM of load on nginx+edge, unrecorded"
TOKENS_FILE="$OUT/single.txt" wrk -t"$THREADS" -c"$CONNS" -d"$PREWARM" -s "$LUA" "http://127.0.0.1:$AUTH_PORT/api/items" > /dev/null
echo "== wrk -t$THREADS -c$CONNS, warm-up $WARMUP then $DURATION per target, $ROUNDS rounds ($(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg))"
TARGETS=("bare-nginx $BARE_PORT" "nginx+edge $AUTH_PORT")
[ "$HAVE_NJS" = 1 ] && TARGETS+=("nginx+njs $NJS_PORT")
for round in $(seq 1 "$ROUNDS"); do
  if (( round % 2 )); then order=$(seq 0 $(( ${#TARGETS[@]} - 1 ))); else order=$(seq $(( ${#TARGETS[@]} - 1 )) -1 0); fi
  for i in $order; do read -r name port <<< "${TARGETS[$i]}"; bench "$name" "$round" "$port"; done
done

echo
echo "== every round: nginx+edge / bare nginx, nginx+edge / nginx+njs; medians"
awk -F'\t' '
  NR == 1 { next }
  { rps[$1 "|" $2] = $3; if ($2 + 0 > rounds) rounds = $2 + 0 }
  function median(v, n,    i, j, t) {
    for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  END {
    for (r = 1; r <= rounds; r++) {
      a[r] = rps["nginx+edge|" r] / rps["bare-nginx|" r]
      line = sprintf("   round %d: edge/bare %.3f", r, a[r])
      if (("nginx+njs|" r) in rps) { b[r] = rps["nginx+edge|" r] / rps["nginx+njs|" r]; line = line sprintf("  edge/njs %.2f", b[r]) }
      print line
    }
    line = sprintf("   median: nginx+edge / bare nginx %.3f", median(a, rounds))
    if (length(b) > 0) line = line sprintf(", nginx+edge / nginx+njs %.2f", median(b, rounds))
    print line
  }' "$RESULTS" | tee "$OUT/summary.txt"
