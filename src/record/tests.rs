use refund_provider::fixture::Exchange;
use refund_provider::VendorResponse;
use regex::Regex;
use serde_json::Value;

use super::*;

#[test]
fn shapes_keep_schemes_and_labels_but_never_values() {
    let auth = "TM-HMAC-SHA256 key=sandbox-ticketmatic-access-key ts=2026-12-01T15:50:00 sign=0123456789abcdef0123456789abcdef";
    let pattern = shape(auth);
    assert!(!pattern.contains("sandbox"), "{pattern}");
    assert!(pattern.starts_with("^TM\\-HMAC\\-SHA256 key="), "{pattern}");
    let re = Regex::new(&pattern).unwrap();
    assert!(re.is_match(auth));
    assert!(re.is_match(
        "TM-HMAC-SHA256 key=other-key ts=2027-01-02T03:04:05 sign=fedcba9876543210fedcba9876543210"
    ));
    assert!(!re.is_match("Basic abc"));
    let bearer = shape("Bearer paylogic-sandbox-token");
    assert_eq!(bearer, r"^Bearer [A-Za-z0-9_-]+$");
    assert!(Regex::new(&shape("2026-12-01 15:50:00"))
        .unwrap()
        .is_match("2030-01-01 00:00:00"));
}

#[test]
fn times_as_vendors_write_them_are_recognised() {
    for time in [
        "2026-12-01",
        "2026-12-01 16:02:25",
        "2026-12-01 16:02:25 UTC",
        "2026-12-01T16:02:25Z",
        "2026-12-01T16:02:25.123+01:00",
        "Tue, 01 Dec 2026 16:02:25 GMT",
    ] {
        assert!(TIME.is_match(time), "{time}");
        let pattern = Regex::new(&shape(time)).unwrap();
        assert!(pattern.is_match(time), "{time}: {pattern}");
    }
    assert!(Regex::new(&shape("2026-12-01 16:02:25 UTC"))
        .unwrap()
        .is_match("2027-01-02 03:04:05 UTC"));
    for not_time in ["2026-12-01 and more", "order 2026-12-01", "20261201"] {
        assert!(!TIME.is_match(not_time), "{not_time}");
    }
}

#[test]
fn numbering_continues_after_earlier_recordings() {
    let dir = std::env::temp_dir().join(format!("record-numbering-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in [
        "tm-001-get-200.json",
        "tm-012-post-201.json",
        "tm-extra-003-get-200.json",
        "other-040-get-200.json",
        "tm-099-notes.txt",
    ] {
        std::fs::write(dir.join(name), "{}").unwrap();
    }
    assert_eq!(last_number(&dir, "tm"), 12);
    assert_eq!(last_number(&dir, "absent"), 0);
    assert_eq!(last_number(&dir.join("missing"), "tm"), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn personal_fields_are_known_by_name() {
    for key in [
        "firstname",
        "lastName",
        "holderName",
        "holderEmail",
        "email",
        "phone_number",
        "street1",
        "city",
        "postalCode",
        "zip",
        "iban",
        "bankAccount",
        "dateOfBirth",
        "address",
        "addressLine2",
    ] {
        assert!(personal_name(key), "{key}");
    }
    for key in [
        "eventName",
        "ticketname",
        "amount",
        "status",
        "ipaddress",
        "paymentid",
    ] {
        assert!(!personal_name(key), "{key}");
    }
}

#[test]
fn paths_are_relative_to_the_base_path() {
    let (path, query) = relative(
        "http://127.0.0.1:9/api/1/",
        "http://127.0.0.1:9/api/1/demo/orders/1?x=a%20b",
    );
    assert_eq!(path, "/demo/orders/1");
    assert_eq!(query, vec![("x".to_string(), "a b".to_string())]);
}

/// Every value the shipped fixtures mark as personal (`REDACTED`, `redacted@…`), put back as
/// a person's data in each vendor's real answers, is redacted again by the vendor's
/// declared pointers and the rules by field name (without the vendors' pointers this fails:
/// Fourvenues' free-text answers, iVvy's address lines, Stubbur's login name).
#[test]
fn each_vendors_personal_data_is_redacted_where_its_fixtures_redact_it() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut checked = 0;
    for kind in crate::registry::kinds() {
        let redactor = Redactor::new(Vec::new(), &crate::fixtures::personal_data(kind, &[]));
        for file in recorded_files(&root.join(kind)).unwrap() {
            let text = std::fs::read_to_string(&file).unwrap();
            let exchange = Exchange::parse(&file.display().to_string(), &text);
            let Some(mut body) = exchange.response.body else {
                continue;
            };
            let mut count = 0;
            personify(&mut body, &mut count);
            if count == 0 {
                continue;
            }
            let live = VendorResponse::new(200, body.to_string());
            let recorded = serde_json::to_string(&redactor.response(&live)).unwrap();
            assert!(
                !recorded.contains("person-"),
                "{kind}: {}: {recorded}",
                file.display()
            );
            checked += count;
        }
    }
    assert!(checked > 50, "only {checked} personal values seen");
}

/// Replaces each redaction mark with a distinct person's value.
fn personify(value: &mut Value, count: &mut usize) {
    match value {
        Value::String(s) if s == "REDACTED" || s.ends_with("@example.invalid") => {
            *count += 1;
            *s = format!("person-{count}@mail.example");
        }
        Value::Array(items) => items.iter_mut().for_each(|v| personify(v, count)),
        Value::Object(map) => map.values_mut().for_each(|v| personify(v, count)),
        _ => {}
    }
}

#[test]
fn configured_pointers_are_redacted_too() {
    let body = serde_json::json!({"data": {"qr_code": "ABCDE12345", "seat": {"row": "F"}}});
    let live = VendorResponse::new(200, body.to_string());
    let redactor = Redactor::new(
        Vec::new(),
        &["/data/qr_code".to_string(), "/data/seat".to_string()],
    );
    let recorded = redactor.response(&live).body.unwrap();
    assert_eq!(
        recorded,
        serde_json::json!({"data": {"qr_code": "REDACTED", "seat": {"row": "REDACTED"}}})
    );
}

/// A gateway refund id inside a request string is kept as `{{refund_id}}`: the rest of the
/// string is still checked, any id matches, and `fixtures verify` can send a fresh one.
#[test]
fn gateway_refund_ids_become_refund_id_placeholders() {
    use refund_provider::fixture_match::{json_differences, refund_ids_match};
    let id = "rfg_01m8sk0000000000000000000a";
    let mut request = VendorRequest::new(http::Method::POST, "http://v/api/refund");
    request.body = Some(bytes::Bytes::from(
        serde_json::json!({"notes": format!("refund {id}: date moved"), "ref": id}).to_string(),
    ));
    let body = Redactor::new(Vec::new(), &[])
        .request("http://v", &request)
        .body
        .unwrap();
    assert_eq!(
        body,
        serde_json::json!({"notes": "refund {{refund_id}}: date moved", "ref": "{{refund_id}}"})
    );
    let other = "rfg_01m8sk1111111111111111111b";
    assert!(refund_ids_match(
        "refund {{refund_id}}: date moved",
        &format!("refund {other}: date moved")
    ));
    assert!(!refund_ids_match(
        "refund {{refund_id}}: date moved",
        &format!("refund {other}: other")
    ));
    assert!(json_differences(
        &body,
        &serde_json::json!({"notes": format!("refund {other}: date moved"), "ref": other})
    )
    .is_empty());
}
