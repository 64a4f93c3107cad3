//! The iVvy calls this provider makes, each built, signed and sent through the gateway's
//! `Transport`, and decoded with `errors::decode` (an `errorCode` body fails whatever the
//! HTTP status).

use std::sync::Arc;

use refund_provider::chrono::Utc;
use refund_provider::http::Method;
use refund_provider::{ErrorKind, ProviderError, Transport, VendorRequest};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::auth::{self, Credentials};
use crate::errors::decode;
use crate::wire::{
    AddRefundResult, AddRefundToBooking, Invoice, InvoiceList, InvoiceSummary,
    REF_TYPE_VENUE_BOOKING,
};

/// Decision (vendors.md [?] limits): invoice lists are read 100 at a time, at most 20
/// pages (2,000 venue-booking invoices of one venue); beyond that the list is refused
/// rather than silently cut, since iVvy cannot filter invoices by booking.
pub const INVOICES_PER_PAGE: u64 = 100;
pub const MAX_INVOICE_PAGES: u64 = 20;

pub struct IvvyClient {
    /// Base URL without a trailing slash.
    pub(crate) base: String,
    /// The path part of the base URL (usually empty): part of the signed request URI.
    pub(crate) base_path: String,
    pub(crate) credentials: Credentials,
    pub(crate) transport: Arc<dyn Transport>,
}

impl std::fmt::Debug for IvvyClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IvvyClient")
            .field("base", &self.base)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl IvvyClient {
    pub fn new(base: &str, credentials: Credentials, transport: Arc<dyn Transport>) -> Self {
        let base = base.trim_end_matches('/').to_string();
        IvvyClient {
            base_path: base_path(&base),
            base,
            credentials,
            transport,
        }
    }

    /// `venue?action=addRefundToBooking`.
    pub async fn add_refund(
        &self,
        body: &AddRefundToBooking,
    ) -> Result<AddRefundResult, ProviderError> {
        self.call("venue", "addRefundToBooking", body).await
    }

    /// `invoice?action=getInvoice {"id": ..}`.
    pub async fn get_invoice(&self, id: i64) -> Result<Invoice, ProviderError> {
        self.call("invoice", "getInvoice", &serde_json::json!({ "id": id }))
            .await
    }

    /// The venue-booking invoices of one booking: `invoice?action=getInvoiceList` filtered
    /// by venue and reference type 4, then narrowed to the booking here.
    pub async fn booking_invoices(
        &self,
        venue: i64,
        booking: i64,
    ) -> Result<Vec<InvoiceSummary>, ProviderError> {
        let mut found = Vec::new();
        for page in 0..MAX_INVOICE_PAGES {
            let start = page * INVOICES_PER_PAGE;
            let body = serde_json::json!({
                "perPage": INVOICES_PER_PAGE,
                "start": start,
                "filter": {"venueId": venue, "refType": REF_TYPE_VENUE_BOOKING},
            });
            let list: InvoiceList = self.call("invoice", "getInvoiceList", &body).await?;
            let count = list.results.len() as u64;
            let total = list.meta.and_then(|m| m.total_results);
            found.extend(list.results.into_iter().filter(|i| i.belongs_to(booking)));
            let seen = start + count;
            let done = count < INVOICES_PER_PAGE || total.is_some_and(|t| seen >= t);
            if done {
                return Ok(found);
            }
        }
        Err(ProviderError::new(
            ErrorKind::Unsupported,
            format!(
                "venue {venue} has more than {} venue-booking invoices at iVvy, which cannot \
                 filter them by booking; look refunds up by id instead",
                MAX_INVOICES
            ),
        ))
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        namespace: &str,
        action: &str,
        body: &B,
    ) -> Result<T, ProviderError> {
        let bytes = serde_json::to_vec(body).map_err(|e| {
            ProviderError::new(ErrorKind::InvalidRequest, format!("cannot encode: {e}"))
        })?;
        let uri = format!("/api/{}/{namespace}?action={action}", auth::API_VERSION);
        let signed = self
            .credentials
            .sign(&format!("{}{uri}", self.base_path), &bytes, Utc::now());
        let mut request = VendorRequest::new(Method::POST, format!("{}{uri}", self.base))
            .header("content-type", auth::CONTENT_TYPE)
            .header(auth::HEADER_CONTENT_MD5, &signed.content_md5)
            .header(auth::HEADER_DATE, &signed.ivvy_date)
            .header_sensitive(auth::HEADER_AUTHORIZATION, &signed.authorization);
        request.body = Some(bytes.into());
        tracing::debug!(namespace, action, "calling iVvy");
        let response = self.transport.send(request).await?;
        decode(&response)
    }
}

const MAX_INVOICES: u64 = INVOICES_PER_PAGE * MAX_INVOICE_PAGES;

/// The path of a base URL (`https://host/prefix` -> `/prefix`), empty for a bare host.
fn base_path(base: &str) -> String {
    let after_scheme = base.split_once("://").map_or(base, |(_, rest)| rest);
    match after_scheme.find('/') {
        Some(i) => after_scheme[i..].trim_end_matches('/').to_string(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_paths() {
        assert_eq!(base_path("https://api.eu-west-2.ivvy.com"), "");
        assert_eq!(base_path("http://127.0.0.1:9000/ivvy"), "/ivvy");
        assert_eq!(base_path("127.0.0.1:9000"), "");
    }
}
