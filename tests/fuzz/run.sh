#!/usr/bin/env bash
# Fuzzes one target of tests/fuzz/Authio.Fuzz with AFL++ for a bounded time:
#   bash tests/fuzz/run.sh <jws|base64url|jwks|ratelimit|apikey|changefeed> <seconds>
# Publishes the harness (Release) into tests/fuzz/out/bin, instruments the edge's assemblies with the SharpFuzz CLI
# (a local dotnet tool, tests/fuzz/.config/dotnet-tools.json), seeds from tests/fuzz/corpus/<target> plus, when
# ../shared/testvectors/wycheproof exists beside the project root, seeds derived from the Wycheproof vectors, and runs
# afl-fuzz (Debian's afl++, installed when missing and running as root) under nice. Findings land in
# tests/fuzz/out/<target>/findings; every crash or hang is replayed at the end with its exception. Exit 1 when any was found.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
targets="jws base64url jwks ratelimit apikey changefeed"
target="${1:-}"; seconds="${2:-}"
if [[ -z "$target" || -z "$seconds" || " $targets " != *" $target "* || ! "$seconds" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 <$(echo $targets | tr ' ' '|')> <seconds>" >&2
  exit 2
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if ! command -v afl-fuzz >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++ >/dev/null
  else
    echo "afl-fuzz is missing: install Debian's afl++ (apt-get install afl++) as root" >&2
    exit 1
  fi
fi

out="$here/out"
bin="$out/bin"
# One instrumented publish serves every target; rebuilt when a source is newer than it.
stamp="$bin/.instrumented"
if [ ! -f "$stamp" ] || [ -n "$(find "$root/src/EdgeProxy" "$root/src/Shared" "$here/Authio.Fuzz" -name '*.cs' -newer "$stamp" -print -quit)" ]; then
  rm -rf "$bin"
  dotnet publish "$here/Authio.Fuzz/Authio.Fuzz.csproj" -c Release -o "$bin" -p:UseAppHost=false >/dev/null
  (cd "$here" && dotnet tool restore >/dev/null)
  for dll in Authio.EdgeProxy.dll Authio.Shared.dll; do
    (cd "$here" && dotnet tool run sharpfuzz "$bin/$dll")
  done
  touch "$stamp"
fi

work="$out/$target"
rm -rf "$work"
mkdir -p "$work/in"
cp "$here/corpus/$target/"* "$work/in/"
vectors="$root/../shared/testvectors/wycheproof"
if [ -d "$vectors" ]; then
  dotnet "$bin/Authio.Fuzz.dll" --seed-wycheproof "$work/wycheproof" "$vectors"
  [ -d "$work/wycheproof/$target" ] && cp "$work/wycheproof/$target/"* "$work/in/"
else
  echo "SKIP Wycheproof seeds: $vectors not found (fuzzing from the committed corpus only)"
fi

dict=()
case "$target" in
  jws|jwks|changefeed) dict=(-x "$here/dict/json.dict") ;;
  *) dict=(-x "$here/dict/$target.dict") ;;
esac

# dotnet is not instrumented itself (SharpFuzz instruments the assemblies), so afl's binary check is skipped.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
echo "fuzzing $target for ${seconds}s from $(ls "$work/in" | wc -l) seeds"
nice -n 19 afl-fuzz -V "$seconds" -i "$work/in" -o "$work/findings" -t 5000 -m none "${dict[@]}" \
  -- dotnet "$bin/Authio.Fuzz.dll" "$target" > "$work/afl.log" 2>&1 || { tail -n 30 "$work/afl.log" >&2; exit 1; }

stats="$work/findings/default/fuzzer_stats"
field() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
crashes=$(field saved_crashes); hangs=$(field saved_hangs)
printf '%s: %ss, %s execs (%s/s), corpus %s, crashes %s, hangs %s, edges %s\n' "$target" "$(field run_time)" \
  "$(field execs_done)" "$(field execs_per_sec)" "$(field corpus_count)" "$crashes" "$hangs" "$(field edges_found)"
found=0
for kind in crashes hangs; do
  for file in "$work/findings/default/$kind"/id:*; do
    [ -f "$file" ] || continue
    found=1
    echo "== $kind: $file"
    timeout 60 dotnet "$bin/Authio.Fuzz.dll" "$target" --replay "$file" 2>&1 | head -n 12 || true
  done
done
exit $found
