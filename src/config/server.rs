//! `[server]`: where the gateway listens and how much it accepts from a client.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;

use super::traffic::{CacheBounds, ClientLimitConfig};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on. Loopback by default: exposing the gateway is a deliberate choice.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Largest request body accepted, in bytes; larger ones get 413.
    #[serde(default = "default_body_limit")]
    pub body_limit: usize,
    /// Backstop for a whole client request. Vendor timeouts should be shorter, so a vendor
    /// that hangs is reported as the vendor's timeout, with its outcome, not as ours.
    #[serde(default = "default_request_timeout", with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Per-client request limit (by remote address); none when absent.
    #[serde(default)]
    pub client_rate_limit: Option<ClientLimitConfig>,
    #[serde(default)]
    pub cache: CacheBounds,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

fn default_body_limit() -> usize {
    64 * 1024
}

fn default_request_timeout() -> Duration {
    Duration::from_secs(30)
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: default_listen(),
            body_limit: default_body_limit(),
            request_timeout: default_request_timeout(),
            client_rate_limit: None,
            cache: CacheBounds::default(),
        }
    }
}
