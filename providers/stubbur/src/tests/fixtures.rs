//! The provider against every recorded exchange in `fixtures/stubbur/`, through the core's
//! `FixtureTransport`: each request must be the recorded one, and each answer must map to
//! the canonical result stated here.

use std::sync::Arc;

use refund_provider::{
    ErrorKind, LineStatus, Outcome, ProviderError, Refund, RefundRequest, RefundStatus,
};
use serde_json::{json, Value};

use super::{fixtures, provider, secret_file};

fn request(target: Value, reason: Option<&str>) -> RefundRequest {
    serde_json::from_value(json!({ "target": target, "reason": reason })).unwrap()
}

fn bearer() -> Value {
    json!({"auth": {"mode": "bearer", "token": secret_file("fixture-token")}})
}

fn credentials() -> Value {
    json!({"auth": {"mode": "credentials", "username": "refund-bot@example.invalid",
        "password": secret_file("fixture-password")}})
}

async fn run(
    config: Value,
    names: &[&str],
    requests: &[RefundRequest],
) -> Vec<Result<Refund, ProviderError>> {
    let transport = fixtures(names);
    let p = provider(config, false, transport.clone() as Arc<_>);
    let mut out = Vec::new();
    for r in requests {
        out.push(p.create(r).await);
    }
    transport.assert_all_used();
    out
}

async fn one(fixture: &str, target: Value, reason: Option<&str>) -> Result<Refund, ProviderError> {
    run(bearer(), &[fixture], &[request(target, reason)])
        .await
        .remove(0)
}

#[tokio::test]
async fn successes_full_partial_and_by_payment() {
    let r = one(
        "refund-tickets-success",
        json!({"tickets": ["tk-1001-0201"]}),
        Some("Customer request"),
    )
    .await
    .unwrap();
    assert_eq!(
        (r.status, r.amount.unwrap().value().to_string()),
        (RefundStatus::Succeeded, "6900".into())
    );
    assert_eq!(
        r.lines[0].vendor_refs["borgun_refund_transaction_id"],
        "BRG-RF-000201"
    );
    assert_eq!(
        r.vendor_reference.as_str(),
        "payments/SB-1001-02/txn/BRG-RF-000201"
    );

    let r = one(
        "refund-tickets-partial",
        json!({"tickets": ["tk-1001-0101"]}),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        (r.status, r.lines[0].partial),
        (RefundStatus::Succeeded, Some(true))
    );

    let r = one(
        "refund-payments-success",
        json!({"payments": ["SB-1001-01"]}),
        Some("Duplicate purchase"),
    )
    .await
    .unwrap();
    assert_eq!(r.lines[0].tickets, ["tk-1001-0101", "tk-1001-0102"]);
    assert_eq!(r.lines[0].vendor_refs["freed_seat_ids"], "101,102");
}

#[tokio::test]
async fn event_wide_mixed_outcomes_are_not_reported_as_success() {
    let r = one(
        "refund-event-mixed",
        json!({"event": "1001", "all_for_event": true}),
        Some("Event cancelled"),
    )
    .await
    .unwrap();
    assert_eq!(r.status, RefundStatus::PartiallySucceeded);
    let c = r.counts.unwrap();
    assert_eq!((c.refunded, c.skipped, c.failed), (2, 1, 1));
    let statuses: Vec<_> = r.lines.iter().map(|l| l.status.unwrap()).collect();
    assert_eq!(
        statuses,
        [
            LineStatus::Succeeded,
            LineStatus::Succeeded,
            LineStatus::Skipped,
            LineStatus::Failed
        ]
    );
    assert_eq!(r.amount.unwrap().value().to_string(), "15900");
}

#[tokio::test]
async fn success_false_without_outcomes_is_rejected() {
    let e = one(
        "refund-success-false",
        json!({"payments": ["SB-9999-99"]}),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Rejected);
    let v = e.vendor.unwrap();
    assert_eq!((v.status, v.code.as_deref()), (Some(200), Some("404")));
    assert!(v.message.contains("No paid orders"));
}

