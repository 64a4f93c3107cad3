//! How the gateway proves itself to Stubbur: a static bearer token, or a ServiceStack
//! credentials login whose session cookies are held here, reused, and replaced when a call
//! answers 401. Secrets stay in `SecretString` and reach only sensitive headers.

use refund_provider::http::HeaderMap;
use refund_provider::secrecy::{ExposeSecret, SecretString};
use refund_provider::{http::Method, VendorRequest};
use tokio::sync::Mutex;

use crate::wire::{LoginRequest, LOGIN_PATH};

/// The ServiceStack session cookies a login sets and later calls must send back: `ss-id`
/// and `ss-pid` (session ids) and `ss-tok` (a JWT, when the JWT provider is on).
const SESSION_COOKIES: [&str; 3] = ["ss-id", "ss-pid", "ss-tok"];

/// The configured way in, resolved (secrets read).
pub enum Auth {
    Bearer(SecretString),
    Credentials {
        username: String,
        password: SecretString,
        session: Mutex<Session>,
    },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Auth::Credentials { username, .. } => f
                .debug_struct("Credentials")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
        }
    }
}

impl Auth {
    pub fn credentials(username: String, password: SecretString) -> Self {
        Auth::Credentials {
            username,
            password,
            session: Mutex::new(Session::default()),
        }
    }
}

/// The current login. `generation` counts logins, so that when several calls see a 401 at
/// once only the first logs in again and the others reuse its new session.
#[derive(Default)]
pub struct Session {
    pub cookie: Option<SecretString>,
    pub generation: u64,
}

impl Session {
    pub fn replace(&mut self, cookie: SecretString) -> (SecretString, u64) {
        self.generation += 1;
        self.cookie = Some(cookie.clone());
        (cookie, self.generation)
    }
}

/// Adds the bearer token to a request (marked sensitive).
pub fn with_bearer(request: VendorRequest, token: &SecretString) -> VendorRequest {
    let value = format!("Bearer {}", token.expose_secret());
    request.header_sensitive("authorization", &value)
}

/// Adds the session cookies to a request (marked sensitive).
pub fn with_session(request: VendorRequest, cookie: &SecretString) -> VendorRequest {
    request.header_sensitive("cookie", cookie.expose_secret())
}

/// The credentials login request: `POST {base}/auth/credentials {userName, password}`.
pub fn login_request(base: &str, username: &str, password: &SecretString) -> VendorRequest {
    let body = LoginRequest {
        user_name: username.to_string(),
        password: password.expose_secret().to_string(),
    };
    let json = serde_json::to_value(&body).unwrap_or_default();
    VendorRequest::new(Method::POST, format!("{base}{LOGIN_PATH}"))
        .header("accept", "application/json")
        .json_body(&json)
}

/// The `Cookie` header value to send after a login, from its `Set-Cookie` headers:
/// `ss-id=..; ss-pid=..` (and `ss-tok` when set). `None` when no session cookie was set.
pub fn session_cookie(headers: &HeaderMap) -> Option<SecretString> {
    let mut found: Vec<(usize, String)> = Vec::new();
    let values = headers.get_all("set-cookie").iter();
    for text in values
        .filter_map(|v| v.to_str().ok())
        .flat_map(split_folded)
    {
        let pair = text.split(';').next().unwrap_or("").trim();
        let Some((name, val)) = pair.split_once('=') else {
            continue;
        };
        let (name, val) = (name.trim(), val.trim().trim_matches('"'));
        if let Some(rank) = SESSION_COOKIES.iter().position(|c| *c == name) {
            if !val.is_empty() {
                found.retain(|(r, _)| *r != rank);
                found.push((rank, format!("{name}={val}")));
            }
        }
    }
    if !found.iter().any(|(rank, _)| *rank == 0 || *rank == 2) {
        return None;
    }
    found.sort_by_key(|(rank, _)| *rank);
    let joined: Vec<String> = found.into_iter().map(|(_, c)| c).collect();
    Some(SecretString::from(joined.join("; ")))
}

