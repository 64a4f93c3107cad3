//! The quote of Fourvenues, iVvy and Stubbur against their sandboxes (see the parent for
//! Ticketmatic, bad input and tenant scope).

use refund_provider::rust_decimal::Decimal;
use serde_json::{json, Value};

use super::{only_reads, quote, received};
use crate::support::process::VendorSandbox;
use crate::support::{assert_problem, secret_file, TestGateway};

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
    // Fourvenues documents that a refund voids the ticket; its own status is kept.
    assert_eq!(
        created.body["lines"][0]["ticket"]["state"], "voided",
        "{}",
        created.text
    );

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
    let exact = |v: &Value| v["value"].as_str().unwrap().parse::<Decimal>().unwrap();
    assert_eq!(
        exact(&refundable) - exact(&after.body["totals"]["refundable"]),
        Decimal::new(40, 0),
        "{}",
        after.text
    );
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
