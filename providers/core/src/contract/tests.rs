use super::*;
use crate::capabilities::Capabilities;
use crate::fixture::Exchange;
use serde_json::json;
use serde_json::Value;
use std::collections::BTreeMap;

fn caps(create: bool, get: bool, list: bool) -> Capabilities {
    Capabilities {
        create,
        get,
        list,
        ..Capabilities::none()
    }
}

fn exchange(method: &str, path: &str, response: Value) -> Exchange {
    serde_json::from_value(json!({
        "description": "t", "source": "t",
        "request": {"method": method, "path": path}, "response": response
    }))
    .unwrap()
}

fn all(phase: Phase, except: &[&str]) -> serde_json::Map<String, Value> {
    phase
        .cases()
        .iter()
        .filter(|c| !except.contains(&c.name()))
        .map(|c| (c.name().to_string(), json!({"fixtures": [c.name()]})))
        .collect()
}

fn manifest(create: Option<Value>, lookup: Option<Value>) -> Manifest {
    let mut m = json!({"instance": {"kind": "demo"}});
    if let Some(c) = create {
        m["create"] = c;
    }
    if let Some(l) = lookup {
        m["lookup"] = l;
    }
    serde_json::from_value(m).unwrap()
}

fn create_section(cases: serde_json::Map<String, Value>) -> Value {
    json!({"call": {"method": "POST", "path": "/orders/*/refunds"},
           "body": {"target": {"order": "1"}}, "cases": cases})
}

#[test]
fn capabilities_choose_the_phases() {
    let mut lookups = all(Phase::Lookup, &[]);
    lookups.insert(
        "error_body_200".into(),
        json!({"not_applicable": "never sent"}),
    );
    let m = manifest(None, Some(json!({"get": "r/1", "cases": lookups})));
    let plan = m.plan(&caps(false, true, false)).unwrap();
    assert_eq!(plan.cases.len(), 8);
    assert!(plan.cases.iter().all(|c| c.phase == Phase::Lookup));
    assert_eq!(plan.cases[0].request, CanonicalRequest::Get("r/1".into()));
    assert_eq!(plan.not_applicable[0].reason, "never sent");

    // The same manifest for a provider that can only list: its `get` lookups are wrong.
    let errors = m.plan(&caps(false, false, true)).unwrap_err();
    assert!(errors[0].contains("cannot"), "{errors:?}");
    // A provider that cannot be read runs no lookup cases and must not be given any.
    let errors = m.plan(&caps(true, false, false)).unwrap_err();
    assert!(
        errors.iter().any(|e| e.contains("[create] is missing")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("rule lookup cases out")),
        "{errors:?}"
    );
}

#[test]
fn a_missing_or_unknown_case_is_an_error() {
    let mut cases = all(Phase::Create, &["timeout"]);
    cases.insert("timeuot".into(), json!({"fixtures": ["x"]}));
    cases.insert("forbidden".into(), json!({"not_applicable": " "}));
    let m = manifest(Some(create_section(cases)), None);
    let errors = m.plan(&caps(true, false, false)).unwrap_err();
    let text = errors.join("\n");
    assert!(
        text.contains("create.timeuot: no such shared case"),
        "{text}"
    );
    assert!(text.contains("create.timeout: missing"), "{text}");
    assert!(
        text.contains("create.forbidden: `not_applicable` needs a reason"),
        "{text}"
    );
}

#[test]
fn case_overrides_replace_the_default_request() {
    let mut cases = all(Phase::Create, &[]);
    cases.insert(
        "not_found".into(),
        json!({"fixtures": ["e404"], "body": {"target": {"order": "9"}},
               "instance": {"auth": {"mode": "other"}}}),
    );
    let mut m = manifest(Some(create_section(cases)), None);
    m.instance.insert("auth".into(), json!({"mode": "usual"}));
    let plan = m.plan(&caps(true, false, false)).unwrap();
    let nf = plan
        .cases
        .iter()
        .find(|c| c.case == Case::NotFound)
        .unwrap();
    assert_eq!(
        nf.request,
        CanonicalRequest::Create(json!({"target": {"order": "9"}}))
    );
    assert_eq!(nf.label(), "create.not_found");
    assert_eq!(
        Value::Object(nf.instance.clone()),
        json!({"kind": "demo", "auth": {"mode": "other"}})
    );
    let other = plan.cases.iter().find(|c| c.case == Case::Timeout).unwrap();
    assert_eq!(other.instance["auth"], json!({"mode": "usual"}));
}

#[test]
fn fixtures_must_show_the_fault_of_their_case() {
    let ok = |case: Case, response: Value| case.check_fault(&exchange("GET", "/x", response));
    assert!(ok(Case::Unauthorized, json!({"status": 401})).is_ok());
    assert!(ok(Case::Unauthorized, json!({"status": 403})).is_err());
    assert!(ok(Case::RateLimited, json!({"status": 429})).is_err());
    assert!(ok(
        Case::RateLimited,
        json!({"status": 429, "headers": {"Retry-After": "5"}})
    )
    .is_ok());
    assert!(ok(Case::Html5xx, json!({"status": 502, "body_text": "<html>"})).is_ok());
    assert!(ok(Case::Html5xx, json!({"status": 502, "body": {"e": 1}})).is_err());
    assert!(ok(
        Case::TruncatedJson,
        json!({"status": 200, "body_text": "{\"a\": "})
    )
    .is_ok());
    assert!(ok(
        Case::TruncatedJson,
        json!({"status": 200, "body_text": "{}"})
    )
    .is_err());
    assert!(ok(
        Case::ConnectionReset,
        json!({"status": 200, "fault": "reset"})
    )
    .is_ok());
    assert!(ok(
        Case::ErrorBody200,
        json!({"status": 200, "body": {"error": 1}})
    )
    .is_ok());
    assert!(ok(
        Case::ErrorBody200,
        json!({"status": 400, "body": {"error": 1}})
    )
    .is_err());
    assert!(ok(Case::Timeout, json!({"status": 200, "delay_ms": 200})).is_err());
    assert!(ok(Case::Timeout, json!({"status": 200, "delay_ms": 3000})).is_ok());
}

