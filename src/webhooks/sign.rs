//! Standard Webhooks signatures, by the maintained `standardwebhooks` crate (the scheme's
//! reference implementation): `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`
//! under the secret's key. Only this wrapper holds the key, and its Debug output hides it.

use secrecy::{ExposeSecret, SecretString};

pub struct Signer(standardwebhooks::Webhook);

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(<redacted>)")
    }
}

impl Signer {
    /// From a secret in the scheme's form: `whsec_` and the base64 of at least 24 bytes.
    /// The error never repeats the secret.
    pub fn new(secret: &SecretString) -> Result<Signer, String> {
        let text = secret.expose_secret();
        let Some(encoded) = text.strip_prefix("whsec_") else {
            return Err("a webhook secret is `whsec_` followed by base64".into());
        };
        use base64::Engine as _;
        let key = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| "the webhook secret after `whsec_` is not base64".to_string())?;
        if key.len() < 24 {
            return Err(format!(
                "the webhook secret is {} bytes; use at least 24 (32 recommended)",
                key.len()
            ));
        }
        Ok(Signer(standardwebhooks::Webhook::from_bytes(key).map_err(
            |_| "the webhook secret cannot be used".to_string(),
        )?))
    }

    /// The `webhook-signature` header's value for message `id` sent at `timestamp`
    /// (Unix seconds) with `body`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> Result<String, String> {
        self.0
            .sign(id, timestamp, body)
            .map_err(|_| "the event body is not UTF-8".to_string())
    }
}
