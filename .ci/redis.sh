#!/usr/bin/env bash
# Starts a Redis server on loopback for the tests of gateways sharing budgets
# ([coordination]), installing it from the OS packages when missing, and prints the URL
# the tests take from REFUND_GATEWAY_TEST_REDIS. Usage: eval "$(.ci/redis.sh)"
# Tests namespace their keys (key_prefix), so one server serves every test at once; tests
# that stop Redis midway start their own redis-server on a free port.
set -euo pipefail

PORT=${REDIS_PORT_FOR_TESTS:-63799}
DIR=${REDIS_DIR_FOR_TESTS:-/tmp/refund-gateway-redis}

# openssl: the TLS tests (tests/cluster/tls.rs) make their CA and server certificate with it
# and start their own TLS-only redis-server (Debian's is built with TLS).
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} from the OS packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  (apt-get update -qq && apt-get install -y -qq "${missing[@]}") >&2
fi

if ! redis-cli -h 127.0.0.1 -p "$PORT" ping >/dev/null 2>&1; then
  mkdir -p "$DIR"
  redis-server --bind 127.0.0.1 --port "$PORT" --save '' --appendonly no \
    --dir "$DIR" --daemonize yes --logfile "$DIR/server.log" --pidfile "$DIR/redis.pid" >&2
  for _ in $(seq 1 50); do
    redis-cli -h 127.0.0.1 -p "$PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -h 127.0.0.1 -p "$PORT" ping >/dev/null
fi
echo "export REFUND_GATEWAY_TEST_REDIS=redis://127.0.0.1:$PORT"
