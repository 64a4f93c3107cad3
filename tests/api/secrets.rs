//! Secrets never leave: a real gateway process with credentials from the environment is
//! driven through success and failure paths with debug logging on; no log line and no
//! response body may contain a configured secret.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use serde_json::json;

use crate::support::ReplayVendor;

const ACCESS: &str = "access-7f3a9c1e5b";
const SECRET: &str = "secret-c0ffee-d00d-1234";
const API_KEY: &str = "fv-key-9e8d7c6b5a";

#[tokio::test]
async fn no_secret_in_logs_errors_or_bodies() {
    let tm = ReplayVendor::start(&[
        "fixtures/ticketmatic/get-order.json",
        "fixtures/ticketmatic/add-refund-partial.json",
        "fixtures/ticketmatic/error-401.json",
    ])
    .await;
    let fv = ReplayVendor::start(&["fixtures/fourvenues/error-401-get-ticket.json"]).await;
    let config = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\n[storage]\nurl = \"{}\"\n\n\
         [providers.tm]\nkind = \"ticketmatic\"\nbase_url = \"{}\"\naccount = \"demo\"\n\
         access_key = {{ env = \"RG_TEST_TM_ACCESS\" }}\nsecret_key = {{ env = \"RG_TEST_TM_SECRET\" }}\n\n\
         [providers.fv]\nkind = \"fourvenues\"\nbase_url = \"{}\"\napi_key = {{ env = \"RG_TEST_FV_KEY\" }}\n",
        crate::support::temp_database(),
        tm.base_url(),
        fv.base_url()
    );
    let dir = std::env::temp_dir().join(format!("rg-secrets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("gateway.toml");
    std::fs::write(&path, config).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_refund-gateway"))
        .args(["serve", "--config"])
        .arg(&path)
        .env("RUST_LOG", "trace")
        .env("RG_TEST_TM_ACCESS", ACCESS)
        .env("RG_TEST_TM_SECRET", SECRET)
        .env("RG_TEST_FV_KEY", API_KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gateway starts");
    // Read as it is written: trace logs outgrow a pipe's buffer, and a gateway blocked
    // writing its log would answer nothing.
    let mut stderr = child.stderr.take().unwrap();
    let logs = std::thread::spawn(move || {
        let mut logs = String::new();
        stderr.read_to_string(&mut logs).map(|_| logs)
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let base = line.trim().rsplit(' ').next().unwrap().to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{line}");

    let client = crate::support::process::CheckedClient::of(&base).await;
    let http = client.http();
    let mut bodies = Vec::new();
    let create = json!({"provider": "tm", "target": {"order": "1269434", "payments": ["125"]}, "amount": {"value": "20.00", "currency": "EUR"}});
    for request in [
        http.post(format!("{base}/v1/refunds"))
            .header("idempotency-key", "secrets-1")
            .json(&create),
        http.get(format!("{base}/v1/refunds?provider=tm&order=1269434")),
        http.get(format!(
            "{base}/v1/refunds?provider=fv&ticket=5f8d0f8b9d2b3b0017b6d8a0"
        )),
        http.get(format!("{base}/v1/providers")),
    ] {
        let r = client.send(request).await;
        bodies.push(format!("{} {}", r.status, r.text));
    }
    assert!(bodies[0].starts_with("201"), "{}", bodies[0]);
    assert!(
        bodies[1].starts_with("502") && bodies[1].contains("provider_unauthorized"),
        "{}",
        bodies[1]
    );
    assert!(
        bodies[2].starts_with("502") && bodies[2].contains("provider_unauthorized"),
        "{}",
        bodies[2]
    );

    // The vendors did receive the credentials (so the test is not vacuous)...
    let tm_auth = &tm.received()[0].headers["authorization"];
    assert!(tm_auth.contains(ACCESS), "{tm_auth}");
    assert_eq!(fv.received()[0].headers["x-api-key"], API_KEY);

    // ...but nothing the gateway said does.
    child.kill().unwrap();
    let _ = child.wait();
    let logs = logs.join().unwrap().unwrap();
    assert!(
        logs.contains("vendor call"),
        "debug logs were captured: {logs}"
    );
    for secret in [ACCESS, SECRET, API_KEY] {
        assert!(
            !logs.contains(secret),
            "a log line contains a secret:\n{logs}"
        );
        for body in &bodies {
            assert!(
                !body.contains(secret),
                "a response contains a secret: {body}"
            );
        }
    }
}
