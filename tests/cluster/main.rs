//! Several gateways sharing vendor budgets through one Redis (`[coordination]`): real
//! gateway processes on one PostgreSQL ledger, real Redis servers, and vendor sandboxes
//! whose own request logs are the measurement.

#[path = "../support/mod.rs"]
mod support;

mod budgets;
mod sharing;
mod tls;

/// One test at a time: these measure pacing at the vendors, and nine gateways plus other
/// tests at once on a small machine would measure its scheduling instead.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A vendor lookup on `gw`: how many refunds it lists, and its `Cache-Status`.
async fn lookup(gw: &support::TestGateway, path: &str) -> (usize, String) {
    let r = gw.get(path).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let count = r.body["data"].as_array().map_or(0, Vec::len);
    (count, r.header("cache-status").unwrap_or("").to_string())
}
