#!/usr/bin/env bash
# Stadium-sized batches, measured in one run on loopback (release build, SQLite ledger file):
#  1. baseline: a 10,000-item batch sent the old way, as one JSON body, to a fresh gateway;
#  2. a 100,000-item CSV batch across two Fourvenues sandbox instances (each its own
#     process) to another fresh gateway: time to 202 and the gateway's peak RSS (VmHWM from
#     /proc/PID/status, which includes start-up), with the ratio of memory grown per item
#     against the baseline;
#  3. the CSV batch then worked for WORK_SECONDS: each vendor's request rate from its own
#     request log, against its instance's configured limit (target: within 2 %, never above).
#
#   bench/stadium.sh        # ITEMS=100000 RATE_A=50 RATE_B=20 WORK_SECONDS=30 PROFILE=release by default
set -euo pipefail
cd "$(dirname "$0")/.."

ITEMS=${ITEMS:-100000}
BASELINE_ITEMS=${BASELINE_ITEMS:-10000}
RATE_A=${RATE_A:-50}
RATE_B=${RATE_B:-20}
WORK_SECONDS=${WORK_SECONDS:-30}
VENDOR_A=127.0.0.1:19921
VENDOR_B=127.0.0.1:19922
GATEWAY=127.0.0.1:19920

PROFILE=${PROFILE:-release}              # PROFILE=debug: the test build, for a quick look
if [ "$PROFILE" = release ]; then
  cargo build --release --quiet --bin refund-gateway
else
  cargo build --quiet --bin refund-gateway
fi
BIN=${CARGO_TARGET_DIR:-target}/$PROFILE/refund-gateway

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

printf '[providers.fv]\nkind = "fourvenues"\nsandbox = true\n' > "$work/vendor.toml"
for vendor in "a $VENDOR_A" "b $VENDOR_B"; do
  set -- $vendor
  RUST_LOG=warn "$BIN" sandbox --config "$work/vendor.toml" --instance fv --listen "$2" --log "$work/vendor-$1.log" >/dev/null &
  pids+=($!)
done
printf 'fourvenues-sandbox-key' > "$work/key"

cat > "$work/gateway.toml" <<TOML
[server]
listen = "$GATEWAY"
request_timeout = "60s"
[storage]
url = "sqlite://$work/ledger.db"
[providers.fv_a]
kind = "fourvenues"
base_url = "http://$VENDOR_A"
api_key = { file = "$work/key" }
rate_limit = { per_second = $RATE_A, burst = 1, max_wait = "5s" }
[providers.fv_b]
kind = "fourvenues"
base_url = "http://$VENDOR_B"
api_key = { file = "$work/key" }
rate_limit = { per_second = $RATE_B, burst = 1, max_wait = "5s" }
TOML

start_gateway() { # fresh ledger each time; sets gateway_pid, waits until it answers
  rm -f "$work"/ledger.db*
  RUST_LOG=warn "$BIN" serve --config "$work/gateway.toml" >"$work/gateway.out" 2>&1 &
  gateway_pid=$!
  pids+=($gateway_pid)
  for _ in $(seq 200); do curl -sf "http://$GATEWAY/healthz" >/dev/null && return; sleep 0.05; done
  echo "gateway did not start"; cat "$work/gateway.out"; exit 1
}
kib() { awk -v f="$1" '$1 == f":" {print $2}' "/proc/$gateway_pid/status"; }

run=$(date +%s)
python3 - "$work" "$run" "$ITEMS" "$BASELINE_ITEMS" <<'PY'
import json, sys
work, run, items, baseline = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
with open(f"{work}/batch.csv", "w") as f:
    f.write("provider,ticket,amount,currency,reason,metadata.row\n")
    for i in range(items):
        f.write(f"fv_{'ab'[i % 2]},bulk-{run}-{i},10.00,EUR,event cancelled,{i}\n")
body = {"items": [{"provider": f"fv_{'ab'[i % 2]}", "target": {"tickets": [f"bulk-json-{run}-{i}"]},
                   "amount": {"value": "10.00", "currency": "EUR"}, "reason": "event cancelled",
                   "metadata": {"row": str(i)}} for i in range(baseline)]}
with open(f"{work}/batch.json", "w") as f:
    json.dump(body, f)
PY

upload() { # $1 file, $2 content type, $3 key -> "seconds http_status"; body in $work/answer.json
  curl -s -o "$work/answer.json" -w '%{time_total} %{http_code}\n' -X POST "http://$GATEWAY/v1/refund-batches" \
    -H "content-type: $2" -H "idempotency-key: $3" --data-binary "@$1"
}

