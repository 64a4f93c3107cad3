//! The ledger's metrics, recorded where the ledger is written: how long its queries take
//! (`refund_gateway_ledger_query_duration_seconds`, by operation) and every refund status
//! change (`refund_gateway_refunds_settled_total`, by instance and new status), counted at
//! the one settle point so no path that settles a refund goes uncounted.

use std::time::Instant;

/// Records a ledger operation's duration. `op` is one of a fixed few names.
pub fn ledger_query(op: &'static str, started: Instant) {
    metrics::histogram!("refund_gateway_ledger_query_duration_seconds", "op" => op)
        .record(started.elapsed().as_secs_f64());
}

/// Counts one refund settled to `status` (instance names are the config's: bounded).
pub fn settled(instance: &str, status: &'static str) {
    metrics::counter!(
        "refund_gateway_refunds_settled_total",
        "instance" => instance.to_string(),
        "status" => status,
    )
    .increment(1);
}

impl super::Storage {
    /// Refunds whose outcome is unknown now, by instance (for the open-unknowns gauge).
    pub async fn unknown_open(
        &self,
    ) -> Result<std::collections::HashMap<String, i64>, super::StorageError> {
        use sqlx::Row;
        let started = Instant::now();
        let rows = sqlx::query(
            "SELECT provider, COUNT(*) AS open FROM refunds WHERE status = 'unknown' GROUP BY provider",
        )
        .fetch_all(&self.pool)
        .await?;
        ledger_query("unknown_open", started);
        rows.iter()
            .map(|row| Ok((row.try_get("provider")?, row.try_get("open")?)))
            .collect()
    }
}
