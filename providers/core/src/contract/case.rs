//! The vendor faults of the shared contract suite, what each phase calls for, and which
//! recordings a vendor's fault may be played with (`Case::check_fault`).

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::capabilities::Capabilities;
use crate::fixture::{Exchange, Fault};

/// The instance timeout the suite gives timeout cases.
pub const TIMEOUT_CASE_LIMIT: Duration = Duration::from_millis(500);
/// A timeout case's fixture must delay its answer at least this long (three times the
/// limit, so that a slow machine cannot turn the case into a success).
pub const TIMEOUT_CASE_MIN_DELAY: Duration = Duration::from_millis(1500);

/// Which canonical call a case makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// `POST /v1/refunds`.
    Create,
    /// `GET /v1/refunds/{id}` or `GET /v1/refunds?provider=..&<target>`.
    Lookup,
    /// `POST /v1/refund-quotes`: reads only, so the read faults of lookups.
    Quote,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Create => "create",
            Phase::Lookup => "lookup",
            Phase::Quote => "quote",
        }
    }

    /// Whether a provider with these capabilities gets this phase's cases: creates need
    /// `create`; lookups need `get` or `list` (a vendor that cannot be read has none);
    /// quotes need `quote` and a vendor that can be read (a quote of one that cannot
    /// sends nothing, so no vendor fault can reach it).
    pub fn applies(self, capabilities: &Capabilities) -> bool {
        match self {
            Phase::Create => capabilities.create,
            Phase::Lookup => capabilities.get || capabilities.list,
            Phase::Quote => capabilities.quote && (capabilities.get || capabilities.list),
        }
    }

    pub const ALL: [Phase; 3] = [Phase::Create, Phase::Lookup, Phase::Quote];

    /// The cases of this phase, in the order the suite runs them.
    pub fn cases(self) -> &'static [Case] {
        match self {
            Phase::Create => &CREATE_CASES,
            Phase::Lookup | Phase::Quote => &LOOKUP_CASES,
        }
    }
}

/// A vendor fault every provider must answer the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Case {
    /// HTTP 401: the vendor refuses the gateway's credentials.
    Unauthorized,
    /// HTTP 403: the credentials lack a right.
    Forbidden,
    /// HTTP 404: the target does not exist at the vendor.
    NotFound,
    /// HTTP 429 with `Retry-After` (whole seconds).
    RateLimited,
    /// A 5xx answered by an HTML page (a proxy's error page).
    Html5xx,
    /// A 2xx whose JSON body is cut off.
    TruncatedJson,
    /// A lookup whose connection is closed without an answer.
    ConnectionReset,
    /// The connection closes without an answer on a vendor call made before the create
    /// request (a read the create needs): the create is never sent.
    ResetBeforeCreate,
    /// The connection closes without an answer after the create request was sent.
    ResetAfterCreate,
    /// HTTP 200 whose body is the vendor's own error document.
    ErrorBody200,
    /// The answer comes later than the instance timeout.
    Timeout,
}

const CREATE_CASES: [Case; 10] = [
    Case::Unauthorized,
    Case::Forbidden,
    Case::NotFound,
    Case::RateLimited,
    Case::Html5xx,
    Case::TruncatedJson,
    Case::ResetBeforeCreate,
    Case::ResetAfterCreate,
    Case::ErrorBody200,
    Case::Timeout,
];

const LOOKUP_CASES: [Case; 9] = [
    Case::Unauthorized,
    Case::Forbidden,
    Case::NotFound,
    Case::RateLimited,
    Case::Html5xx,
    Case::TruncatedJson,
    Case::ConnectionReset,
    Case::ErrorBody200,
    Case::Timeout,
];

impl Case {
    /// The name used in manifests and reports.
    pub fn name(self) -> &'static str {
        match self {
            Case::Unauthorized => "unauthorized",
            Case::Forbidden => "forbidden",
            Case::NotFound => "not_found",
            Case::RateLimited => "rate_limited",
            Case::Html5xx => "html_5xx",
            Case::TruncatedJson => "truncated_json",
            Case::ConnectionReset => "connection_reset",
            Case::ResetBeforeCreate => "reset_before_create",
            Case::ResetAfterCreate => "reset_after_create",
            Case::ErrorBody200 => "error_body_200",
            Case::Timeout => "timeout",
        }
    }

    /// Checks that `fault` (the case's last fixture) shows this case's fault.
    pub fn check_fault(self, fault: &Exchange) -> Result<(), String> {
        let r = &fault.response;
        let status = |want: u16| {
            if r.status == want && r.fault.is_none() {
                Ok(())
            } else {
                Err(format!("needs a recorded HTTP {want} answer"))
            }
        };
        match self {
            Case::Unauthorized => status(401),
            Case::Forbidden => status(403),
            Case::NotFound => status(404),
            Case::RateLimited => {
                status(429)?;
                let seconds = r
                    .headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
                    .and_then(|(_, v)| v.trim().parse::<u64>().ok());
                match seconds {
                    Some(_) => Ok(()),
                    None => Err("needs a `retry-after` header in whole seconds".into()),
                }
            }
            Case::Html5xx => {
                let html = r
                    .body_text
                    .as_deref()
                    .is_some_and(|t| t.trim_start().starts_with('<'));
                if (500..=599).contains(&r.status) && html && r.fault.is_none() {
                    Ok(())
                } else {
                    Err("needs a 5xx answer whose `body_text` is an HTML page".into())
                }
            }
            Case::TruncatedJson => {
                let cut = r.body_text.as_deref().is_some_and(|t| {
                    !t.trim().is_empty() && serde_json::from_str::<Value>(t).is_err()
                });
                if (200..=299).contains(&r.status) && cut && r.fault.is_none() {
                    Ok(())
                } else {
                    Err("needs a 2xx answer whose `body_text` is JSON cut off".into())
                }
            }
            Case::ConnectionReset | Case::ResetBeforeCreate | Case::ResetAfterCreate => {
                match r.fault {
                    Some(Fault::Reset) => Ok(()),
                    None => Err("needs `\"fault\": \"reset\"`".into()),
                }
            }
            Case::ErrorBody200 => {
                if r.status == 200
                    && r.fault.is_none()
                    && r.body.as_ref().is_some_and(Value::is_object)
                {
                    Ok(())
                } else {
                    Err("needs an HTTP 200 answer with a JSON error `body`".into())
                }
            }
            Case::Timeout => {
                let delay = Duration::from_millis(r.delay_ms.unwrap_or(0));
                if delay >= TIMEOUT_CASE_MIN_DELAY {
                    Ok(())
                } else {
                    Err(format!(
                        "needs `delay_ms` of at least {} (the suite's instance timeout is {} ms)",
                        TIMEOUT_CASE_MIN_DELAY.as_millis(),
                        TIMEOUT_CASE_LIMIT.as_millis()
                    ))
                }
            }
        }
    }

    /// For creates: whether the fault must come on the create request itself (`Some(true)`:
    /// the outcome is then unknown), before it (`Some(false)`), or may come on either.
    pub(super) fn fault_on_create_call(self) -> Option<bool> {
        match self {
            Case::Html5xx | Case::TruncatedJson | Case::ResetAfterCreate | Case::Timeout => {
                Some(true)
            }
            Case::ResetBeforeCreate => Some(false),
            _ => None,
        }
    }
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