echo "== baseline: $BASELINE_ITEMS items as one JSON body ($(du -h "$work/batch.json" | cut -f1)), $(nproc) cores"
start_gateway
json_before=$(kib VmRSS)
read -r json_seconds json_status < <(upload "$work/batch.json" application/json "json-$run")
json_peak=$(kib VmHWM)
[ "$json_status" = 202 ] || { echo "JSON batch answered $json_status: $(head -c 600 "$work/answer.json")"; exit 1; }
kill "$gateway_pid"; wait "$gateway_pid" 2>/dev/null || true

echo "== stadium: $ITEMS items as CSV ($(du -h "$work/batch.csv" | cut -f1)) across fv_a ($RATE_A/s) and fv_b ($RATE_B/s)"
start_gateway
csv_before=$(kib VmRSS)
: > "$work/vendor-a.log"; : > "$work/vendor-b.log"
read -r csv_seconds csv_status < <(upload "$work/batch.csv" text/csv "csv-$run")
csv_peak=$(kib VmHWM)
[ "$csv_status" = 202 ] || { echo "CSV batch answered $csv_status: $(head -c 600 "$work/answer.json")"; exit 1; }
batch=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$work/answer.json")
accepted_ms=$(date +%s%3N)

python3 - "$json_before" "$json_peak" "$json_seconds" "$BASELINE_ITEMS" "$csv_before" "$csv_peak" "$csv_seconds" "$ITEMS" <<'PY'
import sys
jb, jp, js, jn, cb, cp, cs, cn = sys.argv[1:]
jb, jp, cb, cp = (int(x) / 1024 for x in (jb, jp, cb, cp))
js, cs, jn, cn = float(js), float(cs), int(jn), int(cn)
print(f"{'':28} {'items':>8} {'accepted in':>12} {'RSS before':>11} {'peak RSS':>9} {'KiB/item':>9}")
for name, n, s, b, p in (("JSON body (baseline)", jn, js, jb, jp), ("CSV stream", cn, cs, cb, cp)):
    print(f"{name:28} {n:>8} {s:>10.2f} s {b:>7.1f} MiB {p:>5.1f} MiB {1024 * (p - b) / n:>9.2f}")
print(f"memory grown per item, CSV / JSON = {((cp - cb) / cn) / ((jp - jb) / jn):.3f}")
print(f"items accepted per second, CSV / JSON = {(cn / cs) / (jn / js):.2f}")
print(f"targets: accepted in < 10 s: {'PASS' if cs < 10 else 'FAIL'} ({cs:.2f} s); peak RSS < 256 MiB: {'PASS' if cp < 256 else 'FAIL'} ({cp:.1f} MiB)")
PY

echo "== pace: the CSV batch worked for $WORK_SECONDS s"
sleep "$WORK_SECONDS"
worked_peak=$(kib VmHWM)
curl -s -X POST "http://$GATEWAY/v1/refund-batches/$batch/cancel" -o "$work/canceled.json"
python3 - "$work" "$accepted_ms" "$RATE_A" "$RATE_B" "$worked_peak" <<'PY'
import json, sys
work, accepted, limits, peak = sys.argv[1], int(sys.argv[2]), {"a": float(sys.argv[3]), "b": float(sys.argv[4])}, int(sys.argv[5]) / 1024
report = json.load(open(f"{work}/canceled.json"))
print(f"items worked before the cancel: {sum(v for k, v in report['counts'].items() if k not in ('queued', 'canceled'))} "
      f"({report['counts'].get('succeeded', 0)} succeeded); peak RSS while working {peak:.1f} MiB")
for name in ("a", "b"):
    times = sorted(json.loads(line)["at_ms"] for line in open(f"{work}/vendor-{name}.log"))
    times = [t for t in times if t >= accepted]
    rate = limits[name]
    span = (times[-1] - times[0]) / 1000
    measured = (len(times) - 1) / span
    window_max = max(sum(1 for u in times[i:] if u - t < 1000) for i, t in enumerate(times))
    ok = rate * 0.98 <= measured <= rate
    print(f"fv_{name}: {len(times)} vendor requests in {span:.2f} s = {measured:.2f}/s against a limit of {rate:g}/s "
          f"({100 * (measured - rate) / rate:+.2f} %, {'PASS' if ok else 'FAIL'}); busiest 1-second window {window_max} (limit {rate:g} + burst 1)")
PY
