//! The provider driven end to end against its own sandbox, without sockets: the core's
//! `InProcessTransport` hands each request to `Sandbox::handle`.

use std::sync::Arc;

use refund_provider::http::Method;
use refund_provider::sandbox::InProcessTransport;
use refund_provider::{
    BuildContext, ErrorKind, InstanceName, Provider, RefundStatus, SecretRef, Vendor,
};

use super::{provider, request, A, B, BASE};
use crate::sandbox::FourvenuesSandbox;
use crate::{Fourvenues, FourvenuesConfig};

type SandboxTransport = InProcessTransport<FourvenuesSandbox>;

fn sandbox_transport() -> Arc<SandboxTransport> {
    Arc::new(InProcessTransport::new(BASE, FourvenuesSandbox::seeded()))
}

fn setup(sandbox: bool, api_key: Option<SecretRef>) -> (Arc<dyn Provider>, Arc<SandboxTransport>) {
    let transport = sandbox_transport();
    (provider(sandbox, api_key, transport.clone()), transport)
}

#[tokio::test]
async fn create_get_list_then_over_refund_is_refused() {
    let (provider, transport) = setup(true, None);
    let refund = provider.create(&request(A, Some("10"))).await.unwrap();
    assert_eq!(refund.status, RefundStatus::Succeeded);
    assert_eq!(refund.amount.unwrap().to_string(), "10.00 EUR");
    assert_eq!(
        refund.vendor_reference.as_str(),
        format!("ticket/{A}/refund/0")
    );
    assert_eq!(refund.reason.as_deref(), Some("event cancelled"));
    assert_eq!(refund.lines[0].partial, Some(true));

    let found = provider.get(&refund.vendor_reference).await.unwrap();
    assert_eq!((found.id, found.amount), (refund.id.clone(), refund.amount));
    let listed = provider.list(&request(A, None).target).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, refund.id);

    // 6.1 EUR left: 7 is refused before any refund request.
    let puts = transport.sent_with(&Method::PUT);
    let over = provider.create(&request(A, Some("7"))).await.unwrap_err();
    assert_eq!(over.kind, ErrorKind::AmountExceedsRefundable);
    // The remaining 6.1 is not whole: a full refund is refused, never rounded.
    let rest = provider.create(&request(A, None)).await.unwrap_err();
    assert_eq!(rest.kind, ErrorKind::AmountNotRepresentable);
    assert_eq!(transport.sent_with(&Method::PUT), puts);
}

#[tokio::test]
async fn full_refund_without_amount_then_nothing_left() {
    let (provider, _) = setup(true, None);
    let refund = provider.create(&request(B, None)).await.unwrap();
    assert_eq!(refund.amount.unwrap().to_string(), "10.00 EUR");
    assert_eq!(
        refund.vendor_reference.as_str(),
        format!("ticket/{B}/refund/1")
    );
    assert!(
        refund.notes[0].contains("whole remaining"),
        "{:?}",
        refund.notes
    );
    let listed = provider.list(&request(B, None).target).await.unwrap();
    assert_eq!(listed.len(), 2);
    let again = provider.create(&request(B, None)).await.unwrap_err();
    assert_eq!(again.kind, ErrorKind::NothingRefundable);
}

#[tokio::test]
async fn fractional_amounts_are_refused_without_any_vendor_call() {
    let (provider, transport) = setup(true, None);
    let e = provider
        .create(&request(A, Some("10.50")))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::AmountNotRepresentable);
    assert_eq!(e.pointer.as_deref(), Some("/amount/value"));
    assert_eq!(transport.sent().len(), 0);
}

#[tokio::test]
async fn targets_and_refs_are_checked() {
    let (provider, transport) = setup(true, None);
    let mut two = request(A, Some("1"));
    two.target.tickets.push(B.into());
    let e = provider.create(&two).await.unwrap_err();
    assert_eq!(e.pointer.as_deref(), Some("/target/tickets"));
    let missing = provider
        .get(&crate::mapping::vendor_ref(A, 5))
        .await
        .unwrap_err();
    assert_eq!(missing.kind, ErrorKind::NotFound);
    let unknown = provider
        .create(&request("nope", Some("1")))
        .await
        .unwrap_err();
    assert_eq!(unknown.kind, ErrorKind::NotFound);
    let garbage = provider
        .get(&refund_provider::VendorRef::new("x"))
        .await
        .unwrap_err();
    assert_eq!(garbage.kind, ErrorKind::NotFound);
    assert_eq!(transport.sent().len(), 2);
}

#[tokio::test]
async fn a_wrong_key_is_unauthorized_and_never_shown() {
    let path = std::env::temp_dir().join(format!("fv-key-{}", std::process::id()));
    std::fs::write(&path, "not-the-sandbox-key-4711\n").unwrap();
    let (provider, _) = setup(false, Some(SecretRef::File(path.clone())));
    let e = provider.list(&request(A, None).target).await.unwrap_err();
    let _ = std::fs::remove_file(&path);
    assert_eq!(e.kind, ErrorKind::Unauthorized);
    assert!(!format!("{e:?}").contains("4711"));
    let direct = crate::FourvenuesProvider {
        instance: InstanceName::new("fv").unwrap(),
        client: crate::client::Client::new(
            BASE,
            crate::auth::ApiKey::new("not-the-sandbox-key-4711".to_string().into()),
            sandbox_transport(),
        ),
        capabilities: crate::capabilities(),
    };
    assert!(!format!("{direct:?}").contains("4711"));
    let cfg = FourvenuesConfig {
        api_key: Some(SecretRef::Env("FV_KEY".into())),
    };
    assert!(format!("{cfg:?}").contains("FV_KEY"));
}

#[test]
fn a_real_instance_needs_a_key_and_a_base_url() {
    let transport = sandbox_transport();
    let ctx = |base: &str| BuildContext {
        instance: InstanceName::new("fv").unwrap(),
        base_url: base.to_string(),
        sandbox: false,
        transport: transport.clone(),
    };
    let no_key = Fourvenues::build(FourvenuesConfig::default(), ctx(BASE))
        .err()
        .unwrap();
    assert_eq!(no_key.key, "api_key");
    let no_base = Fourvenues::build(FourvenuesConfig::default(), ctx(""))
        .err()
        .unwrap();
    assert_eq!(no_base.key, "base_url");
}
