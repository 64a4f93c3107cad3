//! The `Provider` calls of one Ticketmatic instance: create reads the order, chooses the
//! payment and amount, adds the refund and finds it in the returned order; get and list
//! read the order and map its refund payments.

use refund_provider::{
    async_trait, Capabilities, Currency, ErrorKind, InstanceName, Outcome, Provider, ProviderError,
    Quote, Refund, RefundRequest, Target, VendorRef,
};

use crate::client::Client;
use crate::mapping::{self, parse_id};
use crate::quote;
use crate::selection;
use crate::KIND;

#[derive(Debug)]
pub struct TicketmaticProvider {
    instance: InstanceName,
    currency: Currency,
    capabilities: Capabilities,
    pub(crate) client: Client,
}

impl TicketmaticProvider {
    pub(crate) fn new(
        instance: InstanceName,
        currency: Currency,
        capabilities: Capabilities,
        client: Client,
    ) -> Self {
        TicketmaticProvider {
            instance,
            currency,
            capabilities,
            client,
        }
    }
}

/// The order and the named payment (if any) of a create or quote body.
fn order_and_payment(request: &RefundRequest) -> Result<(i64, Option<i64>), ProviderError> {
    let order_id = parse_id(request.target.require_order()?, "/target/order")?;
    let named = match request.target.at_most_one_payment()? {
        Some(p) => Some(parse_id(p, "/target/payments/0")?),
        None => None,
    };
    Ok((order_id, named))
}

#[async_trait]
impl Provider for TicketmaticProvider {
    async fn send_recorded(
        &self,
        call: refund_provider::RecordedCall,
    ) -> Result<refund_provider::VendorResponse, refund_provider::ProviderError> {
        self.send_recorded_call(call).await
    }

    fn kind(&self) -> &'static str {
        KIND
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn create(&self, request: &RefundRequest) -> Result<Refund, ProviderError> {
        let (order_id, named) = order_and_payment(request)?;

        let before = self.client.get_order(order_id).await.map_err(|e| {
            // The refund call is not sent yet: whatever failed, nothing was applied.
            let e = ProviderError {
                outcome: Outcome::NotApplied,
                ..e
            };
            match e.kind {
                ErrorKind::NotFound => e.at("/target/order"),
                _ => e,
            }
        })?;
        let selection::Plan { chosen, amount } =
            selection::plan(&before, named, request.amount.as_ref(), self.currency)?;
        let payment_id = chosen.payment.id;
        let body = mapping::add_refunds_body(&amount, payment_id)?;

        let after = self.client.add_refund(order_id, &body).await?;
        let new = mapping::find_new_refund(&before, &after, payment_id, &amount).ok_or_else(|| {
            ProviderError::new(
                ErrorKind::BadResponse,
                format!(
                    "Ticketmatic accepted the refund of payment {payment_id} but its answer shows no new \
                     refund payment; look order {order_id} up before trying again"
                ),
            )
            .outcome_unknown()
        })?;
        let mut refund = mapping::refund_from_payment(&self.instance, self.currency, &after, new)?;
        if chosen.picked {
            refund.notes.push(format!(
                "no payment was named: refunded payment {payment_id}, the order's payment with the most \
                 left to refund ({} {})",
                chosen.refundable.normalize(),
                self.currency
            ));
        }
        if request.amount.is_none() {
            refund.notes.push(format!(
                "no amount was given: refunded all that was left on payment {payment_id} ({amount})"
            ));
        }
        refund.reason = request.reason.clone();
        refund.metadata = request.metadata.clone();
        Ok(refund)
    }

    async fn quote(&self, request: &RefundRequest) -> Result<Quote, ProviderError> {
        let (order_id, named) = order_and_payment(request)?;
        let order = self
            .client
            .get_order(order_id)
            .await
            .map_err(|e| match e.kind {
                ErrorKind::NotFound => e.at("/target/order"),
                _ => e,
            })?;
        let mut quote = Quote::new(&self.instance, KIND, &self.capabilities, request);
        quote::fill(&mut quote, &order, named, request, self.currency)?;
        Ok(quote)
    }

    async fn get(&self, vendor_ref: &VendorRef) -> Result<Refund, ProviderError> {
        let (order_id, refund_id) = mapping::parse_vendor_ref(vendor_ref)?;
        let order = self.client.get_order(order_id).await?;
        let payment = order
            .payments
            .iter()
            .find(|p| p.id == refund_id && p.refunds().is_some())
            .ok_or_else(|| {
                ProviderError::new(
                    ErrorKind::NotFound,
                    format!("order {order_id} has no refund payment {refund_id}"),
                )
            })?;
        mapping::refund_from_payment(&self.instance, self.currency, &order, payment)
    }

    async fn list(&self, target: &Target) -> Result<Vec<Refund>, ProviderError> {
        let order_id = parse_id(target.require_order()?, "/target/order")?;
        let order = self.client.get_order(order_id).await?;
        let refunds = mapping::refunds_of_order(&self.instance, self.currency, &order)?;
        if target.payments.is_empty() {
            return Ok(refunds);
        }
        Ok(refunds
            .into_iter()
            .filter(|r| {
                r.target
                    .payments
                    .iter()
                    .any(|p| target.payments.contains(p))
            })
            .collect())
    }
}
