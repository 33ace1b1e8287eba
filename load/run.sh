#!/usr/bin/env bash
# Authio Edge vs bare YARP under wrk, both in front of the same minimal upstream, all on 127.0.0.1.
# Scenarios, each in every round against bare YARP: one repeated valid token; 1 000 rotating valid tokens; 100 rotating
# API keys (made at a control plane the edge follows); the anonymous route (the edge with no token work). Once, after
# the rounds: 1 000 rotating bad-signature tokens, and the no-cache edge.
# Every round starts fresh proxy processes, loads each for PREWARM, then measures each target paired with bare YARP in
# interleaved slices (bare-target-target-bare-…), so both see the same moments of a busy 2-core machine; the median
# over rounds is thus also a median over launches.
# Usage: load/run.sh   (env: THREADS=2 CONNS=64 SLICE=2s SLICES=4 WARMUP=1s PREWARM=20s ROUNDS=5 DURATION=8s TRACE_SAMPLING=0.01, ports via *_PORT;
#   EDGE_ENV="VAR=value ..." extra environment for every edge; SCENARIOS="valid-single api-keys" runs only those;
#   DIAGNOSTICS=1 adds bare-yarp-ids, edge-twin and edge-traced to every round).
# See load/README.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/load/out"
LUA="$ROOT/load/tokens.lua"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-64}"
# Every round pairs each target with bare YARP: WARMUP of each, then SLICES slices of SLICE each, interleaved
# (DURATION: the once-only runs).
SLICE="${SLICE:-2s}"
SLICES="${SLICES:-4}"
DURATION="${DURATION:-8s}"
WARMUP="${WARMUP:-1s}"
PREWARM="${PREWARM:-20s}"
# The median of the per-round ratios is the figure.
ROUNDS="${ROUNDS:-5}"
[[ "${DIAGNOSTICS:-0}" =~ ^[01]$ ]] || { echo "DIAGNOSTICS must be 0 or 1, not '$DIAGNOSTICS'" >&2; exit 2; }
source "$ROOT/load/lib.sh"
require_counts ROUNDS SLICES
require_seconds SLICE DURATION WARMUP PREWARM
UP_PORT="${UP_PORT:-18181}"
BARE_PORT="${BARE_PORT:-18182}"
EDGE_PORT="${EDGE_PORT:-18183}"
EDGE_ADMIN_PORT="${EDGE_ADMIN_PORT:-18184}"
NOCACHE_PORT="${NOCACHE_PORT:-18185}"
NOCACHE_ADMIN_PORT="${NOCACHE_ADMIN_PORT:-18186}"
ANON_PORT="${ANON_PORT:-18187}"
ANON_ADMIN_PORT="${ANON_ADMIN_PORT:-18188}"
TWIN_PORT="${TWIN_PORT:-18189}"
TWIN_ADMIN_PORT="${TWIN_ADMIN_PORT:-18190}"
TRACED_PORT="${TRACED_PORT:-18191}"
TRACED_ADMIN_PORT="${TRACED_ADMIN_PORT:-18192}"
SINK_PORT="${SINK_PORT:-18193}"
CP_PORT="${CP_PORT:-18194}"
BARE_IDS_PORT="${BARE_IDS_PORT:-18195}"
# The traced edge samples this share of requests (parent-based trace-id ratio) and exports them over OTLP/HTTP.
TRACE_SAMPLING="${TRACE_SAMPLING:-0.01}"
ISSUER="https://id.authio.load/"
AUDIENCE="https://api.authio.load"

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v wrk >/dev/null || { echo "wrk not found: apt-get update && apt-get install -y wrk" >&2; exit 1; }
require_free_ports "$UP_PORT" "$BARE_PORT" "$EDGE_PORT" "$EDGE_ADMIN_PORT" "$NOCACHE_PORT" "$NOCACHE_ADMIN_PORT" "$ANON_PORT" "$ANON_ADMIN_PORT" "$TWIN_PORT" "$TWIN_ADMIN_PORT" \
  "$TRACED_PORT" "$TRACED_ADMIN_PORT" "$SINK_PORT" "$CP_PORT" "$BARE_IDS_PORT"

