//! The gateway processes sharing this ledger: registered at start, beating while they run,
//! marked ended when they stop or are found dead. What a dead process held (idempotency
//! keys) can then be taken over at once instead of after its lease.

use sqlx::Row;

use super::{now_ms, Storage, StorageError};
use crate::storage::observe::LedgerOp;

/// A process whose heartbeat is older than this is taken for dead.
pub const DEAD_AFTER_MS: i64 = 5_000;

/// This machine's name, as processes record it.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// Whether process `pid` is running on this machine (Linux `/proc`).
fn running(pid: i64) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

impl Storage {
    /// Registers this process, and marks ended the processes of this host that are no
    /// longer running (they crashed: a `kill -9` leaves no other trace).
    pub async fn register_gateway(&self, id: &str) -> Result<u64, StorageError> {
        let _timed = LedgerOp::RegisterGateway.timed();
        let host = host_name();
        let me = i64::from(std::process::id());
        let now = now_ms();
        let rows = sqlx::query("SELECT id, pid FROM gateways WHERE host = $1 AND ended_at IS NULL")
            .bind(&host)
            .fetch_all(&self.pool)
            .await?;
        let mut ended = 0;
        for row in rows {
            let pid: i64 = row.try_get("pid")?;
            // Our own pid on an unended row: its process died and the pid came round again.
            if pid == me || !running(pid) {
                let other: String = row.try_get("id")?;
                ended += self.end_gateway(&other).await?;
            }
        }
        sqlx::query(
            "INSERT INTO gateways (id, host, pid, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(id)
        .bind(&host)
        .bind(me)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(ended)
    }

    /// This process is still alive (if it was taken for dead during a stall, no longer).
    pub async fn heartbeat(&self, id: &str) -> Result<(), StorageError> {
        let _timed = LedgerOp::Heartbeat.timed();
        sqlx::query("UPDATE gateways SET heartbeat_at = $1, ended_at = NULL WHERE id = $2")
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Process `id` has stopped (a graceful stop, or found dead).
    pub async fn end_gateway(&self, id: &str) -> Result<u64, StorageError> {
        let _timed = LedgerOp::EndGateway.timed();
        let result =
            sqlx::query("UPDATE gateways SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL")
                .bind(now_ms())
                .bind(id)
                .execute(&self.pool)
                .await?;
        Ok(result.rows_affected())
    }

    /// Marks ended every process silent for `DEAD_AFTER_MS` (a crash on another host).
    pub async fn end_silent_gateways(&self) -> Result<u64, StorageError> {
        let _timed = LedgerOp::EndSilentGateways.timed();
        let now = now_ms();
        let result = sqlx::query(
            "UPDATE gateways SET ended_at = $1 WHERE ended_at IS NULL AND heartbeat_at < $2",
        )
        .bind(now)
        .bind(now - DEAD_AFTER_MS)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected())
    }

    /// Whether process `id` has ended: said so, or silent for `DEAD_AFTER_MS`. An unknown
    /// id (a key claimed before processes were recorded) is not taken for ended.
    pub async fn gateway_ended(&self, id: &str) -> Result<bool, StorageError> {
        let _timed = LedgerOp::GatewayEnded.timed();
        let row = sqlx::query("SELECT heartbeat_at, ended_at FROM gateways WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            None => false,
            Some(row) => {
                row.try_get::<Option<i64>, _>("ended_at")?.is_some()
                    || row.try_get::<i64, _>("heartbeat_at")? < now_ms() - DEAD_AFTER_MS
            }
        })
    }
}
