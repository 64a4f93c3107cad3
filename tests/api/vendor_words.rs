//! A vendor that echoes the request in its error text never makes the gateway hand back,
//! or keep, the instance's credentials, a session cookie or an auth header.

use serde_json::{json, Value};

use crate::support::{repo_path, secret_file, temp_database, ReplayVendor, TestGateway};

const TICKET: &str = "5f8d0f8b9d2b3b0017b6d8a0";
const API_KEY: &str = "fv-live-key-echoed-0042";

/// The recorded 400 of a refund, its message now echoing what the gateway sent.
fn echoing_fixture() -> String {
    let mut exchange: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_path("fixtures/fourvenues/error-400-refund.json")).unwrap(),
    )
    .unwrap();
    exchange["request"]["body"] = json!({"amount": 10});
    exchange["response"]["body"]["message"] = json!(format!(
        "refund refused for request PUT /tickets/{TICKET}/refund with headers \
         X-Api-Key: {API_KEY}, Cookie: .Session=cafe0123beef4567, Authorization: Bearer eyJ0eXAiOiJKV1QifQ.e30.sig; \
         your key {API_KEY} may not refund this ticket"
    ));
    let path = std::env::temp_dir()
        .join(crate::support::unique("echo"))
        .with_extension("json");
    std::fs::write(&path, exchange.to_string()).unwrap();
    path.display().to_string()
}

#[tokio::test]
async fn echoed_credentials_are_scrubbed_before_anything_is_kept_or_shown() {
    let fixture = echoing_fixture();
    let vendor =
        ReplayVendor::start(&["fixtures/fourvenues/get-ticket-unrefunded.json", &fixture]).await;
    let database = temp_database();
    let gw = TestGateway::start(&format!(
        "[storage]\nurl = \"{database}\"\n\
         [providers.fv]\nkind = \"fourvenues\"\nbase_url = \"{}\"\napi_key = {{ file = \"{}\" }}\n",
        vendor.base_url(),
        secret_file(API_KEY)
    ))
    .await;
    let refused = gw
        .post(
            "/v1/refunds",
            json!({"provider": "fv", "target": {"tickets": [TICKET]}, "amount": {"value": "10", "currency": "EUR"}}),
        )
        .await;
    assert!(refused.status >= 400, "{}", refused.text);
    let words = refused.body["vendor_message"].as_str().unwrap_or_default();
    assert!(
        words.contains("refund refused"),
        "the vendor's words are kept: {}",
        refused.text
    );
    let leaks = [API_KEY, "cafe0123beef4567", "eyJ0eXAiOiJKV1QifQ"];
    for leak in leaks {
        assert!(
            !refused.text.contains(leak),
            "{leak} shown: {}",
            refused.text
        );
    }
    // Nor is anything of it in the ledger: every byte of the database file is searched.
    gw.storage().close().await;
    let path = database.trim_start_matches("sqlite://");
    let mut stored = std::fs::read(path).unwrap();
    stored.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
    let stored = String::from_utf8_lossy(&stored);
    assert!(stored.contains("refund refused"), "the failure is recorded");
    for leak in leaks {
        assert!(!stored.contains(leak), "{leak} stored in the ledger");
    }
    vendor.assert_clean();
}
