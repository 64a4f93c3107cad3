//! A refund the vendor applies only in part is never reported as a success: iVvy's sandbox
//! applies what is still paid of a booking and answers 24148 ("could not be applied in
//! full"); the reconciler then finds the applied part by the gateway's id in iVvy's notes.

use serde_json::json;

use crate::support::TestGateway;

#[tokio::test]
async fn a_refund_applied_in_part_settles_partially_succeeded_with_both_amounts() {
    let gw = TestGateway::start(
        "[providers.iv]\nkind = \"ivvy\"\nsandbox = true\ncurrency = \"AUD\"\nsettle_window = \"1h\"\n",
    )
    .await;
    // Booking 2 has 270 AUD payable, of which 250 AUD is paid and so refundable.
    let created = gw
        .post(
            "/v1/refunds",
            json!({"provider": "iv", "target": {"venue": "2", "booking": "2"}, "amount": {"value": "260.00", "currency": "AUD"}, "reason": "date moved"}),
        )
        .await;
    assert_eq!(created.status, 202, "{}", created.text);
    assert_eq!(created.body["status"], "unknown");
    assert_eq!(
        created.body["status_reason"]["code"],
        "refund_partially_applied"
    );
    let id = created.body["id"].as_str().unwrap();

    let settled = gw
        .post(&format!("/v1/refunds/{id}/reconcile"), json!({}))
        .await;
    assert_eq!(settled.status, 200, "{}", settled.text);
    assert_eq!(
        settled.body["status"], "partially_succeeded",
        "{}",
        settled.text
    );
    assert_eq!(
        settled.body["amount"],
        json!({"value": "250.00", "currency": "AUD"}),
        "{}",
        settled.text
    );
    assert_eq!(
        settled.body["requested_amount"],
        json!({"value": "260.00", "currency": "AUD"}),
        "{}",
        settled.text
    );
    assert_eq!(settled.body["reason"], "date moved");
    assert!(
        settled.body["status_reason"]["message"]
            .as_str()
            .unwrap()
            .contains("of the 260.00 AUD asked"),
        "{}",
        settled.text
    );
}
