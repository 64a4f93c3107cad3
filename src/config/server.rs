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
    #[serde(
        default = "default_request_timeout",
        deserialize_with = "crate::config::duration::bounded"
    )]
    pub request_timeout: Duration,
    /// Per-client request limit (by remote address); none when absent.
    #[serde(default)]
    pub client_rate_limit: Option<ClientLimitConfig>,
    #[serde(default)]
    pub cache: CacheBounds,
    /// A request head (request line and headers) must arrive within this, or the
    /// connection is closed (a client that stalls mid-header holds nothing for long). Also
    /// bounds the wait for the next request on a kept-alive connection.
    #[serde(
        default = "default_header_read_timeout",
        deserialize_with = "crate::config::duration::bounded"
    )]
    pub header_read_timeout: Duration,
    /// A connection with no traffic for this long, while no request of it runs, is closed.
    #[serde(
        default = "default_idle_timeout",
        deserialize_with = "crate::config::duration::bounded"
    )]
    pub idle_timeout: Duration,
    /// Most connections open at once (lowered to what the process's open-file limit
    /// allows). At the cap, connections that never sent a whole request make room first.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Browser origins allowed to call the API across origins (CORS), e.g.
    /// `["https://backoffice.example.com"]`. Empty (the default): no CORS headers at all.
    #[serde(default)]
    pub cors_origins: Vec<super::cors::CorsOrigin>,
    /// The URL clients reach the gateway at (behind a proxy, say), named as the OpenAPI
    /// document's server. Absent: the document names `/`, relative to where it was fetched.
    #[serde(default)]
    pub public_url: Option<url::Url>,
}

fn default_header_read_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_idle_timeout() -> Duration {
    Duration::from_secs(60)
}

fn default_max_connections() -> usize {
    10_000
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
            header_read_timeout: default_header_read_timeout(),
            idle_timeout: default_idle_timeout(),
            max_connections: default_max_connections(),
            cors_origins: Vec::new(),
            public_url: None,
        }
    }
}
