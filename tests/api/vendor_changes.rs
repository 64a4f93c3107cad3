//! Changes found at the vendor: a Paylogic refund a client looked up while `requested` is
//! followed at the vendor, and when Paylogic completes it the client gets `refund.succeeded`
//! (in `GET /v1/events` and by webhook) without asking again. The replay vendor serves the
//! scenario `get_requested` then `get_completed_later`: exactly those two requests are made.

use std::time::{Duration, Instant};

use refund_provider::{InstanceName, RefundId, VendorRef};

use crate::support::{secret_file, temp_database, ReplayVendor, TestGateway};
use crate::webhook_receiver::{assert_signed_and_in_order, Receiver, SECRET};

const UID: &str = "4221f0abd8bc4e768272b483cd929d09";

#[tokio::test]
async fn a_paylogic_refund_completed_at_the_vendor_is_an_event_without_a_client_request() {
    let vendor = ReplayVendor::vendor("paylogic", &["get_requested", "get_completed_later"]).await;
    let receiver = Receiver::start().await;
    let gw = TestGateway::start(&format!(
        r#"
[events]
follow_interval = "100ms"
follow_first = "300ms"
follow_max = "500ms"
webhook_poll = "100ms"

[providers.pl]
kind = "paylogic"
base_url = "{base}"
timeout = "2s"
retry = {{ attempts = 1 }}
language = "en"
auth = {{ mode = "basic", app = {{ file = "{app}" }}, secret = {{ file = "{secret}" }} }}

[[webhooks]]
name = "hook"
url = "{hook}"
events = ["refund.*"]
secret = {{ file = "{whsec}" }}

[storage]
url = "{db}"
"#,
        base = vendor.base_url(),
        app = secret_file("shop-app"),
        secret = secret_file("k>?~secret"),
        hook = receiver.url(),
        whsec = secret_file(SECRET),
        db = temp_database(),
    ))
    .await;
    let id =
        RefundId::for_vendor(&InstanceName::new("pl").unwrap(), &VendorRef::new(UID)).to_string();
    let looked = gw.get(&format!("/v1/refunds/{id}")).await;
    assert_eq!(looked.status, 200, "{}", looked.text);
    assert_eq!(looked.body["status"], "pending", "Paylogic's `requested`");
    assert_eq!(
        gw.storage().followed_by("default").await.unwrap(),
        vec![id.to_string()]
    );

    let got = receiver
        .until(Duration::from_secs(15), |r| {
            r.iter().any(|e| e.body["type"] == "refund.succeeded")
        })
        .await;
    assert_signed_and_in_order(&got);
    let event = &got
        .iter()
        .find(|e| e.body["type"] == "refund.succeeded")
        .unwrap()
        .body;
    assert_eq!(event["refund_id"], id.as_str());
    assert_eq!(event["data"]["id"], id.as_str());
    assert_eq!(event["data"]["status"], "succeeded");
    assert_eq!(event["data"]["amount"]["value"], "6.50");
    assert!(
        event["data"].get("raw").is_none(),
        "no vendor payload in events"
    );

    let feed = gw.get(&format!("/v1/events?refund={id}")).await;
    assert_eq!(feed.status, 200, "{}", feed.text);
    let types: Vec<&str> = feed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["refund.succeeded"], "one change, one event");
    // Final: no longer followed, and the vendor is asked nothing more.
    let start = Instant::now();
    while !gw
        .storage()
        .followed_by("default")
        .await
        .unwrap()
        .is_empty()
    {
        assert!(start.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        vendor.received().len(),
        2,
        "the client's lookup and one poll"
    );
    vendor.assert_clean();
}

#[tokio::test]
async fn a_ledger_refund_pending_at_the_vendor_is_settled_by_polling_with_its_event() {
    use refund_gateway::storage::refunds::{Intent, Settle, Settlement};
    use refund_provider::{Refund, RefundStatus, Target};

    let vendor = ReplayVendor::vendor("paylogic", &["get_completed_later"]).await;
    let gw = TestGateway::start(&format!(
        r#"
[events]
follow_interval = "100ms"
follow_first = "200ms"
follow_max = "300ms"

[providers.pl]
kind = "paylogic"
base_url = "{base}"
timeout = "2s"
retry = {{ attempts = 1 }}
language = "en"
auth = {{ mode = "basic", app = {{ file = "{app}" }}, secret = {{ file = "{secret}" }} }}

[storage]
url = "{db}"
"#,
        base = vendor.base_url(),
        app = secret_file("shop-app"),
        secret = secret_file("k>?~secret"),
        db = temp_database(),
    ))
    .await;
    // A ledger refund the vendor answered `pending` (Paylogic makes none through this
    // gateway; the row is written as a create would have left it).
    let storage = gw.storage();
    let id = refund_gateway::service::new_refund_id();
    storage
        .insert_intent(&Intent {
            id: id.clone(),
            client: "default".into(),
            provider: "pl".into(),
            provider_kind: "paylogic".into(),
            target: Target::default(),
            amount: None,
            reason: None,
            metadata: Default::default(),
            idempotency_key: None,
            request_hash: None,
            batch_id: None,
            in_flight_until: i64::MAX,
            owner: None,
        })
        .await
        .unwrap();
    let at_vendor = Refund::new(
        &InstanceName::new("pl").unwrap(),
        "paylogic",
        VendorRef::new(UID),
        RefundStatus::Pending,
        Target::default(),
    );
    storage
        .settle(Settle::Refund(&id), &Settlement::from_vendor(at_vendor))
        .await
        .unwrap();
    let start = Instant::now();
    let feed = loop {
        let feed = gw.get(&format!("/v1/events?refund={id}")).await;
        if feed.body["data"].as_array().unwrap().len() >= 2 {
            break feed;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{}", feed.text);
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let types: Vec<&str> = feed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["refund.created", "refund.succeeded"],
        "{}",
        feed.text
    );
    assert_eq!(feed.body["data"][1]["data"]["status"], "succeeded");
    assert_eq!(feed.body["data"][1]["data"]["id"], id.as_str());
    vendor.assert_clean();
}
