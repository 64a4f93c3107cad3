//! `POST /v1/refund-quotes` end to end, one test per vendor, each against the vendor's
//! sandbox served on loopback (its request log is what the vendor received): a quote sends
//! only reads, is cached until a create on its target, and a create with the quoted body
//! then refunds exactly the quoted amount. Plus bad input and tenant scope.

use serde_json::{json, Value};

use crate::support::process::VendorSandbox;
use crate::support::{assert_problem, secret_file, ApiResponse, TestGateway};

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

fn fourvenues(vendor: &VendorSandbox) -> String {
    format!(
        "[providers.fv]\nkind = \"fourvenues\"\nbase_url = \"{}\"\napi_key = {{ file = \"{}\" }}\n",
        vendor.base_url(),
        secret_file(provider_fourvenues::sandbox::SANDBOX_API_KEY),
    )
}

#[tokio::test]
async fn fourvenues_quote_reads_the_ticket_and_says_the_whole_euro_rule() {
    let vendor = VendorSandbox::start("fourvenues", "").await;
    let gw = TestGateway::start(&fourvenues(&vendor)).await;
    let partly = "5f8d0f8b9d2b3b0017b6d8b1";
    let body = json!({"provider": "fv", "target": {"tickets": [partly]}});
    let q = quote(&gw, body.clone()).await;
    assert_eq!(q.status, 200, "{}", q.text);
    let ticket = &q.body["lines"][0];
    assert_eq!(
        (&ticket["kind"], &ticket["reference"]),
        (&json!("ticket"), &json!(partly))
    );
    assert_eq!(ticket["paid"]["value"], "16.00", "{}", q.text);
    assert_eq!(ticket["refunded"]["value"], "6.00");
    assert_eq!(ticket["refundable"]["value"], "10.00");
    assert_eq!(q.body["rules"]["whole_units_only"], true);
    assert_eq!(q.body["create"]["outcome"], "refund");
    assert_eq!(q.body["create"]["amount_from"], "whole_remaining");
    assert_eq!(received(&vendor), [format!("GET /tickets/{partly}")]);

    let created = gw.post("/v1/refunds", body.clone()).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["amount"], q.body["create"]["amount"]);

    // A fresh ticket of 16.10: no amount means 16.10, which Fourvenues cannot take; a
    // fractional amount is refused too; the quote says so and the create agrees.
    let fresh = "5f8d0f8b9d2b3b0017b6d8a0";
    for (amount, pointer) in [
        (None, "/amount"),
        (
            Some(json!({"value": "10.50", "currency": "EUR"})),
            "/amount/value",
        ),
    ] {
        let mut body = json!({"provider": "fv", "target": {"tickets": [fresh]}});
        if let Some(amount) = amount {
            body["amount"] = amount;
        }
        let q = quote(&gw, body.clone()).await;
        assert_eq!(q.status, 200, "{}", q.text);
        assert_eq!(q.body["create"]["outcome"], "refused", "{}", q.text);
        assert_eq!(q.body["create"]["code"], "amount_not_representable");
        assert_eq!(q.body["create"]["pointer"], pointer);
        let refused = gw.post("/v1/refunds", body).await;
        assert_problem(&refused, 422, "amount_not_representable");
        assert_eq!(refused.body["pointer"], pointer);
    }
    let puts = received(&vendor)
        .iter()
        .filter(|l| l.starts_with("PUT "))
        .count();
    assert_eq!(
        puts,
        1,
        "only the one create refunded: {:?}",
        received(&vendor)
    );
}

