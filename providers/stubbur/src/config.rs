//! The settings of one Stubbur instance (`[providers.<name>]` keys beyond the gateway's own),
//! read strictly: an unknown key or auth mode fails at start-up with its path.

use refund_provider::SecretRef;
use serde::Deserialize;

/// Stubbur's own keys of an instance. Example:
///
/// ```toml
/// [providers.stubbur-main]
/// kind = "stubbur"
/// auth = { mode = "credentials", username = "refunds@example.is", password = { env = "STUBBUR_PASSWORD" } }
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StubburConfig {
    /// How the gateway authenticates to Stubbur. The account must hold role Admin or
    /// TeamAdmin and permission `Tickets.Add` (Stubbur's rule for `/refund/process`).
    /// A sandbox instance may omit it: it then uses the sandbox's static bearer token.
    #[serde(default)]
    pub auth: Option<AuthConfig>,
}

/// Decision (vendors.md): which ServiceStack auth Stubbur enables is unknown, so both a
/// static bearer token and the credentials login are supported.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthConfig {
    /// `Authorization: Bearer <token>` (a ServiceStack API key or JWT) on every call.
    Bearer { token: Option<SecretRef> },
    /// `POST /auth/credentials {userName, password}`; the session cookies it sets
    /// (`ss-id`, `ss-pid`) are reused, and renewed once when a call answers 401.
    Credentials {
        username: String,
        password: Option<SecretRef>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: serde_json::Value) -> Result<StubburConfig, String> {
        serde_json::from_value(json).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_both_auth_modes() {
        let c =
            parse(serde_json::json!({"auth": {"mode": "bearer", "token": {"env": "T"}}})).unwrap();
        assert!(matches!(
            c.auth,
            Some(AuthConfig::Bearer { token: Some(SecretRef::Env(ref v)) }) if v == "T"
        ));
        let c = parse(serde_json::json!({"auth": {
            "mode": "credentials", "username": "u", "password": {"file": "/run/p"}}}))
        .unwrap();
        assert!(
            matches!(c.auth, Some(AuthConfig::Credentials { ref username, .. }) if username == "u")
        );
        assert!(parse(serde_json::json!({})).unwrap().auth.is_none());
    }

    #[test]
    fn refuses_unknown_keys_modes_and_literal_secrets() {
        assert!(parse(serde_json::json!({"currency": "ISK"})).is_err());
        assert!(parse(serde_json::json!({"auth": {"mode": "basic"}})).is_err());
        assert!(
            parse(serde_json::json!({"auth": {"mode": "bearer", "tokn": {"env": "T"}}})).is_err()
        );
        let e = parse(serde_json::json!({"auth": {"mode": "bearer", "token": "abc"}})).unwrap_err();
        assert!(e.contains("never written in config"), "{e}");
    }
}
