//! The gateway's own durable state: the refund ledger and idempotency keys, in SQLite by
//! default (a file created on first start) or PostgreSQL when several gateway instances
//! share one database. One schema for both (`migrations/`), written in portable SQL and run
//! through sqlx's `Any` driver, so every query here serves both backends.

pub mod batch_intake;
pub mod batch_reads;
pub mod batches;
pub mod deliveries;
pub mod events;
pub mod follows;
pub mod gateways;
pub mod idempotency;
pub mod observe;
pub mod refunds;
pub mod view;

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;
use std::time::Duration;

use sqlx::any::{install_default_drivers, AnyPoolOptions};
use sqlx::{AnyPool, Connection, Executor};

/// Why storage failed. Every variant becomes 503 `storage_unavailable` for creates: a
/// vendor is never called without its intent row.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("the ledger database is unavailable: {0}")]
    Unavailable(#[from] sqlx::Error),
    #[error("the ledger database could not be prepared: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("the ledger holds a row it cannot read ({0})")]
    Corrupt(String),
    #[error("cannot create the ledger file or directory `{path}`: {source}")]
    Directory {
        path: String,
        source: std::io::Error,
    },
    #[error("unsupported ledger URL `{0}`: use sqlite://<path>, sqlite::memory: or postgres://user@host/db")]
    UnsupportedUrl(String),
    #[error("the ledger database did not answer within {0:?}")]
    ConnectTimeout(Duration),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Storage {
    pub(crate) pool: AnyPool,
    pub backend: Backend,
    /// Webhook subscriptions and batch progress settings, for events written with changes.
    pub(crate) outbox: std::sync::Arc<std::sync::RwLock<events::OutboxConfig>>,
    /// Told when this process commits events that may have webhook deliveries: the sender
    /// wakes at once instead of at its next poll (`events::deliveries_committed`).
    pub(crate) deliveries_written: std::sync::Arc<tokio::sync::Notify>,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Milliseconds since the Unix epoch: how the ledger stores time on both backends.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Storage {
    /// Connects (creating a SQLite file and its directory when missing) and migrates.
    pub async fn connect(url: &str) -> Result<Storage, StorageError> {
        install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            // Never guessed: `mysql://...` must not quietly become a SQLite file of that name.
            let shown = url.split('@').next_back().unwrap_or(url);
            return Err(StorageError::UnsupportedUrl(shown.to_string()));
        };
        let url = match backend {
            Backend::Sqlite => prepare_sqlite(url)?,
            Backend::Postgres => url.to_string(),
        };
        // One connection first, so a wrong file or an unreachable server stops start-up
        // with its own reason, not a pool's "timed out".
        probe(&url, backend).await?;
        // An in-memory database lives only while a connection holds it: keep one forever.
        let in_memory = url.contains("mode=memory");
        let options = AnyPoolOptions::new()
            .min_connections(u32::from(in_memory))
            .idle_timeout((!in_memory).then_some(Duration::from_secs(600)))
            .max_lifetime((!in_memory).then_some(Duration::from_secs(1800)))
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(5))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers work beside the one writer; the busy timeout makes
                        // concurrent writers wait their turn instead of failing.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                    }
                    Ok(())
                })
            });
        let mut attempt = 1;
        let pool = loop {
            match open_and_migrate(&options, &url).await {
                Err(e) if attempt < START_ATTEMPTS && timed_out(&e) => {
                    tracing::warn!(
                        attempt,
                        "the ledger pool timed out at start-up; trying again"
                    );
                    attempt += 1;
                }
                other => break other?,
            }
        };
        Ok(Storage {
            pool,
            backend,
            outbox: Default::default(),
            deliveries_written: Default::default(),
        })
    }

    /// Closes every connection: from then on the ledger is unavailable (shutdown, and
    /// tests of a lost database).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Whether the ledger answers and every migration this build knows has been applied
    /// (the readiness probe). The error says which is missing.
    pub async fn ready(&self) -> Result<(), StorageError> {
        let _timed = observe::LedgerOp::Ready.timed();
        let applied: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_one(&self.pool)
                .await?;
        let known = MIGRATOR.iter().count() as i64;
        if applied < known {
            return Err(StorageError::Corrupt(format!(
                "{applied} of {known} migrations applied"
            )));
        }
        Ok(())
    }

    /// Runs the migrations only (the `migrate` command).
    pub async fn migrate(url: &str) -> Result<(), StorageError> {
        Self::connect(url).await.map(|_| ())
    }
}

/// Start-up opens the pool and migrates this many times when a pool connection times out.
/// The probe has just reached the database, so a timeout then is a machine too busy to open
/// connections within the pool's 5 s (many processes opening ledgers at once), not a missing
/// database; requests later keep the 5 s bound.
const START_ATTEMPTS: u32 = 3;

async fn open_and_migrate(
    options: &AnyPoolOptions,
    url: &str,
) -> Result<sqlx::AnyPool, StorageError> {
    let pool = options.clone().connect(url).await?;
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}

fn timed_out(error: &StorageError) -> bool {
    matches!(
        error,
        StorageError::Unavailable(sqlx::Error::PoolTimedOut)
            | StorageError::Migration(sqlx::migrate::MigrateError::Execute(
                sqlx::Error::PoolTimedOut
            ))
    )
}

/// How long start-up waits for the database's first answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens one connection and reads the schema: a file that is not a SQLite database, or a
/// server that refuses or does not answer, fails here with what went wrong.
async fn probe(url: &str, backend: Backend) -> Result<(), StorageError> {
    let check = async {
        let mut conn = sqlx::AnyConnection::connect(url).await?;
        let sql = match backend {
            Backend::Sqlite => "SELECT COUNT(*) FROM sqlite_master",
            Backend::Postgres => "SELECT 1",
        };
        conn.execute(sql).await?;
        conn.close().await?;
        Ok::<_, StorageError>(())
    };
    tokio::time::timeout(CONNECT_TIMEOUT, check)
        .await
        .map_err(|_| StorageError::ConnectTimeout(CONNECT_TIMEOUT))?
}

/// Makes `sqlite://path` usable: the directory exists and the file is created if missing,
/// both readable by the gateway's user only (0700 and 0600; SQLite gives its WAL and
/// shared-memory files the database file's permissions).
fn prepare_sqlite(url: &str) -> Result<String, StorageError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path == ":memory:" {
        // One named in-memory database, shared by the pool's connections (and lost on exit).
        return Ok(format!(
            "sqlite:file:refund-gateway-{}?mode=memory&cache=shared",
            ulid::Ulid::new()
        ));
    }
    if !path.is_empty() {
        let failed = |path: &Path| {
            let path = path.display().to_string();
            move |source| StorageError::Directory { path, source }
        };
        if let Some(parent) = Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            // Only the directories made here get 0700; an existing one is left as it is.
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)
                .map_err(failed(parent))?;
        }
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(failed(Path::new(path)))?;
    }
    let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    if !params.iter().any(|p| p.starts_with("mode=")) {
        params.push("mode=rwc");
    }
    Ok(format!("sqlite://{path}?{}", params.join("&")))
}
