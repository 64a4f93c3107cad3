#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server on loopback for the ledger tests, installing it from
# the OS packages when missing, and prints the admin URL the tests take from
# REFUND_GATEWAY_TEST_POSTGRES. Usage: eval "$(.ci/postgres.sh)"
set -euo pipefail

PORT=${PGPORT_FOR_TESTS:-54329}
DIR=${PGDATA_FOR_TESTS:-/tmp/refund-gateway-pg}

find_bin() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$found" ] && [ -x "$found/initdb" ] && echo "$found"
}

BIN=$(find_bin || true)
if [ -z "$BIN" ]; then
  echo "installing PostgreSQL from the OS packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  (apt-get update -qq && apt-get install -y -qq postgresql) >&2
  BIN=$(find_bin)
fi
id postgres >/dev/null 2>&1 || useradd --system --home-dir "$DIR" postgres

as_postgres() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}

if ! as_postgres "$BIN/pg_ctl -D $DIR status" >/dev/null 2>&1; then
  rm -rf "$DIR"
  mkdir -p "$DIR"
  [ "$(id -u)" = 0 ] && chown postgres "$DIR"
  as_postgres "$BIN/initdb -D $DIR -U postgres --auth=trust -E UTF8" >/dev/null
  as_postgres "$BIN/pg_ctl -D $DIR -l $DIR/server.log -o '-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c max_connections=300 -c fsync=off' -w start" >/dev/null
fi
echo "export REFUND_GATEWAY_TEST_POSTGRES=postgres://postgres@127.0.0.1:$PORT/postgres"