build_edge_and_tools
dotnet build "$ROOT/src/ControlPlane/Authio.ControlPlane.csproj" -c Release -nologo -v q -clp:ErrorsOnly
read -r -a EXTRA_ENV <<< "${EDGE_ENV:-}"
EDGE=(env "${EXTRA_ENV[@]}" dotnet "$ROOT/src/EdgeProxy/bin/Release/net10.0/Authio.EdgeProxy.dll")

echo "== keys and tokens"
rm -rf "$OUT" && mkdir -p "$OUT"
"${TOOLS[@]}" keygen --out "$OUT/keys"
MINT=("${TOOLS[@]}" mint --key "$OUT/keys" --issuer "$ISSUER" --audience "$AUDIENCE")
"${MINT[@]}" --count 1 > "$OUT/single.txt"
"${MINT[@]}" --count 1000 > "$OUT/rotating.txt"
"${MINT[@]}" --count 1000 --bad-signature > "$OUT/invalid.txt"
wc -l "$OUT"/*.txt | sed 's/^/   /'

echo "== start upstream and control plane (once); every round starts its own proxies"
export Logging__LogLevel__Default=Warning
# Every process runs in an empty directory: ASP.NET watches its content root (the working directory) for
# appsettings changes, and a repository tree being written to (wrk output, logs) would wake it for nothing.
mkdir -p "$OUT/cwd"
start() { local name=$1; shift; (cd "$OUT/cwd" && exec "$@") >"$OUT/$name.log" 2>&1 & PIDS+=($!); LAST_PID=$!; }
EDGE_COMMON=(
  "--Edge:Issuers:0:Issuer=$ISSUER"
  "--Edge:Issuers:0:Audiences:0=$AUDIENCE"
  "--Edge:Issuers:0:JwksUri=$OUT/keys/jwks.json"
  "--ReverseProxy:Routes:all:ClusterId=up"
  "--ReverseProxy:Routes:all:Match:Path={**catch-all}"
  "--ReverseProxy:Clusters:up:Destinations:d1:Address=http://127.0.0.1:$UP_PORT/"
)
start upstream "${TOOLS[@]}" upstream --port "$UP_PORT"
# The control plane the default edge follows, for the API-key scenario (its own SQLite data under $OUT; rate limits
# off: the keys are made in a burst from one address).
CP="http://127.0.0.1:$CP_PORT"; CP_EMAIL=admin@load.test; CP_PASSWORD='Load!passw0rd1'
start control-plane dotnet "$ROOT/src/ControlPlane/bin/Release/net10.0/Authio.ControlPlane.dll" --urls "$CP" \
  --ControlPlane:DataDirectory="$OUT/cp-data" --ControlPlane:Issuer="$CP" --ControlPlane:Bootstrap:OrgName=Load \
  --ControlPlane:Bootstrap:AdminEmail=$CP_EMAIL --ControlPlane:Bootstrap:AdminPassword="$CP_PASSWORD" \
  --ControlPlane:Passwords:BcryptCost=10 --ControlPlane:RateLimits:Enabled=false
for _ in $(seq 1 300); do curl -fs -o /dev/null "$CP/.well-known/jwks.json" && break; sleep 0.1; done
EDGE_KEY=$("${TOOLS[@]}" edge-key --cp "$CP" --email $CP_EMAIL --password "$CP_PASSWORD")
# 100 API keys of the control plane's org (secrets only: the wrk script sends each line as a bearer credential).
"${TOOLS[@]}" mint --kind api-key --count 100 --cp "$CP" --email $CP_EMAIL --password "$CP_PASSWORD" | cut -f2 > "$OUT/api-keys.txt"
if [ "${DIAGNOSTICS:-0}" = 1 ]; then start otlp-sink "${TOOLS[@]}" upstream --port "$SINK_PORT"; fi

wait_for() {
  local url=$1
  for _ in $(seq 1 100); do
    curl -sf -o /dev/null "$url" && return 0
    sleep 0.2
  done
  echo "timed out waiting for $url; logs in $OUT" >&2; tail -n 20 "$OUT"/*.log >&2; exit 1
}
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
ROUND_PIDS=()
# Starts a round's proxies, fresh processes every round (a process's JIT tiering and dynamic PGO settle differently
# each launch, by up to ±9 % of its throughput: load/README.md "Launches"). Sets the *_PID variables.
start_round() { # round
  local round=$1 first=${#PIDS[@]}
  start "bare-yarp-r$round" "${TOOLS[@]}" bare-yarp --port "$BARE_PORT" --upstream "http://127.0.0.1:$UP_PORT/"; BARE_PID=$LAST_PID
  start "edge-r$round" "${EDGE[@]}" --urls "http://127.0.0.1:$EDGE_PORT" "--Edge:AdminUrls=http://127.0.0.1:$EDGE_ADMIN_PORT" "${EDGE_COMMON[@]}" \
    "--Edge:ControlPlane:Url=$CP" "--Edge:ControlPlane:ApiKey=$EDGE_KEY"
  EDGE_PID=$LAST_PID
  # The same pipeline with the route marked anonymous (no token work at all): separates what the edge's host
  # (metrics, admin listener, middleware plumbing) costs from what authentication costs.
  start "edge-anon-r$round" "${EDGE[@]}" --urls "http://127.0.0.1:$ANON_PORT" "--Edge:AdminUrls=http://127.0.0.1:$ANON_ADMIN_PORT" \
    "${EDGE_COMMON[@]}" --ReverseProxy:Routes:all:Metadata:Authio.Anonymous=true
  ANON_PID=$LAST_PID
  if [ "${DIAGNOSTICS:-0}" = 1 ]; then
    # Bare YARP that also drops Authorization and sets the six X-Authio-* headers the edge forwards for these tokens
    # (fixed values): what forwarding an identity costs (proxy and upstream), apart from what authenticating costs.
    start "bare-yarp-ids-r$round" "${TOOLS[@]}" bare-yarp --port "$BARE_IDS_PORT" --upstream "http://127.0.0.1:$UP_PORT/" --identity-headers
    BARE_IDS_PID=$LAST_PID
    # A second copy of the default edge (an A/A control): its ratio differs from the edge's only by noise.
    start "edge-twin-r$round" "${EDGE[@]}" --urls "http://127.0.0.1:$TWIN_PORT" "--Edge:AdminUrls=http://127.0.0.1:$TWIN_ADMIN_PORT" "${EDGE_COMMON[@]}"
    TWIN_PID=$LAST_PID
    # The default edge with tracing on at TRACE_SAMPLING, exporting to a sink that answers 200.
    start "edge-traced-r$round" env OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$SINK_PORT" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf \
      OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG="$TRACE_SAMPLING" \
      "${EDGE[@]}" --urls "http://127.0.0.1:$TRACED_PORT" "--Edge:AdminUrls=http://127.0.0.1:$TRACED_ADMIN_PORT" "${EDGE_COMMON[@]}"
    TRACED_PID=$LAST_PID
  fi
  ROUND_PIDS=("${PIDS[@]:$first}")
  wait_for "http://127.0.0.1:$UP_PORT/"
  wait_for "http://127.0.0.1:$BARE_PORT/"
  wait_for "http://127.0.0.1:$EDGE_ADMIN_PORT/readyz"
  wait_for "http://127.0.0.1:$ANON_ADMIN_PORT/readyz"
  if [ "${DIAGNOSTICS:-0}" = 1 ]; then
    wait_for "http://127.0.0.1:$BARE_IDS_PORT/"; wait_for "http://127.0.0.1:$TWIN_ADMIN_PORT/readyz"; wait_for "http://127.0.0.1:$TRACED_ADMIN_PORT/readyz"
  fi
  # The edge applies the keys' creation from the control plane's feed: wait (bounded) until it admits the last one.
  for _ in $(seq 1 100); do
    [ "$(status -H "Authorization: Bearer $(tail -n1 "$OUT/api-keys.txt")" "http://127.0.0.1:$EDGE_PORT/api/items")" = 200 ] && break; sleep 0.1
  done
  local checks
  checks="valid=$(status -H "Authorization: Bearer $SINGLE" "http://127.0.0.1:$EDGE_PORT/api/items")"
  checks+=" bad-signature=$(status -H "Authorization: Bearer $BAD" "http://127.0.0.1:$EDGE_PORT/api/items")"
  checks+=" no-token=$(status "http://127.0.0.1:$EDGE_PORT/api/items")"
  checks+=" api-key=$(status -H "Authorization: Bearer $(head -n1 "$OUT/api-keys.txt")" "http://127.0.0.1:$EDGE_PORT/api/items")"
  checks+=" anonymous=$(status "http://127.0.0.1:$ANON_PORT/api/items")"
  echo "   round $round: fresh bare-yarp, edge, edge-anon$([ "${DIAGNOSTICS:-0}" = 1 ] && echo ", bare-yarp-ids, edge-twin, edge-traced"); edge sanity: $checks"
  [[ $checks == "valid=200 bad-signature=401 no-token=401 api-key=200 anonymous=200" ]] || { echo "edge sanity check failed" >&2; exit 1; }
}
stop_round() {
  local pid
  for pid in "${ROUND_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${ROUND_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  ROUND_PIDS=()
}
SINGLE=$(head -n1 "$OUT/single.txt")
BAD=$(head -n1 "$OUT/invalid.txt")

RESULTS="$OUT/results.tsv"
printf 'scenario\ttarget\tround\trps\tp50_ms\tp99_ms\tnon2xx\terrors\tproxy_cpu_us_per_req\tloadavg\tpaired_with\n' > "$RESULTS"
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }   # utime + stime of the proxy process, in clock ticks
TICK_US=$((1000000 / $(getconf CLK_TCK)))
# One wrk run of RUN_FOR against a target; appends its RESULT line and the proxy's CPU ticks to FILE.
slice() { # file tokens port pid duration
  local before after
  before=$(cpu_ticks "$4")
  TOKENS_FILE="$2" wrk -t"$THREADS" -c"$CONNS" -d"$5" --latency -s "$LUA" "http://127.0.0.1:$3/api/items" >> "$1.raw"
  after=$(cpu_ticks "$4")
  echo "$(grep '^RESULT' "$1.raw" | tail -n1) ticks=$((after - before))" >> "$1"
}
# Sums a target's slices into one results.tsv row: RPS = all requests / all seconds; p50 and p99 are the
# request-weighted means of the slices' (wrk's percentiles cannot be merged exactly).
record() { # file scenario target round paired_with
  awk -v s="$2" -v t="$3" -v r="$4" -v pair="$5" -v tick="$TICK_US" -v load="$(cut -d' ' -f1 /proc/loadavg)" '
    { for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
      n += f["requests"]; secs += f["requests"] / (f["rps"] > 0 ? f["rps"] : 1); p50 += f["p50_ms"] * f["requests"]
      p99 += f["p99_ms"] * f["requests"]; bad += f["non2xx"]; err += f["socket_errors"]; ticks += f["ticks"] }
    END { w = n > 0 ? n : 1
      printf "%s\t%s\t%s\t%.0f\t%.3f\t%.3f\t%d\t%d\t%d\t%s\t%s\n", s, t, r, (secs > 0 ? n / secs : 0), p50 / w, p99 / w, bad, err, ticks * tick / w, load, pair }' "$1" \
    | tee -a "$RESULTS" | awk -F'\t' '{ printf "   %-16s %-13s #%s %7s rps  p50 %7s ms  p99 %7s ms  non-2xx %-7s proxy CPU %4s us/req  load %s%s\n", $1, $2, $3, $4, $5, $6, $7, $9, $10, ($11 != "-" && $2 == "bare-yarp" ? "  (paired with " $11 ")" : "") }'
}
# A target and bare YARP measured together: a warm-up of each, then SLICES slices of SLICE each, interleaved
# bare-target-target-bare-… (an ABBA pattern: a drift of the machine's speed over the pair — other processes, CPU
# frequency, the host — falls on both alike). The ratio of the pair is the round's figure for that target.
bench_pair() { # scenario target round port pid tokens-file
  local scenario=$1 target=$2 round=$3 port=$4 pid=$5 tokens=$6 base="$OUT/wrk-$1-$2-$3" k first
  rm -f "$base".* "$base-bare".*
  for first in $(( round % 2 )) $(( (round + 1) % 2 )); do # warm-up, unrecorded; who goes first alternates by round
    if (( first )); then TOKENS_FILE="$tokens" wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" -s "$LUA" "http://127.0.0.1:$BARE_PORT/api/items" > /dev/null
    else TOKENS_FILE="$tokens" wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" -s "$LUA" "http://127.0.0.1:$port/api/items" > /dev/null; fi
  done
  for k in $(seq 1 "$SLICES"); do
    if (( (k + round) % 2 )); then
      slice "$base-bare.slices" "$tokens" "$BARE_PORT" "$BARE_PID" "$SLICE"; slice "$base.slices" "$tokens" "$port" "$pid" "$SLICE"
    else
      slice "$base.slices" "$tokens" "$port" "$pid" "$SLICE"; slice "$base-bare.slices" "$tokens" "$BARE_PORT" "$BARE_PID" "$SLICE"
    fi
  done
  record "$base-bare.slices" "$scenario" bare-yarp "$round" "$target"
  record "$base.slices" "$scenario" "$target" "$round" "$target"
}
bench() { # scenario target round port pid tokens-file: one target alone (the once-only runs)
  local base="$OUT/wrk-$1-$2-$3"
  rm -f "$base".*
  TOKENS_FILE="$6" wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" -s "$LUA" "http://127.0.0.1:$4/api/items" > /dev/null
  slice "$base.slices" "$6" "$4" "$5" "$DURATION"
  record "$base.slices" "$1" "$2" "$3" -
}

echo "== wrk -t$THREADS -c$CONNS; every round: fresh processes, $PREWARM of load each, then every target paired with bare YARP: $WARMUP warm-up each, $SLICES × $SLICE each, interleaved (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
# Odd rounds run the pairs in this order, even rounds in reverse. edge-anon is the anonymous-route scenario (the same
# requests, the route needs no token); with DIAGNOSTICS=1, edge-twin, edge-traced and bare-yarp-ids are diagnostics
# of the one-token scenario. A run names the variables holding its target's port and pid (new every round).
RUNS=("valid-single edge EDGE_PORT EDGE_PID single" "valid-single edge-anon ANON_PORT ANON_PID single")
if [ "${DIAGNOSTICS:-0}" = 1 ]; then
  RUNS+=("valid-single bare-yarp-ids BARE_IDS_PORT BARE_IDS_PID single" "valid-single edge-twin TWIN_PORT TWIN_PID single"
    "valid-single edge-traced TRACED_PORT TRACED_PID single")
fi
RUNS+=("valid-rotating edge EDGE_PORT EDGE_PID rotating" "api-keys edge EDGE_PORT EDGE_PID api-keys")
if [ -n "${SCENARIOS:-}" ]; then
  kept=(); for run in "${RUNS[@]}"; do [[ " $SCENARIOS " == *" ${run%% *} "* ]] && kept+=("$run"); done; RUNS=("${kept[@]}")
fi
# Every process first carries PREWARM of load unrecorded, cycling 5 s at a time through the credentials of its
# scenarios: under load on 2 cores the edge keeps compiling (tier 0 → instrumented → tier 1) for 20–25 s before its
# throughput settles, bare YARP for less (load/README.md "Launches").
prewarm() { # port credential-file...
  local port=$1 left=${PREWARM%s} chunk; shift
  while (( left > 0 )); do
    for tokens in "$@"; do
      (( left > 0 )) || break
      chunk=$(( left < 5 ? left : 5 )); left=$(( left - chunk ))
      TOKENS_FILE="$OUT/$tokens.txt" wrk -t"$THREADS" -c"$CONNS" -d"${chunk}s" -s "$LUA" "http://127.0.0.1:$port/api/items" > /dev/null
    done
  done
}
# The credentials each process is pre-warmed with: those of its scenarios (bare YARP: all of them). Ports stay the
# same from round to round; only the processes behind them are new.
declare -A PREWARM_FILES=()
add_prewarm() { [[ " ${PREWARM_FILES[$1]:-} " == *" $2 "* ]] || PREWARM_FILES[$1]+=" $2"; }
for run in "${RUNS[@]}"; do
  read -r scenario name port_var pid_var tokens <<< "$run"
  add_prewarm "${!port_var}" "$tokens"; add_prewarm "$BARE_PORT" "$tokens"
done
for round in $(seq 1 "$ROUNDS"); do
  start_round "$round"
  for p in "${!PREWARM_FILES[@]}"; do read -r -a list <<< "${PREWARM_FILES[$p]}"; prewarm "$p" "${list[@]}"; done
  order=$(seq 0 $(( ${#RUNS[@]} - 1 ))); (( round % 2 )) || order=$(seq $(( ${#RUNS[@]} - 1 )) -1 0)
  for i in $order; do
    read -r scenario name port_var pid_var tokens <<< "${RUNS[$i]}"
    bench_pair "$scenario" "$name" "$round" "${!port_var}" "${!pid_var}" "$OUT/$tokens.txt"
  done
  if (( round < ROUNDS )) || [ -n "${SCENARIOS:-}" ]; then stop_round; fi
done
if [ -z "${SCENARIOS:-}" ]; then # the once-only runs belong to the full run, on the last round's processes
  # Every request pays full ES256 verification (no cache), and failures are never short-circuited by the per-IP
  # failure budget (all wrk connections share 127.0.0.1, so the default budget would answer 429 instead).
  start edge-nocache "${EDGE[@]}" --urls "http://127.0.0.1:$NOCACHE_PORT" "--Edge:AdminUrls=http://127.0.0.1:$NOCACHE_ADMIN_PORT" \
    "${EDGE_COMMON[@]}" --Edge:Tokens:CacheCapacity=0 --Edge:FailureBudget:PerSecond=1000000000 --Edge:FailureBudget:Burst=1000000000
  NOCACHE_PID=$LAST_PID
  wait_for "http://127.0.0.1:$NOCACHE_ADMIN_PORT/readyz"
  [ "$(status -H "Authorization: Bearer $SINGLE" "http://127.0.0.1:$NOCACHE_PORT/api/items")" = 200 ] || { echo "edge-nocache sanity check failed" >&2; exit 1; }
  prewarm "$NOCACHE_PORT" single invalid
  bench valid-single     edge-nocache 1 "$NOCACHE_PORT" "$NOCACHE_PID" "$OUT/single.txt"
  bench invalid-rotating bare-yarp    1 "$BARE_PORT"    "$BARE_PID"    "$OUT/invalid.txt"
  bench invalid-rotating edge         1 "$EDGE_PORT"    "$EDGE_PID"    "$OUT/invalid.txt"
  bench invalid-rotating edge-nocache 1 "$NOCACHE_PORT" "$NOCACHE_PID" "$OUT/invalid.txt"
fi

echo
echo "== summary: best round per target (most RPS); 'vs bare' = RPS / bare-YARP RPS of its pair in that round"
echo "   ($(nproc) cores shared by wrk, the upstream and the proxy under test; load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
awk -F'\t' '
  NR == 1 { next }
  $2 == "bare-yarp" { bare[$1 "|" $11 "|" $3] = $4 }
  {
    key = $1 "|" $2
    if (!(key in rps) || $4 + 0 > rps[key] + 0) { rps[key] = $4; p50[key] = $5; p99[key] = $6; n2[key] = $7; cpu[key] = $9; pair[key] = $11; round[key] = $3 }
    if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 }
  }
  END {
    printf "%-16s %-13s %8s %8s %8s %8s %9s %8s\n", "scenario", "target", "rps", "p50 ms", "p99 ms", "non-2xx", "cpu us/rq", "vs bare"
    split("bare-yarp bare-yarp-ids edge edge-twin edge-anon edge-traced edge-nocache", targets, " ")
    for (i = 1; i <= k; i++) {
      s = order[i]
      for (t = 1; t <= 7; t++) {
        key = s "|" targets[t]
        if (!(key in rps)) continue
        b = bare[s "|" pair[key] "|" round[key]]
        ratio = targets[t] == "bare-yarp" ? "1.00" : (b > 0 ? sprintf("%.2f", rps[key] / b) : "-")
        printf "%-16s %-13s %8s %8s %8s %8s %9s %8s\n", s, targets[t], rps[key], p50[key], p99[key], n2[key], cpu[key], ratio
      }
    }
  }' "$RESULTS" | tee "$OUT/summary.txt"
echo
echo "== every round: target RPS / RPS of the bare YARP it was paired with (same slices of time), and the median over rounds"
echo "   (one token = edge, anonymous = edge-anon, both on the one-token requests; edge-twin = a second copy of the edge,"
echo "   an A/A control: its difference from 'one token' is the harness's noise; edge-traced/edge = the cost of tracing at"
echo "   $TRACE_SAMPLING sampling; bare-yarp-ids = bare YARP forwarding the edge's identity headers, and edge/bare-yarp-ids ="
echo "   what authenticating costs beyond forwarding an identity; a ratio of two targets is the ratio of their pairs' ratios)"
awk -F'\t' '
  NR == 1 { next }
  $2 == "bare-yarp" && $11 != "-" { bare[$1 "|" $11 "|" $3] = $4; next }
  { rps[$1 "|" $2 "|" $3] = $4; if ($3 + 0 > rounds) rounds = $3 + 0 }
  function ratio(s, t, r,    b) { b = bare[s "|" t "|" r]; return (rps[s "|" t "|" r] == "" || b + 0 == 0) ? -1 : rps[s "|" t "|" r] / b }
  function median(values, n,    i, j, t) {
    for (i = 2; i <= n; i++) { t = values[i]; for (j = i - 1; j >= 1 && values[j] > t; j--) values[j + 1] = values[j]; values[j + 1] = t }
    return n % 2 ? values[(n + 1) / 2] : (values[n / 2] + values[n / 2 + 1]) / 2
  }
  END {
    # label | scenario | target | divided by the ratio of this target (empty: by its own bare YARP)
    rows[1] = "one token|valid-single|edge|"
    rows[2] = "1 000 tokens|valid-rotating|edge|"
    rows[3] = "API keys|api-keys|edge|"
    rows[4] = "anonymous|valid-single|edge-anon|"
    rows[5] = "edge-twin|valid-single|edge-twin|"
    rows[6] = "edge-traced|valid-single|edge-traced|"
    rows[7] = "edge-traced/edge|valid-single|edge-traced|edge"
    rows[8] = "bare-yarp-ids|valid-single|bare-yarp-ids|"
    rows[9] = "edge/bare-yarp-ids|valid-single|edge|bare-yarp-ids"
    for (k = 1; k <= 9; k++) {
      split(rows[k], f, "|"); line = sprintf("   %-17s", f[1]); n = 0
      for (r = 1; r <= rounds; r++) {
        v = ratio(f[2], f[3], r)
        if (v < 0) continue
        if (f[4] != "") { d = ratio(f[2], f[4], r); if (d <= 0) continue; v = v / d }
        values[++n] = v; line = line sprintf(" #%d %.3f", r, v)
      }
      if (n > 0) printf "%s   median %.3f\n", line, median(values, n)
    }
  }' "$RESULTS" | tee "$OUT/rounds.txt"
echo "(raw wrk output per slice, process logs and results.tsv in $OUT)"