#[test]
fn create_faults_come_on_the_create_request_or_before_it_as_the_case_says() {
    let call: CallPattern =
        serde_json::from_value(json!({"method": "POST", "path": "/orders/*/refunds"})).unwrap();
    let read = exchange("GET", "/orders/1", json!({"status": 200, "body": {}}));
    let reset_read = exchange("GET", "/orders/1", json!({"status": 200, "fault": "reset"}));
    let reset_create = exchange(
        "POST",
        "/orders/1/refunds",
        json!({"status": 200, "fault": "reset"}),
    );
    let planned = |case: Case, n: usize| PlannedCase {
        phase: Phase::Create,
        case,
        fixtures: (0..n).map(|i| format!("f{i}")).collect(),
        request: CanonicalRequest::Create(json!({})),
        instance: Default::default(),
    };
    let after = planned(Case::ResetAfterCreate, 2);
    assert_eq!(
        after.check_fixtures(&[read.clone(), reset_create.clone()], Some(&call)),
        Ok(1)
    );
    assert!(after
        .check_fixtures(std::slice::from_ref(&reset_read), Some(&call))
        .is_err());
    let before = planned(Case::ResetBeforeCreate, 1);
    assert_eq!(
        before.check_fixtures(std::slice::from_ref(&reset_read), Some(&call)),
        Ok(0)
    );
    assert!(before
        .check_fixtures(std::slice::from_ref(&reset_create), Some(&call))
        .is_err());
    // Nothing may come after the fault, and no create is listed twice.
    let twice = planned(Case::ResetAfterCreate, 3);
    let create = exchange(
        "POST",
        "/orders/1/refunds",
        json!({"status": 200, "body": {}}),
    );
    assert!(twice
        .check_fixtures(&[create, read.clone(), reset_create.clone()], Some(&call))
        .is_err());
    let lookup = PlannedCase {
        phase: Phase::Lookup,
        ..planned(Case::ConnectionReset, 1)
    };
    assert!(lookup.check_fixtures(&[reset_create], Some(&call)).is_err());
    assert_eq!(lookup.check_fixtures(&[reset_read], Some(&call)), Ok(0));
}

#[test]
fn call_patterns() {
    let call: CallPattern = serde_json::from_value(json!({
        "method": "POST", "path": "/api/1.0/venue", "query": {"action": "addRefundToBooking"}
    }))
    .unwrap();
    let q = |a: &str| BTreeMap::from([("action".to_string(), a.to_string())]);
    assert!(call.matches("post", "/api/1.0/venue", &q("addRefundToBooking")));
    assert!(!call.matches("POST", "/api/1.0/venue", &q("getInvoice")));
    assert!(!call.matches("POST", "/api/1.0/invoice", &q("addRefundToBooking")));
    let star: CallPattern =
        serde_json::from_value(json!({"method": "PUT", "path": "/tickets/*/refund"})).unwrap();
    assert!(star.matches("PUT", "/tickets/abc/refund", &BTreeMap::new()));
    assert!(!star.matches("PUT", "/tickets//refund", &BTreeMap::new()));
    assert!(!star.matches("PUT", "/tickets/a/b/refund", &BTreeMap::new()));
}

#[test]
fn quote_cases_are_the_read_faults_for_providers_that_quote_from_reads() {
    let mut m = manifest(
        None,
        Some(json!({"list": {"order": "1"}, "cases": all(Phase::Lookup, &[])})),
    );
    m.quote = Some(
        serde_json::from_value(
            json!({"body": {"target": {"order": "1"}}, "cases": all(Phase::Quote, &[])}),
        )
        .unwrap(),
    );
    let quoting = Capabilities {
        quote: true,
        ..caps(false, false, true)
    };
    let plan = m.plan(&quoting).unwrap();
    let quotes: Vec<&PlannedCase> = plan
        .cases
        .iter()
        .filter(|c| c.phase == Phase::Quote)
        .collect();
    assert_eq!(quotes.len(), Phase::Lookup.cases().len());
    assert_eq!(
        quotes[0].request,
        CanonicalRequest::Quote(json!({"target": {"order": "1"}}))
    );
    // A provider that does not quote must not be given quote cases.
    let errors = m.plan(&caps(false, false, true)).unwrap_err();
    assert!(
        errors.iter().any(|e| e.contains("rule quote cases out")),
        "{errors:?}"
    );
    // A quote sends no create: a create request among its fixtures is refused.
    let create = exchange("POST", "/orders/1/refunds", json!({"status": 401}));
    let call: CallPattern =
        serde_json::from_value(json!({"method": "POST", "path": "/orders/*/refunds"})).unwrap();
    let unauthorized = quotes
        .iter()
        .find(|c| c.case == Case::Unauthorized)
        .unwrap();
    assert!(unauthorized
        .check_fixtures(&[create], Some(&call))
        .unwrap_err()
        .contains("a quote case lists a create request"));
}
