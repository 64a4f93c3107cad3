//! Gateway configuration: a TOML file, then `REFUND_GATEWAY__...` environment overrides
//! (double underscore nests: `REFUND_GATEWAY__SERVER__LISTEN=0.0.0.0:8080`), loaded with
//! figment. Everything is validated at start-up and every error names its key.

mod batches;
mod clients;
mod coordination;
mod cors;
mod duration;
mod error;
mod events;
mod every_error;
mod fixtures;
mod instance;
mod log;
mod metrics;
mod server;
mod storage;
mod trace;
mod traffic;
mod webhooks;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Toml};
use figment::value::{Dict, Value};
use figment::Figment;
use serde::Deserialize;

pub use batches::BatchConfig;
pub use clients::ClientConfig;
pub use coordination::{CoordinationConfig, OnUnavailable, RedisConfig, RedisUrl};
pub use cors::CorsOrigin;
pub use error::ConfigError;
pub use events::EventsConfig;
pub use every_error::every_error;
pub use fixtures::FixturesConfig;
pub use instance::{InstanceCommon, InstanceSpec};
pub use log::{LogConfig, LogFormat};
pub use metrics::MetricsConfig;
pub use server::ServerConfig;
pub use storage::{IdempotencyConfig, ReconcileConfig, StorageConfig};
pub use trace::TracingConfig;
pub use traffic::{
    CacheBounds, CacheConfig, CircuitConfig, ClientLimitConfig, RateLimitConfig, RetryConfig,
};
pub use webhooks::WebhookConfig;

/// The whole configuration, as read (vendor settings are still raw: the registry reads
/// them into each vendor's own config type when it builds the instance).
#[derive(Debug)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub idempotency: IdempotencyConfig,
    pub reconcile: ReconcileConfig,
    pub batches: BatchConfig,
    pub clients: Vec<ClientConfig>,
    pub log: LogConfig,
    pub metrics: MetricsConfig,
    pub fixtures: FixturesConfig,
    pub tracing: TracingConfig,
    pub providers: Vec<InstanceSpec>,
    pub events: EventsConfig,
    pub webhooks: Vec<WebhookConfig>,
    /// `[coordination]`: budgets shared with other gateways through Redis, if set.
    pub coordination: Option<CoordinationConfig>,
    /// Where the config came from, for messages.
    pub origin: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    server: ServerConfig,
    #[serde(default)]
    storage: StorageConfig,
    #[serde(default)]
    idempotency: IdempotencyConfig,
    #[serde(default)]
    reconcile: ReconcileConfig,
    #[serde(default)]
    batches: BatchConfig,
    #[serde(default)]
    clients: Vec<ClientConfig>,
    #[serde(default)]
    log: LogConfig,
    #[serde(default)]
    metrics: MetricsConfig,
    #[serde(default)]
    fixtures: FixturesConfig,
    #[serde(default)]
    tracing: TracingConfig,
    #[serde(default)]
    providers: BTreeMap<String, Dict>,
    #[serde(default)]
    events: EventsConfig,
    #[serde(default)]
    webhooks: Vec<WebhookConfig>,
    coordination: Option<CoordinationConfig>,
}

/// Prefix of environment overrides.
pub const ENV_PREFIX: &str = "REFUND_GATEWAY__";

impl Config {
    /// Reads a TOML file and the environment overrides.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        if !path.exists() {
            return Err(ConfigError::new(
                path.display().to_string(),
                "",
                "config file not found",
            ));
        }
        let figment = Figment::new()
            .merge(Toml::file_exact(path))
            .merge(Env::prefixed(ENV_PREFIX).split("__"));
        Self::from_figment(figment, path.display().to_string())
    }

    /// Reads config from TOML text (tests, and embedders that assemble config themselves).
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        Self::from_figment(Figment::from(Toml::string(text)), "<inline config>".into())
    }

    fn from_figment(figment: Figment, origin: String) -> Result<Config, ConfigError> {
        let raw: RawConfig = figment
            .extract()
            .map_err(|e| ConfigError::from_figment(&origin, "", e))?;
        let mut providers = Vec::new();
        for (name, dict) in raw.providers {
            providers.push(InstanceSpec::parse(&origin, &name, dict)?);
        }
        if let Some(limit) = &raw.server.client_rate_limit {
            limit.validate().map_err(|message| {
                ConfigError::new(&origin, "server.client_rate_limit", message)
            })?;
        }
        if let Some(coordination) = &raw.coordination {
            coordination
                .validate()
                .map_err(|(key, message)| ConfigError::new(&origin, key, message))?;
        }
        Ok(Config {
            server: raw.server,
            storage: raw.storage,
            idempotency: raw.idempotency,
            reconcile: raw.reconcile,
            batches: raw.batches,
            clients: raw.clients,
            log: raw.log,
            metrics: raw.metrics,
            fixtures: raw.fixtures,
            tracing: raw.tracing,
            providers,
            events: raw.events,
            webhooks: raw.webhooks,
            coordination: raw.coordination,
            origin,
        })
    }
}

/// The default config path, relative to the working directory.
pub fn default_path() -> PathBuf {
    PathBuf::from("config/gateway.toml")
}

/// Turns a raw figment dict into a `Value` for a second round of deserialization.
fn dict_value(dict: Dict) -> Value {
    Value::from(dict)
}
