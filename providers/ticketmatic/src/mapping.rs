//! Pure translation between canonical and Ticketmatic values: ids, the vendor reference
//! format, the `AddRefunds` body, and refund payments of an order -> canonical `Refund`s.

use std::str::FromStr;

use refund_provider::chrono::{DateTime, NaiveDateTime, Utc};
use refund_provider::rust_decimal::Decimal;
use refund_provider::{
    Currency, ErrorKind, InstanceName, LineKind, LineStatus, Money, ProviderError, Refund,
    RefundLine, RefundStatus, Target, VendorFault, VendorRef,
};

use crate::wire::{AddRefunds, Order, Payment};
use crate::KIND;

/// Timestamps in Ticketmatic responses: `2014-09-26 15:24:36`, UTC.
const RESPONSE_TS_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// A Ticketmatic id (documented as int) from a canonical string id.
pub fn parse_id(value: &str, pointer: &str) -> Result<i64, ProviderError> {
    match value.trim().parse::<i64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(ProviderError::invalid(
            pointer,
            format!("Ticketmatic ids are positive integers; `{value}` is not one"),
        )),
    }
}

/// The vendor reference of a refund: `order/<orderid>/payment/<refund payment id>`.
pub fn vendor_ref(order_id: i64, refund_payment_id: i64) -> VendorRef {
    VendorRef::new(format!("order/{order_id}/payment/{refund_payment_id}"))
}

/// Parses a reference made by [`vendor_ref`]; anything else is a refund we do not know.
pub fn parse_vendor_ref(reference: &VendorRef) -> Result<(i64, i64), ProviderError> {
    let parts: Vec<&str> = reference.as_str().split('/').collect();
    match parts.as_slice() {
        ["order", order, "payment", payment] => {
            match (order.parse::<i64>(), payment.parse::<i64>()) {
                (Ok(o), Ok(p)) if o > 0 && p > 0 => Ok((o, p)),
                _ => Err(unknown_ref(reference)),
            }
        }
        _ => Err(unknown_ref(reference)),
    }
}

fn unknown_ref(reference: &VendorRef) -> ProviderError {
    ProviderError::new(
        ErrorKind::NotFound,
        format!("`{reference}` is not a Ticketmatic refund reference"),
    )
}

/// The `AddRefunds` body. The amount goes as a JSON number built from the decimal's
/// string; if the number would not read back as exactly the same decimal, it is refused
/// rather than sent changed.
pub fn add_refunds_body(amount: &Money, payment_id: i64) -> Result<AddRefunds, ProviderError> {
    let text = amount.value().to_string();
    let number = serde_json::Number::from_str(&text)
        .ok()
        .filter(|n| Decimal::from_str(&n.to_string()).is_ok_and(|back| back == amount.value()));
    match number {
        Some(amount) => Ok(AddRefunds {
            amount,
            paymentid: payment_id,
        }),
        None => Err(ProviderError::new(
            ErrorKind::AmountNotRepresentable,
            format!("{text} cannot be sent to Ticketmatic as an exact JSON number"),
        )
        .at("/amount/value")),
    }
}

/// Decision (lead; Ticketmatic has no refund status): a refund payment present in the
/// order has been applied, so every refund read from an order is `succeeded`.
pub fn refund_payment_status(_refund: &Payment) -> RefundStatus {
    RefundStatus::Succeeded
}

/// The new refund payment in the order returned by the refunds call: one refunding
/// `payment_id` whose id was not in the order read before. If several are new, the one of
/// the requested amount, else the newest (highest id).
pub fn find_new_refund<'a>(
    before: &Order,
    after: &'a Order,
    payment_id: i64,
    amount: &Money,
) -> Option<&'a Payment> {
    let new: Vec<&Payment> = after
        .payments
        .iter()
        .filter(|p| p.refunds() == Some(payment_id))
        .filter(|p| before.payments.iter().all(|b| b.id != p.id))
        .collect();
    new.iter()
        .copied()
        .find(|p| p.amount.abs() == amount.value())
        .or_else(|| new.iter().copied().max_by_key(|p| p.id))
}

/// Every refund payment of an order, as canonical refunds (oldest first).
pub fn refunds_of_order(
    instance: &InstanceName,
    currency: Currency,
    order: &Order,
) -> Result<Vec<Refund>, ProviderError> {
    let mut refunds: Vec<&Payment> = order
        .payments
        .iter()
        .filter(|p| p.refunds().is_some())
        .collect();
    refunds.sort_by_key(|p| p.id);
    refunds
        .into_iter()
        .map(|p| refund_from_payment(instance, currency, order, p))
        .collect()
}

