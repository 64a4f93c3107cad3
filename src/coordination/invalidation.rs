//! Cache invalidations published to every gateway (Redis pub/sub). A gateway that is not
//! subscribed cannot know what the others changed, so until it is (again) its listener
//! says so (`is_subscribed` false: the cache is bypassed), and its cache is dropped
//! whole when the subscription is (re)made, since messages of the gap are lost.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::task::JoinHandle;

use super::Coordination;

/// How long a (re)subscription may take before it is tried again.
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(2);
/// Between two failed subscriptions.
const RESUBSCRIBE_AFTER: Duration = Duration::from_millis(200);

/// What a cache does with what other gateways publish.
pub trait InvalidationSink: Send + Sync + 'static {
    /// A message published by a gateway (this one included).
    fn invalidate(&self, payload: &str);
    /// Everything cached may be stale.
    fn forget_all(&self);
}

/// A gateway's subscription to the invalidation channel, and its publisher.
pub struct Invalidations {
    coordination: Arc<Coordination>,
    channel: String,
    subscribed: Arc<AtomicBool>,
    listener: JoinHandle<()>,
}

impl Drop for Invalidations {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

impl Invalidations {
    /// Subscribes (and keeps subscribing) in the background, handing messages to `sink`.
    pub fn start(coordination: Arc<Coordination>, sink: Arc<dyn InvalidationSink>) -> Self {
        let channel = coordination.key(&["invalidate"]);
        let subscribed = Arc::new(AtomicBool::new(false));
        let listener = tokio::spawn(listen(
            coordination.client.clone(),
            channel.clone(),
            subscribed.clone(),
            sink,
        ));
        Invalidations {
            coordination,
            channel,
            subscribed,
            listener,
        }
    }

    /// Whether messages of other gateways reach this one now.
    pub fn is_subscribed(&self) -> bool {
        self.subscribed.load(Ordering::SeqCst)
    }

    /// Tells every gateway; waits (up to the acquire timeout) for Redis to take it, so
    /// that the others have it before the caller answers its client.
    pub async fn publish(&self, payload: String) {
        let mut conn = self.coordination.conn.clone();
        let sent = tokio::time::timeout(
            self.coordination
                .acquire_timeout
                .max(Duration::from_millis(200)),
            redis::cmd("PUBLISH")
                .arg(&self.channel)
                .arg(payload)
                .query_async::<i64>(&mut conn),
        )
        .await;
        if !matches!(sent, Ok(Ok(_))) {
            tracing::warn!("could not publish a cache invalidation to the other gateways");
        }
    }
}

async fn listen(
    client: redis::Client,
    channel: String,
    subscribed: Arc<AtomicBool>,
    sink: Arc<dyn InvalidationSink>,
) {
    let mut lost_logged = false;
    loop {
        let connected = tokio::time::timeout(SUBSCRIBE_TIMEOUT, async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        })
        .await;
        let pubsub = match connected {
            Ok(Ok(pubsub)) => pubsub,
            _ => {
                if !lost_logged {
                    tracing::warn!("cannot subscribe to cache invalidations: the lookup cache is bypassed until it can");
                    lost_logged = true;
                }
                tokio::time::sleep(RESUBSCRIBE_AFTER).await;
                continue;
            }
        };
        // What changed while unsubscribed is unknown: start from nothing.
        sink.forget_all();
        subscribed.store(true, Ordering::SeqCst);
        if lost_logged {
            tracing::warn!("subscribed to cache invalidations again: the lookup cache is used");
        }
        let mut messages = pubsub.into_on_message();
        while let Some(message) = messages.next().await {
            if let Ok(payload) = message.get_payload::<String>() {
                sink.invalidate(&payload);
            }
        }
        subscribed.store(false, Ordering::SeqCst);
        sink.forget_all();
        tracing::warn!(
            "lost the subscription to cache invalidations: the lookup cache is bypassed until it is back"
        );
        lost_logged = true;
    }
}
