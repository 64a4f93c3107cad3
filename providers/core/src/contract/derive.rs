//! The shared faults played from a user's own recordings: each fault case is a recorded
//! canonical call whose vendor exchanges are kept up to the one that fails, and that one
//! answers with the fault instead (its status swapped and its body replaced by the vendor's
//! own error body, an HTML error page, the recorded JSON cut in half, a reset connection, a
//! delay past the timeout). What this needs of a vendor's wire format (which request
//! creates, its error bodies) each vendor crate declares (`ContractFaults`, beside its
//! `fixture_defaults`), so the suite names no vendor.
//!
//! A fault that cannot be played from what was recorded (no recorded call of its phase, a
//! create that sends nothing before the create request, a vendor without such an error
//! body) is `NotRecorded`, which the suite reports: never a silent pass.

use std::collections::BTreeMap;

use serde_json::Value;

use super::recorded::RecordedCase;
use super::{
    CallPattern, CanonicalRequest, Case, Phase, TIMEOUT_CASE_LIMIT, TIMEOUT_CASE_MIN_DELAY,
};
use crate::fixture::{Exchange, Fault};

/// What a vendor crate declares so the suite can play the shared faults from recordings.
#[derive(Debug, Clone, Copy, Default)]
pub struct ContractFaults {
    /// The vendor request that creates a refund: method and path (`*` for one segment).
    pub create_call: Option<(&'static str, &'static str)>,
    /// The vendor's error body (JSON text) for an HTTP status: 401, 403, 404, 429, and 200
    /// for an error answered with HTTP 200 (absent: the vendor has none).
    pub error_bodies: &'static [(u16, &'static str)],
    /// Cases (`<phase>.<case>`, or `*.<case>` for every phase) that do not apply to the
    /// vendor, and why.
    pub not_applicable: &'static [(&'static str, &'static str)],
    /// For a recording of the built-in sandbox (which needs no configured credential):
    /// the instance keys a replaying instance needs, with `{ "secret": .. }` placeholders
    /// (JSON text).
    pub sandbox_credentials: &'static [(&'static str, &'static str)],
}

impl ContractFaults {
    /// The create requests' pattern.
    pub fn create_pattern(&self) -> Option<CallPattern> {
        self.create_call.map(|(method, path)| CallPattern {
            method: method.to_string(),
            path: path.to_string(),
            query: BTreeMap::new(),
        })
    }

    fn error_body(&self, status: u16) -> Option<Value> {
        self.error_bodies
            .iter()
            .find(|(s, _)| *s == status)
            .and_then(|(_, text)| serde_json::from_str(text).ok())
    }

    fn not_applicable(&self, phase: Phase, case: Case) -> Option<&'static str> {
        let exact = format!("{}.{case}", phase.name());
        let any = format!("*.{case}");
        self.not_applicable
            .iter()
            .find(|(at, _)| *at == exact || *at == any)
            .map(|(_, why)| *why)
    }
}

/// A recorded case with its fixtures loaded (in order).
#[derive(Debug, Clone)]
pub struct Source<'a> {
    pub name: &'a str,
    pub case: &'a RecordedCase,
    pub fixtures: &'a [(String, Exchange)],
}

/// A fault case played from a recording.
#[derive(Debug, Clone)]
pub struct DerivedCase {
    pub phase: Phase,
    pub case: Case,
    /// The recorded case it comes from.
    pub from: String,
    pub request: CanonicalRequest,
    /// The fixtures to serve: the recorded ones up to the fault, the last one showing it.
    pub fixtures: Vec<(String, Exchange)>,
}

/// What became of one fault case.
#[derive(Debug, Clone)]
pub enum Derived {
    Case(DerivedCase),
    /// The vendor crate declares that it does not apply, and why.
    NotApplicable(String),
    /// It cannot be played from these recordings, and why.
    NotRecorded(String),
}

