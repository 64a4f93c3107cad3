//! The provider against its sandbox: what a sandbox instance of the gateway does.

use refund_provider::{ErrorKind, LineStatus, RefundRequest, RefundStatus, VendorRef};
use serde_json::json;

use super::{concrete, paths, provider, sandbox_transport, secret_file};

fn request(target: serde_json::Value) -> RefundRequest {
    serde_json::from_value(json!({ "target": target, "reason": "sandbox" })).unwrap()
}

#[tokio::test]
async fn create_partial_then_mixed_event_then_nothing_left() {
    let transport = sandbox_transport();
    let p = provider(json!({}), true, transport.clone());

    let partial = p
        .create(&request(json!({"tickets": ["tk-1001-0101"]})))
        .await
        .unwrap();
    assert_eq!(partial.status, RefundStatus::Succeeded);
    assert_eq!(partial.amount.unwrap().value().to_string(), "4500");
    assert_eq!(partial.lines[0].partial, Some(true));

    let event = p
        .create(&request(json!({"event": "1001", "all_for_event": true})))
        .await
        .unwrap();
    assert_eq!(event.status, RefundStatus::PartiallySucceeded, "{event:?}");
    let counts = event.counts.unwrap();
    assert_eq!((counts.refunded, counts.skipped, counts.failed), (2, 1, 1));
    assert_eq!(event.lines.len(), 4);
    let refunded: refund_provider::rust_decimal::Decimal = event
        .lines
        .iter()
        .filter(|l| l.status == Some(LineStatus::Succeeded))
        .filter_map(|l| l.amount.map(|m| m.value()))
        .sum();
    assert_eq!(Some(refunded), event.amount.map(|m| m.value()));
    assert_eq!(refunded.to_string(), "11400");

    // Over-refund: Stubbur skips what is already refunded; nothing refunded is not success.
    let again = p
        .create(&request(json!({"payments": ["SB-1001-02"]})))
        .await
        .unwrap();
    assert_eq!(again.status, RefundStatus::Failed);
    assert_eq!(again.lines[0].status, Some(LineStatus::Skipped));
    assert!(again
        .notes
        .iter()
        .any(|n| n.contains("nothing was refunded")));
    assert_eq!(again.amount, None);

    let unknown = p
        .create(&request(json!({"payments": ["SB-9999-99"]})))
        .await
        .unwrap_err();
    assert_eq!(unknown.kind, ErrorKind::Rejected);
    assert_eq!(unknown.vendor.unwrap().code.as_deref(), Some("404"));

    let missing = p
        .create(&request(json!({"event": "4040", "all_for_event": true})))
        .await
        .unwrap_err();
    assert_eq!(missing.kind, ErrorKind::NotFound);
    assert_eq!(paths(&transport).len(), 5);
}

#[tokio::test]
async fn lookups_are_unsupported_and_amounts_never_reach_the_vendor() {
    let transport = sandbox_transport();
    let p = provider(json!({}), true, transport.clone());
    assert!(!p.capabilities().get && !p.capabilities().list);
    assert!(p.capabilities().vendor_computed_amounts && p.capabilities().bulk);
    let refund = p
        .create(&request(json!({"tickets": ["tk-1001-0201"]})))
        .await
        .unwrap();
    let got = p.get(&refund.vendor_reference).await.unwrap_err();
    assert_eq!(got.kind, ErrorKind::Unsupported);
    assert_eq!(
        p.get(&VendorRef::new("order/1")).await.unwrap_err().kind,
        ErrorKind::NotFound
    );
    assert_eq!(
        p.list(&refund.target).await.unwrap_err().kind,
        ErrorKind::Unsupported
    );

    let mut with_amount = request(json!({"tickets": ["tk-1001-0102"]}));
    with_amount.amount =
        Some(refund_provider::Money::parse("4500", refund_provider::Currency::ISK).unwrap());
    let e = p.create(&with_amount).await.unwrap_err();
    assert_eq!(
        (e.kind, e.pointer.as_deref()),
        (ErrorKind::Unsupported, Some("/amount"))
    );
    assert_eq!(
        paths(&transport).len(),
        1,
        "the refused create sent nothing"
    );
}

#[tokio::test]
async fn credentials_session_is_reused_and_renewed_once_on_401() {
    let transport = sandbox_transport();
    let config = json!({"auth": {"mode": "credentials", "username": "ignored-in-sandbox"}});
    let p = provider(config, true, transport.clone());
    p.create(&request(json!({"tickets": ["tk-1001-0101"]})))
        .await
        .unwrap();
    p.create(&request(json!({"tickets": ["tk-1001-0102"]})))
        .await
        .unwrap();
    assert_eq!(
        paths(&transport),
        ["/auth/credentials", "/refund/process", "/refund/process"],
        "one login, reused"
    );
    transport.sandbox().expire_sessions();
    let renewed = p
        .create(&request(json!({"tickets": ["tk-1001-0201"]})))
        .await
        .unwrap();
    assert_eq!(renewed.status, RefundStatus::Succeeded);
    assert_eq!(
        paths(&transport)[3..],
        ["/refund/process", "/auth/credentials", "/refund/process"]
    );
}

#[test]
fn debug_output_never_shows_secrets_and_config_errors_name_the_key() {
    let token = "tok-3f9c-never-printed";
    let config = json!({"auth": {"mode": "bearer", "token": secret_file(token)}});
    let shown = format!("{:?}", concrete(config, false).unwrap());
    assert!(
        shown.contains("Bearer(<redacted>)") && !shown.contains(token),
        "{shown}"
    );
    let password = "pw-81ad-never-printed";
    let config = json!({"auth": {"mode": "credentials", "username": "ops",
        "password": secret_file(password)}});
    let shown = format!("{:?}", concrete(config, false).unwrap());
    assert!(
        shown.contains("ops") && !shown.contains(password),
        "{shown}"
    );

    assert_eq!(concrete(json!({}), false).unwrap_err().key, "auth");
    let e = concrete(json!({"auth": {"mode": "bearer"}}), false).unwrap_err();
    assert_eq!(e.key, "auth.token");
}
