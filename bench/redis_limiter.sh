#!/usr/bin/env bash
# The added latency of the Redis limiter per vendor call ([coordination]): the outbound
# limit's acquire with its pace in memory and in Redis, p50 and p99, measured in this one
# run (examples/redis_limiter.rs), against a Redis on loopback (.ci/redis.sh starts one).
#
#   bench/redis_limiter.sh            # 20000 calls each
#   CALLS=100000 bench/redis_limiter.sh
#
# The budget is far above the call rate, so no call waits for its turn: what is measured
# is the limiter's own cost (for Redis: one EVALSHA round trip on loopback).
# Builds with `cargo build --release --example redis_limiter` (honours CARGO_TARGET_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."

CALLS=${CALLS:-20000}
eval "$(bash .ci/redis.sh)"
cargo build --release --example redis_limiter >&2
TARGET=${CARGO_TARGET_DIR:-target}
"$TARGET/release/examples/redis_limiter" "$REFUND_GATEWAY_TEST_REDIS" "$CALLS"
