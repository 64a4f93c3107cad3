//! The settings of one Ticketmatic instance (`[providers.<name>]` with `kind = "ticketmatic"`),
//! as written in config. Credentials are references (`{ env = .. }` / `{ file = .. }`),
//! resolved when the instance is built, never literal values.

use refund_provider::{ConfigError, Currency, SecretRef};
use serde::Deserialize;

/// Ticketmatic instance settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketmaticConfig {
    /// The Ticketmatic account name: the first path segment after the API base
    /// (`https://apps.ticketmatic.com/api/1/<account>/...`) and part of every signature.
    pub account: String,
    /// The API access key (`{ env = "TM_ACCESS_KEY" }`). Not needed with `sandbox = true`.
    #[serde(default)]
    pub access_key: Option<SecretRef>,
    /// The API secret key, which signs every request. Not needed with `sandbox = true`.
    #[serde(default)]
    pub secret_key: Option<SecretRef>,
    /// The currency the account sells in. See [`default_currency`].
    #[serde(default = "default_currency")]
    pub currency: Currency,
}

/// Decision (vendors.md, Ticketmatic [?] account currency): an order does not say its
/// currency, the account has one; so the currency is a per-instance setting, EUR unless
/// configured otherwise.
pub fn default_currency() -> Currency {
    Currency::EUR
}

impl TicketmaticConfig {
    /// The account name, checked: it is a URL path segment and part of the signed string,
    /// so only letters, digits, `-` and `_` are taken.
    pub fn checked_account(&self) -> Result<&str, ConfigError> {
        let account = self.account.trim();
        let ok = !account.is_empty()
            && account.len() <= 100
            && account
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(account)
        } else {
            Err(ConfigError::new(
                "account",
                "must be the Ticketmatic account name (letters, digits, `-` or `_`)",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<TicketmaticConfig, serde_json::Error> {
        serde_json::from_str(text)
    }

    #[test]
    fn defaults_and_references() {
        let cfg = parse(
            r#"{"account": "demo", "access_key": {"env": "TM_ACCESS"}, "secret_key": {"file": "/run/tm"}}"#,
        )
        .unwrap();
        assert_eq!(cfg.currency, Currency::EUR);
        assert_eq!(cfg.checked_account().unwrap(), "demo");
        assert_eq!(cfg.access_key, Some(SecretRef::Env("TM_ACCESS".into())));
    }

    #[test]
    fn refuses_unknown_keys_literal_secrets_and_bad_accounts() {
        assert!(parse(r#"{"account": "demo", "acces_key": {"env": "X"}}"#).is_err());
        assert!(parse(r#"{"account": "demo", "secret_key": "literal"}"#).is_err());
        assert!(parse(r#"{"account": "demo", "currency": "EURO"}"#).is_err());
        let cfg = parse(r#"{"account": "de/mo"}"#).unwrap();
        assert_eq!(cfg.checked_account().unwrap_err().key, "account");
    }
}
