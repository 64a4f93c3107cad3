//! The provider against its own sandbox (through the core's `InProcessTransport`), and
//! building it.

use super::*;

#[tokio::test]
async fn walks_through_the_sandbox_end_to_end() {
    let t = sandbox_transport();
    let provider = Paylogic::build(
        config(AuthConfig::default(), "nl"),
        ctx(true, SANDBOX_BASE, t.clone()),
    )
    .unwrap();

    // Create never reaches the vendor.
    let request: RefundRequest = serde_json::from_value(json!({
        "target": {"order": DOC_ORDER}, "amount": {"value": "1.00", "currency": "EUR"}
    }))
    .unwrap();
    let e = provider.create(&request).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unsupported);
    assert!(t.sent().is_empty());
    assert!(!provider.capabilities().create);

    let refund = provider.get(&VendorRef::new(DOC_UID)).await.unwrap();
    assert_eq!(refund.status, RefundStatus::Pending);
    assert_eq!(refund.amount.unwrap().to_string(), "6.50 EUR");

    let listed = provider.list(&order(DOC_ORDER)).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].id,
        RefundId::for_vendor(&refund.provider, &refund.vendor_reference)
    );

    // A bare order uid becomes a URI on the sandbox's origin; three refunds over two pages.
    let listed = provider
        .list(&order("5f1c0d2e8a9b4c7d9e0f1a2b3c4d5e6f"))
        .await
        .unwrap();
    let statuses: Vec<_> = listed.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        vec![
            RefundStatus::Succeeded,
            RefundStatus::Pending,
            RefundStatus::Canceled
        ]
    );
    assert_eq!(
        listed[0].lines[0].description.as_deref(),
        Some("Festival dagticket")
    );
    assert_eq!(listed[1].lines[0].description.as_deref(), Some("Parking"));
    assert!(
        requested(&t).last().unwrap().ends_with("&page=2"),
        "{:?}",
        requested(&t)
    );

    let e = provider
        .get(&VendorRef::new("ffffffffffffffffffffffffffffffff"))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn wrong_credentials_are_unauthorized_and_never_printed() {
    let auth = AuthConfig::Bearer {
        token: secret_file("token", "not-the-sandbox-token"),
    };
    let provider = PaylogicProvider::new(
        &config(auth, "en"),
        ctx(false, SANDBOX_BASE, sandbox_transport()),
    )
    .unwrap();
    let e = provider.get(&VendorRef::new(DOC_UID)).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unauthorized);
    assert_eq!(
        e.vendor.as_ref().unwrap().message,
        "Invalid username/password."
    );
    let debug = format!("{provider:?} {e:?}");
    assert!(!debug.contains("not-the-sandbox-token"), "{debug}");

    let basic = fixture_provider(sandbox_transport(), "en");
    let debug = format!("{basic:?}");
    assert!(
        !debug.contains("k>?~secret") && !debug.contains("shop-app"),
        "{debug}"
    );
}

#[test]
fn build_needs_credentials_and_a_language() {
    let real = |auth, lang| {
        PaylogicProvider::new(
            &config(auth, lang),
            ctx(false, LIVE_BASE, sandbox_transport()),
        )
    };
    let e = real(AuthConfig::default(), "en").unwrap_err();
    assert_eq!(e.key, "auth.app");
    let e = real(AuthConfig::Cognito { token: None }, "en").unwrap_err();
    assert_eq!(e.key, "auth.token");
    let e = real(
        AuthConfig::Bearer {
            token: secret_file("t2", "x"),
        },
        "e1",
    )
    .unwrap_err();
    assert_eq!(e.key, "language");
    let bad_base = PaylogicProvider::new(
        &config(AuthConfig::default(), "en"),
        ctx(true, "ftp://x", sandbox_transport()),
    );
    assert_eq!(bad_base.unwrap_err().key, "base_url");
}
