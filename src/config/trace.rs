//! `[tracing]`: exporting the gateway's spans over OTLP. Trace context (`traceparent`) is
//! passed to vendors whether or not this is set.

use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TracingConfig {
    /// An OTLP/HTTP collector, e.g. `http://127.0.0.1:4318` (spans are POSTed to
    /// `/v1/traces` there; a URL with a path of its own is used as it is). Absent: no export.
    #[serde(default)]
    pub otlp_endpoint: Option<url::Url>,
    /// The `service.name` of exported spans.
    #[serde(default = "default_service_name")]
    pub service_name: String,
    /// How long one export may take.
    #[serde(default = "default_export_timeout", with = "humantime_serde")]
    pub export_timeout: Duration,
}

impl Default for TracingConfig {
    fn default() -> Self {
        TracingConfig {
            otlp_endpoint: None,
            service_name: default_service_name(),
            export_timeout: default_export_timeout(),
        }
    }
}

impl TracingConfig {
    /// Where spans are POSTed: the endpoint's `/v1/traces` unless it names a path itself.
    pub fn traces_url(&self) -> Option<url::Url> {
        let mut url = self.otlp_endpoint.clone()?;
        if url.path() == "/" || url.path().is_empty() {
            url.set_path("/v1/traces");
        }
        Some(url)
    }
}

fn default_service_name() -> String {
    "refund-gateway".into()
}

fn default_export_timeout() -> Duration {
    Duration::from_secs(10)
}
