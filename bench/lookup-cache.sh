#!/usr/bin/env bash
# Cached refund lookups against uncached ones and against a bare hyper server returning the
# same body, all measured in this one run on loopback with wrk.
#
#   bench/lookup-cache.sh            # 10 s per case
#   DURATION=30s CONNECTIONS=64 bench/lookup-cache.sh
#
# Set-up: a replay vendor (`refund-gateway replay`, serving the recorded Ticketmatic order)
# <- the gateway (release build, no rate limits) <- wrk. "uncached" sends
# `Cache-Control: no-cache`, so every request goes to the vendor; "cached" does not.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
VENDOR=127.0.0.1:19901
GATEWAY=127.0.0.1:19900
BARE=127.0.0.1:19902

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)"
  (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
fi
cargo build --release --quiet --bin refund-gateway --example bare_hyper
BIN=target/release/refund-gateway

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

printf 'bench-access' > "$work/access"
printf 'bench-secret' > "$work/secret"
cat > "$work/gateway.toml" <<TOML
[server]
listen = "$GATEWAY"

[providers.tm]
kind = "ticketmatic"
base_url = "http://$VENDOR"
account = "demo"
access_key = { file = "$work/access" }
secret_key = { file = "$work/secret" }
cache = { ttl = "1h", final_ttl = "1h" }
TOML

RUST_LOG=warn "$BIN" replay fixtures/ticketmatic/get-order-partially-refunded.json --listen "$VENDOR" >/dev/null &
pids+=($!)
RUST_LOG=warn "$BIN" serve --config "$work/gateway.toml" >/dev/null &
pids+=($!)
URL="http://$GATEWAY/v1/refunds?provider=tm&order=1269434"
for _ in $(seq 50); do curl -sf "$URL" -o "$work/body.json" && break; sleep 0.1; done
test -s "$work/body.json" || { echo "gateway did not answer"; exit 1; }
target/release/examples/bare_hyper "$BARE" "$work/body.json" >/dev/null &
pids+=($!)
sleep 0.3

rps() { # wrk's Requests/sec figure
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" "$@" | awk '/Requests\/sec/ {print $2}'
}
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores"
bare=$(rps "http://$BARE/")
cached=$(rps "$URL")
uncached=$(rps -H 'Cache-Control: no-cache' "$URL")
printf '%-28s %12s req/s\n' "bare hyper (same body)" "$bare" "gateway, cached lookup" "$cached" "gateway, uncached lookup" "$uncached"
awk -v c="$cached" -v u="$uncached" -v b="$bare" 'BEGIN {
  printf "cached / uncached   = %.1fx\n", c / u
  printf "cached / bare hyper = %.2f\n", c / b
}'
