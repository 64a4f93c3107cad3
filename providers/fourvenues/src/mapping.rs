//! Pure translation from a Fourvenues ticket to canonical refunds, and the provider's own
//! vendor reference format. No I/O here: the client fetches, this reads.

use refund_provider::chrono::{DateTime, Utc};
use refund_provider::{
    ErrorKind, InstanceName, LineKind, LineStatus, Money, ProviderError, Refund, RefundLine,
    RefundStatus, Target, TicketFate, VendorRef,
};

use crate::amount::ticket_currency;
use crate::wire::Ticket;
use crate::KIND;

/// Decision (vendors.md): Fourvenues refunds have no id of their own, so one is named by
/// its ticket and its 0-based position in the ticket's `refunds[]` (entries are only ever
/// appended): `ticket/<ticket id>/refund/<index>`.
pub fn vendor_ref(ticket_id: &str, index: usize) -> VendorRef {
    VendorRef::new(format!("ticket/{ticket_id}/refund/{index}"))
}

/// Parses `vendor_ref`'s format back; anything else is `NotFound`.
pub fn parse_vendor_ref(reference: &VendorRef) -> Result<(String, usize), ProviderError> {
    let not_found = || {
        ProviderError::new(
            ErrorKind::NotFound,
            "this is not a Fourvenues refund reference",
        )
    };
    let rest = reference
        .as_str()
        .strip_prefix("ticket/")
        .ok_or_else(not_found)?;
    let (ticket, index) = rest.rsplit_once("/refund/").ok_or_else(not_found)?;
    let index = index.parse::<usize>().map_err(|_| not_found())?;
    if ticket.is_empty() {
        return Err(not_found());
    }
    Ok((ticket.to_string(), index))
}

/// Decision (vendors.md): an entry of a ticket's `refunds[]` is a refund the vendor has
/// applied, so its status is `succeeded` (Fourvenues keeps no per-refund status).
pub const ENTRY_STATUS: RefundStatus = RefundStatus::Succeeded;

/// The canonical refund for entry `index` of the ticket's `refunds[]`, or `NotFound`.
pub fn refund_at(
    instance: &InstanceName,
    ticket: &Ticket,
    index: usize,
) -> Result<Refund, ProviderError> {
    let entry = ticket.refunds.get(index).ok_or_else(|| {
        ProviderError::new(
            ErrorKind::NotFound,
            format!(
                "ticket {} has {} refund(s); refund {index} does not exist",
                ticket.id,
                ticket.refunds.len()
            ),
        )
    })?;
    let currency = ticket_currency(ticket)?;
    let target = Target {
        tickets: vec![ticket.id.clone()],
        ..Target::default()
    };
    let mut refund = Refund::new(
        instance,
        KIND,
        vendor_ref(&ticket.id, index),
        ENTRY_STATUS,
        target,
    );
    let amount = Money::from_vendor(entry.amount, currency).ok();
    if amount.is_none() {
        refund.notes.push(format!(
            "the vendor recorded an amount of {} {currency}, which is not a refund amount",
            entry.amount
        ));
    }
    refund.amount = amount;
    refund.created_at = entry.at.as_deref().and_then(parse_time);
    refund.updated_at = refund.created_at;

    let refs = &mut refund.vendor_refs;
    refs.insert("ticket_id".into(), ticket.id.clone());
    refs.insert("refund_index".into(), index.to_string());
    if let Some(event) = &ticket.event_id {
        refs.insert("event_id".into(), event.clone());
    }
    if let Some(channel) = &entry.channel_id {
        refs.insert("channel_id".into(), channel.clone());
    }
    if let Some(status) = &ticket.status {
        refs.insert("ticket_status".into(), status.clone());
    }

    let mut line = RefundLine::new(LineKind::Ticket);
    line.reference = Some(ticket.id.clone());
    line.description = ticket.price.as_ref().and_then(|p| p.name.clone());
    line.amount = amount;
    line.status = Some(LineStatus::Succeeded);
    line.partial = ticket.total_price.map(|total| entry.amount < total);
    line.ticket = Some(ticket_fate(ticket));
    refund.lines.push(line);
    refund.raw = serde_json::to_value(entry).ok();
    Ok(refund)
}

/// Decision (vendors.md [V]: "the first call voids the ticket"): a refunded Fourvenues
/// ticket is voided; the ticket's own `status` is kept verbatim beside it, since its values
/// are not documented (the doc example still shows `active`).
pub fn ticket_fate(ticket: &Ticket) -> TicketFate {
    TicketFate::Voided {
        vendor_status: ticket.status.clone(),
    }
}

/// Every refund of the ticket, oldest first.
pub fn refunds_of(instance: &InstanceName, ticket: &Ticket) -> Result<Vec<Refund>, ProviderError> {
    (0..ticket.refunds.len())
        .map(|i| refund_at(instance, ticket, i))
        .collect()
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance() -> InstanceName {
        InstanceName::new("fv").unwrap()
    }

    fn doc_ticket() -> Ticket {
        let text = include_str!("../../../fixtures/fourvenues/refund-partial.json");
        let exchange = refund_provider::fixture::Exchange::parse("refund-partial", text);
        serde_json::from_value(exchange.response_body()["data"].clone()).unwrap()
    }

    #[test]
    fn refs_round_trip_and_garbage_is_not_found() {
        let r = vendor_ref("5f8d0f8b9d2b3b0017b6d8a0", 3);
        assert_eq!(r.as_str(), "ticket/5f8d0f8b9d2b3b0017b6d8a0/refund/3");
        assert_eq!(
            parse_vendor_ref(&r).unwrap(),
            ("5f8d0f8b9d2b3b0017b6d8a0".into(), 3)
        );
        for bad in [
            "",
            "ticket//refund/1",
            "ticket/a/refund/x",
            "order/a/refund/1",
            "ticket/a",
        ] {
            let e = parse_vendor_ref(&VendorRef::new(bad)).unwrap_err();
            assert_eq!(e.kind, ErrorKind::NotFound, "{bad}");
        }
    }

    #[test]
    fn maps_the_doc_example() {
        let refund = refund_at(&instance(), &doc_ticket(), 0).unwrap();
        assert_eq!(refund.status, RefundStatus::Succeeded);
        assert_eq!(refund.amount.unwrap().to_string(), "10.00 EUR");
        assert_eq!(refund.target.tickets, vec!["5f8d0f8b9d2b3b0017b6d8a0"]);
        assert_eq!(refund.vendor_refs["refund_index"], "0");
        assert_eq!(
            refund.created_at.unwrap().to_rfc3339(),
            "2020-10-19T07:00:00+00:00"
        );
        let line = &refund.lines[0];
        assert_eq!((line.kind, line.partial), (LineKind::Ticket, Some(true)));
        assert_eq!(line.description.as_deref(), Some("Early Bird"));
        assert_eq!(
            serde_json::to_value(&line.ticket).unwrap(),
            serde_json::json!({"state": "voided", "vendor_status": "active"})
        );
        let text = serde_json::to_string(&refund).unwrap();
        assert!(!text.contains("REDACTED") && !text.contains("@"), "{text}");
    }

    #[test]
    fn missing_entries_are_not_found() {
        let e = refund_at(&instance(), &doc_ticket(), 1).unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert_eq!(refunds_of(&instance(), &doc_ticket()).unwrap().len(), 1);
    }
}
