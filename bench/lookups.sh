#!/usr/bin/env bash
# Refund lookups through the gateway against nginx and a bare hyper server, all measured in
# this one run with wrk on loopback (127.0.0.1 only; every case bounded by DURATION).
#
#   bench/lookups.sh                          # 10 s per case, 32 connections, 2 wrk threads
#   DURATION=30s CONNECTIONS=64 bench/lookups.sh
#
# One vendor for everyone: a replay vendor (`refund-gateway replay`, answers reusable)
# serving the recorded Ticketmatic order fixtures/ticketmatic/get-order-partially-refunded.json.
# In front of that one process:
#   bare hyper         examples/bare_hyper.rs answering every request with the vendor's bytes
#   nginx proxy_pass   plain reverse proxy to the vendor (keep-alive upstream connections)
#   nginx proxy_cache  the same, caching 200s for 1 h by URI, proxy_cache_lock on
#   gateway            one ticketmatic instance at the vendor, no rate limits, lookup cache
#                      TTL 1 h: the vendor list (GET /v1/refunds?provider=tm&order=...) and
#                      get by id (GET /v1/refunds/rf_...), cached (warmed first) and live
#                      (`Cache-Control: no-cache`: every request reads the order at the vendor)
# Each live request costs one vendor request, through nginx proxy_pass as through the gateway.
#
# Targets, as ratios within this run: cached list and cached get >= nginx proxy_cache req/s;
# live list and live get >= nginx proxy_pass req/s; p99 of cached lookups <= nginx
# proxy_cache's p99. Printed as PASS/FAIL lines after the table.
#
# Needs wrk and nginx (Debian packages; installed with apt-get when missing). nginx runs in
# the foreground, not as a daemon, from a config, pid file and temp dirs of its own in a
# temporary folder, with the access log off; the OS's own nginx service is left alone.
# Builds with `cargo build --release` (honours CARGO_TARGET_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
GATEWAY=127.0.0.1:19900
VENDOR=127.0.0.1:19901
BARE=127.0.0.1:19902
NGINX_PASS=127.0.0.1:19903
NGINX_CACHE=127.0.0.1:19904
ORDER=1269434
FIXTURE=fixtures/ticketmatic/get-order-partially-refunded.json
VENDOR_PATH=/demo/orders/$ORDER
# The replay vendor checks the header's form, not its signature: nginx sends this fixed one.
VENDOR_AUTH="TM-HMAC-SHA256 key=bench ts=2024-01-01T00:00:00 sign=$(printf '0%.0s' $(seq 64))"

install_missing() { # $1: command, $2: Debian package
  command -v "$1" >/dev/null && return
  echo "installing $2 (Debian package)"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  ($sudo apt-get update -qq && $sudo apt-get install -y -qq "$2") >/dev/null
}
install_missing wrk wrk
PATH=$PATH:/usr/sbin install_missing nginx nginx
NGINX=$(PATH=$PATH:/usr/sbin command -v nginx)

cargo build --release --quiet --bin refund-gateway --example bare_hyper
TARGET=${CARGO_TARGET_DIR:-target}
BIN=$TARGET/release/refund-gateway

for addr in $GATEWAY $VENDOR $BARE $NGINX_PASS $NGINX_CACHE; do
  if (exec 3<>"/dev/tcp/${addr%:*}/${addr#*:}") 2>/dev/null; then
    echo "$addr is already in use: stop what listens there first"
    exit 1
  fi
done

work=$(mktemp -d)
chmod 755 "$work" # nginx workers (user nobody when started as root) read and write below it
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

wait_for() { # $1: URL that must answer 200, $2: what, $3: its log (optional)
  for _ in $(seq 100); do curl -sf -o /dev/null "$1" && return; sleep 0.05; done
  echo "$2 did not answer at $1"
  [ -z "${3:-}" ] || cat "$3"
  exit 1
}

# The one vendor.
RUST_LOG=warn "$BIN" replay "$FIXTURE" --listen "$VENDOR" >/dev/null 2>"$work/vendor.log" &
pids+=($!)
vendor_pid=$!
for _ in $(seq 100); do
  curl -sf -H "Authorization: $VENDOR_AUTH" -o "$work/body.json" "http://$VENDOR$VENDOR_PATH" && break
  sleep 0.05
