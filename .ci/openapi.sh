#!/usr/bin/env bash
# Validates the served OpenAPI document: starts the already-built debug binary with the
# default config (a free port, a throwaway ledger), fetches /openapi.json and checks it with
# openapi-spec-validator (PyPI, in a venv). Builds nothing. Fails on any error.
set -euo pipefail
cd "$(dirname "$0")/.."

binary="${CARGO_TARGET_DIR:-target}/debug/refund-gateway"
[ -x "$binary" ] || { echo "no $binary: run the tests first" >&2; exit 1; }
venv="${OPENAPI_VALIDATOR_VENV:-/tmp/oav}"
if [ ! -x "$venv/bin/openapi-spec-validator" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q openapi-spec-validator
fi

work="$(mktemp -d)"
gateway=""
cleanup() {
  if [ -n "$gateway" ]; then kill "$gateway" 2>/dev/null || true; wait "$gateway" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

REFUND_GATEWAY__SERVER__LISTEN=127.0.0.1:0 \
REFUND_GATEWAY__STORAGE__URL="sqlite://$work/ledger.db" \
RUST_LOG=warn \
  "$binary" serve --config config/gateway.toml >"$work/stdout" 2>"$work/stderr" &
gateway=$!
url=""
for _ in $(seq 1 100); do
  url="$(head -n1 "$work/stdout" 2>/dev/null | awk '{print $NF}')"
  [ -n "$url" ] && break
  kill -0 "$gateway" 2>/dev/null || { cat "$work/stderr" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "the gateway did not start" >&2; cat "$work/stderr" >&2; exit 1; }
"$venv/bin/python" -c 'import sys, urllib.request; open(sys.argv[2], "wb").write(urllib.request.urlopen(sys.argv[1] + "/openapi.json", timeout=10).read())' "$url" "$work/openapi.json"
"$venv/bin/openapi-spec-validator" "$work/openapi.json"