#[tokio::test]
async fn ivvy_quote_reads_invoices_and_says_ivvy_spreads_the_refund() {
    let vendor = VendorSandbox::start("ivvy", "currency = \"AUD\"").await;
    let gw = TestGateway::start(&format!(
        "[providers.iv]\nkind = \"ivvy\"\ncurrency = \"AUD\"\nbase_url = \"{}\"\n\
         api_key = {{ file = \"{}\" }}\napi_secret = {{ file = \"{}\" }}\n",
        vendor.base_url(),
        secret_file(provider_ivvy::SANDBOX_API_KEY),
        secret_file(provider_ivvy::SANDBOX_API_SECRET),
    ))
    .await;
    let target = json!({"venue": "2", "booking": "2"});
    let without = quote(&gw, json!({"provider": "iv", "target": target})).await;
    assert_eq!(without.status, 200, "{}", without.text);
    assert_eq!(without.body["create"]["outcome"], "refused");
    assert_eq!(without.body["create"]["pointer"], "/amount");
    let refundable = without.body["totals"]["refundable"].clone();
    assert_eq!(refundable["currency"], "AUD", "{}", without.text);
    assert!(without.body["lines"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["kind"] == "invoice"));
    let whats: Vec<&str> = without.body["cannot_know"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["what"].as_str().unwrap())
        .collect();
    assert!(whats.contains(&"spread"), "{whats:?}");
    only_reads(&vendor);
    assert!(!received(&vendor).is_empty());

    let body = json!({"provider": "iv", "target": target, "amount": {"value": "40.00", "currency": "AUD"}});
    let q = quote(&gw, body.clone()).await;
    assert_eq!(q.body["create"]["outcome"], "refund", "{}", q.text);
    only_reads(&vendor);
    let created = gw.post("/v1/refunds", body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["amount"], q.body["create"]["amount"]);

    let after = quote(&gw, json!({"provider": "iv", "target": target})).await;
    let before: f64 = refundable["value"].as_str().unwrap().parse().unwrap();
    let now: f64 = after.body["totals"]["refundable"]["value"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(before - now, 40.0, "{}", after.text);
}

#[tokio::test]
async fn stubbur_quote_sends_nothing_and_says_what_cannot_be_known() {
    let vendor = VendorSandbox::start("stubbur", "").await;
    let gw = TestGateway::start(&format!(
        "[providers.sb]\nkind = \"stubbur\"\nbase_url = \"{}\"\n\
         auth = {{ mode = \"bearer\", token = {{ file = \"{}\" }} }}\n",
        vendor.base_url(),
        secret_file(provider_stubbur::sandbox::SANDBOX_TOKEN),
    ))
    .await;
    let body = json!({"provider": "sb", "target": {"tickets": ["tk-1001-0101"]}});
    let q = quote(&gw, body.clone()).await;
    assert_eq!(q.status, 200, "{}", q.text);
    assert_eq!(q.body["lines"], json!([]));
    assert!(
        q.body["totals"].as_object().unwrap().is_empty(),
        "{}",
        q.text
    );
    assert_eq!(q.body["create"]["outcome"], "vendor_decides");
    assert_eq!(q.body["rules"]["vendor_computed_amounts"], true);
    let whats: Vec<&str> = q.body["cannot_know"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["what"].as_str().unwrap())
        .collect();
    for what in ["paid", "refunded", "refundable", "amount"] {
        assert!(whats.contains(&what), "{what} missing from {whats:?}");
    }
    assert!(received(&vendor).is_empty(), "{:?}", received(&vendor));

    // An amount: the create would refuse it, and does.
    let with_amount = json!({"provider": "sb", "target": {"tickets": ["tk-1001-0101"]},
                             "amount": {"value": "4500", "currency": "ISK"}});
    let q = quote(&gw, with_amount.clone()).await;
    assert_eq!(q.body["create"]["outcome"], "refused", "{}", q.text);
    assert_eq!(q.body["create"]["pointer"], "/amount");
    let refused = gw.post("/v1/refunds", with_amount).await;
    assert_problem(&refused, 501, q.body["create"]["code"].as_str().unwrap());
    assert_eq!(refused.body["pointer"], "/amount");
    assert!(received(&vendor).is_empty(), "{:?}", received(&vendor));

    // The create is what tells the amount, and what happened to the seat.
    let created = gw.post("/v1/refunds", body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert!(
        created.body["amount"]["value"].is_string(),
        "{}",
        created.text
    );
    let line = &created.body["lines"][0];
    assert_eq!(line["ticket"]["state"], "seat_released", "{}", created.text);
    assert!(!line["ticket"]["seats"].as_array().unwrap().is_empty());
}
