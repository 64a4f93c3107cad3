//! `[[webhooks]]`: where events are pushed. Each endpoint has a name (its deliveries carry
//! it), a URL, the event types it wants, optionally the one client whose events it gets,
//! and a Standard Webhooks signing secret by reference (`whsec_` and base64).

use std::net::{IpAddr, SocketAddr};

use refund_provider::SecretRef;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub name: String,
    pub url: url::Url,
    /// Event types (`refund.succeeded`) or families (`refund.*`); absent: every event.
    #[serde(default)]
    pub events: Vec<String>,
    /// Only this client's events; absent: every client's.
    #[serde(default)]
    pub client: Option<String>,
    pub secret: SecretRef,
}

impl WebhookConfig {
    /// Why this endpoint's URL may not be called, if it may not: not http(s), no host, or
    /// the gateway's own listen address (it would send events to itself).
    pub fn url_problem(&self, listen: SocketAddr) -> Option<String> {
        if !matches!(self.url.scheme(), "http" | "https") {
            return Some(format!("`{}` is not an http(s) URL", self.url.scheme()));
        }
        let Some(host) = self.url.host_str() else {
            return Some("the URL has no host".into());
        };
        if !self.url.username().is_empty() || self.url.password().is_some() {
            return Some("credentials in the URL are refused: sign with `secret` instead".into());
        }
        let port = self.url.port_or_known_default().unwrap_or(0);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let ip: Option<IpAddr> = if host.eq_ignore_ascii_case("localhost") {
            Some(IpAddr::from([127, 0, 0, 1]))
        } else {
            host.parse().ok()
        };
        let ours = ip.is_some_and(|ip| {
            ip == listen.ip()
                || (listen.ip().is_unspecified() || listen.ip().is_loopback()) && ip.is_loopback()
                || listen.ip().is_unspecified() && ip.is_unspecified()
        });
        (ours && port == listen.port() && listen.port() != 0)
            .then(|| format!("{} is this gateway's own listen address", self.url))
    }
}
