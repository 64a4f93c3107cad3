//! Tenant scope over real HTTP with two clients: a vendor listing shows `rfg_` ids only to
//! the client that made the refund, and a client limited to some provider instances gets
//! 403 `provider_forbidden` on every route for another, with nothing reaching that vendor.

use refund_gateway::storage::refunds::{Intent, Settle};
use serde_json::{json, Value};

use crate::support::{assert_problem, secret_file, ApiResponse, ReplayVendor, TestGateway};

const ACME: &str = "acme-key-0123456789abcdef";
const BETA: &str = "beta-key-0123456789abcdef";
const TICKET: &str = "5f8d0f8b9d2b3b0017b6d8a0";

async fn gateway(fv: &ReplayVendor) -> TestGateway {
    TestGateway::start(&format!(
        r#"
[[clients]]
name = "acme"
key = {{ file = "{acme}" }}

[[clients]]
name = "beta"
key = {{ file = "{beta}" }}
providers = ["tm"]

[providers.tm]
kind = "ticketmatic"
sandbox = true
account = "demo"

[providers.fv]
kind = "fourvenues"
base_url = "{fv}"
api_key = {{ file = "{fv_key}" }}
"#,
        acme = secret_file(ACME),
        beta = secret_file(BETA),
        fv = fv.base_url(),
        fv_key = secret_file("fv-tenant-key"),
    ))
    .await
}

struct As<'a> {
    gw: &'a TestGateway,
    auth: String,
}

impl As<'_> {
    async fn get(&self, path: &str) -> ApiResponse {
        self.gw
            .get_with(path, &[("authorization", &self.auth)])
            .await
    }

    async fn post(&self, path: &str, body: Value) -> ApiResponse {
        let key = crate::support::unique("tenant");
        self.gw
            .post_with(
                path,
                body,
                &[("authorization", &self.auth), ("idempotency-key", &key)],
            )
            .await
    }
}

fn ids(listing: &ApiResponse) -> Vec<String> {
    listing.body["data"]
        .as_array()
        .expect("a listing")
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn clients_see_only_their_own_ledger_ids_in_vendor_listings() {
    let fv = ReplayVendor::start_reusable(&[]).await;
    let gw = gateway(&fv).await;
    let acme = As {
        gw: &gw,
        auth: format!("Bearer {ACME}"),
    };
    let beta = As {
        gw: &gw,
        auth: format!("Bearer {BETA}"),
    };
    let created = acme
        .post(
            "/v1/refunds",
            json!({"provider": "tm", "target": {"order": "1269434"}, "amount": {"value": "1.00", "currency": "EUR"}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let ours = created.body["id"].as_str().unwrap().to_string();
    let reference = created.body["vendor_reference"].clone();

    let path = "/v1/refunds?provider=tm&order=1269434";
    let for_acme = acme.get(path).await;
    assert_eq!(for_acme.status, 200, "{}", for_acme.text);
    assert!(ids(&for_acme).contains(&ours), "{}", for_acme.text);
    // Served from the same cached vendor answer, beta sees the refund under its vendor id.
    let for_beta = beta.get(path).await;
    assert_eq!(for_beta.status, 200, "{}", for_beta.text);
    assert_eq!(for_beta.header("cache-status"), Some("refund-gateway; hit"));
    assert!(
        ids(&for_beta).iter().all(|id| !id.starts_with("rfg_")),
        "beta sees no ledger id: {}",
        for_beta.text
    );
    let seen = for_beta.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["vendor_reference"] == reference)
        .expect("the refund itself is the vendor's data, listed for both");
    assert!(seen["id"].as_str().unwrap().starts_with("rf_"));
    assert_problem(
        &beta.get(&format!("/v1/refunds/{ours}")).await,
        404,
        "not_found",
    );
    let live = beta
        .gw
        .get_with(
            path,
            &[("authorization", &beta.auth), ("cache-control", "no-cache")],
        )
        .await;
    assert!(
        ids(&live).iter().all(|id| !id.starts_with("rfg_")),
        "{}",
        live.text
    );
}

#[tokio::test]
async fn a_client_limited_to_some_instances_is_refused_every_route_of_another() {
    let fv = ReplayVendor::start_reusable(&["fixtures/fourvenues/get-ticket-refunded.json"]).await;
    let gw = gateway(&fv).await;
    let acme = As {
        gw: &gw,
        auth: format!("Bearer {ACME}"),
    };
    let beta = As {
        gw: &gw,
        auth: format!("Bearer {BETA}"),
    };
    let listed = acme
        .get(&format!("/v1/refunds?provider=fv&ticket={TICKET}"))
        .await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let vendor_id = ids(&listed).into_iter().next().expect("a vendor refund");
    let before = fv.received().len();

    let providers = beta.get("/v1/providers").await;
    let names: Vec<&str> = providers.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["tm"], "beta is shown only what it may use");

    let create = beta
        .post(
            "/v1/refunds",
            json!({"provider": "fv", "target": {"tickets": [TICKET]}, "amount": {"value": "1", "currency": "EUR"}}),
        )
        .await;
    assert_problem(&create, 403, "provider_forbidden");
    assert_eq!(create.body["pointer"], "/provider");

    let list = beta
        .get(&format!("/v1/refunds?provider=fv&ticket={TICKET}"))
        .await;
    assert_problem(&list, 403, "provider_forbidden");
    assert_eq!(list.body["parameter"], "provider");

    assert_problem(
        &beta.get(&format!("/v1/refunds/{vendor_id}")).await,
        403,
        "provider_forbidden",
    );

    let batch = beta
        .post(
            "/v1/refund-batches",
            json!({"items": [
                {"provider": "tm", "target": {"order": "1269434"}, "amount": {"value": "1.00", "currency": "EUR"}},
                {"provider": "fv", "target": {"tickets": [TICKET]}, "amount": {"value": "1", "currency": "EUR"}},
            ]}),
        )
        .await;
    assert_problem(&batch, 403, "provider_forbidden");
    assert_eq!(batch.body["pointer"], "/items/1/provider");

    // A refund of beta's own on fv (made before its access was narrowed) cannot be
    // reconciled through fv either.
    let own = "rfg_01tenantbetaonfv0000000000";
    gw.storage()
        .insert_intent(&Intent {
            id: own.into(),
            client: "beta".into(),
            provider: "fv".into(),
            provider_kind: "fourvenues".into(),
            target: serde_json::from_value(json!({"tickets": [TICKET]})).unwrap(),
            amount: None,
            reason: None,
            metadata: Default::default(),
            idempotency_key: None,
            request_hash: None,
            batch_id: None,
            in_flight_until: 0,
            owner: None,
        })
        .await
        .unwrap();
    gw.storage()
        .settle(
            Settle::Refund(own),
            &refund_gateway::service::create::interrupted(),
        )
        .await
        .unwrap();
    let reconcile = beta
        .post(&format!("/v1/refunds/{own}/reconcile"), json!({}))
        .await;
    assert_problem(&reconcile, 403, "provider_forbidden");
    let read = beta.get(&format!("/v1/refunds/{own}")).await;
    assert_eq!(
        read.status, 200,
        "its own ledger row stays readable: {}",
        read.text
    );

    assert_eq!(
        fv.received().len(),
        before,
        "nothing beta did reached the vendor it may not use: {:?}",
        fv.received()
    );
}
