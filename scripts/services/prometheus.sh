# shellcheck shell=bash
# Prometheus for the tests: the dashboard/alert test starts its own server with this binary, and the test command
# checks and unit-tests the alert rules with promtool. Source it, then:
#   authio_prometheus_start   # installs the Debian package prometheus if needed, exports AUTHIO_PROMETHEUS and AUTHIO_PROMTOOL
#   authio_prometheus_stop    # nothing to stop (each test stops its own server)

# shellcheck source=apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

authio_prometheus_start() {
  if ! command -v prometheus > /dev/null 2>&1 || ! command -v promtool > /dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then echo "authio_prometheus_start: prometheus missing and not root" >&2; return 1; fi
    authio_apt_install prometheus || return 1
    # The package starts a system service on :9090; the tests need only the binaries.
    if command -v systemctl > /dev/null 2>&1; then systemctl disable --now prometheus > /dev/null 2>&1 || true; fi
  fi
  AUTHIO_PROMETHEUS="$(command -v prometheus)"
  AUTHIO_PROMTOOL="$(command -v promtool)"
  export AUTHIO_PROMETHEUS AUTHIO_PROMTOOL
  echo "authio_prometheus_start: $("$AUTHIO_PROMETHEUS" --version 2>&1 | head -n 1)"
}

authio_prometheus_stop() {
  unset AUTHIO_PROMETHEUS AUTHIO_PROMTOOL
}
