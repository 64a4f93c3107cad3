//! The added latency of the Redis limiter per vendor call: `OutboundLimit::acquire` with
//! the pace in memory and with the pace in Redis (`[coordination]`), measured in one run,
//! sequentially, with a budget far above the call rate so no call ever waits for its turn
//! (what is measured is the limiter's own cost). Run by `bench/redis_limiter.sh`.
//!
//! Usage: redis_limiter <redis-url> [calls]

use std::sync::Arc;
use std::time::{Duration, Instant};

use refund_gateway::config::Config;
use refund_gateway::coordination::Coordination;
use refund_gateway::traffic::outbound_limit::OutboundLimit;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .expect("usage: redis_limiter <redis-url> [calls]");
    let calls: usize = args.next().map_or(20_000, |n| n.parse().expect("a count"));
    let prefix = format!("bench-{}", std::process::id());
    let config = Config::from_toml_str(&format!(
        "[coordination]\nredis = {{ url = \"{url}\" }}\nkey_prefix = \"{prefix}\"\n\
         [providers.sb]\nkind = \"stubbur\"\nsandbox = true\n\
         rate_limit = {{ per_second = 100000, burst = 100000 }}\n"
    ))
    .expect("bench config");
    let rate = config.providers[0].common.rate_limit.clone();
    let coordination = Arc::new(
        Coordination::connect(config.coordination.as_ref().expect("coordination"))
            .expect("Redis URL"),
    );
    coordination.ping().await.expect("Redis answers");

    let memory = OutboundLimit::new(rate.clone());
    let redis = OutboundLimit::new(rate);
    redis.share(coordination.clone(), "sb");

    // Warm both (script loaded, connection made), then measure in turns.
    for _ in 0..1000 {
        memory.acquire().await.expect("in-memory acquire");
        redis.acquire().await.expect("Redis acquire");
    }
    let (mut in_memory, mut in_redis) = (Vec::new(), Vec::new());
    for _ in 0..calls {
        let started = Instant::now();
        memory.acquire().await.expect("in-memory acquire");
        in_memory.push(started.elapsed());
        let started = Instant::now();
        redis.acquire().await.expect("Redis acquire");
        in_redis.push(started.elapsed());
    }
    let (m50, m99) = percentiles(&mut in_memory);
    let (r50, r99) = percentiles(&mut in_redis);
    println!("acquire latency over {calls} calls each (µs):");
    println!(
        "  in-memory limiter  p50 {:>8.1}  p99 {:>8.1}",
        us(m50),
        us(m99)
    );
    println!(
        "  Redis limiter      p50 {:>8.1}  p99 {:>8.1}",
        us(r50),
        us(r99)
    );
    println!(
        "  added by Redis     p50 {:>8.1}  p99 {:>8.1}",
        us(r50) - us(m50),
        us(r99) - us(m99)
    );
    println!(
        "  fallbacks: {}",
        if coordination.available() {
            "none (Redis answered every call)"
        } else {
            "some: Redis was unavailable during the run"
        }
    );
}

fn percentiles(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    (at(0.50), at(0.99))
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
