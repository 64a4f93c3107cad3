//! The served OpenAPI document is a usable contract: every operation has a unique
//! meaningful `operationId` and a summary, the probes and `/metrics` are in it, `/v1`
//! operations require the bearer scheme when clients are configured (and only then), and it
//! names the configured server. (CI also validates it with
//! `openapi-spec-validator`.)

use std::collections::BTreeSet;

use crate::support::TestGateway;

const CONFIG: &str = "[providers.tm]\nkind = \"ticketmatic\"\nsandbox = true\naccount = \"demo\"\n";

#[tokio::test]
async fn operations_are_named_summarised_and_secured() {
    let gw = TestGateway::start(&format!(
        "[server]\nlisten = \"127.0.0.1:0\"\npublic_url = \"https://refunds.example.com/\"\n\
         [[clients]]\nname = \"acme\"\nkey = {{ file = \"{}\" }}\n{CONFIG}",
        crate::support::secret_file("acme-key-0123456789abcdef")
    ))
    .await;
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
    assert_eq!(doc["servers"][0]["url"], "https://refunds.example.com");
    assert!(doc["components"]["schemas"]["Problem"]["properties"]["request_id"].is_object());
}

/// The check every `TestGateway` answer goes through refuses what the document does not
/// promise: a status an operation does not list, a header its response does not list, and a
/// problem code its response's `code` enum does not list.
#[test]
fn the_answer_check_refuses_undocumented_statuses_and_headers() {
    use crate::support::contract_check::undocumented;
    use reqwest::header::{HeaderMap, HeaderValue};
    use serde_json::{json, Value::Null};
    let doc = serde_json::to_value(refund_gateway::api::openapi::document(true, None)).unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("x-request-id", HeaderValue::from_static("r1"));
    assert_eq!(
        undocumented(&doc, "GET", "/healthz", 200, &headers, &Null),
        None
    );
    assert!(undocumented(&doc, "GET", "/healthz", 418, &headers, &Null)
        .is_some_and(|why| why.contains("418")));
    // Probes are never rate limited, so no RateLimit header is documented on them.
    headers.insert("ratelimit", HeaderValue::from_static("\"client\";r=1;t=1"));
    assert!(undocumented(&doc, "GET", "/healthz", 200, &headers, &Null)
        .is_some_and(|why| why.contains("ratelimit")));
    assert_eq!(
        undocumented(&doc, "GET", "/v1/refunds/rfg_x?x=1", 200, &headers, &Null),
        None,
        "templates match ids, queries are ignored"
    );
    // Paths and methods no operation serves are the router's 404 and 405.
    assert_eq!(
        undocumented(&doc, "GET", "/nowhere", 404, &headers, &Null),
        None
    );
    assert_eq!(
        undocumented(&doc, "DELETE", "/v1/refunds", 405, &headers, &Null),
        None
    );
    let mut problem = HeaderMap::new();
    problem.insert(
        "content-type",
        HeaderValue::from_static("application/problem+json"),
    );
    let path = "/v1/refunds/rfg_x";
    let found = json!({"code": "not_found"});
    assert_eq!(undocumented(&doc, "GET", path, 404, &problem, &found), None);
    let wrong = json!({"code": "rate_limited"});
    assert!(undocumented(&doc, "GET", path, 404, &problem, &wrong)
        .is_some_and(|why| why.contains("rate_limited")));
    let invented = json!({"code": "no_such_code"});
    assert!(undocumented(&doc, "GET", path, 404, &problem, &invented).is_some());
}

