# shellcheck shell=bash
# Debian's Chromium for the admin console's browser tests (Playwright drives it; Playwright's own browser downloads
# are not used). Source it, then:
#   authio_chromium_start   # installs the Debian package `chromium` if missing, exports AUTHIO_CHROMIUM
#   authio_chromium_stop    # nothing to stop: each test starts and closes its own headless browser

# shellcheck source=apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

authio_chromium_start() {
  local bin
  bin="$(command -v chromium || true)"
  if [ -z "$bin" ]; then
    if [ "$(id -u)" -ne 0 ]; then echo "authio_chromium_start: chromium missing and not root" >&2; return 1; fi
    authio_apt_install chromium || return 1
    bin="$(command -v chromium)" || return 1
  fi
  export AUTHIO_CHROMIUM="$bin"
  echo "authio_chromium_start: $("$bin" --version 2>/dev/null | head -n 1) at $AUTHIO_CHROMIUM"
}

authio_chromium_stop() {
  unset AUTHIO_CHROMIUM
}
