//! Who is calling. With `[[clients]]` configured, every `/v1` request must carry one of
//! their API keys (`Authorization: Bearer <key>`), and the request runs as that client
//! (its name scopes keys, ledger rows and batches; its `providers` list bounds the
//! instances it may use). Without clients the gateway is open (the sandbox default) and
//! everyone is the one client `default`.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use refund_provider::secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use super::problem::ApiError;
use super::Caller;
use crate::config::ClientConfig;
use crate::service::Client;

/// The configured clients, by the SHA-256 of their key: keys are never kept in the clear,
/// and looking a digest up reveals nothing about how close a wrong key came.
pub struct ClientKeys {
    by_digest: HashMap<[u8; 32], Caller>,
    open: Caller,
}

fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

impl ClientKeys {
    /// Resolves every client's key and checks its provider list against the configured
    /// instances; the error names the key at fault and why.
    pub fn load(
        clients: &[ClientConfig],
        instances: &[&str],
    ) -> Result<ClientKeys, (String, String)> {
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
            let providers = match &client.providers {
                None => None,
                Some(names) => {
                    if let Some(unknown) = names.iter().find(|n| !instances.contains(&n.as_str())) {
                        return Err((
                            format!("{at}.providers"),
                            format!(
                                "no provider instance is named `{unknown}`; configured: {}",
                                instances.join(", ")
                            ),
                        ));
                    }
                    Some(names.iter().cloned().collect::<BTreeSet<_>>())
                }
            };
            let key = client.key.resolve().map_err(|m| (format!("{at}.key"), m))?;
            if key.expose_secret().len() < 16 {
                return Err((
                    format!("{at}.key"),
                    "an API key must be at least 16 characters".into(),
                ));
            }
            let caller = Arc::new(Client::new(client.name.clone(), providers));
            if by_digest
                .insert(digest(key.expose_secret()), caller)
                .is_some()
            {
                return Err((format!("{at}.key"), "two clients share this key".into()));
            }
        }
        Ok(ClientKeys {
            by_digest,
            open: Arc::new(Client::open()),
        })
    }

    pub fn is_open(&self) -> bool {
        self.by_digest.is_empty()
    }

    fn identify(&self, request: &Request) -> Result<Caller, ApiError> {
        if self.is_open() {
            return Ok(self.open.clone());
        }
        let presented = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthenticated)?;
        self.by_digest
            .get(&digest(presented.trim()))
            .cloned()
            .ok_or(ApiError::Unauthenticated)
    }
}

/// Identifies the client of every `/v1` request (other paths are open: health, OpenAPI).
pub async fn authenticate(
    State(keys): State<Arc<ClientKeys>>,
    mut request: Request,
    next: Next,
) -> Response {
    // The one middleware on every route, so it notes the route template too (a second
    // middleware layer of its own cost every request a boxed future and a service clone).
    super::observe::note_route_of(&request);
    let open_path = !request.uri().path().starts_with("/v1/");
    let identified = keys.identify(&request);
    if let (Ok(client), Some(observed)) = (
        &identified,
        request.extensions().get::<Arc<super::observe::Observed>>(),
    ) {
        observed.set_client(client.name());
    }
    match identified {
        Ok(client) => {
            request.extensions_mut().insert(client);
            next.run(request).await
        }
        Err(_) if open_path => {
            request.extensions_mut().insert(keys.open.clone());
            next.run(request).await
        }
        Err(e) => e.into_response(),
    }
}
