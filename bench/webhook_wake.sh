#!/usr/bin/env bash
# How long a refund's webhook takes to leave the gateway that settled it, for two builds in
# one run: BASELINE (a build whose sender only polls, `[events] webhook_poll`, 1 s by default)
# and CANDIDATE (one whose sender is woken when this process commits an event with
# deliveries). Each gateway: SQLite ledger, the Ticketmatic sandbox, one webhook endpoint (a
# Python receiver on loopback). N refunds one after another, a random pause between them;
# the latency is from the create's answer to the `refund.succeeded` delivery's arrival.
#
#   bench/webhook_wake.sh BASELINE_BIN [CANDIDATE_BIN]   # N=20; CANDIDATE: the debug build
set -euo pipefail
cd "$(dirname "$0")/.."

BASELINE=${1:?usage: bench/webhook_wake.sh BASELINE_BIN [CANDIDATE_BIN]}
CANDIDATE=${2:-${CARGO_TARGET_DIR:-target}/debug/refund-gateway}
N=${N:-20}
GATEWAY=127.0.0.1:19920
RECEIVER=127.0.0.1:19921

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

python3 - "$RECEIVER" "$work/arrivals" <<'PY' &
import http.server, json, sys, time
host, port = sys.argv[1].split(":")
log = open(sys.argv[2], "a", buffering=1)
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        log.write(json.dumps({"at": time.time(), "type": event.get("type"), "refund": event.get("refund_id")}) + "\n")
        self.send_response(204); self.end_headers()
    def log_message(self, *args): pass
http.server.ThreadingHTTPServer((host, int(port)), Handler).serve_forever()
PY
pids+=($!)
printf 'whsec_YmVuY2gtd2ViaG9vay1zZWNyZXQtMDEyMzQ1Njc4OQ==' > "$work/secret"

median_latency() { # $1: binary; prints the median latency in ms
  local db="$work/ledger-$RANDOM.db"
  cat > "$work/gateway.toml" <<TOML
[server]
listen = "$GATEWAY"
[storage]
url = "sqlite://$db"
[providers.tm]
kind = "ticketmatic"
sandbox = true
account = "demo"
[[webhooks]]
name = "bench"
url = "http://$RECEIVER/hook"
secret = { file = "$work/secret" }
events = ["refund.succeeded"]
TOML
  RUST_LOG=warn "$1" serve --config "$work/gateway.toml" >/dev/null &
  local gateway=$!
  for _ in $(seq 200); do curl -sf "http://$GATEWAY/healthz" >/dev/null && break; kill -0 "$gateway" || exit 1; sleep 0.05; done
  python3 - "$GATEWAY" "$work/arrivals" "$N" <<'PY'
import json, random, statistics, sys, time, urllib.request
gateway, arrivals, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
latencies = []
for i in range(n):
    body = {"provider": "tm", "target": {"order": "1269434"}, "amount": {"value": "1.00", "currency": "EUR"}}
    req = urllib.request.Request(f"http://{gateway}/v1/refunds", json.dumps(body).encode(),
        {"Content-Type": "application/json", "Idempotency-Key": f"wake-{time.time()}-{i}"})
    refund = json.load(urllib.request.urlopen(req))
    answered = time.time()
    while True:
        seen = [json.loads(l) for l in open(arrivals)]
        hit = [s["at"] for s in seen if s["refund"] == refund["id"]]
        if hit:
            latencies.append((hit[0] - answered) * 1000)
            break
        if time.time() - answered > 10:
            sys.exit(f"no webhook for {refund['id']} within 10 s")
        time.sleep(0.002)
    time.sleep(random.uniform(0, 1))
print(f"{statistics.median(latencies):.1f}")
PY
  kill "$gateway"; wait "$gateway" 2>/dev/null || true
}

baseline=$(median_latency "$BASELINE")
candidate=$(median_latency "$CANDIDATE")
printf '%-12s median %8s ms from the create answer to the webhook (N=%s)\n' baseline "$baseline" "$N" candidate "$candidate" "$N"
awk -v b="$baseline" -v c="$candidate" 'BEGIN { printf "candidate / baseline = %.3f\n", c / b }'
