# shellcheck shell=bash
# nginx for the tests: the forward-auth tests start their own nginx (auth_request in front of an upstream, the edge's
# forward-auth listener as the auth service) with this binary. Source it, then:
#   authio_nginx_start   # installs the Debian package nginx-light if needed, exports AUTHIO_NGINX
#   authio_nginx_stop    # nothing to stop (each test stops its own nginx)

# shellcheck source=apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

authio_nginx_start() {
  if ! command -v nginx > /dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
    if [ "$(id -u)" -ne 0 ]; then echo "authio_nginx_start: nginx missing and not root" >&2; return 1; fi
    authio_apt_install nginx-light || return 1
    # The package starts a system service on :80; the tests need only the binary.
    if command -v systemctl > /dev/null 2>&1; then systemctl disable --now nginx > /dev/null 2>&1 || true; fi
    if [ -f /run/nginx.pid ]; then kill "$(cat /run/nginx.pid)" > /dev/null 2>&1 || true; fi
  fi
  AUTHIO_NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
  export AUTHIO_NGINX
  echo "authio_nginx_start: $("$AUTHIO_NGINX" -v 2>&1 | head -n 1)"
}

authio_nginx_stop() {
  unset AUTHIO_NGINX
}
