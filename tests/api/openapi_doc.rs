//! The served OpenAPI document is a usable contract: every operation has a unique
//! meaningful `operationId` and a summary, the probes and `/metrics` are in it, `/v1`
//! operations require the bearer scheme, and it names its server. (CI also validates it with
//! `openapi-spec-validator`.)

use std::collections::BTreeSet;

use crate::support::TestGateway;

const CONFIG: &str = "[providers.tm]\nkind = \"ticketmatic\"\nsandbox = true\naccount = \"demo\"\n";

#[tokio::test]
async fn operations_are_named_summarised_and_secured() {
    let gw = TestGateway::start(CONFIG).await;
    let doc = gw.get("/openapi.json").await;
    assert_eq!(doc.status, 200);
    let doc = doc.body;
    let mut ids = BTreeSet::new();
    let mut count = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().unwrap() {
            count += 1;
            let id = op["operationId"].as_str().unwrap_or_default();
            assert!(ids.insert(id.to_string()), "duplicate operationId {id}");
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{method} {path} has no summary"
            );
            let secured = op["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
            assert_eq!(
                secured,
                path.starts_with("/v1/"),
                "{method} {path} security"
            );
        }
    }
    assert_eq!(ids.len(), count);
    for id in [
        "createRefund",
        "getRefund",
        "listRefunds",
        "createRefundQuote",
        "createRefundBatch",
        "getRefundBatch",
        "listRefundBatchItems",
        "cancelRefundBatch",
        "listRefundBatches",
        "exportRefundBatchItems",
        "streamRefundBatchEvents",
        "batchesPage",
        "batchPage",
        "reconcileRefund",
        "resolveRefund",
        "listProviders",
        "getHealth",
        "getReadiness",
        "getMetrics",
        "getOpenApi",
    ] {
        assert!(ids.contains(id), "{id} missing from {ids:?}");
    }
    for path in ["/readyz", "/healthz", "/metrics", "/openapi.json"] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} missing");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(
        doc["servers"][0]["url"].is_string(),
        "servers: {}",
        doc["servers"]
    );
    assert!(doc["components"]["schemas"]["Problem"]["properties"]["request_id"].is_object());
}
