#!/usr/bin/env bash
# The ledger's cost, and batch pacing, measured in one run on loopback:
#  1. creates per second through the gateway with the SQLite ledger (a file) against the
#     same gateway with an in-memory store, both in front of the Fourvenues sandbox served
#     as its own process (wrk, every request a new refund);
#  2. a 1,000-item batch paced at 100 vendor requests per second: the vendor-side rate
#     from the sandbox's request log, against the configured limit.
#
#   bench/ledger.sh                 # DURATION=10s CONNECTIONS=16 by default
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
VENDOR=127.0.0.1:19911
GATEWAY=127.0.0.1:19910
RATE=${RATE:-100}
ITEMS=${ITEMS:-1000}

if ! command -v wrk >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
fi
cargo build --release --quiet --bin refund-gateway
BIN=${CARGO_TARGET_DIR:-target}/release/refund-gateway

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

printf '[providers.fv]\nkind = "fourvenues"\nsandbox = true\n' > "$work/vendor.toml"
RUST_LOG=warn "$BIN" sandbox --config "$work/vendor.toml" --instance fv --listen "$VENDOR" --log "$work/vendor.log" >/dev/null &
pids+=($!)
printf 'fourvenues-sandbox-key' > "$work/key"

gateway_config() { # $1: storage url, $2: extra instance keys
  cat <<TOML
[server]
listen = "$GATEWAY"
[storage]
url = "$1"
[providers.fv]
kind = "fourvenues"
base_url = "http://$VENDOR"
api_key = { file = "$work/key" }
$2
TOML
}

start_gateway() { # $1: config file; waits until it answers
  RUST_LOG=warn "$BIN" serve --config "$1" >/dev/null &
  gateway_pid=$!
  for _ in $(seq 100); do curl -sf "http://$GATEWAY/healthz" >/dev/null && return; sleep 0.05; done
  echo "gateway did not start"; exit 1
}

creates_per_second() { # $1: storage url
  gateway_config "$1" "" > "$work/gateway.toml"
  start_gateway "$work/gateway.toml"
  out=$(RUN="$RANDOM$RANDOM" wrk -t2 -c"$CONNECTIONS" -d"$DURATION" -s bench/create.lua "http://$GATEWAY")
  kill "$gateway_pid"; wait "$gateway_pid" 2>/dev/null || true
  if echo "$out" | grep -q "Non-2xx"; then echo "$out" >&2; echo "some creates failed" >&2; exit 1; fi
  echo "$out" | awk '/Requests\/sec/ {print $2}'
}

echo "== creates: wrk -t2 -c$CONNECTIONS -d$DURATION, $(nproc) cores"
memory=$(creates_per_second "sqlite::memory:")
sqlite=$(creates_per_second "sqlite://$work/ledger.db")
printf '%-32s %10s creates/s\n' "in-memory store" "$memory" "SQLite ledger (file, WAL)" "$sqlite"
awk -v s="$sqlite" -v m="$memory" 'BEGIN { printf "SQLite / in-memory = %.2f\n", s / m }'

echo "== batch pacing: $ITEMS items, rate_limit = $RATE vendor requests/s"
gateway_config "sqlite://$work/pacing.db" "rate_limit = { per_second = $RATE, burst = 1, max_wait = \"5s\" }" > "$work/gateway.toml"
start_gateway "$work/gateway.toml"
: > "$work/vendor.log"
python3 - "$GATEWAY" "$ITEMS" "$work/vendor.log" "$RATE" <<'PY'
import json, sys, time, urllib.request
gateway, items, log, rate = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
run = str(int(time.time()))
body = {"items": [{"provider": "fv", "target": {"tickets": [f"bulk-pace-{run}-{i}"]},
                   "amount": {"value": "10", "currency": "EUR"}} for i in range(items)]}
req = urllib.request.Request(f"http://{gateway}/v1/refund-batches", json.dumps(body).encode(),
                             {"Content-Type": "application/json", "Idempotency-Key": f"pace-{run}"})
batch = json.load(urllib.request.urlopen(req))
while True:
    report = json.load(urllib.request.urlopen(f"http://{gateway}/v1/refund-batches/{batch['id']}"))
    if report["status"] != "open":
        break
    time.sleep(0.5)
times = sorted(json.loads(line)["at_ms"] for line in open(log))
span = (times[-1] - times[0]) / 1000
measured = (len(times) - 1) / span
window_max = max(sum(1 for u in times[i:] if u - t < 1000) for i, t in enumerate(times))
print(f"items succeeded          {report['counts'].get('succeeded', 0)} of {items}")
print(f"vendor requests          {len(times)} in {span:.2f} s")
print(f"vendor-side rate         {measured:.2f} req/s against a limit of {rate:g} ({100 * (measured - rate) / rate:+.2f} %)")
print(f"busiest 1-second window  {window_max} requests (limit {rate:g} + burst 1)")
PY
kill "$gateway_pid"; wait "$gateway_pid" 2>/dev/null || true