/// Splits a `Set-Cookie` value that a proxy folded (`a=1; path=/, b=2; path=/`) into its
/// cookies. A comma starts a new cookie only when `name=` follows it before any `;` or
/// space, so the comma inside `expires=Mon, 01 Jan ...` does not.
fn split_folded(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, _) in text.match_indices(',') {
        let rest = text[i + 1..].trim_start();
        let head = rest.split(';').next().unwrap_or("");
        let starts_cookie = head
            .split_once('=')
            .is_some_and(|(name, _)| !name.is_empty() && !name.contains(' '));
        if starts_cookie {
            parts.push(&text[start..i]);
            start = i + 1;
        }
    }
    parts.push(&text[start..]);
    parts
}

/// A session from the login body's `sessionId`, for deployments that answer without
/// cookies (ServiceStack accepts the id as the `ss-id` cookie).
pub fn cookie_from_session_id(session_id: &str) -> Option<SecretString> {
    let id = session_id.trim();
    let plain = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    plain.then(|| SecretString::from(format!("ss-id={id}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use refund_provider::http::HeaderValue;

    #[test]
    fn reads_service_stack_session_cookies() {
        let mut h = HeaderMap::new();
        for v in [
            "ss-id=AbC123; path=/; samesite=strict; httponly",
            "ss-pid=XyZ789; expires=Mon, 01 Jan 2046 00:00:00 GMT; path=/; httponly",
            "ARRAffinity=azure-node-1; Path=/",
            "ss-opt=perm; path=/",
        ] {
            h.append("set-cookie", HeaderValue::from_static(v));
        }
        let cookie = session_cookie(&h).unwrap();
        assert_eq!(cookie.expose_secret(), "ss-id=AbC123; ss-pid=XyZ789");
        assert!(session_cookie(&HeaderMap::new()).is_none());
        let mut folded = HeaderMap::new();
        folded.append(
            "set-cookie",
            HeaderValue::from_static(
                "ss-id=A1; path=/; httponly, ss-pid=P1; expires=Mon, 23 Nov 2046 10:00:00 GMT; path=/",
            ),
        );
        assert_eq!(
            session_cookie(&folded).unwrap().expose_secret(),
            "ss-id=A1; ss-pid=P1"
        );
        let mut only_pid = HeaderMap::new();
        only_pid.append("set-cookie", HeaderValue::from_static("ss-pid=1; path=/"));
        assert!(session_cookie(&only_pid).is_none());
    }

    #[test]
    fn headers_are_sensitive_and_debug_hides_secrets() {
        let token = SecretString::from("tok-value-123".to_string());
        let r = with_bearer(
            VendorRequest::new(Method::POST, "http://x/refund/process"),
            &token,
        );
        assert_eq!(r.headers["authorization"], "Bearer tok-value-123");
        assert!(r.headers["authorization"].is_sensitive());
        assert!(!format!("{r:?}").contains("tok-value-123"));
        let auth = Auth::credentials("ops".into(), SecretString::from("pw-secret".to_string()));
        let shown = format!("{auth:?} {:?}", Auth::Bearer(token));
        assert!(
            !shown.contains("pw-secret") && !shown.contains("tok-value"),
            "{shown}"
        );
    }

    #[test]
    fn login_body_and_session_id_fallback() {
        let pw = SecretString::from("pw".to_string());
        let r = login_request("http://x", "ops", &pw);
        assert_eq!(r.url, "http://x/auth/credentials");
        let body: serde_json::Value = serde_json::from_slice(r.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"userName": "ops", "password": "pw"})
        );
        assert_eq!(
            cookie_from_session_id("s1").unwrap().expose_secret(),
            "ss-id=s1"
        );
        assert!(cookie_from_session_id("a;b").is_none());
    }
}