done
test -s "$work/body.json" || { echo "the replay vendor did not answer"; exit 1; }

# The same bytes, from bare hyper.
"$TARGET/release/examples/bare_hyper" "$BARE" "$work/body.json" >/dev/null &
pids+=($!)

# nginx: proxy_pass and proxy_cache in front of the same vendor.
mkdir -p "$work/nginx/tmp" "$work/nginx/cache"
cat > "$work/nginx/nginx.conf" <<NGINX
daemon off;
master_process on;
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx/tmp/client;
  proxy_temp_path $work/nginx/tmp/proxy;
  fastcgi_temp_path $work/nginx/tmp/fastcgi;
  uwsgi_temp_path $work/nginx/tmp/uwsgi;
  scgi_temp_path $work/nginx/tmp/scgi;
  proxy_cache_path $work/nginx/cache levels=1:2 keys_zone=lookups:10m max_size=64m inactive=1h use_temp_path=off;
  upstream vendor {
    server $VENDOR;
    keepalive 64;
  }
  server {
    listen $NGINX_PASS;
    location / {
      proxy_pass http://vendor;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Authorization "$VENDOR_AUTH";
    }
  }
  server {
    listen $NGINX_CACHE;
    location / {
      proxy_pass http://vendor;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Authorization "$VENDOR_AUTH";
      proxy_cache lookups;
      proxy_cache_key \$request_uri;
      proxy_cache_valid 200 1h;
      proxy_cache_lock on;
      add_header Cache-Status \$upstream_cache_status;
    }
  }
}
NGINX
"$NGINX" -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
pids+=($!)

# The gateway: one Ticketmatic instance at the same vendor.
printf 'bench-access' > "$work/access"
printf 'bench-secret' > "$work/secret"
cat > "$work/gateway.toml" <<TOML
[server]
listen = "$GATEWAY"

[storage]
url = "sqlite::memory:"

[providers.tm]
kind = "ticketmatic"
base_url = "http://$VENDOR"
account = "demo"
access_key = { file = "$work/access" }
secret_key = { file = "$work/secret" }
cache = { ttl = "1h", final_ttl = "1h" }
TOML
RUST_LOG=warn "$BIN" serve --config "$work/gateway.toml" >/dev/null 2>"$work/gateway.log" &
pids+=($!)

wait_for "http://$BARE/" "bare hyper"
wait_for "http://$NGINX_PASS$VENDOR_PATH" "nginx proxy_pass" "$work/nginx/error.log"
wait_for "http://$GATEWAY/healthz" "the gateway" "$work/gateway.log"
LIST="http://$GATEWAY/v1/refunds?provider=tm&order=$ORDER"
curl -sf "$LIST" -o "$work/list.json"
ID=$(grep -o '"id":"rf_[^"]*"' "$work/list.json" | head -1 | cut -d'"' -f4)
test -n "$ID" || { echo "the gateway's list has no rf_ id: $(cat "$work/list.json")"; exit 1; }
GET="http://$GATEWAY/v1/refunds/$ID"

# Warm the caches, and check that they answer from cache.
curl -sf -o /dev/null "http://$NGINX_CACHE$VENDOR_PATH"
curl -sf -o /dev/null "$GET"
header() { curl -sf -D - -o /dev/null "$1" | tr -d '\r' | awk -v h="$2" 'tolower($1) == tolower(h) ":" { $1 = ""; print substr($0, 2) }'; }
[ "$(header "http://$NGINX_CACHE$VENDOR_PATH" Cache-Status)" = HIT ] || { echo "nginx proxy_cache is not warm"; exit 1; }
header "$LIST" Cache-Status | grep -q 'hit' || { echo "the gateway's list is not cached"; exit 1; }
header "$GET" Cache-Status | grep -q 'hit' || { echo "the gateway's get is not cached"; exit 1; }
cmp -s "$work/body.json" <(curl -sf "http://$NGINX_CACHE$VENDOR_PATH") || { echo "nginx serves other bytes than the vendor"; exit 1; }
kill -0 "$vendor_pid" # still the one vendor process behind nginx and the gateway

to_ms() { # wrk's "1.23ms" / "456.00us" / "1.20s" -> milliseconds
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000
    printf "%.3f", n
  }'
}

