//! Fourvenues authentication: a per-channel API key in the `X-Api-Key` header of every
//! call. No signing. The key is held as a `SecretString` and exposed only here, where the
//! header is built, and the header is marked sensitive so it never shows in logs.

use refund_provider::secrecy::{ExposeSecret, SecretString};
use refund_provider::VendorRequest;

/// The header Fourvenues reads the key from.
pub const API_KEY_HEADER: &str = "x-api-key";

/// The channel API key. Its Debug output is redacted (by `SecretString`).
#[derive(Debug, Clone)]
pub struct ApiKey(SecretString);

impl ApiKey {
    pub fn new(secret: SecretString) -> Self {
        ApiKey(secret)
    }

    /// Adds the `X-Api-Key` header, marked sensitive.
    pub fn authorize(&self, request: VendorRequest) -> VendorRequest {
        request.header_sensitive(API_KEY_HEADER, self.0.expose_secret())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use refund_provider::http::Method;

    #[test]
    fn sets_a_sensitive_header_and_hides_the_key() {
        let key = ApiKey::new(SecretString::from("fv-key-123".to_string()));
        let request = key.authorize(VendorRequest::new(Method::GET, "https://x/tickets/1"));
        let value = request.headers.get(API_KEY_HEADER).unwrap();
        assert_eq!(value.to_str().unwrap(), "fv-key-123");
        assert!(value.is_sensitive());
        assert!(!format!("{request:?}").contains("fv-key-123"));
        assert!(!format!("{key:?}").contains("fv-key-123"));
    }
}
