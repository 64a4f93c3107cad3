//! The progress page in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`, installed by `.ci/chromium.sh`) driven over WebDriver opens the page
//! of a running batch, sees the counts rise as items complete until the batch is done, and
//! keeps a screenshot under `target/test-artefacts/`; its cancel button stops a batch; with
//! `[[clients]]` configured the page asks for the key, and the `/batches` page lists the
//! batch.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::batch_listing::{two_clients, ACME};
use crate::batch_uploads::{csv_rows, sandbox_config, upload};
use crate::support::{unique, TestGateway};

/// A chromedriver process on a free loopback port, ended when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn on_path(name: &str) -> PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("`{name}` is not installed: run .ci/chromium.sh"))
}

async fn driver() -> Driver {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(on_path("chromedriver"))
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while reqwest::get(format!("{url}/status")).await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "chromedriver answers"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Driver { child, url }
}

async fn browser(driver: &Driver, profile: &std::path::Path) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": on_path("chromium"),
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1200,1400",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("headless Chromium starts")
}

/// What a script returns in the page.
async fn read(client: &Client, script: &str) -> Value {
    client.execute(script, vec![]).await.unwrap_or(Value::Null)
}

/// Waits until `script` returns something `accept` takes, returning it.
async fn until(
    client: &Client,
    script: &str,
    limit: Duration,
    accept: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let value = read(client, script).await;
        if accept(&value) {
            return value;
        }
        assert!(
            started.elapsed() < limit,
            "`{script}` still {value} after {limit:?}; page: {}",
            read(client, "return document.body.innerText").await
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

const SUCCEEDED: &str = "const c = document.getElementById('count-succeeded'); \
                         return c ? Number(c.children[1].textContent) : null";
const STATUS: &str = "return document.getElementById('status').dataset.status || null";

fn artefact(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::support::repo_path("target"));
    let dir = target.join("test-artefacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Follows a batch of `items` on its page until done: the counts must rise while it runs.
async fn watch_until_done(client: &Client, items: u64) {
    let first = until(client, SUCCEEDED, Duration::from_secs(20), |v| {
        v.is_number()
    })
    .await;
    let first = first.as_u64().unwrap();
    assert!(
        first < items,
        "the page opened on a running batch ({first} of {items} done)"
    );
    until(client, SUCCEEDED, Duration::from_secs(30), |v| {
        v.as_u64().is_some_and(|n| n > first)
    })
    .await;
    until(client, STATUS, Duration::from_secs(60), |v| v == "done").await;
    let done = read(client, SUCCEEDED).await;
    assert_eq!(done.as_u64(), Some(items), "every item shown as succeeded");
    let refunded = read(
        client,
        "return document.getElementById('refunded-EUR').children[1].textContent",
    )
    .await;
    assert_eq!(refunded, json!(format!("{}.00", items * 10)));
    let limit = read(
        client,
        "return document.getElementById('instance-fv').children[2].textContent",
    )
    .await;
    assert_eq!(limit, json!("4"), "the instance's limit is shown");
    let cancel = read(client, "return document.getElementById('cancel').disabled").await;
    assert_eq!(cancel, json!(true), "a done batch cannot be canceled");
}

#[tokio::test]
async fn the_progress_page_follows_a_running_batch_in_chromium() {
    let driver = driver().await;
    let profile = std::env::temp_dir().join(unique("chromium-profile"));

    // Open gateway.
    let gw = TestGateway::start(&sandbox_config(4)).await;
    // The browser first: starting it can take seconds on a loaded machine, and the batch
    // must still be running when its page opens.
    let client = browser(&driver, &profile.join("open")).await;
    let r = upload(
        &gw,
        "text/csv",
        csv_rows(&unique("page"), 16),
        &unique("page"),
        None,
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    client
        .goto(&gw.url(&format!("/batches/{id}")))
        .await
        .unwrap();
    watch_until_done(&client, 16).await;
    std::fs::write(
        artefact("progress-page.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();

    // The cancel button stops a running batch: no queued item starts any more.
    let r = upload(
        &gw,
        "text/csv",
        csv_rows(&unique("stop"), 40),
        &unique("stop"),
        None,
    )
    .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    client
        .goto(&gw.url(&format!("/batches/{id}")))
        .await
        .unwrap();
    until(
        &client,
        "return document.getElementById('cancel').disabled",
        Duration::from_secs(10),
        |v| v == false,
    )
    .await;
    client
        .find(Locator::Id("cancel"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client.accept_alert().await.unwrap();
    until(&client, STATUS, Duration::from_secs(10), |v| {
        v == "canceled"
    })
    .await;
    let report = gw.get(&format!("/v1/refund-batches/{id}")).await.body;
    assert_eq!(report["status"], "canceled", "{report}");
    assert!(
        report["counts"]["canceled"].as_u64().unwrap_or(0) > 0,
        "{report}"
    );
    client.close().await.unwrap();

    // With clients configured: the page asks for the key once, then works as before. The
    // browser first again (its start can take seconds), and rows enough (8 s of work at
    // 4/s) that the batch is still running once the key has been typed in.
    let gw = TestGateway::start(&two_clients(4)).await;
    let client = browser(&driver, &profile.join("keyed")).await;
    let r = upload(
        &gw,
        "text/csv",
        csv_rows(&unique("key"), 32),
        &unique("key"),
        Some(ACME),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    client
        .goto(&gw.url(&format!("/batches/{id}")))
        .await
        .unwrap();
    until(
        &client,
        "return !document.getElementById('auth').hidden",
        Duration::from_secs(10),
        |v| v == true,
    )
    .await;
    client
        .find(Locator::Id("key"))
        .await
        .unwrap()
        .send_keys(ACME)
        .await
        .unwrap();
    client
        .find(Locator::Id("key-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    watch_until_done(&client, 32).await;
    std::fs::write(
        artefact("progress-page-with-key.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();

    // The list page, in the same tab: the key is remembered for it.
    client.goto(&gw.url("/batches")).await.unwrap();
    let listed = until(
        &client,
        &format!("const r = document.getElementById('batch-{id}'); return r ? r.innerText : null"),
        Duration::from_secs(10),
        |v| v.is_string(),
    )
    .await;
    assert!(listed.as_str().unwrap().contains("done"), "{listed}");
    std::fs::write(
        artefact("batches-page.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();
    client.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&profile);
}