# Runs wrk; sets RPS, P50, P99 (ms) and ERRS (non-2xx answers and socket errors).
measure() {
  local out
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@")
  RPS=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
  P50=$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
  P99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
  ERRS=$(awk '/Non-2xx or 3xx responses/ { n += $NF } /Socket errors/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' <<<"$out")
}

declare -A rps p50 p99 errs
cases=(bare pass cache list_cached list_live get_cached get_live)
declare -A label=(
  [bare]="bare hyper (vendor bytes)"
  [pass]="nginx proxy_pass"
  [cache]="nginx proxy_cache"
  [list_cached]="gateway list, cached"
  [list_live]="gateway list, live"
  [get_cached]="gateway get by id, cached"
  [get_live]="gateway get by id, live"
)
run() { # $1: case, then wrk's arguments
  local name=$1
  shift
  measure "$@"
  rps[$name]=$RPS p50[$name]=$P50 p99[$name]=$P99 errs[$name]=$ERRS
}

# Each server (nginx too) gets a warm-up before its cases: a gateway process that sat idle while
# nginx was measured serves its first seconds of load about a fifth slower (page faults,
# allocator and scheduler warm-up; seen with this session's and earlier binaries alike).
warm() { wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP:-3s}" "$@" >/dev/null; }
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, $(nproc) cores, all on 127.0.0.1"
warm "http://$BARE$VENDOR_PATH"
run bare "http://$BARE$VENDOR_PATH"
run pass "http://$NGINX_PASS$VENDOR_PATH"
warm "http://$NGINX_CACHE$VENDOR_PATH"
run cache "http://$NGINX_CACHE$VENDOR_PATH"
warm "$LIST"
run list_cached "$LIST"
run list_live -H 'Cache-Control: no-cache' "$LIST"
run get_cached "$GET"
run get_live -H 'Cache-Control: no-cache' "$GET"

printf '%-28s %12s %10s %10s %9s\n' case req/s "p50 ms" "p99 ms" "/ bare"
invalid=0
if ! kill -0 "$vendor_pid" 2>/dev/null; then
  echo "the replay vendor stopped during the run (was it killed by name from elsewhere?):"
  tail -5 "$work/vendor.log"
  invalid=1
fi
for c in "${cases[@]}"; do
  printf '%-28s %12.0f %10.2f %10.2f %9.2f' "${label[$c]}" "${rps[$c]}" "${p50[$c]}" "${p99[$c]}" \
    "$(awk -v a="${rps[$c]}" -v b="${rps[bare]}" 'BEGIN { print a / b }')"
  if [ "${errs[$c]}" != 0 ]; then
    printf '   %s errors: not a valid measurement' "${errs[$c]}"
    invalid=1
  fi
  printf '\n'
done

check() { # $1: description, $2: ours, $3: op (ge: higher is better, le: lower), $4: reference
  awk -v d="$1" -v a="$2" -v op="$3" -v b="$4" 'BEGIN {
    ok = (op == "ge") ? (a >= b) : (a <= b)
    printf "%s  %-48s %.2f\n", ok ? "PASS" : "FAIL", d, a / b
  }'
}
echo "targets (ratio):"
check "cached list req/s >= nginx proxy_cache req/s" "${rps[list_cached]}" ge "${rps[cache]}"
check "cached get req/s >= nginx proxy_cache req/s" "${rps[get_cached]}" ge "${rps[cache]}"
check "live list req/s >= nginx proxy_pass req/s" "${rps[list_live]}" ge "${rps[pass]}"
check "live get req/s >= nginx proxy_pass req/s" "${rps[get_live]}" ge "${rps[pass]}"
check "cached list p99 <= nginx proxy_cache p99" "${p99[list_cached]}" le "${p99[cache]}"
check "cached get p99 <= nginx proxy_cache p99" "${p99[get_cached]}" le "${p99[cache]}"
exit "$invalid"
