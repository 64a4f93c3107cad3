//! The credentials of one instance, resolved, and the one place that turns them into the
//! authentication header of a Shopping API request. Values stay in `SecretString` and
//! are exposed only here, into headers marked sensitive.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use refund_provider::secrecy::{ExposeSecret, SecretString};
use refund_provider::{BuildContext, ConfigError, VendorRequest};

use crate::config::AuthConfig;
use crate::sandbox::{SANDBOX_APP, SANDBOX_SECRET, SANDBOX_TOKEN};

/// How requests are authenticated. Debug shows the mode only (`SecretString` redacts).
#[derive(Debug)]
pub enum Auth {
    Basic {
        app: SecretString,
        secret: SecretString,
    },
    Bearer(SecretString),
    Cognito(SecretString),
}

/// The header carrying a Cognito token, as the Shopping API names it (vendors.md [V]).
pub const COGNITO_HEADER: &str = "cognito-token";

impl Auth {
    /// Resolves the configured credentials (the sandbox's own when `ctx.sandbox`).
    pub fn resolve(config: &AuthConfig, ctx: &BuildContext) -> Result<Auth, ConfigError> {
        Ok(match config {
            AuthConfig::Basic { app, secret } => Auth::Basic {
                app: ctx.secret("auth.app", app, SANDBOX_APP)?,
                secret: ctx.secret("auth.secret", secret, SANDBOX_SECRET)?,
            },
            AuthConfig::Bearer { token } => {
                Auth::Bearer(ctx.secret("auth.token", token, SANDBOX_TOKEN)?)
            }
            AuthConfig::Cognito { token } => {
                Auth::Cognito(ctx.secret("auth.token", token, SANDBOX_TOKEN)?)
            }
        })
    }

    /// Adds the authentication header to a request.
    pub fn apply(&self, request: VendorRequest) -> VendorRequest {
        match self {
            Auth::Basic { app, secret } => request.header_sensitive(
                "authorization",
                &basic_header(app.expose_secret(), secret.expose_secret()),
            ),
            Auth::Bearer(token) => request.header_sensitive(
                "authorization",
                &format!("Bearer {}", token.expose_secret()),
            ),
            Auth::Cognito(token) => request.header_sensitive(COGNITO_HEADER, token.expose_secret()),
        }
    }
}

/// Decision (vendors.md): the docs print `app:secret` for Basic auth; we send the
/// standard HTTP Basic form, `Basic ` + standard (padded, `+/`) base64 of `app:secret`.
pub fn basic_header(app: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{app}:{secret}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use refund_provider::http::Method;

    #[test]
    fn basic_header_matches_an_independent_vector() {
        // python3 -c 'import base64;print(base64.b64encode(b"shop-app:k>?~secret").decode())'
        assert_eq!(
            basic_header("shop-app", "k>?~secret"),
            "Basic c2hvcC1hcHA6az4/fnNlY3JldA=="
        );
    }

    #[test]
    fn headers_are_sensitive_and_debug_hides_secrets() {
        let auth = Auth::Cognito(SecretString::from("cog-token-value".to_string()));
        let request = auth.apply(VendorRequest::new(Method::GET, "https://x/refunds"));
        let value = request.headers.get(COGNITO_HEADER).unwrap();
        assert!(value.is_sensitive());
        assert_eq!(value.to_str().unwrap(), "cog-token-value");
        assert!(!format!("{request:?}").contains("cog-token-value"));
        assert!(!format!("{auth:?}").contains("cog-token-value"));

        let bearer = Auth::Bearer(SecretString::from("jwt-value".to_string()));
        let request = bearer.apply(VendorRequest::new(Method::GET, "https://x/refunds"));
        assert_eq!(
            request.headers.get("authorization").unwrap(),
            "Bearer jwt-value"
        );
    }
}
