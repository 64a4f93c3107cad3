//! Ticketmatic request signing: the `Authorization: TM-HMAC-SHA256 ...` header every call
//! carries. The one place that touches the secret key; the sandbox verifies with the same
//! functions.

use hmac::{Hmac, Mac};
use refund_provider::chrono::{DateTime, NaiveDateTime, Utc};
use refund_provider::secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// The scheme word of the header.
pub const SCHEME: &str = "TM-HMAC-SHA256";

/// `ts` format: UTC, no zone, no fractions (`2024-05-01T12:30:00`).
pub const TS_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

/// How far `ts` may be from the vendor's clock before it refuses the request (vendors.md [V]).
pub const MAX_SKEW_SECONDS: i64 = 30 * 60;

/// The credentials of one instance. Debug shows neither key.
pub struct Signer {
    account: String,
    access_key: SecretString,
    secret_key: SecretString,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("account", &self.account)
            .field("access_key", &"[redacted]")
            .field("secret_key", &"[redacted]")
            .finish()
    }
}

impl Signer {
    pub fn new(account: &str, access_key: SecretString, secret_key: SecretString) -> Self {
        Signer {
            account: account.to_string(),
            access_key,
            secret_key,
        }
    }

    /// The `Authorization` header value for a request sent at `now`.
    pub fn authorization(&self, now: DateTime<Utc>) -> String {
        let ts = now.format(TS_FORMAT).to_string();
        let key = self.access_key.expose_secret();
        let sign = signature(self.secret_key.expose_secret(), key, &self.account, &ts);
        format!("{SCHEME} key={key} ts={ts} sign={sign}")
    }
}

/// Lower-case hex HMAC-SHA256, keyed by the secret key, over `accesskey + account + ts`.
pub fn signature(secret_key: &str, access_key: &str, account: &str, ts: &str) -> String {
    // HMAC takes keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret_key.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(access_key.as_bytes());
    mac.update(account.as_bytes());
    mac.update(ts.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The parts of a received header, for the sandbox to verify.
#[derive(Debug, PartialEq, Eq)]
pub struct ParsedAuthorization<'a> {
    pub key: &'a str,
    pub ts: &'a str,
    pub sign: &'a str,
}

/// Parses `TM-HMAC-SHA256 key=<k> ts=<ts> sign=<s>` (single spaces, in that order).
pub fn parse_authorization(header: &str) -> Option<ParsedAuthorization<'_>> {
    let rest = header.strip_prefix(SCHEME)?.strip_prefix(' ')?;
    let mut parts = rest.split(' ');
    let key = parts.next()?.strip_prefix("key=")?;
    let ts = parts.next()?.strip_prefix("ts=")?;
    let sign = parts.next()?.strip_prefix("sign=")?;
    // No quotes, no commas, nothing empty: the vendor's format is exactly this.
    let plain = |v: &str| !v.is_empty() && !v.contains([',', '"']);
    if parts.next().is_some() || !plain(key) || !plain(ts) || !plain(sign) {
        return None;
    }
    Some(ParsedAuthorization { key, ts, sign })
}

/// Whether `ts` is a well-formed timestamp within the allowed skew of `now`.
pub fn ts_is_fresh(ts: &str, now: DateTime<Utc>) -> bool {
    NaiveDateTime::parse_from_str(ts, TS_FORMAT)
        .map(|t| (now - t.and_utc()).num_seconds().abs() <= MAX_SKEW_SECONDS)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use refund_provider::chrono::TimeZone;

    fn at(ts: &str) -> DateTime<Utc> {
        NaiveDateTime::parse_from_str(ts, TS_FORMAT)
            .unwrap()
            .and_utc()
    }

    /// Expected value computed independently:
    /// python3 -c 'import hmac,hashlib; print(hmac.new(b"tm-test-secret-key",
    ///   b"tm-test-access-key"+b"demo"+b"2024-05-01T12:30:00", hashlib.sha256).hexdigest())'
    #[test]
    fn signs_like_the_vendor() {
        let signer = Signer::new(
            "demo",
            SecretString::from("tm-test-access-key"),
            SecretString::from("tm-test-secret-key"),
        );
        let now = Utc.with_ymd_and_hms(2024, 5, 1, 12, 30, 0).unwrap();
        assert_eq!(
            signer.authorization(now),
            "TM-HMAC-SHA256 key=tm-test-access-key ts=2024-05-01T12:30:00 \
             sign=56eb5e01ba705e11cadb27cb4b411b4b24641b10d00e7df3fd9949c3ebedc7aa"
        );
    }

    #[test]
    fn parses_and_checks_freshness() {
        let header = "TM-HMAC-SHA256 key=k ts=2024-05-01T12:30:00 sign=ab";
        let parsed = parse_authorization(header).unwrap();
        assert_eq!(
            (parsed.key, parsed.ts, parsed.sign),
            ("k", "2024-05-01T12:30:00", "ab")
        );
        assert!(parse_authorization("TM-HMAC-SHA256 key=k, ts=x sign=y").is_none());
        assert!(parse_authorization("Basic abc").is_none());
        assert!(ts_is_fresh(
            "2024-05-01T12:30:00",
            at("2024-05-01T12:59:00")
        ));
        assert!(!ts_is_fresh(
            "2024-05-01T12:30:00",
            at("2024-05-01T13:00:01")
        ));
        assert!(!ts_is_fresh(
            "2024-05-01 12:30:00",
            at("2024-05-01T12:30:00")
        ));
    }

    #[test]
    fn debug_hides_keys() {
        let signer = Signer::new(
            "demo",
            SecretString::from("visible-access"),
            SecretString::from("visible-secret"),
        );
        let debug = format!("{signer:?}");
        assert!(!debug.contains("visible-access") && !debug.contains("visible-secret"));
    }
}