/// One refund payment of `order` as a canonical refund.
pub fn refund_from_payment(
    instance: &InstanceName,
    currency: Currency,
    order: &Order,
    refund: &Payment,
) -> Result<Refund, ProviderError> {
    let original_id = refund.refunds().unwrap_or_default();
    let original = order.payments.iter().find(|p| p.id == original_id);
    let target = Target {
        order: Some(order.orderid.to_string()),
        payments: vec![original_id.to_string()],
        ..Target::default()
    };
    let mut out = Refund::new(
        instance,
        KIND,
        vendor_ref(order.orderid, refund.id),
        refund_payment_status(refund),
        target,
    );
    let refunded = refund.amount.abs();
    let amount = if refunded.is_zero() {
        out.notes.push(format!(
            "Ticketmatic recorded refund payment {} with amount 0",
            refund.id
        ));
        None
    } else {
        Some(Money::from_vendor(refunded, currency).map_err(|e| {
            ProviderError::new(
                ErrorKind::BadResponse,
                format!(
                    "refund payment {} has an amount that is not {currency}: {e}",
                    refund.id
                ),
            )
            .with_vendor(VendorFault {
                status: None,
                code: None,
                message: refund.amount.to_string(),
            })
        })?)
    };
    out.amount = amount;
    out.created_at = refund.paidts.as_deref().and_then(parse_ts);
    out.updated_at = order.lastupdatets.as_deref().and_then(parse_ts);
    let refs = [
        ("order_id", Some(order.orderid)),
        ("payment_id", Some(original_id)),
        ("refund_payment_id", Some(refund.id)),
        ("payment_method_id", refund.paymentmethodid),
    ];
    out.vendor_refs = refs
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_string(), v?.to_string())))
        .collect();
    let mut line = RefundLine::new(LineKind::Payment);
    line.reference = Some(original_id.to_string());
    line.description = Some(format!("refund of payment {original_id}"));
    line.amount = amount;
    line.status = Some(LineStatus::Succeeded);
    line.partial = original.map(|o| refunded < o.amount);
    line.vendor_refs
        .insert("refund_payment_id".into(), refund.id.to_string());
    out.lines.push(line);
    // Only the refund payment itself: the order carries personal data (names, addresses).
    out.raw = serde_json::to_value(refund).ok();
    Ok(out)
}

fn parse_ts(ts: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(ts.trim(), RESPONSE_TS_FORMAT)
        .ok()
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(payments: &str) -> Order {
        serde_json::from_str(&format!(
            r#"{{"orderid": 1269434, "lastupdatets": "2024-05-01 12:31:00", "payments": {payments}}}"#
        ))
        .unwrap()
    }

    fn eur(v: &str) -> Money {
        Money::parse(v, Currency::EUR).unwrap()
    }

    #[test]
    fn ids_and_references_round_trip() {
        assert_eq!(parse_id(" 1269434 ", "/target/order").unwrap(), 1269434);
        let e = parse_id("abc", "/target/order").unwrap_err();
        assert_eq!(
            (e.kind, e.pointer.as_deref()),
            (ErrorKind::InvalidRequest, Some("/target/order"))
        );
        assert!(parse_id("-3", "/x").is_err() && parse_id("0", "/x").is_err());
        let r = vendor_ref(1269434, 126);
        assert_eq!(r.as_str(), "order/1269434/payment/126");
        assert_eq!(parse_vendor_ref(&r).unwrap(), (1269434, 126));
        for bad in [
            "order/1/payment",
            "order/x/payment/2",
            "ticket/1/refund/0",
            "",
            "order/1/payment/2/3",
        ] {
            assert_eq!(
                parse_vendor_ref(&VendorRef::new(bad)).unwrap_err().kind,
                ErrorKind::NotFound
            );
        }
    }

    #[test]
    fn bodies_carry_exact_numbers() {
        let body = add_refunds_body(&eur("20.00"), 125).unwrap();
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"amount": 20.0, "paymentid": 125})
        );
        let body = add_refunds_body(&eur("12.34"), 125).unwrap();
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"amount":12.34,"paymentid":125}"#
        );
        // More digits than an f64 holds: refused, never rounded.
        let huge = Money::parse("12345678901234567.89", Currency::EUR).unwrap();
        assert_eq!(
            add_refunds_body(&huge, 125).unwrap_err().kind,
            ErrorKind::AmountNotRepresentable
        );
    }

    #[test]
    fn maps_refund_payments() {
        let instance = InstanceName::new("tm").unwrap();
        let o = order(
            r#"[{"id": 125, "amount": 50.0, "paymentmethodid": 2},
                {"id": 126, "amount": -20.0, "paidts": "2024-05-01 12:31:00", "paymentmethodid": 2, "refundpaymentid": 125}]"#,
        );
        let refunds = refunds_of_order(&instance, Currency::EUR, &o).unwrap();
        assert_eq!(refunds.len(), 1);
        let r = &refunds[0];
        assert_eq!(r.status, RefundStatus::Succeeded);
        assert_eq!(r.amount, Some(eur("20.00")));
        assert_eq!(r.vendor_reference.as_str(), "order/1269434/payment/126");
        assert_eq!(r.target.payments, vec!["125".to_string()]);
        assert_eq!(r.vendor_refs["refund_payment_id"], "126");
        assert_eq!(r.lines[0].partial, Some(true));
        assert_eq!(
            r.created_at.unwrap().to_rfc3339(),
            "2024-05-01T12:31:00+00:00"
        );
        let positive = order(
            r#"[{"id": 125, "amount": 50.0}, {"id": 126, "amount": 50.0, "refundpaymentid": 125}]"#,
        );
        let r = &refunds_of_order(&instance, Currency::EUR, &positive).unwrap()[0];
        assert_eq!(
            (r.amount, r.lines[0].partial),
            (Some(eur("50")), Some(false))
        );
    }

    #[test]
    fn finds_the_new_refund() {
        let before = order(
            r#"[{"id": 125, "amount": 50.0}, {"id": 126, "amount": -5.0, "refundpaymentid": 125}]"#,
        );
        let after = order(
            r#"[{"id": 125, "amount": 50.0}, {"id": 126, "amount": -5.0, "refundpaymentid": 125},
                {"id": 127, "amount": -20.0, "refundpaymentid": 125}]"#,
        );
        assert_eq!(
            find_new_refund(&before, &after, 125, &eur("20")).map(|p| p.id),
            Some(127)
        );
        assert_eq!(find_new_refund(&before, &before, 125, &eur("20")), None);
    }
}
