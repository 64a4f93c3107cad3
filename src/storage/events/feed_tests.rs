//! The event feed against real databases (a SQLite file, and PostgreSQL when
//! `REFUND_GATEWAY_TEST_POSTGRES` names a server, as `tests/support::ledger_databases`):
//! events committed in any order are each read once, in commit order, by a reader that
//! keeps its cursor; concurrent writers of one subject never share a `subject_seq`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sqlx::{AnyConnection, Connection};

use super::{new_event_id, write, write_with_id, EventFilter, EventType, NewEvent, OutboxConfig};
use crate::storage::Storage;

/// Fresh, empty database URLs: PostgreSQL when the test server is named, and SQLite.
async fn database_urls() -> Vec<String> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    static RUN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    // The process id and the start time: a reused process id must not find an earlier
    // run's database.
    let run = RUN.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        format!("{}_{:x}", std::process::id(), nanos % (1 << 40))
    });
    let unique = || format!("{run}_{}", COUNTER.fetch_add(1, Ordering::SeqCst));
    let dir = std::env::temp_dir().join(format!("refund-gateway-lib-{run}"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut urls = Vec::new();
    if let Ok(admin) = std::env::var("REFUND_GATEWAY_TEST_POSTGRES") {
        sqlx::any::install_default_drivers();
        let name = format!("rg_feed_{}", unique());
        let mut conn = AnyConnection::connect(&admin)
            .await
            .expect("PostgreSQL test server reachable");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("test database created");
        let base = admin.rsplit_once('/').expect("admin URL has a path").0;
        urls.push(format!("{base}/{name}"));
    }
    urls.push(format!(
        "sqlite://{}?mode=rwc",
        dir.join(format!("feed-{}.db", unique())).display()
    ));
    urls
}

/// Fresh, migrated ledgers (see `database_urls`).
async fn databases() -> Vec<Storage> {
    let mut storages = Vec::new();
    for url in database_urls().await {
        storages.push(Storage::connect(&url).await.expect("ledger opens"));
    }
    storages
}

/// One `batch.progress` event of `client` about `subject`, on the caller's transaction;
/// with `id` when given (made beforehand), else a fresh one.
async fn event(
    conn: &mut AnyConnection,
    client: &str,
    subject: &str,
    id: Option<String>,
) -> String {
    let event = NewEvent {
        kind: EventType::BatchProgress,
        client,
        refund_id: None,
        batch_id: Some(subject),
        data: serde_json::json!({ "id": subject }),
    };
    let outbox = OutboxConfig::default();
    match id {
        Some(id) => write_with_id(conn, &outbox, id, event).await,
        None => write(conn, &outbox, event).await,
    }
    .expect("event written")
}

/// The feed after `cursor`, as a reader polling it sees it.
async fn read(storage: &Storage, client: &str, cursor: Option<&str>) -> Vec<String> {
    let filter = EventFilter {
        client: client.to_string(),
        starting_after: cursor.map(str::to_string),
        ..EventFilter::default()
    };
    let rows = storage.list_events(&filter, 100).await.expect("feed read");
    rows.into_iter().map(|e| e.id).collect()
}

/// Reads the feed from `cursor` and moves the cursor to the last event read.
async fn poll(
    storage: &Storage,
    client: &str,
    cursor: &mut Option<String>,
    seen: &mut Vec<String>,
) {
    let page = read(storage, client, cursor.as_deref()).await;
    if let Some(last) = page.last() {
        *cursor = Some(last.clone());
    }
    seen.extend(page);
}

/// Transaction 1 makes its event id, then transaction 2 makes a later one and commits
/// first; a reader polls between the commits. The earlier id, committed last, must still
/// reach the reader, after the later id (commit order). With ids ordering the feed, the
/// reader's cursor had passed it: the event was lost. Deterministic on both backends.
#[tokio::test]
async fn an_event_committed_after_a_later_id_is_not_skipped() {
    for storage in databases().await {
        let client = "acme";
        let early = new_event_id();
        let mut t2 = storage.pool.begin().await.unwrap();
        let late = event(&mut t2, client, "bat_2", None).await;
        t2.commit().await.unwrap();
        assert!(early < late, "ids are made in order");

        let (mut cursor, mut seen) = (None, Vec::new());
        poll(&storage, client, &mut cursor, &mut seen).await;
        let mut t1 = storage.pool.begin().await.unwrap();
        event(&mut t1, client, "bat_1", Some(early.clone())).await;
        t1.commit().await.unwrap();
        poll(&storage, client, &mut cursor, &mut seen).await;

        assert_eq!(seen, [late, early], "{:?}", storage.backend);
    }
}

/// Transaction 1 writes an event and stays open; transaction 2 (another task) writes one
/// and tries to commit; the reader polls, then transaction 1 commits and 2 ends. Both are
/// read exactly once, in commit order (1 then 2), however the tasks were scheduled: the
/// sleep only gives transaction 2 the chance to commit first, as it did before the fix.
#[tokio::test]
async fn an_open_transaction_holds_back_the_events_after_it() {
    for storage in databases().await {
        let client = "acme";
        let mut t1 = storage.pool.begin().await.unwrap();
        let first = event(&mut t1, client, "bat_1", None).await;
        let second = tokio::spawn({
            let storage = storage.clone();
            async move {
                let mut t2 = storage.pool.begin().await.unwrap();
                let id = event(&mut t2, client, "bat_2", None).await;
                t2.commit().await.unwrap();
                id
            }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (mut cursor, mut seen) = (None, Vec::new());
        poll(&storage, client, &mut cursor, &mut seen).await;
        t1.commit().await.unwrap();
        let second = second.await.unwrap();
        poll(&storage, client, &mut cursor, &mut seen).await;

        assert_eq!(seen, [first, second], "{:?}", storage.backend);
    }
}

/// Two transactions writing events of one subject at once (two gateways finishing items
/// of one batch) take distinct, consecutive `subject_seq`s: deliveries are sent in that
/// order. Under READ COMMITTED each used to read the same `MAX(subject_seq)`.
#[tokio::test]
async fn concurrent_writers_of_one_subject_take_distinct_seqs() {
    for storage in databases().await {
        let mut t1 = storage.pool.begin().await.unwrap();
        event(&mut t1, "acme", "bat_shared", None).await;
        let second = tokio::spawn({
            let storage = storage.clone();
            async move {
                let mut t2 = storage.pool.begin().await.unwrap();
                event(&mut t2, "acme", "bat_shared", None).await;
                t2.commit().await.unwrap();
            }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        t1.commit().await.unwrap();
        second.await.unwrap();

        let seqs: Vec<i64> = sqlx::query_scalar(
            "SELECT subject_seq FROM events WHERE subject = 'bat_shared' ORDER BY subject_seq",
        )
        .fetch_all(&storage.pool)
        .await
        .unwrap();
        assert_eq!(seqs, [1, 2], "{:?}", storage.backend);
    }
}

/// The reader's cursor event is purged by retention. Events committed after it are read
/// from there, none skipped, including one whose id is below the cursor's (made before it,
/// committed after it), which a cursor of "the last event with a smaller id" would skip.
#[tokio::test]
async fn a_purged_cursor_resumes_without_skipping() {
    for storage in databases().await {
        let client = "acme";
        let early = new_event_id();
        let mut tx = storage.pool.begin().await.unwrap();
        let cursor_event = event(&mut tx, client, "bat_1", None).await;
        tx.commit().await.unwrap();
        let (mut cursor, mut seen) = (None, Vec::new());
        poll(&storage, client, &mut cursor, &mut seen).await;
        assert_eq!(seen, std::slice::from_ref(&cursor_event));

        let mut tx = storage.pool.begin().await.unwrap();
        event(&mut tx, client, "bat_2", Some(early.clone())).await;
        tx.commit().await.unwrap();
        let mut tx = storage.pool.begin().await.unwrap();
        let last = event(&mut tx, client, "bat_3", None).await;
        tx.commit().await.unwrap();

        // The cursor event is a year old: retention (a day) purges it.
        sqlx::query("UPDATE events SET created_at = created_at - 31536000000 WHERE id = $1")
            .bind(&cursor_event)
            .execute(&storage.pool)
            .await
            .unwrap();
        assert_eq!(storage.purge_events(86_400_000).await.unwrap(), 1);
        assert!(storage.get_event(&cursor_event).await.unwrap().is_none());

        poll(&storage, client, &mut cursor, &mut seen).await;
        assert_eq!(seen, [cursor_event, early, last], "{:?}", storage.backend);
    }
}

/// A ledger that had events before the feed's migration: they keep the order the feed
/// showed them in (ids'), the counter continues after them, and a subject whose events
/// shared a seq (the old race) is numbered again in order, its deliveries with it.
#[tokio::test]
async fn the_migration_places_existing_events_in_id_order() {
    let dir = std::env::temp_dir().join(format!(
        "refund-gateway-lib-{}-{}-migrations",
        std::process::id(),
        crate::storage::now_ms()
    ));
    std::fs::create_dir_all(&dir).expect("migrations dir");
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.as_str() < "20261202000006" {
            std::fs::copy(&path, dir.join(&name)).unwrap();
        }
    }
    let before = sqlx::migrate::Migrator::new(dir.as_path()).await.unwrap();
    for url in database_urls().await {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        before.run(&pool).await.unwrap();
        // b and a told of one batch with the same seq; c of another.
        for (id, subject) in [
            ("evt_0b", "bat_s"),
            ("evt_0a", "bat_s"),
            ("evt_0c", "bat_t"),
        ] {
            sqlx::query(
                "INSERT INTO events (id, type, client, batch_id, subject, subject_seq, data, created_at) \
                 VALUES ($1, 'batch.progress', 'acme', $2, $2, 1, '{}', 1)",
            )
            .bind(id)
            .bind(subject)
            .execute(&pool)
            .await
            .unwrap();
            sqlx::query(
                "INSERT INTO webhook_deliveries (id, event_id, endpoint, subject, subject_seq, state, \
                 next_attempt_at, give_up_at, created_at, updated_at) \
                 VALUES ($1, $2, 'erp', $3, 1, 'pending', 1, 1, 1, 1)",
            )
            .bind(format!("whd_{id}"))
            .bind(id)
            .bind(subject)
            .execute(&pool)
            .await
            .unwrap();
        }
        pool.close().await;

        let storage = Storage::connect(&url).await.expect("migrated");
        let mut tx = storage.pool.begin().await.unwrap();
        let new = event(&mut tx, "acme", "bat_s", None).await;
        tx.commit().await.unwrap();
        assert_eq!(
            read(&storage, "acme", None).await,
            ["evt_0a", "evt_0b", "evt_0c", new.as_str()],
            "{:?}",
            storage.backend
        );
        let seqs: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT e.id, e.subject_seq, d.subject_seq FROM events e \
             LEFT JOIN webhook_deliveries d ON d.event_id = e.id ORDER BY e.feed_position",
        )
        .fetch_all(&storage.pool)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, seq, delivery): (String, i64, Option<i64>)| (id, seq, delivery.unwrap_or(seq)))
        .collect();
        assert_eq!(
            seqs,
            [
                ("evt_0a".to_string(), 1, 1),
                ("evt_0b".to_string(), 2, 2),
                ("evt_0c".to_string(), 1, 1),
                (new, 3, 3),
            ],
            "{:?}",
            storage.backend
        );
    }
}

/// During a rolling upgrade a gateway of the previous build writes events without a feed
/// position; the next event a current gateway writes places them after every committed
/// event, so the reader gets them once, after what it had already read.
#[tokio::test]
async fn events_an_older_build_wrote_are_placed_by_the_next_write() {
    for storage in databases().await {
        let client = "acme";
        let mut tx = storage.pool.begin().await.unwrap();
        let first = event(&mut tx, client, "bat_1", None).await;
        tx.commit().await.unwrap();
        let (mut cursor, mut seen) = (None, Vec::new());
        poll(&storage, client, &mut cursor, &mut seen).await;

        // The previous build's INSERT: no feed_position.
        let older = new_event_id();
        sqlx::query(
            "INSERT INTO events (id, type, client, batch_id, subject, subject_seq, data, created_at) \
             VALUES ($1, 'batch.progress', $2, 'bat_old', 'bat_old', 1, '{}', 1)",
        )
        .bind(&older)
        .bind(client)
        .execute(&storage.pool)
        .await
        .unwrap();
        poll(&storage, client, &mut cursor, &mut seen).await;
        assert_eq!(seen, std::slice::from_ref(&first), "not placed yet");

        let mut tx = storage.pool.begin().await.unwrap();
        let next = event(&mut tx, client, "bat_2", None).await;
        tx.commit().await.unwrap();
        poll(&storage, client, &mut cursor, &mut seen).await;
        assert_eq!(seen, [first, next, older], "{:?}", storage.backend);
    }
}
