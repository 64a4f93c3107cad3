//! The sandbox's orders and how a refund selection is applied to them, the way Stubbur
//! reports it: one outcome per order; an order with nothing left to refund is `Skipped`; the
//! seeded order whose card refund is declined is `Failed` and keeps its tickets.

use refund_provider::rust_decimal::Decimal;

use crate::wire::{RefundOrderOutcome, RefundRequestWire, RefundResult};

pub struct Ticket {
    pub token: String,
    pub price: Decimal,
    pub seat: Option<i64>,
    pub refunded: bool,
}

pub struct Order {
    pub payment_reference: String,
    pub payment_id: String,
    pub event_id: i64,
    pub event_name: String,
    pub tickets: Vec<Ticket>,
    /// The card processor declines this order's refund, always.
    pub card_fails: bool,
}

/// The orders a request touches, each with the ticket tokens selected in it (`None` =
/// the whole order).
type Selection = Vec<(usize, Option<Vec<String>>)>;

pub struct Ledger {
    pub orders: Vec<Order>,
    pub next_txn: u64,
}

/// Why a selection could not be processed at all (mapped to ServiceStack errors).
pub enum Refusal {
    /// 400: the request names nothing to refund, or an event refund without an event.
    BadArgument {
        field: &'static str,
        message: String,
    },
    /// 404: the event does not exist.
    EventNotFound(i64),
}

impl Ledger {
    /// Applies a refund request; `Ok` is Stubbur's `RefundResult` (HTTP 200) whatever the
    /// outcomes, including `success: false` when nothing matched.
    pub fn process(&mut self, request: &RefundRequestWire) -> Result<RefundResult, Refusal> {
        let selection = self.select(request)?;
        if selection.is_empty() {
            return Ok(RefundResult {
                success: Some(false),
                status_code: Some(404),
                message: Some("No paid orders found for the given selection".into()),
                refunded_count: Some(0),
                skipped_count: Some(0),
                failed_count: Some(0),
                total_refunded: Some(Decimal::ZERO),
                outcomes: Some(Vec::new()),
            });
        }
        let outcomes: Vec<RefundOrderOutcome> = selection
            .into_iter()
            .map(|(index, tokens)| self.refund_order(index, &tokens))
            .collect();
        let count = |s: &str| {
            outcomes
                .iter()
                .filter(|o| o.status.as_deref() == Some(s))
                .count()
        };
        let (refunded, skipped, failed) = (count("Refunded"), count("Skipped"), count("Failed"));
        let total: Decimal = outcomes.iter().filter_map(|o| o.amount_refunded).sum();
        Ok(RefundResult {
            success: Some(failed == 0),
            status_code: Some(200),
            message: Some(format!(
                "Refunded {refunded}, skipped {skipped}, failed {failed}"
            )),
            refunded_count: u32::try_from(refunded).ok(),
            skipped_count: u32::try_from(skipped).ok(),
            failed_count: u32::try_from(failed).ok(),
            total_refunded: Some(total),
            outcomes: Some(outcomes),
        })
    }

    /// The orders a request touches, in first-named order.
    fn select(&self, request: &RefundRequestWire) -> Result<Selection, Refusal> {
        if request.refund_all_for_event == Some(true) {
            let event = request.event_id.ok_or(Refusal::BadArgument {
                field: "EventId",
                message: "'Event Id' must not be empty when RefundAllForEvent is set.".into(),
            })?;
            let all: Vec<_> = (0..self.orders.len())
                .filter(|&i| self.orders[i].event_id == event)
                .map(|i| (i, None))
                .collect();
            return if all.is_empty() {
                Err(Refusal::EventNotFound(event))
            } else {
                Ok(all)
            };
        }
        if request.ticket_token_ids.is_empty() && request.payment_references.is_empty() {
            return Err(Refusal::BadArgument {
                field: "TicketTokenIds",
                message:
                    "Give TicketTokenIds, PaymentReferences, or EventId with RefundAllForEvent."
                        .into(),
            });
        }
        let in_event = |o: &Order| request.event_id.is_none_or(|e| o.event_id == e);
        let mut selection: Selection = Vec::new();
        for reference in &request.payment_references {
            let found = self
                .orders
                .iter()
                .position(|o| &o.payment_reference == reference);
            if let Some(i) = found.filter(|&i| in_event(&self.orders[i])) {
                match selection.iter_mut().find(|(j, _)| *j == i) {
                    Some(entry) => entry.1 = None,
                    None => selection.push((i, None)),
                }
            }
        }
        for token in &request.ticket_token_ids {
            let found = self
                .orders
                .iter()
                .position(|o| o.tickets.iter().any(|t| &t.token == token));
            let Some(i) = found.filter(|&i| in_event(&self.orders[i])) else {
                continue;
            };
            match selection.iter_mut().find(|(j, _)| *j == i) {
                Some((_, None)) => {}
                Some((_, Some(tokens))) => tokens.push(token.clone()),
                None => selection.push((i, Some(vec![token.clone()]))),
            }
        }
        Ok(selection)
    }

    fn refund_order(&mut self, index: usize, tokens: &Option<Vec<String>>) -> RefundOrderOutcome {
        self.next_txn += 1;
        let txn = format!("BRG-SBX-{:06}", self.next_txn);
        let order = &mut self.orders[index];
        let mut outcome = RefundOrderOutcome {
            payment_reference: Some(order.payment_reference.clone()),
            payment_id: Some(order.payment_id.clone()),
            event_id: Some(order.event_id),
            event_name: Some(order.event_name.clone()),
            holder_name: Some("REDACTED".into()),
            holder_email: Some("redacted@example.invalid".into()),
            amount_refunded: Some(Decimal::ZERO),
            partial: Some(false),
            ticket_token_ids: Some(Vec::new()),
            freed_seat_ids: Some(Vec::new()),
            ..Default::default()
        };
        let selected = |t: &Ticket| tokens.as_ref().is_none_or(|list| list.contains(&t.token));
        let pending: Vec<usize> = (0..order.tickets.len())
            .filter(|&i| selected(&order.tickets[i]) && !order.tickets[i].refunded)
            .collect();
        if pending.is_empty() {
            outcome.status = Some("Skipped".into());
            outcome.message = Some("Order already refunded".into());
            return outcome;
        }
        if order.card_fails {
            outcome.status = Some("Failed".into());
            outcome.message = Some("Card refund declined by processor (code 51)".into());
            return outcome;
        }
        let mut amount = Decimal::ZERO;
        let (mut refunded_tokens, mut seats) = (Vec::new(), Vec::new());
        for &i in &pending {
            let ticket = &mut order.tickets[i];
            ticket.refunded = true;
            amount += ticket.price;
            refunded_tokens.push(ticket.token.clone());
            seats.extend(ticket.seat);
        }
        // Sandbox rule: partial = this call refunded fewer than all of the order's tickets.
        let partial = pending.len() < order.tickets.len();
        outcome.status = Some("Refunded".into());
        outcome.amount_refunded = Some(amount);
        outcome.partial = Some(partial);
        outcome.ticket_token_ids = Some(refunded_tokens);
        outcome.freed_seat_ids = Some(seats);
        outcome.borgun_refund_transaction_id = Some(txn);
        outcome.message = Some(if partial {
            format!(
                "Partially refunded: {} of {} tickets",
                pending.len(),
                order.tickets.len()
            )
        } else {
            "Refunded".into()
        });
        outcome
    }
}
