#!/usr/bin/env bash
# What metrics cost per cached lookup, in instructions: a count that does not move with the
# machine's other load (wrk's req/s on a shared 2-core machine moved by a third between
# rounds). The gateway runs under valgrind's callgrind twice, with `[metrics] enabled` false
# and true (everything else as bench/observability.sh: one Ticketmatic instance in front of a
# replay vendor, lookup cache 1 h, RUST_LOG=warn); after 200 warm-up requests the counters are
# zeroed, N cached-list requests are sent on one keep-alive connection, and the instructions
# the whole process executed are divided by N.
#
#   bench/request_instructions.sh            # N=3000
#
# Target (issue 11, here in instructions): metrics and tracing add < 5 % to a cached lookup.
# Needs valgrind (Debian package; installed with apt-get when missing) and python3. Builds
# with `cargo build --release` (honours CARGO_TARGET_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-3000}
GATEWAY=127.0.0.1:19920
VENDOR=127.0.0.1:19921
FIXTURE=fixtures/ticketmatic/get-order-partially-refunded.json
URL_PATH="/v1/refunds?provider=tm&order=1269434"

if ! command -v valgrind >/dev/null; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  ($sudo apt-get update -qq && $sudo apt-get install -y -qq valgrind) >/dev/null
fi
cargo build --release --quiet --bin refund-gateway
BIN=${CARGO_TARGET_DIR:-target}/release/refund-gateway

for addr in $GATEWAY $VENDOR; do
  if (exec 3<>"/dev/tcp/${addr%:*}/${addr#*:}") 2>/dev/null; then
    echo "$addr is already in use: stop what listens there first"
    exit 1
  fi
done

work=$(mktemp -d)
pids=()
gw=""
cleanup() {
  for p in "${pids[@]}" $gw; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}" $gw; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

RUST_LOG=warn "$BIN" replay "$FIXTURE" --listen "$VENDOR" >/dev/null 2>"$work/vendor.log" &
pids+=($!)
printf 'bench-access' > "$work/access"
printf 'bench-secret' > "$work/secret"

requests() { # $1: how many, $2: "cached" when every answer must come from the cache
  python3 - "$1" "${GATEWAY%:*}" "${GATEWAY#*:}" "$URL_PATH" "${2:-}" <<'PY'
import http.client, sys
n, host, port, path = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
cached = sys.argv[5] == "cached"
c = http.client.HTTPConnection(host, port)
for _ in range(n):
    c.request("GET", path)
    r = c.getresponse()
    r.read()
    if r.status != 200 or (cached and "hit" not in r.getheader("cache-status", "")):
        sys.exit(f"not a cached answer: {r.status} {r.getheader('cache-status')}")
PY
}

declare -A per_request
for mode in off metrics; do
  cat > "$work/gateway.toml" <<TOML
[server]
listen = "$GATEWAY"
[storage]
url = "sqlite::memory:"
[metrics]
enabled = $([ "$mode" = off ] && echo false || echo true)
[providers.tm]
kind = "ticketmatic"
base_url = "http://$VENDOR"
account = "demo"
access_key = { file = "$work/access" }
secret_key = { file = "$work/secret" }
cache = { ttl = "1h", final_ttl = "1h" }
TOML
  RUST_LOG=warn valgrind --tool=callgrind --callgrind-out-file="$work/cg.$mode.%p" \
    "$BIN" serve --config "$work/gateway.toml" >/dev/null 2>"$work/gateway.$mode.log" &
  gw=$!
  for _ in $(seq 200); do curl -sf -o /dev/null "http://$GATEWAY/healthz" && break; sleep 0.25; done
  requests 200
  callgrind_control -z "$gw" >/dev/null 2>&1
  requests "$N" cached
  callgrind_control -d "$gw" >/dev/null 2>&1
  sleep 1
  kill "$gw" 2>/dev/null || true; wait "$gw" 2>/dev/null || true
  gw=""
  dump=$(ls -t "$work"/cg."$mode".*.1 | head -1)
  total=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}')
  per_request[$mode]=$((total / N))
done

off=${per_request[off]}
on=${per_request[metrics]}
echo "instructions per cached list request (callgrind, $N requests, whole process)"
printf '%-40s %8d\n' "off (no metrics)" "$off"
printf '%-40s %8d\n' "metrics and tracing, export off" "$on"
added=$(python3 -c "print(f'{($on - $off) / $off * 100:.1f}')")
if python3 -c "import sys; sys.exit(0 if ($on - $off) / $off < 0.05 else 1)"; then
  echo "PASS  metrics and tracing add ${added} % (< 5 %)"
else
  echo "FAIL  metrics and tracing add ${added} % (target < 5 %)"
  exit 1
fi
