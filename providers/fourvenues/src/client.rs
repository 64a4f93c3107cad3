//! The Fourvenues calls this provider makes — read a ticket, refund a ticket — built as
//! `VendorRequest`s, authorised, and sent through the gateway's transport.

use std::sync::Arc;

use refund_provider::http::Method;
use refund_provider::{ProviderError, Transport, VendorRequest};

use crate::auth::ApiKey;
use crate::errors::{read_failed, read_ticket};
use crate::wire::{RefundBody, Ticket};

/// Decision (vendors.md): a ticket (and so its `refunds[]`) is read with
/// `GET /tickets/{id}`, which is not documented for the Channel Manager API. The one
/// place that path is written.
pub fn ticket_path(ticket_id: &str) -> String {
    format!("/tickets/{}", path_segment(ticket_id))
}

/// `PUT /tickets/{id}/refund` with `{"amount": <integer>}` (documented).
pub fn refund_path(ticket_id: &str) -> String {
    format!("{}/refund", ticket_path(ticket_id))
}

/// Ids are opaque strings (Decision), so they are percent-encoded into the path.
fn path_segment(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub struct Client {
    pub(crate) base: String,
    pub(crate) key: ApiKey,
    pub(crate) transport: Arc<dyn Transport>,
}

impl Client {
    /// `base` without a trailing slash.
    pub fn new(base: &str, key: ApiKey, transport: Arc<dyn Transport>) -> Self {
        Client {
            base: base.trim_end_matches('/').to_string(),
            key,
            transport,
        }
    }

    fn request(&self, method: Method, path: &str) -> VendorRequest {
        let request = VendorRequest::new(method, format!("{}{path}", self.base))
            .header("accept", "application/json");
        self.key.authorize(request)
    }

    /// Reads a ticket. A failure here changed nothing at the vendor.
    pub async fn ticket(&self, ticket_id: &str) -> Result<Ticket, ProviderError> {
        let request = self.request(Method::GET, &ticket_path(ticket_id));
        tracing::debug!(url = %request.url, "fourvenues: reading ticket");
        let response = self
            .transport
            .send(request)
            .await
            .map_err(|e| read_failed(e.into()))?;
        read_ticket(&response).map_err(read_failed)
    }

    /// Refunds `units` whole currency units of a ticket and returns the ticket as the
    /// vendor answers it. A failure after sending may leave the outcome unknown.
    pub async fn refund(&self, ticket_id: &str, units: i64) -> Result<Ticket, ProviderError> {
        let body = serde_json::to_value(RefundBody { amount: units }).unwrap_or_default();
        let request = self
            .request(Method::PUT, &refund_path(ticket_id))
            .json_body(&body);
        tracing::debug!(url = %request.url, amount = units, "fourvenues: refunding ticket");
        let response = self.transport.send(request).await?;
        read_ticket(&response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_encode_opaque_ids() {
        assert_eq!(
            ticket_path("5f8d0f8b9d2b3b0017b6d8a0"),
            "/tickets/5f8d0f8b9d2b3b0017b6d8a0"
        );
        assert_eq!(refund_path("a/b c"), "/tickets/a%2Fb%20c/refund");
    }
}
