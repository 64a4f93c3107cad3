//! What a recording keeps of an exchange: the redaction rules (credentials, times, the
//! gateway's own ids, personal data) and the shapes that stand in for removed values.

use std::sync::LazyLock;

use regex::Regex;

pub(super) const ANY: &str = "{{any}}";

/// What replaces a credential the vendor hands out (a session id, a token, a cookie value):
/// plain, so the gateway can still send it back when the recording is replayed, where the
/// request's header is matched by shape.
pub(super) const PLACEHOLDER: &str = "redacted";

/// Response headers not worth replaying: framing and per-answer noise.
pub(super) const SKIPPED_RESPONSE_HEADERS: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "date",
];

/// A time as vendors write them: ISO 8601 / SQL (`2026-12-01 16:02:25 UTC`,
/// `2026-12-01T16:02:25.123+01:00`) or an HTTP date (`Tue, 01 Dec 2026 16:02:25 GMT`).
pub(super) static TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?(\.\d+)?( ?(Z|UTC|GMT|[+-]\d{2}:?\d{2}))?)?$",
        r"|^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$"
    ))
    .unwrap()
});
/// What replaces personal data in a vendor's answer (as in the shipped fixtures).
pub(super) const PERSONAL: &str = "REDACTED";

/// Field names that hold personal data by default: people's names, emails, phones, postal
/// addresses, bank accounts, birth dates. Their string values are not recorded (answers:
/// `REDACTED`; requests: `{{any}}`).
pub(super) static PERSONAL_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)^(first|last|middle|full|display|given|sur|holder|customer|contact|account_?holder)_?name$",
        r"|e_?mail|phone|mobile|^street|^address(_?line)?\d*$|^city$|^zip(_?code)?$|^post(al)?_?code$",
        r"|iban|bank_?account|birth|^dob$"
    ))
    .unwrap()
});

pub(super) fn personal_name(key: &str) -> bool {
    PERSONAL_FIELD.is_match(&key.replace('-', "_"))
}

/// The gateway's own refund ids (`rfg_` + ULID), new on every run: a request carrying one
/// (a vendor reference, a note) is matched whatever the id.
pub(super) static GATEWAY_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"rfg_[0-9a-z]{26}").unwrap());
/// Headers computed from the body (which may hold a per-run value): matched by shape.
pub(super) static BODY_DIGEST_HEADER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)md5|digest|sha\d*|hash|checksum").unwrap());
/// `name=value` pairs of a `Set-Cookie` value (attributes such as `path=/` included: harmless).
pub(super) static COOKIE_VALUE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)(^|,\s*)([^=;,\s]+)=[^;,]*").unwrap());

/// The path relative to the base URL's path, and the decoded query.
pub(super) fn relative(base_url: &str, url: &str) -> (String, Vec<(String, String)>) {
    let base_path = url::Url::parse(base_url)
        .map(|u| u.path().trim_end_matches('/').to_string())
        .unwrap_or_default();
    match url::Url::parse(url) {
        Ok(u) => {
            let path = u.path();
            let path = path.strip_prefix(&base_path).unwrap_or(path);
            let path = if path.is_empty() { "/" } else { path };
            (path.to_string(), u.query_pairs().into_owned().collect())
        }
        Err(_) => (url.to_string(), Vec::new()),
    }
}

/// A regular expression of a value's shape that does not contain the value: a leading
/// scheme word (`Bearer`, `TM-HMAC-SHA256`) and `name=` labels are kept, every value part
/// becomes a character class (`[0-9a-f]{64}` for hex, digits for times).
pub fn shape(value: &str) -> String {
    let tokens: Vec<&str> = value.split(' ').collect();
    let mut parts = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let scheme = i == 0
            && tokens.len() > 1
            && !token.is_empty()
            && token.len() <= 32
            && token.starts_with(|c: char| c.is_ascii_alphabetic())
            && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if scheme {
            parts.push(regex::escape(token));
            continue;
        }
        match token.split_once('=') {
            Some((label, rest))
                if !label.is_empty()
                    && label.len() <= 16
                    && label.chars().all(|c| c.is_ascii_alphabetic()) =>
            {
                parts.push(format!(
                    "{}={}",
                    regex::escape(label),
                    class(rest.trim_end_matches(',')) + if rest.ends_with(',') { "," } else { "" }
                ));
            }
            _ => parts.push(class(token)),
        }
    }
    format!("^{}$", parts.join(" "))
}

pub(super) fn class(part: &str) -> String {
    if part.is_empty() {
        return String::new();
    }
    let n = part.len();
    if TIME.is_match(part) || part.chars().all(|c| c.is_ascii_digit()) {
        part.chars()
            .map(|c| {
                if c.is_ascii_digit() {
                    r"\d".to_string()
                } else {
                    regex::escape(&c.to_string())
                }
            })
            .collect()
    } else if n >= 16 && part.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')) {
        format!("[0-9a-f]{{{n}}}")
    } else if part
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        "[A-Za-z0-9_-]+".to_string()
    } else {
        r"\S+".to_string()
    }
}
