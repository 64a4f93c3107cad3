//! Quotes in the lookup cache: keyed by the target and amount asked about, dropped by a
//! create on the target like every lookup of it, and filled from reads only.

use std::sync::Arc;

use refund_provider::{ErrorKind, ProviderError, Quote, RefundRequest};

use super::{target_keys, Answer, CacheStatus, Entry, Key, Lookup, LookupCache, MIN_ENTRY_WEIGHT};
use crate::instances::Instance;
use crate::traffic::lookup_retry::with_retries;
use crate::traffic::outbound_limit::Purpose;

impl LookupCache {
    /// A quote of `request`'s target and amount: only read requests reach the vendor
    /// (`Purpose::Lookup`), retried like lookups.
    pub async fn quote(
        &self,
        instance: &Instance,
        request: &RefundRequest,
        live: bool,
    ) -> Result<(Arc<Quote>, CacheStatus), ProviderError> {
        let key = Key {
            instance: instance.name.clone(),
            lookup: Lookup::Quote(
                serde_json::to_string(&(&request.target, &request.amount)).unwrap_or_default(),
            ),
        };
        let fill = || async {
            let quote = Purpose::Lookup
                .scope(with_retries(&instance.traffic.retry, || {
                    instance.provider.quote(request)
                }))
                .await?;
            let bytes = serde_json::to_vec(&quote).map(|b| b.len()).unwrap_or(0);
            Ok::<_, ProviderError>(Entry {
                answer: Answer::Quote(Arc::new(quote)),
                targets: Arc::new(target_keys(&request.target)),
                ttl: instance.traffic.cache.ttl,
                weight: u32::try_from(bytes)
                    .unwrap_or(u32::MAX)
                    .max(MIN_ENTRY_WEIGHT),
            })
        };
        let (entry, status) = self.cached(&instance.name, key, live, fill).await?;
        match entry.answer {
            Answer::Quote(quote) => Ok((quote, status)),
            Answer::Refunds(_) => Err(ProviderError::new(
                ErrorKind::BadResponse,
                "the lookup cache holds refunds under a quote's key",
            )),
        }
    }
}
