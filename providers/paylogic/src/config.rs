//! The settings of one Paylogic instance (`[providers.<name>]` with `kind = "paylogic"`):
//! how to authenticate and which language product names are shown in. Credentials are
//! references (`{ env = .. }` / `{ file = .. }`), resolved once in `build`.

use refund_provider::{ConfigError, SecretRef};
use serde::Deserialize;

/// The product-name language used when the config names none.
pub const DEFAULT_LANGUAGE: &str = "en";

/// `[providers.<name>]` keys of a Paylogic instance, besides the gateway's own.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaylogicConfig {
    /// How the gateway authenticates to the Shopping API. Optional only for sandbox
    /// instances, which default to Basic with the sandbox's app credentials.
    #[serde(default)]
    pub auth: AuthConfig,
    /// The language of product names on refund lines (`en`, `nl`, `de`, `fr`, `es`, `pt`,
    /// `tr`, ...). When a product has no name in it: `en`, then the first non-empty name.
    #[serde(default = "default_language")]
    pub language: String,
}

/// `auth = { mode = "basic", app = {..}, secret = {..} }`, `{ mode = "bearer", token = {..} }`
/// or `{ mode = "cognito", token = {..} }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthConfig {
    /// `Authorization: Basic base64(app:secret)` with the API application's credentials.
    Basic {
        #[serde(default)]
        app: Option<SecretRef>,
        #[serde(default)]
        secret: Option<SecretRef>,
    },
    /// `Authorization: Bearer <jwt>`.
    Bearer {
        #[serde(default)]
        token: Option<SecretRef>,
    },
    /// `Cognito-Token: <token>` (the order creator's Cognito token).
    Cognito {
        #[serde(default)]
        token: Option<SecretRef>,
    },
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig::Basic {
            app: None,
            secret: None,
        }
    }
}

fn default_language() -> String {
    DEFAULT_LANGUAGE.to_string()
}

impl PaylogicConfig {
    /// The configured language, checked and lower-cased: a language subtag of 2-8 ASCII
    /// letters (`en`, `nl`, ...). Paylogic keys product names by such codes.
    pub fn language(&self) -> Result<String, ConfigError> {
        let lang = self.language.trim().to_ascii_lowercase();
        let ok = (2..=8).contains(&lang.len()) && lang.chars().all(|c| c.is_ascii_lowercase());
        if ok {
            Ok(lang)
        } else {
            Err(ConfigError::new(
                "language",
                format!(
                    "`{}` is not a language code such as \"en\" or \"nl\"",
                    self.language
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<PaylogicConfig, serde_json::Error> {
        serde_json::from_str(text)
    }

    #[test]
    fn reads_each_auth_mode() {
        let basic = parse(
            r#"{"auth": {"mode": "basic", "app": {"env": "PL_APP"}, "secret": {"file": "/s"}}}"#,
        )
        .unwrap();
        assert_eq!(
            basic.auth,
            AuthConfig::Basic {
                app: Some(SecretRef::Env("PL_APP".into())),
                secret: Some(SecretRef::File("/s".into())),
            }
        );
        assert_eq!(basic.language, "en");
        let bearer = parse(r#"{"auth": {"mode": "bearer", "token": {"env": "T"}}}"#).unwrap();
        assert!(matches!(bearer.auth, AuthConfig::Bearer { token: Some(_) }));
        let cognito =
            parse(r#"{"auth": {"mode": "cognito", "token": {"env": "T"}}, "language": "NL"}"#)
                .unwrap();
        assert!(matches!(
            cognito.auth,
            AuthConfig::Cognito { token: Some(_) }
        ));
        assert_eq!(cognito.language().unwrap(), "nl");
        // A sandbox instance may leave auth out.
        assert_eq!(parse("{}").unwrap().auth, AuthConfig::default());
    }

    #[test]
    fn refuses_typos_literals_and_bad_languages() {
        assert!(parse(r#"{"auth": {"mode": "basic", "ap": {"env": "X"}}}"#).is_err());
        assert!(parse(r#"{"auth": {"mode": "oauth"}}"#).is_err());
        assert!(parse(r#"{"langauge": "en"}"#).is_err());
        let literal = parse(r#"{"auth": {"mode": "bearer", "token": "eyJhbGciOi"}}"#)
            .unwrap_err()
            .to_string();
        assert!(literal.contains("never written in config"), "{literal}");
        let bad = parse(r#"{"language": "en-GB"}"#).unwrap();
        assert_eq!(bad.language().unwrap_err().key, "language");
    }
}
