//! Refundable quotes, scoped to the calling client like creates: what the vendor shows as
//! paid, refunded and refundable for a create's target, and what that create would do.
//! A quote is read through the lookup cache (a create on the target drops it) and is never
//! written to the ledger.

use refund_provider::{Forecast, Quote};

use super::create::NewRefund;
use super::{Client, Refunds, ServiceError};
use crate::traffic::lookup_cache::CacheStatus;

impl Refunds {
    /// Quotes `new` for `client`. The target must be one a create would take (else the
    /// error points at it); whether the amount would be refused is part of the answer, as
    /// the gateway's own create checks (`check_create`) decide it first, then the vendor
    /// crate's, exactly as a create runs them.
    pub async fn quote(
        &self,
        client: &Client,
        new: NewRefund,
        live: bool,
    ) -> Result<(Quote, CacheStatus), ServiceError> {
        let instance = self.instance_for(client, &new.provider)?;
        let capabilities = instance.provider.capabilities();
        capabilities
            .check_quote(&new.request.target, instance.who())
            .map_err(ServiceError::Provider)?;
        let refusal = capabilities
            .check_create(&new.request, instance.who())
            .err();
        let (quote, cache) = self
            .lookups
            .quote(instance, &new.request, live)
            .await
            .map_err(ServiceError::Provider)?;
        let mut quote = (*quote).clone();
        if let Some(refusal) = refusal {
            quote.create = Forecast::refused(&refusal);
        }
        Ok((quote, cache))
    }
}
