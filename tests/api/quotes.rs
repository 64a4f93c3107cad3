//! `POST /v1/refund-quotes` end to end, one test per vendor, each against the vendor's
//! sandbox served on loopback (its request log is what the vendor received): a quote sends
//! only reads, is cached until a create on its target, and a create with the quoted body
//! then refunds exactly the quoted amount. Plus bad input and tenant scope.

use serde_json::{json, Value};

use crate::support::process::VendorSandbox;
use crate::support::{assert_problem, secret_file, ApiResponse, TestGateway};

/// Fourvenues, iVvy and Stubbur.
mod vendors;

/// What the vendor received, as `METHOD path` lines.
fn received(vendor: &VendorSandbox) -> Vec<String> {
    vendor
        .log()
        .iter()
        .map(|l| match &l.query {
            Some(q) => format!("{} {}?{q}", l.method, l.path),
            None => format!("{} {}", l.method, l.path),
        })
        .collect()
}

/// Only reads: GETs, or iVvy's read actions (every iVvy call is a POST).
fn only_reads(vendor: &VendorSandbox) {
    for line in received(vendor) {
        let read = line.starts_with("GET ")
            || line.ends_with("?action=getInvoice")
            || line.ends_with("?action=getInvoiceList");
        assert!(read, "a quote sent a non-read request: {line}");
    }
}

async fn quote(gw: &TestGateway, body: Value) -> ApiResponse {
    gw.post_with("/v1/refund-quotes", body, &[]).await
}

fn ticketmatic(vendor: &VendorSandbox) -> String {
    format!(
        "[providers.tm]\nkind = \"ticketmatic\"\naccount = \"demo\"\nbase_url = \"{}\"\n\
         access_key = {{ file = \"{}\" }}\nsecret_key = {{ file = \"{}\" }}\n",
        vendor.base_url(),
        secret_file(provider_ticketmatic::SANDBOX_ACCESS_KEY),
        secret_file(provider_ticketmatic::SANDBOX_SECRET_KEY),
    )
}

#[tokio::test]
async fn ticketmatic_quote_reads_only_and_the_create_refunds_the_quoted_amount() {
    let vendor = VendorSandbox::start("ticketmatic", "account = \"demo\"").await;
    let gw = TestGateway::start(&ticketmatic(&vendor)).await;
    let body = json!({"provider": "tm", "target": {"order": "1269436"}});

    let q = quote(&gw, body.clone()).await;
    assert_eq!(q.status, 200, "{}", q.text);
    assert_eq!(
        q.header("cache-status"),
        Some("refund-gateway; fwd=miss; stored")
    );
    let lines = q.body["lines"].as_array().unwrap();
    let payment = |reference: &str| {
        lines
            .iter()
            .find(|l| l["kind"] == "payment" && l["reference"] == reference)
            .unwrap_or_else(|| panic!("no payment {reference}: {}", q.text))
    };
    assert_eq!(payment("131")["paid"]["value"], "30.00");
    assert_eq!(payment("131")["refunded"]["value"], "15.00");
    assert_eq!(payment("131")["refundable"]["value"], "15.00");
    assert_eq!(payment("132")["refundable"]["value"], "20.00");
    assert_eq!(
        q.body["totals"]["refundable"],
        json!({"value": "35.00", "currency": "EUR"})
    );
    let create = &q.body["create"];
    assert_eq!(create["outcome"], "refund", "{}", q.text);
    assert_eq!(create["amount_from"], "whole_remaining");
    assert_eq!(create["payment"]["reference"], "132");
    assert_eq!(create["payment"]["picked"], true);
    let kinds: Vec<&str> = q.body["cannot_know"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["what"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"ticket_fate"), "{kinds:?}");
    assert_eq!(received(&vendor), ["GET /demo/orders/1269436"]);

    let again = quote(&gw, body.clone()).await;
    assert_eq!(again.header("cache-status"), Some("refund-gateway; hit"));
    assert_eq!(again.body["create"], q.body["create"]);
    assert_eq!(
        received(&vendor).len(),
        1,
        "a cached quote asks the vendor nothing"
    );
    only_reads(&vendor);
    let live = gw
        .post_with(
            "/v1/refund-quotes",
            body.clone(),
            &[("cache-control", "no-cache")],
        )
        .await;
    assert_eq!(
        live.header("cache-status"),
        Some("refund-gateway; fwd=request; stored")
    );
    assert_eq!(received(&vendor).len(), 2, "a live quote reads the vendor");

    let created = gw.post("/v1/refunds", body.clone()).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["amount"], create["amount"], "{}", created.text);
    assert_eq!(created.body["target"]["payments"], json!(["132"]));

    // The create dropped the cached quote: the next one reads the vendor again.
    let after = quote(&gw, body.clone()).await;
    assert_eq!(
        after.header("cache-status"),
        Some("refund-gateway; fwd=miss; stored")
    );
    assert_eq!(after.body["totals"]["refundable"]["value"], "15.00");
    assert_eq!(after.body["create"]["payment"]["reference"], "131");

    // An amount beyond what is refundable: the quote says the create's refusal, and the
    // create gives it.
    let over = json!({"provider": "tm", "target": {"order": "1269436", "payments": ["131"]},
                      "amount": {"value": "15.01", "currency": "EUR"}});
    let q = quote(&gw, over.clone()).await;
    assert_eq!(q.status, 200, "{}", q.text);
    assert_eq!(q.body["create"]["outcome"], "refused");
    assert_eq!(q.body["create"]["code"], "amount_exceeds_refundable");
    assert_eq!(q.body["create"]["pointer"], "/amount/value");
    let refused = gw.post("/v1/refunds", over).await;
    assert_problem(&refused, 422, "amount_exceeds_refundable");

    // Nothing was stored by the four quotes: the ledger holds the two creates.
    let ledger = gw.get("/v1/refunds").await;
    let rows = ledger.body["data"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{}", ledger.text);
    assert!(rows.iter().any(|r| r["id"] == created.body["id"]));
}