#[tokio::test]
async fn every_documented_error() {
    let tk = json!({"tickets": ["tk-1001-0201"]});
    let event = |id: &str| json!({"event": id, "all_for_event": true});
    for (fixture, target, kind, code) in [
        (
            "error-400",
            json!({"tickets": ["not-a-token"]}),
            ErrorKind::Rejected,
            "ArgumentException",
        ),
        (
            "error-401",
            tk.clone(),
            ErrorKind::Unauthorized,
            "Unauthorized",
        ),
        (
            "error-403",
            tk.clone(),
            ErrorKind::Unauthorized,
            "Forbidden",
        ),
        ("error-404", event("4040"), ErrorKind::NotFound, "NotFound"),
        (
            "error-405",
            tk.clone(),
            ErrorKind::Rejected,
            "MethodNotAllowed",
        ),
        ("error-409", event("1001"), ErrorKind::Rejected, "Conflict"),
        (
            "error-429",
            tk.clone(),
            ErrorKind::RateLimited,
            "TooManyRequests",
        ),
        (
            "error-500",
            json!({"payments": ["SB-1001-02"]}),
            ErrorKind::Unavailable,
            "NullReferenceException",
        ),
    ] {
        let e = one(fixture, target, None).await.unwrap_err();
        assert_eq!(e.kind, kind, "{fixture}");
        let v = e.vendor.as_deref().unwrap();
        assert_eq!(v.code.as_deref(), Some(code), "{fixture}");
        assert_eq!(
            v.status.map(|s| s.to_string()),
            Some(fixture[6..].to_string()),
            "{fixture}"
        );
        let expected_outcome = if fixture == "error-500" {
            Outcome::Unknown
        } else {
            Outcome::NotApplied
        };
        assert_eq!(e.outcome, expected_outcome, "{fixture}");
    }
    let e = one("error-429", tk, None).await.unwrap_err();
    assert_eq!(e.retry_after, Some(std::time::Duration::from_secs(30)));
}

#[tokio::test]
async fn vendor_garbage() {
    let tk = json!({"tickets": ["tk-1001-0201"]});
    let html = one("garbage-html-502", tk.clone(), None).await.unwrap_err();
    assert_eq!(
        (html.kind, html.outcome),
        (ErrorKind::Unavailable, Outcome::Unknown)
    );
    assert!(html.vendor.unwrap().message.contains("502 - Web server"));
    let cut = one("garbage-truncated-json", tk.clone(), None)
        .await
        .unwrap_err();
    assert_eq!(
        (cut.kind, cut.outcome),
        (ErrorKind::BadResponse, Outcome::Unknown)
    );
    let reset = one("garbage-reset", tk, None).await.unwrap_err();
    assert_eq!(
        (reset.kind, reset.outcome),
        (ErrorKind::Unavailable, Outcome::Unknown)
    );
}

#[tokio::test]
async fn credentials_login_reuse_and_renewal_on_401() {
    let fixtures = [
        "auth-login-session-a",
        "auth-refund-session-a",
        "auth-refund-session-a-expired",
        "auth-login-session-b",
        "auth-refund-session-b",
    ];
    let requests = [
        request(json!({"tickets": ["tk-1001-0201"]}), None),
        request(json!({"tickets": ["tk-1001-0102"]}), None),
    ];
    let out = run(credentials(), &fixtures, &requests).await;
    assert_eq!(out[0].as_ref().unwrap().status, RefundStatus::Succeeded);
    assert_eq!(out[1].as_ref().unwrap().lines[0].tickets, ["tk-1001-0102"]);
}

#[tokio::test]
async fn credentials_give_up_after_one_renewal_and_on_a_refused_login() {
    let fixtures = [
        "auth-login-session-a",
        "auth-refund-session-a-expired",
        "auth-login-session-b",
        "auth-refund-session-b-401",
    ];
    let out = run(
        credentials(),
        &fixtures,
        &[request(json!({"tickets": ["tk-1001-0102"]}), None)],
    )
    .await;
    let e = out[0].as_ref().unwrap_err();
    assert_eq!(
        (e.kind, e.outcome),
        (ErrorKind::Unauthorized, Outcome::NotApplied)
    );

    let out = run(
        credentials(),
        &["auth-login-refused"],
        &[request(json!({"tickets": ["tk-1001-0102"]}), None)],
    )
    .await;
    let e = out[0].as_ref().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unauthorized);
    assert!(e.message.contains("login"), "{}", e.message);
    assert_eq!(
        e.vendor.as_deref().unwrap().message,
        "Invalid UserName or Password"
    );
}
