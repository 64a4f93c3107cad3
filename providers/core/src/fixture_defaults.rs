//! What a vendor crate tells the gateway's fixture tools about its recordings
//! (`refund-gateway record` and `refund-gateway fixtures verify`): which answer fields are
//! noise (ids and times that differ between two calls), which hold personal data, and which
//! recorded requests only read. And `RecordedCall`: a fixture's request as the vendor crate
//! receives it to send it again with the instance's own credentials (`Provider::send_recorded`).
//!
//! Pointers are JSON pointers (RFC 6901) where a `*` segment stands for any array index or
//! object key: `/payments/*/paidts`.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde_json::Value;

use crate::fixture::{ExpectedRequest, HeaderExpectation};
use crate::transport::VendorRequest;

/// The placeholder of a recorded body value that was not kept (a time, a credential).
const ANY: &str = "{{any}}";

/// A vendor's defaults for its recordings (`Vendor::fixture_defaults`).
#[derive(Debug, Clone, Copy)]
pub struct FixtureDefaults {
    /// Answer fields whose presence or type may change between two identical calls.
    pub noise: &'static [&'static str],
    /// Answer fields holding people's data (names, emails, phones, addresses, bank
    /// accounts): a recording keeps `REDACTED` there, whatever the field is called.
    pub personal_data: &'static [&'static str],
    /// Whether a recorded request only reads, so `fixtures verify` may send it to the live
    /// vendor without `--allow-writes`.
    pub reads: fn(&ExpectedRequest) -> bool,
    /// What the shared contract suite needs to play the vendor's faults from a user's own
    /// recordings (`contract::derive`).
    pub contract: crate::contract::derive::ContractFaults,
}

impl Default for FixtureDefaults {
    fn default() -> Self {
        FixtureDefaults {
            noise: &[],
            personal_data: &[],
            reads: reads_by_method,
            contract: crate::contract::derive::ContractFaults {
                create_call: None,
                error_bodies: &[],
                not_applicable: &[],
                sandbox_credentials: &[],
            },
        }
    }
}

/// `GET` and `HEAD` read; every other method may write (the default rule).
pub fn reads_by_method(request: &ExpectedRequest) -> bool {
    ["GET", "HEAD"]
        .iter()
        .any(|m| request.method.eq_ignore_ascii_case(m))
}

/// A fixture's request, to be sent again by the vendor crate, which adds what the recording
/// left out (credentials, signatures): headers recorded by shape are dropped here.
#[derive(Debug, Clone)]
pub struct RecordedCall {
    pub method: Method,
    /// Relative to the instance's base URL, as recorded.
    pub path: String,
    /// Decoded, as recorded.
    pub query: Vec<(String, String)>,
    /// The headers recorded with an exact value.
    pub headers: HeaderMap,
    /// The recorded JSON body, `{{any}}` placeholders included.
    pub body: Option<Value>,
}

impl RecordedCall {
    /// The call a fixture recorded; an error for a method or header that is not valid HTTP.
    pub fn from_fixture(request: &ExpectedRequest) -> Result<RecordedCall, String> {
        let method = Method::from_bytes(request.method.as_bytes())
            .map_err(|_| format!("`{}` is not an HTTP method", request.method))?;
        let mut headers = HeaderMap::new();
        for (name, expectation) in &request.headers {
            if let HeaderExpectation::Exact(value) = expectation {
                let name = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| format!("`{name}` is not a header name"))?;
                let value = HeaderValue::from_str(value)
                    .map_err(|_| format!("header {name} has a value HTTP cannot carry"))?;
                headers.insert(name, value);
            }
        }
        Ok(RecordedCall {
            method,
            path: request.path.clone(),
            query: request
                .query
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            headers,
            body: request.body.clone(),
        })
    }

    /// The request to `base` (the instance's base URL, no trailing slash), without
    /// credentials. Fails when the body still holds a `{{any}}` placeholder: the recording
    /// did not keep that value, so the vendor crate must fill it in or the call cannot be
    /// sent.
    pub fn request(&self, base: &str) -> Result<VendorRequest, String> {
        let mut url = format!("{}{}", base.trim_end_matches('/'), self.path);
        if !self.query.is_empty() {
            let mut query = String::new();
            for (k, v) in &self.query {
                if !query.is_empty() {
                    query.push('&');
                }
                query.push_str(&encode(k));
                query.push('=');
                query.push_str(&encode(v));
            }
            url.push('?');
            url.push_str(&query);
        }
        let mut request = VendorRequest::new(self.method.clone(), url);
        request.headers = self.headers.clone();
        if let Some(body) = &self.body {
            if let Some(at) = placeholder(body, String::new()) {
                return Err(format!(
                    "the recorded body does not keep the value at {at} ({ANY}): it cannot be sent again"
                ));
            }
            request.body = Some(Bytes::from(body.to_string()));
            request
                .headers
                .entry(http::header::CONTENT_TYPE)
                .or_insert(HeaderValue::from_static("application/json"));
        }
        Ok(request)
    }

    /// Where the recorded body holds a `{{any}}` placeholder (the first), if anywhere.
    pub fn placeholder(&self) -> Option<String> {
        placeholder(self.body.as_ref()?, String::new())
    }
}

/// The pointer of the first `{{any}}` in `value`.
fn placeholder(value: &Value, at: String) -> Option<String> {
    match value {
        Value::String(s) if s == ANY => Some(if at.is_empty() { "/".into() } else { at }),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            placeholder(
                v,
                format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
            )
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| placeholder(v, format!("{at}/{i}"))),
        _ => None,
    }
}

/// Percent-encoding of a query part (RFC 3986 unreserved characters kept).
fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(value: Value) -> ExpectedRequest {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_recorded_call_keeps_exact_headers_and_encodes_the_query() {
        let call = RecordedCall::from_fixture(&fixture(serde_json::json!({
            "method": "POST", "path": "/api/1.0/invoice",
            "query": {"action": "getInvoice", "order": "https://x/orders/1 2"},
            "headers": {"accept": "application/json", "authorization": {"matches": "^IVVY "}},
            "body": {"id": 1736}
        })))
        .unwrap();
        let request = call.request("http://127.0.0.1:9/").unwrap();
        assert_eq!(
            request.url,
            "http://127.0.0.1:9/api/1.0/invoice?action=getInvoice&order=https%3A%2F%2Fx%2Forders%2F1%202"
        );
        assert_eq!(request.headers["accept"], "application/json");
        assert!(!request.headers.contains_key("authorization"));
        assert_eq!(request.headers["content-type"], "application/json");
        assert_eq!(request.body.unwrap(), r#"{"id":1736}"#);
    }

    #[test]
    fn a_body_with_a_placeholder_cannot_be_sent() {
        let call = RecordedCall::from_fixture(&fixture(serde_json::json!({
            "method": "POST", "path": "/x", "body": {"a": [1, {"when": "{{any}}"}]}
        })))
        .unwrap();
        let error = call.request("http://h").unwrap_err();
        assert!(error.contains("/a/1/when"), "{error}");
    }

    #[test]
    fn only_get_and_head_read_by_default() {
        let read =
            |m: &str| reads_by_method(&fixture(serde_json::json!({"method": m, "path": "/"})));
        assert!(read("GET") && read("head"));
        assert!(!read("POST") && !read("PUT") && !read("DELETE"));
    }
}
