//! The provider driven end to end against its own sandbox, without sockets: the core's
//! `InProcessTransport` hands each signed request to `TicketmaticSandbox::handle`. Proves
//! create -> get -> list -> over-refund refused, with the real signing and the sandbox's
//! signature check in the loop; and that credentials never show in Debug output.

use std::sync::Arc;

use refund_provider::http::Method;
use refund_provider::sandbox::InProcessTransport;
use refund_provider::secrecy::SecretString;
use refund_provider::{
    Currency, ErrorKind, InstanceName, Money, Provider, RefundRequest, RefundStatus, Target,
};

use super::{provider, request, BASE};
use crate::{
    auth, capabilities, client, TicketmaticConfig, TicketmaticProvider, TicketmaticSandbox,
};

type SandboxTransport = InProcessTransport<TicketmaticSandbox>;

fn sandbox_transport() -> Arc<SandboxTransport> {
    Arc::new(InProcessTransport::new(
        BASE,
        TicketmaticSandbox::seeded("demo"),
    ))
}

fn setup() -> (Arc<dyn Provider>, Arc<SandboxTransport>) {
    let transport = sandbox_transport();
    (provider(true, transport.clone()), transport)
}

#[tokio::test]
async fn create_get_list_then_over_refund_refused() {
    let (provider, transport) = setup();

    let created = provider
        .create(&request("1269434", &[], Some("20.00")))
        .await
        .unwrap();
    assert_eq!(created.status, RefundStatus::Succeeded);
    assert_eq!(created.amount.unwrap().value().to_string(), "20.00");
    assert_eq!(created.vendor_refs["payment_id"], "125");
    assert_eq!(
        created.vendor_reference.as_str(),
        "order/1269434/payment/134"
    );
    assert!(
        created
            .notes
            .iter()
            .any(|n| n.contains("refunded payment 125")),
        "{:?}",
        created.notes
    );
    assert_eq!(created.reason.as_deref(), Some("event cancelled"));

    let got = provider.get(&created.vendor_reference).await.unwrap();
    assert_eq!(
        (got.id.clone(), got.amount),
        (created.id.clone(), created.amount)
    );

    let target = Target {
        order: Some("1269434".into()),
        ..Target::default()
    };
    let listed = provider.list(&target).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, created.id);

    // 30.00 is left on payment 125: 30.01 is refused before any refund call is sent.
    let before = transport.sent().len();
    let err = provider
        .create(&request("1269434", &["125"], Some("30.01")))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::AmountExceedsRefundable);
    let sent = transport.sent()[before..].to_vec();
    assert_eq!(
        sent,
        vec![(Method::GET, "/demo/orders/1269434".to_string())]
    );

    // The rest, without an amount, empties the payment; then nothing is left.
    let rest = provider
        .create(&request("1269434", &["125"], None))
        .await
        .unwrap();
    assert_eq!(rest.amount.unwrap().value().to_string(), "30.00");
    let err = provider
        .create(&request("1269434", &[], None))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NothingRefundable);
    assert_eq!(provider.list(&target).await.unwrap().len(), 2);
}

#[tokio::test]
async fn picks_the_payment_with_most_left() {
    let (provider, _) = setup();
    let created = provider
        .create(&request("1269436", &[], None))
        .await
        .unwrap();
    assert_eq!(created.vendor_refs["payment_id"], "132");
    assert_eq!(created.amount.unwrap().value().to_string(), "20.00");
    let target = Target {
        order: Some("1269436".into()),
        ..Target::default()
    };
    // The earlier refund 133 and the new one.
    assert_eq!(provider.list(&target).await.unwrap().len(), 2);
}

#[tokio::test]
async fn unknown_things_are_not_found() {
    let (provider, _) = setup();
    let err = provider
        .create(&request("424242", &[], None))
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind, err.pointer.as_deref()),
        (ErrorKind::NotFound, Some("/target/order"))
    );
    let missing = refund_provider::VendorRef::new("order/1269434/payment/125");
    assert_eq!(
        provider.get(&missing).await.unwrap_err().kind,
        ErrorKind::NotFound
    );
    let bad = refund_provider::VendorRef::new("nonsense");
    assert_eq!(
        provider.get(&bad).await.unwrap_err().kind,
        ErrorKind::NotFound
    );
    let usd = RefundRequest {
        amount: Some(Money::parse("1.00", Currency::from_code("USD").unwrap()).unwrap()),
        ..request("1269434", &[], None)
    };
    // The gateway checks currencies once, from what the instance declares.
    let err = provider
        .capabilities()
        .check_create(&usd, "tm")
        .unwrap_err();
    assert_eq!(
        (err.kind, err.pointer.as_deref()),
        (ErrorKind::CurrencyNotSupported, Some("/amount/currency"))
    );
}

#[test]
fn debug_output_hides_credentials() {
    let signer = auth::Signer::new(
        "demo",
        SecretString::from("access-key-value-1"),
        SecretString::from("secret-key-value-2"),
    );
    let client = client::Client::new("http://x", "demo", signer, sandbox_transport());
    let config: TicketmaticConfig = serde_json::from_str(r#"{"account": "demo"}"#).unwrap();
    let provider = TicketmaticProvider::new(
        InstanceName::new("tm").unwrap(),
        Currency::EUR,
        capabilities(&config),
        client,
    );
    let debug = format!("{provider:?} {config:?}");
    assert!(debug.contains("demo"));
    assert!(!debug.contains("access-key-value-1"), "{debug}");
    assert!(!debug.contains("secret-key-value-2"), "{debug}");
}
