//! `refund-gateway record`: a create and a lookup against the Ticketmatic sandbox (standing
//! in for the live vendor) are written as fixtures holding none of the instance's secrets,
//! and replaying them through the gateway gives the same canonical answers.

use std::path::{Path, PathBuf};

use refund_gateway::app::Server;
use refund_gateway::config::Config;
use refund_gateway::record::{recorded_files, Recorder};
use refund_gateway::replay::{ReplayServer, Reuse};
use refund_provider::fixture::Exchange;
use serde_json::{json, Value};

use crate::support::{temp_database, unique};

const SECRETS: &[&str] = &[
    provider_ticketmatic::SANDBOX_ACCESS_KEY,
    provider_ticketmatic::SANDBOX_SECRET_KEY,
];

fn secret_file(dir: &Path, name: &str, value: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, value).unwrap();
    path
}

/// The instance table: the sandbox's own credentials configured as file references, so
/// they are the instance's configured secrets.
fn config(dir: &Path, vendor: &str) -> Config {
    let access = secret_file(dir, "access", provider_ticketmatic::SANDBOX_ACCESS_KEY);
    let secret = secret_file(dir, "secret", provider_ticketmatic::SANDBOX_SECRET_KEY);
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n[storage]\nurl = \"{}\"\n\
         [providers.tm]\nkind = \"ticketmatic\"\naccount = \"demo\"\n{vendor}\n\
         access_key = {{ file = \"{}\" }}\nsecret_key = {{ file = \"{}\" }}\n",
        temp_database(),
        access.display(),
        secret.display()
    );
    Config::from_toml_str(&text).unwrap_or_else(|e| panic!("config: {e}"))
}

/// A create, then a live lookup of the same order; the answers without what differs per
/// run (ledger ids, times).
async fn walk(server: &Server) -> (Value, Value) {
    let base = format!("http://{}", server.addr());
    let client = reqwest::Client::new();
    let created = client
        .post(format!("{base}/v1/refunds"))
        .header("idempotency-key", unique("record-walk"))
        .json(&json!({"provider": "tm", "target": {"order": "1269434"}, "amount": {"value": "1.00", "currency": "EUR"}}))
        .send()
        .await
        .unwrap();
    let status = created.status().as_u16();
    let created: Value = created.json().await.unwrap();
    assert_eq!(status, 201, "{created:#}");
    let listed = client
        .get(format!("{base}/v1/refunds?provider=tm&order=1269434"))
        .header("cache-control", "no-cache")
        .send()
        .await
        .unwrap();
    let status = listed.status().as_u16();
    let listed: Value = listed.json().await.unwrap();
    assert_eq!(status, 200, "{listed:#}");
    (stable(created), stable(listed))
}

fn stable(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, v)| {
                    !k.ends_with("_at") && !v.as_str().is_some_and(|s| s.starts_with("rfg_"))
                })
                .map(|(k, v)| (k, stable(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(stable).collect()),
        other => other,
    }
}

#[tokio::test]
async fn recordings_hold_no_secret_and_replay_to_the_same_answers() {
    let dir = std::env::temp_dir().join(unique("record"));
    let out = dir.join("recorded");
    std::fs::create_dir_all(&dir).unwrap();

    let recorder = Recorder::new(&out).unwrap();
    let server = Server::start_recording(config(&dir, "sandbox = true"), Some(recorder))
        .await
        .expect("gateway starts");
    let live = walk(&server).await;
    server.shutdown().await;

    let files = recorded_files(&out).unwrap();
    assert!(files.len() >= 2, "a create and a lookup: {files:?}");
    let name = regex::Regex::new(r"^tm-\d{3}-(get|post)-\d{3}\.json$").unwrap();
    let mut methods = Vec::new();
    for file in &files {
        let file_name = file.file_name().unwrap().to_string_lossy();
        assert!(name.is_match(&file_name), "{file_name}");
        let text = std::fs::read_to_string(file).unwrap();
        for secret in SECRETS {
            assert!(
                !text.contains(secret),
                "{secret} written in {file_name}:\n{text}"
            );
        }
        let exchange = Exchange::parse(&file_name, &text);
        assert!(exchange.source.contains("`tm`"), "{}", exchange.source);
        assert!(
            exchange.request.headers.contains_key("authorization"),
            "every header is kept, credentials as a shape: {text}"
        );
        methods.push(exchange.request.method.clone());
    }
    assert!(methods.iter().any(|m| m == "POST"), "{methods:?}");

    // Replay the recordings, each once and in order, through a gateway configured for them.
    let fixtures = ReplayServer::load(&files).unwrap();
    let vendor = ReplayServer::start("127.0.0.1:0".parse().unwrap(), fixtures, Reuse::Once)
        .await
        .unwrap();
    let replay_dir = dir.join("replay");
    std::fs::create_dir_all(&replay_dir).unwrap();
    let server = Server::start(config(
        &replay_dir,
        &format!("base_url = \"{}\"", vendor.base_url()),
    ))
    .await
    .expect("gateway starts");
    let replayed = walk(&server).await;
    server.shutdown().await;
    vendor.assert_clean();
    assert_eq!(replayed, live);
}
