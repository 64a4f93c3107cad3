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
    #[serde(
        default = "default_export_timeout",
        deserialize_with = "crate::config::duration::bounded"
    )]
    pub export_timeout: Duration,
    /// The share of new traces exported, 0 to 1 (default 1: all). A client's `traceparent`
    /// decides for its own trace (its sampled flag), whatever this says.
    #[serde(default)]
    pub sample_ratio: SampleRatio,
}

/// A share from 0 to 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleRatio(f64);

impl SampleRatio {
    pub fn get(self) -> f64 {
        self.0
    }
}

impl Default for SampleRatio {
    fn default() -> Self {
        SampleRatio(1.0)
    }
}

impl<'de> Deserialize<'de> for SampleRatio {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let ratio = f64::deserialize(deserializer)?;
        if !(0.0..=1.0).contains(&ratio) {
            return Err(serde::de::Error::custom(format!(
                "{ratio} is not a share: write a number from 0 to 1"
            )));
        }
        Ok(SampleRatio(ratio))
    }
}

impl Default for TracingConfig {
    fn default() -> Self {
        TracingConfig {
            otlp_endpoint: None,
            service_name: default_service_name(),
            export_timeout: default_export_timeout(),
            sample_ratio: SampleRatio::default(),
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
