//! Webhooks: events pushed to the `[[webhooks]]` endpoints, signed by the Standard Webhooks
//! scheme. Deliveries are written with their events (`storage::events`); every gateway
//! sharing the ledger sends them (`worker`), each one leased by one gateway at a time, in
//! order per refund or batch, retried with backoff until delivered or given up.

pub mod sender;
pub mod sign;
pub mod worker;

use std::net::SocketAddr;

use crate::config::{ConfigError, WebhookConfig};
use crate::storage::events::{EventType, Subscription};
use sign::Signer;

/// A configured endpoint, ready to send to.
#[derive(Debug)]
pub struct Endpoint {
    pub name: String,
    pub url: url::Url,
    pub signer: Signer,
    pub subscription: Subscription,
}

/// Reads and checks every `[[webhooks]]` entry: unique names, known event types, an
/// http(s) URL that is not the gateway itself, a readable `whsec_` secret.
pub fn load(
    origin: &str,
    configs: &[WebhookConfig],
    listen: SocketAddr,
    retry_for_ms: i64,
) -> Result<Vec<Endpoint>, ConfigError> {
    let mut endpoints: Vec<Endpoint> = Vec::new();
    for (i, config) in configs.iter().enumerate() {
        let key = |field: &str| format!("webhooks[{i}].{field}");
        let name_ok = !config.name.is_empty()
            && config
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !name_ok {
            return Err(ConfigError::new(
                origin,
                key("name"),
                "a name of letters, digits, `-` and `_`",
            ));
        }
        if endpoints.iter().any(|e| e.name == config.name) {
            return Err(ConfigError::new(
                origin,
                key("name"),
                format!("`{}` names two endpoints", config.name),
            ));
        }
        if let Some(problem) = config.url_problem(listen) {
            return Err(ConfigError::new(origin, key("url"), problem));
        }
        for kind in &config.events {
            let family = kind
                .strip_suffix(".*")
                .is_some_and(|f| f == "refund" || f == "batch");
            if !family && EventType::parse(kind).is_none() {
                let known: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
                return Err(ConfigError::new(
                    origin,
                    key("events"),
                    format!(
                        "unknown event type `{kind}`; known: {}, refund.*, batch.*",
                        known.join(", ")
                    ),
                ));
            }
        }
        let secret = config
            .secret
            .resolve()
            .map_err(|e| ConfigError::new(origin, key("secret"), e))?;
        let signer =
            Signer::new(&secret).map_err(|e| ConfigError::new(origin, key("secret"), e))?;
        endpoints.push(Endpoint {
            name: config.name.clone(),
            url: config.url.clone(),
            signer,
            subscription: Subscription {
                endpoint: config.name.clone(),
                client: config.client.clone(),
                types: config.events.clone(),
                retry_for_ms,
            },
        });
    }
    Ok(endpoints)
}
