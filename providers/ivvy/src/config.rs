//! The settings of one iVvy instance (`[providers.<name>]` with `kind = "ivvy"`), beyond
//! the gateway's own keys. Credentials are references, resolved once in `build`.

use refund_provider::{Currency, SecretRef};
use serde::Deserialize;

/// ```toml
/// [providers.ivvy-au]
/// kind = "ivvy"
/// base_url = "https://api.ap-southeast-2.ivvy.com"
/// api_key = { env = "IVVY_API_KEY" }
/// api_secret = { file = "/run/secrets/ivvy" }
/// currency = "AUD"
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IvvyConfig {
    /// The account's API key (sent in `X-Api-Authorization`). Not needed with `sandbox = true`.
    #[serde(default)]
    pub api_key: Option<SecretRef>,
    /// The account's API secret (signs every request). Not needed with `sandbox = true`.
    #[serde(default)]
    pub api_secret: Option<SecretRef>,
    /// The currency this account invoices in: refunds in another currency are refused, and
    /// so are invoices that carry another currency.
    #[serde(default = "default_currency")]
    pub currency: Currency,
}

/// Decision (vendors.md, lead's notes): an iVvy account invoices in one currency, which
/// the instance states; AUD when it does not (iVvy's home market).
pub fn default_currency() -> Currency {
    match Currency::from_code("AUD") {
        Ok(c) => c,
        Err(_) => Currency::EUR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_refuses() {
        let cfg: IvvyConfig = serde_json::from_value(serde_json::json!({
            "api_key": {"env": "IVVY_KEY"},
            "api_secret": {"file": "/run/secrets/ivvy"}
        }))
        .unwrap();
        assert_eq!(cfg.currency.code(), "AUD");
        assert!(
            serde_json::from_value::<IvvyConfig>(serde_json::json!({"api_kee": {"env": "X"}}))
                .is_err()
        );
        // Literal secrets are refused by `SecretRef` itself.
        assert!(
            serde_json::from_value::<IvvyConfig>(serde_json::json!({"api_secret": "s3cret"}))
                .is_err()
        );
    }
}
