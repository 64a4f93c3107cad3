//! `[metrics]`: where Prometheus metrics are served.

use std::net::SocketAddr;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// `false`: no metrics are recorded and `/metrics` is not served (for measuring what
    /// recording costs: `bench/observability.sh`). Default `true`.
    #[serde(default = "enabled")]
    pub enabled: bool,
    /// Serve `GET /metrics` on this separate address only (e.g. `127.0.0.1:9100`), not on
    /// the API's port. Absent: `/metrics` is served on the API's port.
    #[serde(default)]
    pub listen: Option<SocketAddr>,
}

fn enabled() -> bool {
    true
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            enabled: enabled(),
            listen: None,
        }
    }
}
