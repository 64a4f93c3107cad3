//! Opening the ledger: private files, no guessing at URLs, and a clear reason when the
//! database cannot be used.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use refund_gateway::storage::Storage;

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(crate::support::unique(name))
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn ledger_files_are_private_to_the_gateway() {
    let dir = temp("ledger-dir").join("nested");
    let file = dir.join("ledger.db");
    let storage = Storage::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    storage.ready().await.unwrap();
    assert_eq!(mode(&dir), 0o700, "the directory made for the ledger");
    assert_eq!(mode(&file), 0o600, "the ledger file");
    for suffix in ["-wal", "-shm"] {
        let side = dir.join(format!("ledger.db{suffix}"));
        assert!(side.exists(), "{} exists in WAL mode", side.display());
        assert_eq!(mode(&side), 0o600, "{}", side.display());
    }
}

#[tokio::test]
async fn other_database_urls_are_refused_not_guessed() {
    for url in [
        "mysql://user:pw@127.0.0.1/ledger",
        "data/ledger.db",
        "redis://127.0.0.1",
    ] {
        let error = Storage::connect(url).await.err().expect(url).to_string();
        assert!(error.contains("unsupported ledger URL"), "{url}: {error}");
        assert!(!error.contains("pw"), "no password in {error}");
    }
    assert!(!std::path::Path::new("mysql:").exists());
}

#[tokio::test]
async fn a_file_that_is_not_a_database_says_so() {
    let file = temp("corrupt").with_extension("db");
    std::fs::write(
        &file,
        b"this is not a SQLite database, it is plain text".repeat(200),
    )
    .unwrap();
    let started = Instant::now();
    let error = Storage::connect(&format!("sqlite://{}", file.display()))
        .await
        .err()
        .expect("a corrupt file is refused")
        .to_string();
    assert!(error.contains("not a database"), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "at once, not after a pool timeout"
    );
}

#[tokio::test]
async fn an_unreachable_postgres_says_so_within_the_connect_timeout() {
    let started = Instant::now();
    let error = Storage::connect("postgres://refunds:hunter2@127.0.0.1:1/ledger")
        .await
        .err()
        .expect("nothing listens on port 1")
        .to_string();
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    assert!(
        !error.contains("timed out"),
        "the reason, not a pool timeout: {error}"
    );
    assert!(!error.contains("hunter2"), "{error}");
}
