//! The vendor reference of a Stubbur refund. Stubbur returns no refund id, so the reference
//! is derived from the answer: `key/value` segments joined by `/`, in this order, each
//! present only when it has values:
//!
//! - `event/<eventId>` for an event-wide refund,
//! - `payments/<ref>,<ref>` the outcomes' payment references (or, with no outcome, the
//!   selection sent: `payments/..` or `tickets/..`),
//! - `txn/<id>,<id>` the card processor's refund transaction ids, which make two calls on
//!   the same orders distinct.
//!
//! Values are percent-encoded outside `A-Z a-z 0-9 - _ . ~`, so `/` and `,` never clash.
//! Example: `event/1001/payments/SB-1001-01,SB-1001-02/txn/BRG-1,BRG-2`.

use refund_provider::VendorRef;

use crate::wire::{RefundOrderOutcome, RefundRequestWire};

/// The segment keys, in the order they are written.
const KEYS: [&str; 4] = ["event", "tickets", "payments", "txn"];

/// Builds the reference of a refund from what was sent and what came back.
pub fn from_result(sent: &RefundRequestWire, outcomes: &[RefundOrderOutcome]) -> VendorRef {
    let mut parts: Vec<(&str, Vec<String>)> = Vec::new();
    if sent.refund_all_for_event == Some(true) {
        if let Some(event) = sent.event_id {
            parts.push(("event", vec![event.to_string()]));
        }
    }
    let refs: Vec<String> = outcomes
        .iter()
        .filter_map(|o| o.payment_reference.clone())
        .collect();
    if !refs.is_empty() {
        parts.push(("payments", refs));
    } else {
        if !sent.ticket_token_ids.is_empty() {
            parts.push(("tickets", sent.ticket_token_ids.clone()));
        }
        if !sent.payment_references.is_empty() {
            parts.push(("payments", sent.payment_references.clone()));
        }
    }
    let txns: Vec<String> = outcomes
        .iter()
        .filter_map(|o| o.borgun_refund_transaction_id.clone())
        .filter(|t| !t.is_empty())
        .collect();
    if !txns.is_empty() {
        parts.push(("txn", txns));
    }
    let text: Vec<String> = parts
        .iter()
        .map(|(key, values)| {
            let encoded: Vec<String> = values.iter().map(|v| encode(v)).collect();
            format!("{key}/{}", encoded.join(","))
        })
        .collect();
    VendorRef::new(text.join("/"))
}

/// The segments of a reference this provider wrote, or `None` for anything else.
pub fn parse(vendor_ref: &VendorRef) -> Option<Vec<(String, Vec<String>)>> {
    let segments: Vec<&str> = vendor_ref.as_str().split('/').collect();
    if segments.is_empty() || !segments.len().is_multiple_of(2) {
        return None;
    }
    let mut out = Vec::new();
    for pair in segments.chunks(2) {
        let (key, values) = (pair[0], pair[1]);
        if !KEYS.contains(&key) || values.is_empty() {
            return None;
        }
        let decoded: Option<Vec<String>> = values.split(',').map(decode).collect();
        let decoded = decoded?;
        if decoded.iter().any(String::is_empty) {
            return None;
        }
        out.push((key.to_string(), decoded));
    }
    Some(out)
}

fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = value.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(reference: &str, txn: Option<&str>) -> RefundOrderOutcome {
        RefundOrderOutcome {
            payment_reference: Some(reference.into()),
            borgun_refund_transaction_id: txn.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn event_refunds_round_trip_with_awkward_characters() {
        let sent = RefundRequestWire {
            event_id: Some(1001),
            refund_all_for_event: Some(true),
            ..Default::default()
        };
        let r = from_result(&sent, &[outcome("A/1,2", Some("T 1")), outcome("B", None)]);
        assert_eq!(r.as_str(), "event/1001/payments/A%2F1%2C2,B/txn/T%201");
        let parsed = parse(&r).unwrap();
        assert_eq!(
            parsed[1],
            ("payments".into(), vec!["A/1,2".into(), "B".into()])
        );
        assert_eq!(parsed[2], ("txn".into(), vec!["T 1".into()]));
    }

    #[test]
    fn without_outcomes_the_selection_names_the_refund() {
        let sent = RefundRequestWire {
            ticket_token_ids: vec!["tk-1".into()],
            ..Default::default()
        };
        assert_eq!(from_result(&sent, &[]).as_str(), "tickets/tk-1");
    }

    #[test]
    fn foreign_references_do_not_parse() {
        for bad in [
            "",
            "order/1",
            "payments",
            "payments/",
            "payments/a,,b",
            "txn/%ZZ",
            "event/1/x",
        ] {
            assert!(parse(&VendorRef::new(bad)).is_none(), "{bad}");
        }
    }
}
