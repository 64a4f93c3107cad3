//! The Fourvenues settings of one provider instance, as written under `[providers.<name>]`
//! (the gateway's own keys — `kind`, `base_url`, `sandbox`, timeouts — are read by the gateway).

use refund_provider::SecretRef;
use serde::Deserialize;

/// Fourvenues vendor settings.
///
/// ```toml
/// [providers.fourvenues-test]
/// kind = "fourvenues"
/// base_url = "https://channels-service-alpha.fourvenues.com"   # test (no real money)
/// api_key = { env = "FOURVENUES_API_KEY" }
/// ```
///
/// There is no default base URL: an instance chooses the test (alpha) or the production
/// service (`https://channels-service.fourvenues.com`) deliberately.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FourvenuesConfig {
    /// The channel's API key, sent as `X-Api-Key` on every call. Keys are per channel and
    /// may expire or be revoked. Not needed with `sandbox = true`.
    #[serde(default)]
    pub api_key: Option<SecretRef>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_secret_reference() {
        let cfg: FourvenuesConfig =
            serde_json::from_str(r#"{"api_key": {"env": "FV_KEY"}}"#).unwrap();
        assert_eq!(cfg.api_key, Some(SecretRef::Env("FV_KEY".into())));
        let empty: FourvenuesConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(empty.api_key, None);
    }

    #[test]
    fn refuses_unknown_keys_and_literal_secrets() {
        assert!(serde_json::from_str::<FourvenuesConfig>(r#"{"apikey": {"env": "X"}}"#).is_err());
        assert!(serde_json::from_str::<FourvenuesConfig>(r#"{"api_key": "plain"}"#).is_err());
    }
}
