#!/usr/bin/env bash
# perf profiles of the edge (one token) and edge-anon (the same route marked anonymous) under the same wrk load, for a
# per-request comparison of where their CPU goes (load/README.md "Where the rest goes"); AGAINST=bare profiles bare YARP
# in edge-anon's place; CREDENTIAL=api-keys sends 100 API keys of a control plane the edge follows instead of the one
# token, CREDENTIAL=rotating 1 000 tokens in turn (run.sh's valid-rotating); FOLLOW_CP=1 has the edge follow a control
# plane with any credential, as run.sh's edge does. Needs perf and a Release build of src/EdgeProxy, src/ControlPlane (for api-keys) and load/Authio.Load.Tools.
# Usage: [AGAINST=anon|bare] [CREDENTIAL=token|rotating|api-keys] [FOLLOW_CP=0|1] load/profile-diff.sh   (writes load/out/profile-diff/)
set -e
AGAINST="${AGAINST:-anon}"
[[ "$AGAINST" == anon || "$AGAINST" == bare ]] || { echo "AGAINST must be anon or bare, not '$AGAINST'" >&2; exit 2; }
CREDENTIAL="${CREDENTIAL:-token}"
[[ "$CREDENTIAL" == token || "$CREDENTIAL" == rotating || "$CREDENTIAL" == api-keys ]] || { echo "CREDENTIAL must be token, rotating or api-keys, not '$CREDENTIAL'" >&2; exit 2; }
FOLLOW_CP="${FOLLOW_CP:-0}"
[[ "$FOLLOW_CP" == 0 || "$FOLLOW_CP" == 1 ]] || { echo "FOLLOW_CP must be 0 or 1, not '$FOLLOW_CP'" >&2; exit 2; }
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"; OUT="$ROOT/load/out/profile-diff"; mkdir -p "$OUT"
TOOLS=(dotnet $ROOT/load/Authio.Load.Tools/bin/Release/net10.0/Authio.Load.Tools.dll)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill $p 2>/dev/null; done' EXIT
export Logging__LogLevel__Default=Warning DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0
source "$ROOT/load/lib.sh"
require_free_ports 19281 19283 19284 19285 19286 19290
"${TOOLS[@]}" upstream --port 19281 > $OUT/up.log 2>&1 & PIDS+=($!)
mint_single_token "$OUT"
EDGE_DLL="$ROOT/src/EdgeProxy/bin/Release/net10.0/Authio.EdgeProxy.dll"
CREDENTIALS=$OUT/single.txt; FOLLOW=()
if [ "$CREDENTIAL" = rotating ]; then
  mint_rotating_tokens "$OUT"
  CREDENTIALS=$OUT/rotating.txt
fi
if [ "$CREDENTIAL" = api-keys ] || [ "$FOLLOW_CP" = 1 ]; then
  # A control plane (its own SQLite data under OUT) for the edge to follow; the keys are made once the edge is up.
  CP=http://127.0.0.1:19290; CP_LOGIN=(--email admin@load.test --password 'Load!passw0rd1'); rm -rf "$OUT/cp-data"
  dotnet "$ROOT/src/ControlPlane/bin/Release/net10.0/Authio.ControlPlane.dll" --urls $CP --ControlPlane:DataDirectory="$OUT/cp-data" \
    --ControlPlane:Issuer=$CP --ControlPlane:Bootstrap:OrgName=Load --ControlPlane:Bootstrap:AdminEmail=admin@load.test \
    --ControlPlane:Bootstrap:AdminPassword='Load!passw0rd1' --ControlPlane:Passwords:BcryptCost=10 --ControlPlane:RateLimits:Enabled=false \
    > "$OUT/cp.log" 2>&1 & PIDS+=($!)
  for _ in $(seq 1 300); do curl -fs -o /dev/null "$CP/.well-known/jwks.json" && break; sleep 0.1; done
  FOLLOW=(--Edge:ControlPlane:Url=$CP "--Edge:ControlPlane:ApiKey=$("${TOOLS[@]}" edge-key --cp $CP "${CP_LOGIN[@]}")")
  [ "$CREDENTIAL" = api-keys ] && CREDENTIALS=$OUT/api-keys.txt
