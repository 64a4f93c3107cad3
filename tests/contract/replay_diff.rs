//! The replay vendor itself: a request that differs from the fixture is refused and the
//! test that made it fails with a diff naming the field.

use crate::support::ReplayVendor;

#[tokio::test]
async fn a_request_that_differs_from_the_fixture_fails_with_a_diff() {
    let vendor = ReplayVendor::start(&["tests/contract/data/diff-demo.json"]).await;
    let response = reqwest::Client::new()
        .post(format!("{}/demo/orders/1269434/refunds", vendor.base_url()))
        .header("content-type", "application/json")
        .body(r#"{"amount": 12.5, "paymentid": 125}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 599);
    let mismatches = vendor.mismatches();
    assert_eq!(mismatches.len(), 1);
    let report = &mismatches[0];
    assert!(report.contains("matched no fixture"), "{report}");
    assert!(report.contains("amount"), "{report}");
    assert!(
        report.contains("12.5") && report.contains("10.0"),
        "{report}"
    );
    let failure = std::panic::catch_unwind(|| vendor.assert_clean()).unwrap_err();
    let message = failure
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        message.contains("amount"),
        "assert_clean must fail with the diff: {message}"
    );
}