#[tokio::test]
async fn bad_input_is_refused_with_pointers_and_nothing_reaches_the_vendor() {
    let vendor = VendorSandbox::start("ticketmatic", "account = \"demo\"").await;
    let gw = TestGateway::start(&ticketmatic(&vendor)).await;
    let cases = [
        (
            json!({"provider": "tm", "target": {"tickets": ["1"]}}),
            422,
            "validation_failed",
            "/target/tickets",
        ),
        (
            json!({"provider": "tm", "target": {"order": "1269436"}, "amount": {"value": 10.5, "currency": "EUR"}}),
            422,
            "validation_failed",
            "/amount/value",
        ),
        (
            json!({"provider": "tm", "target": {"order": "1269436"}, "amount": {"value": "10.001", "currency": "EUR"}}),
            422,
            "validation_failed",
            "/amount/value",
        ),
        (
            json!({"provider": "nope", "target": {"order": "1"}}),
            422,
            "unknown_provider",
            "/provider",
        ),
        (
            json!({"provider": "tm", "target": {"order": "x"}}),
            422,
            "validation_failed",
            "/target/order",
        ),
        (
            json!({"provider": "tm", "target": {"order": "1"}, "extra": 1}),
            422,
            "validation_failed",
            "/extra",
        ),
    ];
    for (body, status, code, pointer) in cases {
        let r = quote(&gw, body.clone()).await;
        assert_problem(&r, status, code);
        assert_eq!(r.body["pointer"], pointer, "{body}: {}", r.text);
    }
    let malformed = gw
        .post_raw("/v1/refund-quotes", "application/json", "{\"provider\":")
        .await;
    assert_problem(&malformed, 400, "malformed_json");
    assert!(received(&vendor).is_empty(), "{:?}", received(&vendor));

    let missing = quote(&gw, json!({"provider": "tm", "target": {"order": "999"}})).await;
    assert_problem(&missing, 404, "not_found");
    assert_eq!(missing.body["pointer"], "/target/order");
    only_reads(&vendor);
}

#[tokio::test]
async fn quotes_are_tenant_scoped_like_creates() {
    let vendor = VendorSandbox::start("ticketmatic", "account = \"demo\"").await;
    let (acme, beta) = ("acme-key-quotes-0123456789", "beta-key-quotes-0123456789");
    let config = format!(
        "[[clients]]\nname = \"acme\"\nkey = {{ file = \"{}\" }}\n\n[[clients]]\nname = \"beta\"\n\
         key = {{ file = \"{}\" }}\nproviders = [\"other\"]\n\n[providers.other]\nkind = \"ticketmatic\"\n\
         sandbox = true\naccount = \"demo\"\n\n{}",
        secret_file(acme),
        secret_file(beta),
        ticketmatic(&vendor)
    );
    let gw = TestGateway::start(&config).await;
    let body = json!({"provider": "tm", "target": {"order": "1269436"}});
    let anonymous = quote(&gw, body.clone()).await;
    assert_problem(&anonymous, 401, "unauthorized");
    let auth = |key: &str| format!("Bearer {key}");
    let forbidden = gw
        .post_with(
            "/v1/refund-quotes",
            body.clone(),
            &[("authorization", &auth(beta))],
        )
        .await;
    assert_problem(&forbidden, 403, "provider_forbidden");
    assert_eq!(forbidden.body["pointer"], "/provider");
    assert!(
        received(&vendor).is_empty(),
        "a forbidden quote reached the vendor"
    );
    let allowed = gw
        .post_with("/v1/refund-quotes", body, &[("authorization", &auth(acme))])
        .await;
    assert_eq!(allowed.status, 200, "{}", allowed.text);
    assert_eq!(received(&vendor), ["GET /demo/orders/1269436"]);
}
