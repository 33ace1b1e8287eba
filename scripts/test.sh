#!/usr/bin/env bash
# Runs every test of the solution in Release. Installs what the tests need when it is missing, starts throwaway
# services on free loopback ports, and stops them on exit. Prints one closing line: "N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

for service in scripts/services/*.sh; do
  [ -f "$service" ] && source "$service"
done
cleanup() {
  for stop in $(compgen -A function | grep -E '^authio_.*_stop$' || true); do "$stop" || true; done
}
trap cleanup EXIT
for start in $(compgen -A function | grep -E '^authio_.*_start$' || true); do "$start"; done

status=0
# The alert rules parse, and their unit tests (each alert firing and not firing) pass.
"$AUTHIO_PROMTOOL" check rules deploy/prometheus/authio-alerts.yml || status=1
(cd deploy/prometheus && "$AUTHIO_PROMTOOL" test rules authio-alerts.test.yml) || status=1

dotnet build Authio.Edge.sln -c Release -warnaserror 2>&1 | tail -n 3
log=$(mktemp)
# A test that hangs is named and its host stopped after 10 minutes, instead of holding the run to CI's limit.
dotnet test Authio.Edge.sln -c Release --no-build --blame-hang-timeout 10m --blame-hang-dump-type none 2>&1 | tee "$log" || status=$?

# Sum the per-assembly summaries ("Passed!  - Failed: 0, Passed: 99, Skipped: 0, ...") into one closing line.
awk '/(Passed|Failed)!  - Failed:/ {
  gsub(",", ""); for (i = 1; i <= NF; i++) {
    if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
  END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit $status