/// The fault case `case` of `phase`, played from the first recorded call of that phase
/// it can be played from.
pub fn derive(
    phase: Phase,
    case: Case,
    sources: &[Source<'_>],
    vendor: &ContractFaults,
) -> Derived {
    if let Some(why) = vendor.not_applicable(phase, case) {
        return Derived::NotApplicable(why.to_string());
    }
    let mut why = format!("no successful {} call was recorded", phase.name());
    for source in sources.iter().filter(|s| s.case.request.phase() == phase) {
        match derive_from(phase, case, source, vendor) {
            Ok(derived) => return Derived::Case(derived),
            Err(e) => why = format!("{}: {e}", source.name),
        }
    }
    Derived::NotRecorded(why)
}

fn derive_from(
    phase: Phase,
    case: Case,
    source: &Source<'_>,
    vendor: &ContractFaults,
) -> Result<DerivedCase, String> {
    if !(200..300).contains(&source.case.answer.status) {
        return Err(format!(
            "answered {}, not a success to build on",
            source.case.answer.status
        ));
    }
    let normal = |e: &Exchange| {
        e.response.fault.is_none()
            && e.response.delay_ms.unwrap_or(0) < TIMEOUT_CASE_LIMIT.as_millis() as u64
    };
    if source.fixtures.is_empty() || !source.fixtures.iter().all(|(_, e)| normal(e)) {
        return Err("its vendor exchanges did not all answer normally".into());
    }
    let at = fault_index(phase, case, source.fixtures, vendor)?;
    let (name, recorded) = &source.fixtures[at];
    let response = fault_response(case, recorded, vendor)?;
    let mut faulty = recorded.clone();
    faulty.description = format!("{} played from {name} of {}", case, source.name);
    faulty.response = response;
    let mut fixtures = source.fixtures[..at].to_vec();
    fixtures.push((format!("{name} ({case})"), faulty));
    Ok(DerivedCase {
        phase,
        case,
        from: source.name.to_string(),
        request: source.case.request.clone(),
        fixtures,
    })
}

/// Which exchange fails: a refused credential the first one (where the credentials are
/// first shown: a vendor whose session the gateway renews after a 401 refuses the login
/// itself); otherwise a read's last one (after any login); for a create the create request
/// itself, or the one just before it for a reset before the create.
fn fault_index(
    phase: Phase,
    case: Case,
    fixtures: &[(String, Exchange)],
    vendor: &ContractFaults,
) -> Result<usize, String> {
    if case == Case::Unauthorized {
        return Ok(0);
    }
    if phase != Phase::Create {
        return Ok(fixtures.len() - 1);
    }
    let pattern = vendor
        .create_pattern()
        .ok_or("the vendor crate declares no create request")?;
    let creates: Vec<usize> = fixtures
        .iter()
        .enumerate()
        .filter(|(_, (_, e))| pattern.matches_fixture(e))
        .map(|(i, _)| i)
        .collect();
    let [create] = creates[..] else {
        return Err(format!(
            "{} recorded requests match the vendor's create request, not one",
            creates.len()
        ));
    };
    if case == Case::ResetBeforeCreate {
        return create
            .checked_sub(1)
            .ok_or_else(|| "nothing was sent before the create request".to_string());
    }
    Ok(create)
}

fn fault_response(
    case: Case,
    recorded: &Exchange,
    vendor: &ContractFaults,
) -> Result<crate::fixture::RecordedResponse, String> {
    let mut response = recorded.response.clone();
    let json = |status: u16| {
        vendor
            .error_body(status)
            .ok_or_else(|| format!("the vendor crate declares no error body for HTTP {status}"))
    };
    let json_headers = |extra: &[(&str, &str)]| {
        let mut headers =
            BTreeMap::from([("content-type".to_string(), "application/json".to_string())]);
        headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        headers
    };
    match case {
        Case::Unauthorized | Case::Forbidden | Case::NotFound | Case::ErrorBody200 => {
            let status = match case {
                Case::Unauthorized => 401,
                Case::Forbidden => 403,
                Case::NotFound => 404,
                _ => 200,
            };
            response.status = status;
            response.body = Some(json(status)?);
            response.body_text = None;
            response.headers = json_headers(&[]);
        }
        Case::RateLimited => {
            response.status = 429;
            response.body = Some(json(429)?);
            response.body_text = None;
            response.headers = json_headers(&[("retry-after", "7")]);
        }
        Case::Html5xx => {
            response.status = 503;
            response.body = None;
            response.body_text = Some(
                "<html><head><title>503 Service Unavailable</title></head>\
                 <body><h1>503 Service Unavailable</h1></body></html>"
                    .into(),
            );
            response.headers = BTreeMap::from([("content-type".into(), "text/html".into())]);
        }
        Case::TruncatedJson => {
            let body = recorded
                .response
                .body
                .as_ref()
                .filter(|_| (200..300).contains(&recorded.response.status))
                .ok_or("the failing exchange was not answered with JSON and a 2xx status")?;
            let text = serde_json::to_string(body).map_err(|e| e.to_string())?;
            let mut cut = text.len() / 2;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            response.body = None;
            response.body_text = Some(text[..cut].to_string());
        }
        Case::ConnectionReset | Case::ResetBeforeCreate | Case::ResetAfterCreate => {
            response.fault = Some(Fault::Reset);
        }
        Case::Timeout => {
            response.delay_ms = Some(TIMEOUT_CASE_MIN_DELAY.as_millis() as u64);
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests;
