//! Retries for lookups only: a failed read changes nothing at the vendor, so a few more
//! tries with exponential backoff and jitter are safe. Creates never come here.

use std::future::Future;
use std::time::Duration;

use refund_provider::{ErrorKind, ProviderError};

use crate::config::RetryConfig;

/// No single wait between lookup tries is longer than this, however many tries.
const MAX_WAIT: Duration = Duration::from_secs(10);

/// Temporary failures worth another try. An open circuit or our own limiter (both carry a
/// Retry-After) are not: retrying would only spin against them.
fn retryable(error: &ProviderError) -> bool {
    match error.kind {
        ErrorKind::Timeout | ErrorKind::BadResponse => true,
        ErrorKind::Unavailable => error.retry_after.is_none(),
        _ => false,
    }
}

pub async fn with_retries<T, F, Fut>(policy: &RetryConfig, mut call: F) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let mut attempt = 1;
    loop {
        match call().await {
            Err(e) if attempt < policy.attempts && retryable(&e) => {
                let wait = crate::backoff::delay(attempt - 1, policy.backoff, MAX_WAIT);
                tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, error = %e, "retrying lookup");
                tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn retries_temporary_failures_within_budget() {
        let calls = AtomicU32::new(0);
        let policy = RetryConfig {
            attempts: 3,
            backoff: Duration::from_millis(1),
        };
        let result: Result<(), _> = with_retries(&policy, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(ProviderError::new(ErrorKind::Timeout, "slow"))
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn does_not_retry_permanent_or_throttled_failures() {
        let calls = AtomicU32::new(0);
        let policy = RetryConfig {
            attempts: 3,
            backoff: Duration::from_millis(1),
        };
        let _ = with_retries::<(), _, _>(&policy, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(ProviderError::new(ErrorKind::NotFound, "gone"))
        })
        .await;
        let _ = with_retries::<(), _, _>(&policy, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(ProviderError::new(ErrorKind::Unavailable, "open")
                .retry_after(Some(Duration::from_secs(1))))
        })
        .await;
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
