# shellcheck shell=bash
# Debian packages for the test services: one `apt-get update` per shell, however many services are missing. The
# services' start functions install through it; source it, then:
#   authio_apt_install PACKAGE...   # as root; the package index is refreshed on the first call only
authio_apt_install() {
  if [ "$(id -u)" -ne 0 ]; then echo "authio_apt_install: $* missing and not root" >&2; return 1; fi
  if [ -z "${AUTHIO_APT_UPDATED:-}" ]; then
    apt-get update -qq || return 1
    AUTHIO_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" > /dev/null
}
