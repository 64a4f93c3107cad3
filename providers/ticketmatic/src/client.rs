//! The two Ticketmatic calls refunds need — read an order, add a refund to it — built as
//! signed `VendorRequest`s and sent through the gateway's transport; answers are read into
//! wire types or turned into errors here.

use std::sync::Arc;

use refund_provider::chrono::Utc;
use refund_provider::http::Method;
use refund_provider::vendor_response::read_json;
use refund_provider::{
    ErrorKind, ProviderError, Transport, VendorFault, VendorRequest, VendorResponse,
};

use crate::auth::Signer;
use crate::errors;
use crate::wire::{AddRefunds, Order};

pub struct Client {
    /// Base URL without trailing slash, then `/<account>`.
    pub(crate) account_url: String,
    pub(crate) signer: Signer,
    pub(crate) transport: Arc<dyn Transport>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("account_url", &self.account_url)
            .field("signer", &self.signer)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn new(base: &str, account: &str, signer: Signer, transport: Arc<dyn Transport>) -> Self {
        Client {
            account_url: format!("{}/{account}", base.trim_end_matches('/')),
            signer,
            transport,
        }
    }

    fn order_url(&self, order_id: i64) -> String {
        format!("{}/orders/{order_id}", self.account_url)
    }

    fn signed(&self, method: Method, url: String) -> VendorRequest {
        VendorRequest::new(method, url)
            .header("accept", "application/json")
            .header_sensitive("authorization", &self.signer.authorization(Utc::now()))
    }

    /// `GET /{account}/orders/{id}`.
    pub async fn get_order(&self, order_id: i64) -> Result<Order, ProviderError> {
        let request = self.signed(Method::GET, self.order_url(order_id));
        let response = self.transport.send(request).await?;
        read_order(&response, order_id)
    }

    /// `POST /{account}/orders/{id}/refunds` with `{amount, paymentid}`; answers the order.
    pub async fn add_refund(
        &self,
        order_id: i64,
        body: &AddRefunds,
    ) -> Result<Order, ProviderError> {
        let body = serde_json::to_value(body).map_err(|e| {
            ProviderError::new(
                ErrorKind::InvalidRequest,
                format!("cannot encode the refund: {e}"),
            )
        })?;
        let url = format!("{}/refunds", self.order_url(order_id));
        let request = self.signed(Method::POST, url).json_body(&body);
        tracing::debug!(order_id, "ticketmatic: adding a refund");
        let response = self.transport.send(request).await?;
        // The refund may be applied even if the answer cannot be read.
        read_order(&response, order_id).map_err(|e| match e.kind {
            ErrorKind::BadResponse => e.outcome_unknown(),
            _ => e,
        })
    }
}

/// A successful answer must be the order asked for; anything else is an error.
fn read_order(response: &VendorResponse, order_id: i64) -> Result<Order, ProviderError> {
    if !response.is_success() {
        return Err(errors::from_response(response));
    }
    let order: Order = read_json(response)?;
    if order.orderid != order_id {
        return Err(ProviderError::new(
            ErrorKind::BadResponse,
            format!(
                "asked for order {order_id}, Ticketmatic answered order {}",
                order.orderid
            ),
        )
        .with_vendor(VendorFault {
            status: Some(response.status),
            code: None,
            message: format!("orderid {}", order.orderid),
        })
        .outcome_unknown());
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(amount: &str) -> VendorResponse {
        VendorResponse::new(
            200,
            format!(r#"{{"orderid": 7, "payments": [{{"id": 1, "amount": {amount}}}]}}"#),
        )
    }

    #[test]
    fn amounts_are_read_exactly_or_refused_never_rounded() {
        for (text, exact) in [
            ("12345678901234567.89", "12345678901234567.89"),
            ("16.1", "16.1"),
            ("0.1", "0.1"),
            ("50.000000", "50.000000"),
        ] {
            let order = read_order(&answer(text), 7).unwrap();
            assert_eq!(order.payments[0].amount.to_string(), exact);
        }
        // 30 significant digits: more than a decimal holds, so refused rather than rounded.
        let e = read_order(&answer("1234567890123456.78901234567890"), 7).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadResponse);
        assert!(e.message.contains("never rounded"), "{}", e.message);
    }
}
