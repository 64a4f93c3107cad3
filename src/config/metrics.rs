//! `[metrics]`: where Prometheus metrics are served.

use std::net::SocketAddr;

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Serve `GET /metrics` on this separate address only (e.g. `127.0.0.1:9100`), not on
    /// the API's port. Absent: `/metrics` is served on the API's port.
    #[serde(default)]
    pub listen: Option<SocketAddr>,
}
