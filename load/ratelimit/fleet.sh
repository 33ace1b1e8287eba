#!/usr/bin/env bash
# Fleet-wide limit accuracy: two edges sharing one Redis, a `200/1s global` limit, each driven at 150 % for 10 s of real
# time; passes when the fleet admits within ±5 % of 2 000 + burst (that test also runs in CI), and at 90 % (nothing may
# be refused; a load measurement only). Prints both with the leases' counters. Usage: ROUNDS=3 bash load/ratelimit/fleet.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../../scripts/services/redis.sh
source "$ROOT/scripts/services/redis.sh"
trap authio_redis_stop EXIT
authio_redis_start
for round in $(seq 1 "${ROUNDS:-3}"); do
  echo "== round $round"
  AUTHIO_LOAD_TESTS=1 dotnet test "$ROOT/tests/EdgeProxy.Tests" -c Release \
    --filter "FullyQualifiedName~Two_edges_admit_the_fleet_limit|FullyQualifiedName~Under_the_fleet_limit" --logger "console;verbosity=detailed" 2>&1 \
    | grep -E "^ *(fleet admitted|under the limit|leases [AB]|first admitted|Passed |Failed )" || true
done