/// Each problem response's `code` enum is exactly the codes the server renders with that
/// status: one schema per status (`Problem404`), which every operation documenting it uses.
#[test]
fn problem_responses_list_the_codes_of_their_status() {
    use refund_gateway::api::problem::ProblemCode;
    let doc = serde_json::to_value(refund_gateway::api::openapi::document(true, None)).unwrap();
    let mut seen = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                let Some(schema) = response["content"].get("application/problem+json") else {
                    continue;
                };
                let reference = schema["schema"]["$ref"].as_str().unwrap_or_else(|| {
                    panic!("{method} {path} {status}: not a reference to its status's problem")
                });
                let name = reference.trim_start_matches("#/components/schemas/");
                assert_eq!(name, format!("Problem{status}"), "{method} {path}");
                let listed: Vec<&str> = doc["components"]["schemas"][name]["allOf"][1]
                    ["properties"]["code"]["enum"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{method} {path} {status}: no code enum"))
                    .iter()
                    .map(|v| v.as_str().unwrap())
                    .collect();
                let expected = match status.strip_suffix("XX") {
                    Some(class) => ProblemCode::for_class(class.parse().unwrap()),
                    None => ProblemCode::for_status(status.parse().unwrap()),
                };
                assert_eq!(listed, expected, "{method} {path} {status}");
                seen += 1;
            }
        }
    }
    assert!(seen > 50, "{seen} problem responses");
    let all: Vec<&str> = doc["components"]["schemas"]["ProblemCode"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(all.len(), ProblemCode::iter().count());
}

/// A catalogue of bad requests to every operation, each answered with a status its
/// operation documents (the helper checks each answer against the document).
#[tokio::test]
async fn bad_requests_to_every_operation_get_documented_statuses() {
    let gw = TestGateway::start(CONFIG).await;
    let id = "rfg_01J00000000000000000000000";
    let batch = "rfb_01J00000000000000000000000";
    let statuses = [
        gw.get("/v1/refunds?provider=nobody&order=1").await.status,
        gw.get("/v1/refunds?limit=0").await.status,
        gw.get("/v1/refunds?bogus=1").await.status,
        gw.get("/v1/refunds/not-an-id").await.status,
        gw.get(&format!("/v1/refunds/{id}")).await.status,
        gw.get(&format!("/v1/refund-batches/{batch}")).await.status,
        gw.get("/v1/refund-batches/x/items").await.status,
        gw.post_raw("/v1/refunds", "text/plain", "x").await.status,
        gw.post_raw("/v1/refunds", "application/json", "{")
            .await
            .status,
        gw.post_raw("/v1/refunds", "application/json", vec![b' '; 70 * 1024])
            .await
            .status,
        gw.post_with("/v1/refunds", serde_json::json!({}), &[])
            .await
            .status,
        gw.post("/v1/refunds", serde_json::json!({"provider": "tm"}))
            .await
            .status,
        gw.post("/v1/refund-batches", serde_json::json!({"items": []}))
            .await
            .status,
        gw.post("/v1/refund-batches", serde_json::json!({"items": [{}]}))
            .await
            .status,
        gw.post(
            &format!("/v1/refunds/{id}/reconcile"),
            serde_json::json!({}),
        )
        .await
        .status,
        gw.post(&format!("/v1/refunds/{id}/resolve"), serde_json::json!({}))
            .await
            .status,
        gw.post(
            &format!("/v1/refund-batches/{batch}/cancel"),
            serde_json::json!({}),
        )
        .await
        .status,
    ];
    assert!(
        statuses.iter().all(|s| (400..500).contains(s)),
        "{statuses:?}"
    );
}

/// Without `[[clients]]` no operation takes a key: no bearer scheme, no security
/// requirement, no 401; and the server is relative (`/`) without `public_url`.
#[tokio::test]
async fn without_clients_the_document_asks_for_no_key() {
    let gw = TestGateway::start(CONFIG).await;
    let doc = gw.get("/openapi.json").await.body;
    assert!(
        doc["components"]["securitySchemes"].get("bearer").is_none(),
        "{}",
        doc["components"]
    );
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().unwrap() {
            assert!(op.get("security").is_none(), "{method} {path}");
            assert!(op["responses"].get("401").is_none(), "{method} {path}");
        }
    }
    assert_eq!(doc["servers"][0]["url"], "/");
}
