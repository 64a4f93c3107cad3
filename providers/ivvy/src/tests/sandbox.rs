//! The provider driven against its own sandbox through the core's `InProcessTransport`,
//! without sockets: create -> get -> list -> over-refund refused, and the config/Debug
//! checks.

use std::sync::Arc;

use refund_provider::rust_decimal::Decimal;
use refund_provider::sandbox::InProcessTransport;
use refund_provider::{
    BuildContext, ErrorKind, InstanceName, Outcome, Provider, RefundStatus, Vendor,
};

use super::{aud, booking, request};
use crate::{Ivvy, IvvyConfig, IvvyProvider, IvvySandbox};

/// Hands every request to the sandbox, as the gateway's loopback server would.
type SandboxTransport = InProcessTransport<Arc<IvvySandbox>>;

fn config() -> IvvyConfig {
    serde_json::from_value(serde_json::json!({})).unwrap()
}

fn provider() -> Arc<dyn Provider> {
    let sandbox = Arc::new(IvvySandbox::new(aud()));
    super::provider(
        config(),
        true,
        Arc::new(SandboxTransport::new(super::BASE, sandbox)),
    )
}

#[tokio::test]
async fn create_get_list_then_over_refund_is_refused() {
    let provider = provider();
    let created = provider.create(&request("200.00")).await.unwrap();
    assert_eq!(created.status, RefundStatus::Succeeded);
    assert_eq!(created.lines.len(), 2);
    assert_eq!(
        created.vendor_reference.as_str(),
        "venue/2/booking/2/refunds/1736:180,1737:181"
    );

    let got = provider.get(&created.vendor_reference).await.unwrap();
    assert_eq!(got.id, created.id);
    assert_eq!(got.status, RefundStatus::Succeeded);
    assert_eq!(got.amount.unwrap().value(), Decimal::new(20000, 2));
    assert_eq!(
        got.reason.as_deref(),
        Some("gw_test_1 - Function cancelled")
    );
    let amounts: Vec<String> = got
        .lines
        .iter()
        .map(|l| l.amount.unwrap().value().to_string())
        .collect();
    assert_eq!(amounts, ["150.00", "50.00"]);

    // Spread over two invoices, it lists as the one refund it was created as.
    let listed = provider.list(&booking()).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].vendor_reference, created.vendor_reference);
    assert_eq!(listed[0].amount, got.amount);
    assert!(listed.iter().all(|r| r.status == RefundStatus::Succeeded));

    let e = provider.create(&request("100.00")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::AmountExceedsRefundable);
    assert_eq!(e.vendor.unwrap().code.as_deref(), Some("24146"));

    let mut partial = request("60.00");
    partial.gateway_reference = Some("gw_test_2".into());
    let e = provider.create(&partial).await.unwrap_err();
    assert_eq!(
        (e.kind, e.outcome),
        (ErrorKind::PartiallyApplied, Outcome::Unknown)
    );
    // The lookup settles it: the part that was applied is listed, as one more refund.
    let listed = provider.list(&booking()).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed[1]
        .reason
        .as_deref()
        .unwrap()
        .starts_with("gw_test_2"));

    let e = provider.create(&request("1.00")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NothingRefundable);
}

#[tokio::test]
async fn unknown_refunds_and_bookings() {
    let provider = provider();
    let missing = refund_provider::VendorRef::new("venue/2/booking/2/refunds/1736:999");
    assert_eq!(
        provider.get(&missing).await.unwrap_err().kind,
        ErrorKind::NotFound
    );
    let other = refund_provider::VendorRef::new("venue/2/booking/3/refunds/1736:180");
    assert_eq!(
        provider.get(&other).await.unwrap_err().kind,
        ErrorKind::NotFound
    );
    let unknown_invoice = refund_provider::VendorRef::new("venue/2/booking/2/refunds/5:1");
    assert_eq!(
        provider.get(&unknown_invoice).await.unwrap_err().kind,
        ErrorKind::NotFound
    );
    let mut req = request("10.00");
    req.target.booking = Some("999".into());
    assert_eq!(
        provider.create(&req).await.unwrap_err().kind,
        ErrorKind::NotFound
    );
    assert!(provider.list(&req.target).await.unwrap().is_empty());
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let dir = std::env::temp_dir().join(format!("ivvy-secret-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (key, secret) = (dir.join("key"), dir.join("secret"));
    std::fs::write(&key, "live-key-value-123").unwrap();
    std::fs::write(&secret, "live-secret-value-456").unwrap();
    let cfg: IvvyConfig = serde_json::from_value(serde_json::json!({
        "api_key": {"file": key}, "api_secret": {"file": secret}
    }))
    .unwrap();
    let ctx = BuildContext {
        instance: InstanceName::new("ivvy-live").unwrap(),
        base_url: "https://api.ap-southeast-2.ivvy.com".into(),
        sandbox: false,
        transport: Arc::new(SandboxTransport::new(
            super::BASE,
            Arc::new(IvvySandbox::new(aud())),
        )),
    };
    let provider = IvvyProvider::new(cfg.clone(), ctx).unwrap();
    for shown in [format!("{provider:?}"), format!("{cfg:?}")] {
        assert!(!shown.contains("live-key-value-123"), "{shown}");
        assert!(!shown.contains("live-secret-value-456"), "{shown}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_live_instance_needs_its_credentials() {
    let ctx = BuildContext {
        instance: InstanceName::new("ivvy-live").unwrap(),
        base_url: "https://api.ap-southeast-2.ivvy.com".into(),
        sandbox: false,
        transport: Arc::new(SandboxTransport::new(
            super::BASE,
            Arc::new(IvvySandbox::new(aud())),
        )),
    };
    let e = Ivvy::build(config(), ctx).err().unwrap();
    assert_eq!(e.key, "api_key");
}
