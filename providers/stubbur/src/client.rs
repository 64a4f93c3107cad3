//! The one place that sends requests to Stubbur: it builds them, adds auth, logs in when
//! the credentials mode has no session yet, and after a 401 logs in again once and resends
//! that request once. (Resending is safe: a 401 means Stubbur did not process the refund.)

use std::sync::Arc;

use refund_provider::http::Method;
use refund_provider::secrecy::SecretString;
use refund_provider::vendor_response::read_json;
use refund_provider::{ErrorKind, ProviderError, Transport, VendorRequest, VendorResponse};

use crate::auth::{self, Auth};
use crate::errors;
use crate::wire::{LoginResponse, RefundRequestWire, REFUND_PATH};

pub struct Client {
    pub base: String,
    pub transport: Arc<dyn Transport>,
    pub auth: Auth,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// `POST {base}/refund/process`, authenticated; the answer whatever its status.
    pub async fn process_refund(
        &self,
        body: &RefundRequestWire,
    ) -> Result<VendorResponse, ProviderError> {
        let json = serde_json::to_value(body).map_err(|e| {
            ProviderError::new(ErrorKind::InvalidRequest, format!("cannot encode: {e}"))
        })?;
        let request = VendorRequest::new(Method::POST, format!("{}{REFUND_PATH}", self.base))
            .header("accept", "application/json")
            .json_body(&json);
        self.send_authenticated(request).await
    }

    pub(crate) async fn send_authenticated(
        &self,
        request: VendorRequest,
    ) -> Result<VendorResponse, ProviderError> {
        match &self.auth {
            Auth::Bearer(token) => Ok(self
                .transport
                .send(auth::with_bearer(request, token))
                .await?),
            Auth::Credentials {
                username,
                password,
                session,
            } => {
                let (cookie, generation) = {
                    let mut state = session.lock().await;
                    match &state.cookie {
                        Some(cookie) => (cookie.clone(), state.generation),
                        None => state.replace(self.login(username, password).await?),
                    }
                };
                let first = self
                    .transport
                    .send(auth::with_session(request.clone(), &cookie))
                    .await?;
                if first.status != 401 {
                    return Ok(first);
                }
                tracing::info!(base = %self.base, "stubbur session refused; logging in again once");
                let cookie = {
                    let mut state = session.lock().await;
                    match &state.cookie {
                        // Another call already renewed the session we were refused with.
                        Some(current) if state.generation != generation => current.clone(),
                        _ => state.replace(self.login(username, password).await?).0,
                    }
                };
                // A second 401 is returned as is and becomes `provider_unauthorized`.
                Ok(self
                    .transport
                    .send(auth::with_session(request, &cookie))
                    .await?)
            }
        }
    }

    /// ServiceStack's credentials login; the session cookie it sets.
    async fn login(
        &self,
        username: &str,
        password: &SecretString,
    ) -> Result<SecretString, ProviderError> {
        let response = self
            .transport
            .send(auth::login_request(&self.base, username, password))
            .await
            // Logging in changes nothing at the vendor, whatever happened to the answer.
            .map_err(|e| ProviderError {
                outcome: refund_provider::Outcome::NotApplied,
                ..ProviderError::from(e)
            })?;
        if !response.is_success() {
            let mut e = errors::from_response(&response);
            e.message = format!("the Stubbur login failed: {}", e.message);
            e.outcome = refund_provider::Outcome::NotApplied;
            return Err(e);
        }
        if let Some(cookie) = auth::session_cookie(&response.headers) {
            return Ok(cookie);
        }
        let body: LoginResponse = read_json(&response).map_err(|e| ProviderError {
            outcome: refund_provider::Outcome::NotApplied,
            ..e
        })?;
        body.session_id
            .as_deref()
            .and_then(auth::cookie_from_session_id)
            .ok_or_else(|| {
                ProviderError::new(
                    ErrorKind::BadResponse,
                    "the Stubbur login answered without a session (no ss-id cookie or sessionId)",
                )
            })
    }
}
