//! iVvy request signing: every call carries `Content-MD5`, `IVVY-Date` and an
//! `X-Api-Authorization: IWS <key>:<HMAC-SHA1>` header over a lower-cased string to sign
//! (vendors.md section 5, confirmed against the official .NET SDK). The sandbox verifies
//! with the same functions, so the two sides cannot drift apart.

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use refund_provider::chrono::{DateTime, NaiveDateTime, Utc};
use refund_provider::secrecy::{ExposeSecret, SecretString};
use sha1::Sha1;

/// The content type, byte-identical in the header and in the string to sign (iVvy
/// compares them as signed; `application/json` alone would break the signature).
pub const CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// The API version: part of every path and of the string to sign.
pub const API_VERSION: &str = "1.0";

/// The `IVVY-Date` format (UTC, no zone suffix).
pub const DATE_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// Header names as sent.
pub const HEADER_CONTENT_MD5: &str = "content-md5";
pub const HEADER_DATE: &str = "ivvy-date";
pub const HEADER_AUTHORIZATION: &str = "x-api-authorization";

/// The key pair of one iVvy account. Debug never shows either value.
pub struct Credentials {
    api_key: SecretString,
    api_secret: SecretString,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials { api_key: [redacted], api_secret: [redacted] }")
    }
}

/// The three headers a signed request carries. Debug never shows `authorization`.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    pub content_md5: String,
    pub ivvy_date: String,
    /// `IWS <key>:<signature>`: sensitive, it names the key.
    pub authorization: String,
}

impl std::fmt::Debug for SignedHeaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedHeaders")
            .field("content_md5", &self.content_md5)
            .field("ivvy_date", &self.ivvy_date)
            .field("authorization", &"[redacted]")
            .finish()
    }
}

impl Credentials {
    pub fn new(api_key: SecretString, api_secret: SecretString) -> Self {
        Credentials {
            api_key,
            api_secret,
        }
    }

    /// Signs a POST of `body` to `request_uri` (path and query as the server sees them,
    /// e.g. `/api/1.0/venue?action=addRefundToBooking`) at `now`.
    pub fn sign(&self, request_uri: &str, body: &[u8], now: DateTime<Utc>) -> SignedHeaders {
        let content_md5 = content_md5(body);
        let ivvy_date = format_date(now);
        let to_sign = string_to_sign("POST", &content_md5, CONTENT_TYPE, request_uri, &ivvy_date);
        let signature = signature(self.api_secret.expose_secret(), &to_sign);
        SignedHeaders {
            content_md5,
            ivvy_date,
            authorization: format!("IWS {}:{signature}", self.api_key.expose_secret()),
        }
    }
}

/// Lower-case hex MD5 of the exact body bytes.
pub fn content_md5(body: &[u8]) -> String {
    hex::encode(Md5::digest(body))
}

pub fn format_date(at: DateTime<Utc>) -> String {
    at.format(DATE_FORMAT).to_string()
}

/// Reads an `IVVY-Date` value back (the sandbox checks the 5-minute window with it).
pub fn parse_date(value: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(value.trim(), DATE_FORMAT)
        .ok()
        .map(|naive| naive.and_utc())
}

/// The string to sign: lower case of method + content-md5 + content-type + date (empty:
/// we send `IVVY-Date`, not `Date`) + request URI + API version + the IVVY headers as
/// `name=value` with dashes removed from the name, sorted and joined by `&` (we send one).
pub fn string_to_sign(
    method: &str,
    content_md5: &str,
    content_type: &str,
    request_uri: &str,
    ivvy_date: &str,
) -> String {
    let date = "";
    let ivvy_headers = format!("ivvydate={ivvy_date}");
    format!("{method}{content_md5}{content_type}{date}{request_uri}{API_VERSION}{ivvy_headers}")
        .to_lowercase()
}

/// Lower-case hex HMAC-SHA1 of the string to sign with the API secret.
pub fn signature(secret: &str, string_to_sign: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha1>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(string_to_sign.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Constant-time comparison of two signatures (hex strings), for the sandbox.
pub fn signatures_match(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"venueId":2,"bookingId":2,"refund":{"refundDate":"2026-11-22 10:00:00 UTC","amount":100,"notes":"Note for refund"}}"#;
    const URI: &str = "/api/1.0/venue?action=addRefundToBooking";

    fn at() -> DateTime<Utc> {
        parse_date("2026-11-22 10:00:00").unwrap()
    }

    #[test]
    fn debug_never_shows_the_authorization_header() {
        let credentials = Credentials::new(
            SecretString::from("the-api-key-1234"),
            SecretString::from("the-api-secret-5678"),
        );
        let headers = credentials.sign(URI, BODY, at());
        assert!(headers.authorization.contains("the-api-key-1234"));
        let shown = format!("{headers:?} {headers:#?}");
        assert!(!shown.contains("the-api-key-1234"), "{shown}");
        assert!(!shown.contains(&headers.authorization), "{shown}");
        assert!(shown.contains("[redacted]") && shown.contains(&headers.content_md5));
    }

    /// Expected values computed independently with python3:
    /// `hashlib.md5(body).hexdigest()` and
    /// `hmac.new(b"test-secret", s.encode(), hashlib.sha1).hexdigest()` with
    /// `s = ("POST"+md5+ct+""+uri+"1.0"+"IVVYDate="+date).lower()`.
    #[test]
    fn signs_like_the_vendor_sdk() {
        assert_eq!(content_md5(BODY), "ff537159856c3c4c9429ada1e27b8a2f");
        let s = string_to_sign(
            "POST",
            "ff537159856c3c4c9429ada1e27b8a2f",
            CONTENT_TYPE,
            URI,
            "2026-11-22 10:00:00",
        );
        assert_eq!(
            s,
            "postff537159856c3c4c9429ada1e27b8a2fapplication/json; charset=utf-8\
             /api/1.0/venue?action=addrefundtobooking1.0ivvydate=2026-11-22 10:00:00"
        );
        let creds = Credentials::new("test-key".into(), "test-secret".into());
        let signed = creds.sign(URI, BODY, at());
        assert_eq!(signed.ivvy_date, "2026-11-22 10:00:00");
        assert_eq!(
            signed.authorization,
            "IWS test-key:86a5b1852167761d1b4d10e8bb3ac0d51509b54a"
        );
    }

    #[test]
    fn debug_hides_the_keys() {
        let creds = Credentials::new("test-key".into(), "test-secret".into());
        let shown = format!("{creds:?}");
        assert!(!shown.contains("test-key") && !shown.contains("test-secret"));
    }

    #[test]
    fn compares_signatures() {
        assert!(signatures_match("abc", "abc"));
        assert!(!signatures_match("abc", "abd"));
        assert!(!signatures_match("abc", "ab"));
        assert_eq!(parse_date("yesterday"), None);
    }
}
