# shellcheck shell=bash
# Throwaway Redis for the tests (cluster tests start their own three nodes with redis-server and redis-cli, from
# the same package). Source it, then:
#   authio_redis_start   # installs redis-server if needed, starts it on a free loopback port, exports AUTHIO_TEST_REDIS
#   authio_redis_stop    # stops it and removes its directory

# shellcheck source=apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

authio_redis_start() {
  if ! command -v redis-server > /dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then echo "authio_redis_start: redis-server missing and not root" >&2; return 1; fi
    authio_apt_install redis-server || return 1
  fi
  AUTHIO_REDIS_DIR="$(mktemp -d /tmp/authio-redis.XXXXXX)"
  local port
  port="$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()' 2>/dev/null)"
  [ -n "$port" ] || port=$(( 20000 + RANDOM % 20000 ))
  redis-server --bind 127.0.0.1 --port "$port" --dir "$AUTHIO_REDIS_DIR" --save '' --appendonly no \
    --daemonize yes --pidfile "$AUTHIO_REDIS_DIR/redis.pid" --logfile "$AUTHIO_REDIS_DIR/redis.log" || return 1
  local i
  for i in $(seq 1 50); do
    redis-cli -h 127.0.0.1 -p "$port" ping > /dev/null 2>&1 && break
    sleep 0.1
  done
  export AUTHIO_REDIS_DIR
  export AUTHIO_TEST_REDIS="127.0.0.1:$port"
  # Tests that must kill and restart a Redis start their own with this binary.
  AUTHIO_REDIS_SERVER="$(command -v redis-server)"
  export AUTHIO_REDIS_SERVER
  echo "authio_redis_start: Redis ready on $AUTHIO_TEST_REDIS"
}

authio_redis_stop() {
  if [ -n "${AUTHIO_REDIS_DIR:-}" ] && [ -d "$AUTHIO_REDIS_DIR" ]; then
    [ -f "$AUTHIO_REDIS_DIR/redis.pid" ] && kill "$(cat "$AUTHIO_REDIS_DIR/redis.pid")" 2>/dev/null || true
    rm -rf "$AUTHIO_REDIS_DIR"
  fi
  unset AUTHIO_REDIS_DIR AUTHIO_TEST_REDIS
}
