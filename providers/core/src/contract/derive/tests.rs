use serde_json::json;

use super::*;
use crate::contract::recorded::RecordedAnswer;

const VENDOR: ContractFaults = ContractFaults {
    create_call: Some(("POST", "/orders/*/refunds")),
    error_bodies: &[
        (401, r#"{"message": "Unauthorized"}"#),
        (404, r#"{"message": "Not found"}"#),
    ],
    not_applicable: &[("*.error_body_200", "never answered so")],
    sandbox_credentials: &[],
};

fn exchange(method: &str, path: &str, body: Value) -> (String, Exchange) {
    let e = serde_json::from_value(json!({
        "description": "t", "source": "t",
        "request": {"method": method, "path": path},
        "response": {"status": 200, "body": body}
    }))
    .unwrap();
    (format!("{method} {path}"), e)
}

fn create(status: u16) -> RecordedCase {
    RecordedCase {
        description: "t".into(),
        request: CanonicalRequest::Create(json!({"target": {"order": "1"}})),
        fixtures: vec![],
        answer: RecordedAnswer {
            status,
            body: json!({}),
        },
    }
}

fn derived(case: Case, fixtures: &[(String, Exchange)], recorded: &RecordedCase) -> Derived {
    let source = Source {
        name: "001-create",
        case: recorded,
        fixtures,
    };
    derive(Phase::Create, case, &[source], &VENDOR)
}

#[test]
fn a_fault_comes_on_the_create_request_and_what_follows_it_is_dropped() {
    let fixtures = vec![
        exchange("GET", "/orders/1", json!({"id": 1, "total": "10.00"})),
        exchange("POST", "/orders/1/refunds", json!({"ok": true})),
        exchange("GET", "/orders/1", json!({"id": 1})),
    ];
    let recorded = create(201);
    let Derived::Case(d) = derived(Case::NotFound, &fixtures, &recorded) else {
        panic!("derived")
    };
    assert_eq!(d.fixtures.len(), 2);
    let fault = &d.fixtures[1].1.response;
    assert_eq!(fault.status, 404);
    assert_eq!(fault.body, Some(json!({"message": "Not found"})));
    assert_eq!(d.from, "001-create");

    // A refused credential fails on the first exchange (where a login would be).
    let Derived::Case(d) = derived(Case::Unauthorized, &fixtures, &recorded) else {
        panic!("derived")
    };
    assert_eq!(d.fixtures.len(), 1);
    assert_eq!(d.fixtures[0].1.response.status, 401);

    // The reset before the create comes on the read before it.
    let Derived::Case(d) = derived(Case::ResetBeforeCreate, &fixtures, &recorded) else {
        panic!("derived")
    };
    assert_eq!(d.fixtures.len(), 1);
    assert_eq!(d.fixtures[0].1.response.fault, Some(Fault::Reset));
}

#[test]
fn truncated_json_is_the_recorded_answer_cut_in_half() {
    let fixtures = vec![exchange(
        "POST",
        "/orders/1/refunds",
        json!({"id": "r-1", "amount": "10.00"}),
    )];
    let Derived::Case(d) = derived(Case::TruncatedJson, &fixtures, &create(201)) else {
        panic!("derived")
    };
    let text = d.fixtures[0].1.response.body_text.clone().unwrap();
    assert!(
        r#"{"amount":"10.00","id":"r-1"}"#.starts_with(&text),
        "{text}"
    );
    assert!(serde_json::from_str::<Value>(&text).is_err());
    assert!(Case::TruncatedJson.check_fault(&d.fixtures[0].1).is_ok());
}

#[test]
fn what_cannot_be_played_is_not_recorded_and_declared_cases_not_applicable() {
    let only_create = vec![exchange("POST", "/orders/1/refunds", json!({}))];
    // Nothing is sent before the create request.
    assert!(matches!(
        derived(Case::ResetBeforeCreate, &only_create, &create(201)),
        Derived::NotRecorded(why) if why.contains("nothing was sent before")
    ));
    // No error body declared for 403.
    assert!(matches!(
        derived(Case::Forbidden, &only_create, &create(201)),
        Derived::NotRecorded(why) if why.contains("HTTP 403")
    ));
    // A recorded failure is no base for a fault.
    assert!(matches!(
        derived(Case::NotFound, &only_create, &create(422)),
        Derived::NotRecorded(why) if why.contains("answered 422")
    ));
    assert!(matches!(
        derived(Case::ErrorBody200, &only_create, &create(201)),
        Derived::NotApplicable(why) if why == "never answered so"
    ));
    // No recorded call of the phase.
    assert!(matches!(
        derive(Phase::Lookup, Case::Timeout, &[], &VENDOR),
        Derived::NotRecorded(why) if why.contains("no successful lookup call")
    ));
}
