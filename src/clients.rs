//! Who is calling. With `[[clients]]` configured, every `/v1` request must carry one of
//! their API keys (`Authorization: Bearer <key>`); the client's name then scopes its
//! idempotency keys, its ledger rows and batches, and its rate limit. Without clients the
//! gateway is open (the sandbox default) and everyone is the one client `default`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use refund_provider::secrecy::ExposeSecret;
use refund_provider::SecretRef;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::api::problem::ApiError;
use crate::ledger::DEFAULT_CLIENT;

/// `[[clients]]`: a name and where its API key is.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    pub name: String,
    pub key: SecretRef,
}

/// The calling client, put into each request's extensions by `authenticate`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientId(pub String);

impl ClientId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The configured clients, by the SHA-256 of their key: keys are never kept in the clear,
/// and looking a digest up reveals nothing about how close a wrong key came.
#[derive(Default)]
pub struct ClientKeys {
    by_digest: HashMap<[u8; 32], String>,
}

fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

impl ClientKeys {
    /// Resolves every client's key; the error names the client and why.
    pub fn load(clients: &[ClientConfig]) -> Result<ClientKeys, (String, String)> {
        let mut by_digest = HashMap::new();
        for (i, client) in clients.iter().enumerate() {
            let at = format!("clients[{i}]");
            let name_ok = !client.name.is_empty()
                && client.name.len() <= 64
                && client
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !name_ok {
                return Err((
                    format!("{at}.name"),
                    "1-64 characters of letters, digits, `-` or `_`".into(),
                ));
            }
            let key = client.key.resolve().map_err(|m| (format!("{at}.key"), m))?;
            if key.expose_secret().len() < 16 {
                return Err((
                    format!("{at}.key"),
                    "an API key must be at least 16 characters".into(),
                ));
            }
            if by_digest
                .insert(digest(key.expose_secret()), client.name.clone())
                .is_some()
            {
                return Err((format!("{at}.key"), "two clients share this key".into()));
            }
        }
        Ok(ClientKeys { by_digest })
    }

    pub fn is_open(&self) -> bool {
        self.by_digest.is_empty()
    }

    fn identify(&self, request: &Request) -> Result<ClientId, ApiError> {
        if self.is_open() {
            return Ok(ClientId(DEFAULT_CLIENT.into()));
        }
        let presented = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthenticated)?;
        self.by_digest
            .get(&digest(presented.trim()))
            .map(|name| ClientId(name.clone()))
            .ok_or(ApiError::Unauthenticated)
    }
}

/// Identifies the client of every `/v1` request (other paths are open: health, OpenAPI).
pub async fn authenticate(
    State(keys): State<Arc<ClientKeys>>,
    mut request: Request,
    next: Next,
) -> Response {
    let open_path = !request.uri().path().starts_with("/v1/");
    match keys.identify(&request) {
        Ok(client) => {
            request.extensions_mut().insert(client);
            next.run(request).await
        }
        Err(_) if open_path => {
            request
                .extensions_mut()
                .insert(ClientId(DEFAULT_CLIENT.into()));
            next.run(request).await
        }
        Err(e) => e.into_response(),
    }
}
