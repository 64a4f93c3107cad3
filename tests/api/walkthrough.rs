//! The README's walk-through against the default config: sandbox vendors, no credentials.
//! A refund created is found by get and by list, and one beyond what is refundable is
//! refused as the vendor would.

use serde_json::json;

use crate::support::{repo_path, TestGateway};

async fn default_gateway() -> TestGateway {
    let text = std::fs::read_to_string(repo_path("config/gateway.toml")).unwrap();
    let text = text.replace("listen = \"127.0.0.1:8080\"", "listen = \"127.0.0.1:0\"");
    let database = crate::support::temp_database();
    let text = text.replace(
        "url = \"sqlite://data/refund-gateway.db\"",
        &format!("url = \"{database}\""),
    );
    assert!(text.contains("127.0.0.1:0") && text.contains(&database));
    TestGateway::start(&text).await
}

#[tokio::test]
async fn ticketmatic_create_get_list_and_over_refund() {
    let gw = default_gateway().await;
    let r = gw
        .post(
            "/v1/refunds",
            json!({"provider": "ticketmatic-demo", "target": {"order": "1269434"},
                   "amount": {"value": "10.00", "currency": "EUR"}, "reason": "event cancelled",
                   "metadata": {"case": "4711"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["status"], "succeeded");
    assert_eq!(
        r.body["amount"],
        json!({"value": "10.00", "currency": "EUR"})
    );
    assert_eq!(r.body["metadata"]["case"], "4711");
    assert!(r.body.get("raw").is_none());
    let id = r.body["id"].as_str().unwrap().to_string();

    let got = gw.get(&format!("/v1/refunds/{id}")).await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.body["id"], id.as_str());
    assert_eq!(got.body["amount"]["value"], "10.00");
    let raw = gw.get(&format!("/v1/refunds/{id}?include=raw")).await;
    assert!(raw.body["raw"].is_object(), "{}", raw.text);

    let list = gw
        .get("/v1/refunds?provider=ticketmatic-demo&order=1269434")
        .await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert!(list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == id.as_str()));

    let over = gw
        .post(
            "/v1/refunds",
            json!({"provider": "ticketmatic-demo", "target": {"order": "1269434"}, "amount": {"value": "45.00", "currency": "EUR"}}),
        )
        .await;
    assert_eq!(
        (over.status, over.code()),
        (422, "amount_exceeds_refundable"),
        "{}",
        over.text
    );
}

#[tokio::test]
async fn fourvenues_create_get_list_and_over_refund() {
    let gw = default_gateway().await;
    let ticket = "5f8d0f8b9d2b3b0017b6d8a0";
    let r = gw
        .post(
            "/v1/refunds",
            json!({"provider": "fourvenues-demo", "target": {"tickets": [ticket]}, "amount": {"value": "10", "currency": "EUR"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(gw.get(&format!("/v1/refunds/{id}")).await.status, 200);
    let list = gw
        .get(&format!(
            "/v1/refunds?provider=fourvenues-demo&ticket={ticket}"
        ))
        .await;
    assert_eq!(
        list.body["data"].as_array().map(Vec::len),
        Some(1),
        "{}",
        list.text
    );
    let over = gw
        .post(
            "/v1/refunds",
            json!({"provider": "fourvenues-demo", "target": {"tickets": [ticket]}, "amount": {"value": "7", "currency": "EUR"}}),
        )
        .await;
    assert_eq!(
        (over.status, over.code()),
        (422, "amount_exceeds_refundable"),
        "{}",
        over.text
    );
}

#[tokio::test]
async fn providers_health_and_openapi() {
    let gw = default_gateway().await;
    assert_eq!(gw.get("/healthz").await.body["status"], "ok");
    let providers = gw.get("/v1/providers").await;
    let data = providers.body["data"].as_array().unwrap();
    for name in ["ticketmatic-demo", "fourvenues-demo"] {
        let p = data
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} listed"));
        assert_eq!(p["sandbox"], true);
        assert_eq!(p["capabilities"]["create"], true);
        assert_eq!(p["traffic"]["circuit"]["state"], "closed");
    }
    let doc = gw.get("/openapi.json").await;
    assert_eq!(doc.status, 200);
    assert!(
        doc.body["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc.text
    );
    for path in [
        "/v1/refunds",
        "/v1/refunds/{id}",
        "/v1/providers",
        "/healthz",
    ] {
        assert!(doc.body["paths"][path].is_object(), "{path} documented");
    }
    for schema in [
        "Refund",
        "Problem",
        "Money",
        "CreateRefundBody",
        "Capabilities",
    ] {
        assert!(
            doc.body["components"]["schemas"][schema].is_object(),
            "{schema} documented"
        );
    }
}

#[tokio::test]
async fn stubbur_ivvy_and_paylogic_sandboxes() {
    let gw = default_gateway().await;
    let event = gw
        .post(
            "/v1/refunds",
            json!({"provider": "stubbur-demo", "target": {"event": "1001", "all_for_event": true}, "reason": "event cancelled"}),
        )
        .await;
    assert_eq!(event.status, 201, "{}", event.text);
    assert_eq!(
        event.body["status"], "partially_succeeded",
        "{}",
        event.text
    );
    let counts = &event.body["counts"];
    let lines = event.body["lines"].as_array().unwrap();
    let total = counts["refunded"].as_u64().unwrap()
        + counts["skipped"].as_u64().unwrap()
        + counts["failed"].as_u64().unwrap();
    assert_eq!(total as usize, lines.len(), "{}", event.text);

    let booking = gw
        .post(
            "/v1/refunds",
            json!({"provider": "ivvy-demo", "target": {"venue": "2", "booking": "2"}, "amount": {"value": "100.00", "currency": "AUD"}}),
        )
        .await;
    assert_eq!(booking.status, 201, "{}", booking.text);
    let id = booking.body["id"].as_str().unwrap();
    assert_eq!(
        gw.get(&format!("/v1/refunds/{id}")).await.body["amount"]["value"],
        "100.00"
    );
    let list = gw
        .get("/v1/refunds?provider=ivvy-demo&venue=2&booking=2")
        .await;
    assert!(
        !list.body["data"].as_array().unwrap().is_empty(),
        "{}",
        list.text
    );

    let paylogic = gw
        .get("/v1/refunds?provider=paylogic-demo&order=a9211319a7bf4c1d82b78d536c92de58")
        .await;
    assert_eq!(paylogic.status, 200, "{}", paylogic.text);
    assert_eq!(paylogic.body["data"][0]["status"], "pending");
    let create = gw.post("/v1/refunds", json!({"provider": "paylogic-demo", "target": {"order": "a9211319a7bf4c1d82b78d536c92de58"}})).await;
    assert_eq!(
        (create.status, create.code()),
        (501, "unsupported_operation")
    );
}

/// The README's quote: what a Ticketmatic order shows and what a create would do, then the
/// create refunding exactly that; Stubbur's quote saying what it cannot know.
#[tokio::test]
async fn quote_then_refund_what_was_quoted() {
    let gw = default_gateway().await;
    let body = json!({"provider": "ticketmatic-demo", "target": {"order": "1269434"},
                      "amount": {"value": "10.00", "currency": "EUR"}});
    let q = gw.post_with("/v1/refund-quotes", body.clone(), &[]).await;
    assert_eq!(q.status, 200, "{}", q.text);
    assert_eq!(q.body["create"]["outcome"], "refund");
    assert_eq!(q.body["create"]["payment"]["reference"], "125");
    let created = gw.post("/v1/refunds", body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["amount"], q.body["create"]["amount"]);
    assert_eq!(created.body["target"]["payments"], json!(["125"]));

    let stubbur = gw
        .post_with(
            "/v1/refund-quotes",
            json!({"provider": "stubbur-demo", "target": {"event": "1001", "all_for_event": true}}),
            &[],
        )
        .await;
    assert_eq!(stubbur.body["create"]["outcome"], "vendor_decides");
}