fi
start_load_edge "$EDGE_DLL" 19283 19284 "$OUT" 19281 "" "${FOLLOW[@]}"; AUTH=$LAST
case "$AGAINST" in
  anon) start_load_edge "$EDGE_DLL" 19285 19286 "$OUT" 19281 "" --ReverseProxy:Routes:all:Metadata:Authio.Anonymous=true; ANON=$LAST ;;
  bare) mkdir -p "$OUT/cwd"; (cd "$OUT/cwd" && exec "${TOOLS[@]}" bare-yarp --port 19285 --upstream http://127.0.0.1:19281/) > "$OUT/bare.log" 2>&1 & ANON=$!; PIDS+=("$ANON")
        for _ in $(seq 1 100); do curl -fs -o /dev/null http://127.0.0.1:19285/ && break; sleep 0.2; done ;;
esac
if [ "$CREDENTIAL" = api-keys ]; then
  "${TOOLS[@]}" mint --kind api-key --count 100 --cp $CP "${CP_LOGIN[@]}" | cut -f2 > "$CREDENTIALS"
  for _ in $(seq 1 100); do # the edge learns of the last key from the control plane's feed
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(tail -n1 "$CREDENTIALS")" http://127.0.0.1:19283/api/items)" = 200 ] && break; sleep 0.1
  done
fi
# 24 s of load each before the profile: a fresh edge keeps compiling for 20–25 s (load/README.md "Launches").
for target in "auth 19283 $AUTH" "anon 19285 $ANON" "auth 19283 $AUTH" "anon 19285 $ANON"; do
  read -r name port pid <<< "$target"
  TOKENS_FILE=$CREDENTIALS wrk -t2 -c64 -d12s -s $ROOT/load/tokens.lua http://127.0.0.1:$port/api/items | grep RESULT | sed "s/^/$name warm /"
done
for target in "auth 19283 $AUTH" "anon 19285 $ANON"; do
  read -r name port pid <<< "$target"
  b=$(awk '{ print $14 + $15 }' /proc/$pid/stat)
  (TOKENS_FILE=$CREDENTIALS wrk -t2 -c64 -d12s -s $ROOT/load/tokens.lua http://127.0.0.1:$port/api/items | grep RESULT | sed "s/^/$name /" | tee "$OUT/result-$name.txt") & W=$!
  sleep 3; perf record -F 1999 -g -p $pid -o $OUT/perf-$name.data -- sleep 6 > /dev/null 2>&1; wait $W
  a=$(awk '{ print $14 + $15 }' /proc/$pid/stat); echo "$name cpu ticks $((a-b))"
  # perf sampled 6 of the run's 12 s: half of its requests
  echo $(( $(grep -o 'requests=[0-9]*' "$OUT/result-$name.txt" | cut -d= -f2) / 2 )) > "$OUT/requests-$name.txt"
done
# Samples per 1 000 requests, edge minus edge-anon, by library and by frame (the largest differences first).
for name in auth anon; do
  perf report -i "$OUT/perf-$name.data" --no-children -g none --sort dso,symbol --stdio -n 2>/dev/null | grep "%" > "$OUT/flat-$name.txt"
done
python3 - "$OUT" "$([ "$AGAINST" = bare ] && echo bare-yarp || echo edge-anon)" <<'PY'
import re, sys
from collections import defaultdict
out = sys.argv[1]
def load(name):
    counts = defaultdict(int)
    for line in open(f"{out}/flat-{name}.txt"):
        m = re.match(r"\s*[\d.]+%\s+(\d+)\s+(.*?)\s+\[.\]\s+(.*)", line)
        if m:
            dso = "[JIT]" if m.group(2).startswith("[JIT]") else m.group(2)
            symbol = re.sub(r"\[(OptimizedTier1|Optimized|Tier0|Tier1|InstrumentedTier\w*|OptimizedTier1OSR|QuickJitted|PreJIT)\]", "", m.group(3)).split("  ")[0]
            counts[(dso, symbol.strip())] += int(m.group(1))
    return counts
requests = {n: float(open(f"{out}/requests-{n}.txt").read()) for n in ("auth", "anon")}
a, b = load("auth"), load("anon")
per = lambda c, n, k: c.get(k, 0) / requests[n] * 1000
print(f"samples per 1 000 requests: edge {sum(a.values()) / requests['auth'] * 1000:.1f}, {sys.argv[2]} {sum(b.values()) / requests['anon'] * 1000:.1f}")
rows = sorted(((per(a, "auth", k) - per(b, "anon", k), k) for k in set(a) | set(b)), reverse=True)
for diff, (dso, symbol) in rows[:40]:
    print(f"{diff:6.2f}  {dso[:14]:14} {symbol[:140]}")
PY
