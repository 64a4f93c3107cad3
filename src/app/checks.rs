//! Checking a config without serving it (`check-config`), and the pieces of it that
//! start-up loads the same way: client keys, webhook endpoints, the Redis coordination.

use std::sync::Arc;

use crate::api::auth::ClientKeys;
use crate::config::{Config, ConfigError};
use crate::coordination::Coordination;
use crate::instances::{self, Instances, SandboxMode};

/// Validates a config fully (vendor settings, credentials, client keys) without serving
/// anything; with `[coordination]`, Redis must answer.
pub async fn check(config: &Config) -> Result<Instances, ConfigError> {
    let instances = instances::build_all(&config.providers, SandboxMode::CheckOnly).await?;
    load_clients(config, &instances)?;
    load_webhooks(config)?;
    if let Some(coordination) = connect_coordination(config)? {
        coordination.ping().await.map_err(|message| {
            ConfigError::new(&config.origin, "coordination.redis.url", message)
        })?;
    }
    Ok(instances)
}

/// The `[[webhooks]]` endpoints, checked (URL, event types, secret).
pub(super) fn load_webhooks(
    config: &Config,
) -> Result<Vec<crate::webhooks::Endpoint>, ConfigError> {
    crate::webhooks::load(
        &config.origin,
        &config.webhooks,
        config.server.listen,
        config.events.webhook_retry_for.as_millis() as i64,
    )
}

/// What the ledger needs to write events and their deliveries.
pub(super) fn outbox_config(
    config: &Config,
    endpoints: &[crate::webhooks::Endpoint],
) -> crate::storage::events::OutboxConfig {
    crate::storage::events::OutboxConfig {
        subscriptions: endpoints.iter().map(|e| e.subscription.clone()).collect(),
        progress_items: i64::from(config.events.batch_progress_items),
        progress_ms: config.events.batch_progress_interval.as_millis() as i64,
    }
}

/// Every error `check` could stop at: each instance built alone, then the clients and
/// the webhooks.
pub async fn check_each(config: &Config) -> Vec<ConfigError> {
    let mut errors = check_instances(&config.providers).await;
    let names: Vec<&str> = config.providers.iter().map(|s| s.name.as_str()).collect();
    if let Err((key, message)) = ClientKeys::load(&config.clients, &names) {
        errors.push(ConfigError::new(&config.origin, key, message));
    }
    if let Err(e) = load_webhooks(config) {
        errors.push(e);
    }
    errors
}

/// Builds each instance alone (without serving anything): every one that fails, reported.
pub async fn check_instances(specs: &[crate::config::InstanceSpec]) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    for spec in specs {
        let one = std::slice::from_ref(spec);
        if let Err(e) = instances::build_all(one, SandboxMode::CheckOnly).await {
            errors.push(e);
        }
    }
    errors
}

/// The Redis connection of `[coordination]`, prepared (not yet connected), if configured.
pub(super) fn connect_coordination(
    config: &Config,
) -> Result<Option<Arc<Coordination>>, ConfigError> {
    config
        .coordination
        .as_ref()
        .map(|c| {
            Coordination::connect(c).map(Arc::new).map_err(|message| {
                ConfigError::new(&config.origin, "coordination.redis.url", message)
            })
        })
        .transpose()
}

pub(super) fn load_clients(
    config: &Config,
    instances: &Instances,
) -> Result<Arc<ClientKeys>, ConfigError> {
    let names: Vec<&str> = instances.iter().map(|i| i.name.as_str()).collect();
    ClientKeys::load(&config.clients, &names)
        .map(Arc::new)
        .map_err(|(key, message)| ConfigError::new(&config.origin, key, message))
}
