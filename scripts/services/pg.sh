# shellcheck shell=bash
# Throwaway PostgreSQL for the control-plane tests. Source it, then:
#   authio_pg_start   # installs if needed, starts on a free loopback port, exports AUTHIO_TEST_POSTGRES
#   authio_pg_stop    # stops it and removes its directory

# shellcheck source=apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

# Prints a loopback TCP port nothing listens on.
_authio_pg_free_port() {
  local port i
  for i in $(seq 1 50); do
    port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    # A refused connection means the port is free.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  return 1
}

authio_pg_start() {
  # Starting twice would orphan the first server: stop it first.
  if [ -n "${AUTHIO_PG_DIR:-}" ]; then authio_pg_stop; fi
  if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null; then
    if [ "$(id -u)" -ne 0 ]; then echo "authio_pg_start: PostgreSQL missing and not root" >&2; return 1; fi
    authio_apt_install postgresql || return 1
  fi
  local bindir
  bindir="$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")"
  AUTHIO_PG_DIR="$(mktemp -d /tmp/authio-pg.XXXXXX)"
  chown postgres:postgres "$AUTHIO_PG_DIR"
  chmod 700 "$AUTHIO_PG_DIR"
  local password port
  password="pg$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
  printf '%s\n' "$password" > "$AUTHIO_PG_DIR/pwfile"
  chown postgres:postgres "$AUTHIO_PG_DIR/pwfile"
  runuser -u postgres -- "$bindir/initdb" -D "$AUTHIO_PG_DIR/data" -U postgres --pwfile="$AUTHIO_PG_DIR/pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 > "$AUTHIO_PG_DIR/initdb.log" 2>&1 \
    || { cat "$AUTHIO_PG_DIR/initdb.log" >&2; return 1; }
  port="$(_authio_pg_free_port)" || { echo "authio_pg_start: no free port" >&2; return 1; }
  runuser -u postgres -- "$bindir/pg_ctl" -D "$AUTHIO_PG_DIR/data" -l "$AUTHIO_PG_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$AUTHIO_PG_DIR -c fsync=off -c max_connections=300" start > /dev/null \
    || { cat "$AUTHIO_PG_DIR/server.log" >&2; return 1; }
  local i
  for i in $(seq 1 60); do
    "$bindir/pg_isready" -h 127.0.0.1 -p "$port" -q && break
    sleep 0.5
  done
  AUTHIO_PG_BINDIR="$bindir"
  export AUTHIO_PG_DIR AUTHIO_PG_BINDIR
  export AUTHIO_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Password=$password"
  echo "authio_pg_start: PostgreSQL ready on 127.0.0.1:$port"
}

authio_pg_stop() {
  if [ -n "${AUTHIO_PG_DIR:-}" ] && [ -d "$AUTHIO_PG_DIR" ]; then
    runuser -u postgres -- "$AUTHIO_PG_BINDIR/pg_ctl" -D "$AUTHIO_PG_DIR/data" -m fast -w stop > /dev/null 2>&1 || true
    rm -rf "$AUTHIO_PG_DIR"
  fi
  unset AUTHIO_PG_DIR AUTHIO_PG_BINDIR AUTHIO_TEST_POSTGRES
}
