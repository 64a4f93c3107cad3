//! The shared contract suite's data: the vendor faults every provider must turn into the
//! same canonical answer, which of them a provider's capabilities call for, and the
//! manifest (`fixtures/<vendor>/contract.toml`) naming, for one vendor, the recorded
//! fixtures that play each case and the canonical request to send.
//!
//! The suite itself (`tests/contract/shared.rs`) drives the gateway and holds the expected
//! canonical answers (HTTP statuses are the gateway's business, not this crate's); this
//! module knows the cases, plans them from a manifest and a provider's capabilities, and
//! checks that each case's fixtures really show the fault the case names, so a manifest
//! cannot pass a case with the wrong recording.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;
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
    fn fault_on_create_call(self) -> Option<bool> {
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

/// `fixtures/<vendor>/contract.toml`: what the shared suite needs to run a vendor's cases
/// from its recordings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// What the manifest covers; free text.
    #[serde(default)]
    pub description: Option<String>,
    /// The instance's `[providers.<name>]` table of the gateway config, without
    /// `base_url` and timeouts (the suite sets those). A `{ secret = "<value>" }` anywhere
    /// stands for a secret reference to a file holding that (fake, recorded) value.
    pub instance: serde_json::Map<String, Value>,
    #[serde(default)]
    pub create: Option<CreateSection>,
    #[serde(default)]
    pub lookup: Option<LookupSection>,
    #[serde(default)]
    pub quote: Option<QuoteSection>,
}

/// Quote cases: the read faults of a `POST /v1/refund-quotes`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuoteSection {
    /// The default quote body, without `provider` (the suite adds it).
    pub body: Value,
    #[serde(default)]
    pub cases: BTreeMap<String, CaseEntry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSection {
    /// The vendor requests that create a refund (never to be sent twice).
    pub call: CallPattern,
    /// The default `POST /v1/refunds` body, without `provider` (the suite adds it).
    pub body: Value,
    #[serde(default)]
    pub cases: BTreeMap<String, CaseEntry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupSection {
    /// The default lookup: `GET /v1/refunds/{id}` of this vendor reference...
    #[serde(default)]
    pub get: Option<String>,
    /// ...or `GET /v1/refunds?provider=..&<these parameters>`.
    #[serde(default)]
    pub list: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub cases: BTreeMap<String, CaseEntry>,
}

/// One case of a vendor: the fixtures to load (by file name without `.json`; the last one
/// shows the fault, those before it are the calls that come first), optionally another
/// request than the section's default and instance settings that replace the manifest's
/// (e.g. another auth mode); or why the case does not apply to this vendor.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseEntry {
    #[serde(default)]
    pub fixtures: Vec<String>,
    #[serde(default)]
    pub not_applicable: Option<String>,
    /// Create and quote cases: the body to send instead of the section's.
    #[serde(default)]
    pub body: Option<Value>,
    /// Lookup cases: the lookup to make instead of the section's.
    #[serde(default)]
    pub get: Option<String>,
    #[serde(default)]
    pub list: Option<BTreeMap<String, String>>,
    /// Keys of `[instance]` to set differently for this case.
    #[serde(default)]
    pub instance: serde_json::Map<String, Value>,
}

/// Which vendor requests are refund creations: the method, the path (a `*` stands for one
/// path segment) and query parameters that must be present with these values.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallPattern {
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub query: BTreeMap<String, String>,
}

impl CallPattern {
    pub fn matches(&self, method: &str, path: &str, query: &BTreeMap<String, String>) -> bool {
        let pattern: Vec<&str> = self.path.split('/').collect();
        let actual: Vec<&str> = path.split('/').collect();
        self.method.eq_ignore_ascii_case(method)
            && pattern.len() == actual.len()
            && pattern
                .iter()
                .zip(&actual)
                .all(|(p, a)| *p == *a || (*p == "*" && !a.is_empty()))
            && self.query.iter().all(|(k, v)| query.get(k) == Some(v))
    }

    /// Whether a fixture's expected request is such a call.
    pub fn matches_fixture(&self, exchange: &Exchange) -> bool {
        let r = &exchange.request;
        self.matches(&r.method, &r.path, &r.query)
    }
}

/// The canonical request of one case.
#[derive(Debug, Clone, PartialEq)]
pub enum CanonicalRequest {
    /// `POST /v1/refunds` with this body (without `provider`).
    Create(Value),
    /// `GET /v1/refunds/{id}` of this vendor reference.
    Get(String),
    /// `GET /v1/refunds?provider=..&<parameters>`.
    List(BTreeMap<String, String>),
    /// `POST /v1/refund-quotes` with this body (without `provider`).
    Quote(Value),
}

/// One case to run.
#[derive(Debug, Clone)]
pub struct PlannedCase {
    pub phase: Phase,
    pub case: Case,
    pub fixtures: Vec<String>,
    pub request: CanonicalRequest,
    /// The manifest's `[instance]` with the case's own settings applied.
    pub instance: serde_json::Map<String, Value>,
}

/// A case the manifest declares not applicable, and why.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub phase: Phase,
    pub case: Case,
    pub reason: String,
}

#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub cases: Vec<PlannedCase>,
    pub not_applicable: Vec<Skipped>,
}

impl Manifest {
    /// The cases to run for a provider with `capabilities`, or every problem of the
    /// manifest: an unknown case name, a case the capabilities call for that it neither
    /// gives fixtures for nor marks `not_applicable` with a reason, a lookup the provider
    /// cannot make, cases for a phase the provider does not have.
    pub fn plan(&self, capabilities: &Capabilities) -> Result<Plan, Vec<String>> {
        let mut plan = Plan::default();
        let mut errors = Vec::new();
        for phase in Phase::ALL {
            let entries = match phase {
                Phase::Create => self.create.as_ref().map(|c| &c.cases),
                Phase::Lookup => self.lookup.as_ref().map(|l| &l.cases),
                Phase::Quote => self.quote.as_ref().map(|q| &q.cases),
            };
            let applies = phase.applies(capabilities);
            if !applies {
                if entries.is_some_and(|e| !e.is_empty()) {
                    errors.push(format!(
                        "[{}] has cases, but the provider's capabilities rule {} cases out",
                        phase.name(),
                        phase.name()
                    ));
                }
                continue;
            }
            let Some(entries) = entries else {
                let what = match phase {
                    Phase::Create => "can create refunds",
                    Phase::Lookup => "can be read",
                    Phase::Quote => "quotes from reads",
                };
                errors.push(format!(
                    "the provider {what}: [{}] is missing",
                    phase.name()
                ));
                continue;
            };
            for name in entries.keys() {
                if !phase.cases().iter().any(|c| c.name() == name) {
                    let known: Vec<&str> = phase.cases().iter().map(|c| c.name()).collect();
                    errors.push(format!(
                        "{}.{name}: no such shared case (known: {})",
                        phase.name(),
                        known.join(", ")
                    ));
                }
            }
            for &case in phase.cases() {
                let at = format!("{}.{case}", phase.name());
                let Some(entry) = entries.get(case.name()) else {
                    errors.push(format!(
                        "{at}: missing: give its fixtures, or `not_applicable = \"<why>\"`"
                    ));
                    continue;
                };
                match self.plan_case(phase, case, entry, capabilities) {
                    Ok(Some(planned)) => plan.cases.push(planned),
                    Ok(None) => plan.not_applicable.push(Skipped {
                        phase,
                        case,
                        reason: entry.not_applicable.clone().unwrap_or_default(),
                    }),
                    Err(e) => errors.push(format!("{at}: {e}")),
                }
            }
        }
        if errors.is_empty() {
            Ok(plan)
        } else {
            Err(errors)
        }
    }

    fn plan_case(
        &self,
        phase: Phase,
        case: Case,
        entry: &CaseEntry,
        capabilities: &Capabilities,
    ) -> Result<Option<PlannedCase>, String> {
        match (&entry.not_applicable, entry.fixtures.is_empty()) {
            (Some(reason), true) if !reason.trim().is_empty() => return Ok(None),
            (Some(_), true) => return Err("`not_applicable` needs a reason".into()),
            (Some(_), false) => return Err("has both `fixtures` and `not_applicable`".into()),
            (None, true) => return Err("has no `fixtures`".into()),
            (None, false) => {}
        }
        let request = match phase {
            Phase::Create => {
                if entry.get.is_some() || entry.list.is_some() {
                    return Err("a create case takes `body`, not `get` or `list`".into());
                }
                let section = self.create.as_ref().ok_or("[create] is missing")?;
                let body = entry.body.clone().unwrap_or_else(|| section.body.clone());
                if !body.is_object() {
                    return Err("the create `body` must be a table".into());
                }
                CanonicalRequest::Create(body)
            }
            Phase::Lookup => {
                if entry.body.is_some() {
                    return Err("a lookup case takes `get` or `list`, not `body`".into());
                }
                let section = self.lookup.as_ref().ok_or("[lookup] is missing")?;
                let (get, list) = if entry.get.is_some() || entry.list.is_some() {
                    (&entry.get, &entry.list)
                } else {
                    (&section.get, &section.list)
                };
                match (get, list) {
                    (Some(_), Some(_)) => return Err("give `get` or `list`, not both".into()),
                    (None, None) => return Err("no lookup: give `get` or `list`".into()),
                    (Some(_), None) if !capabilities.get => {
                        return Err("looks up by id (`get`), which the provider cannot".into())
                    }
                    (None, Some(_)) if !capabilities.list => {
                        return Err("lists (`list`), which the provider cannot".into())
                    }
                    (Some(vendor_ref), None) => CanonicalRequest::Get(vendor_ref.clone()),
                    (None, Some(params)) => CanonicalRequest::List(params.clone()),
                }
            }
            Phase::Quote => {
                if entry.get.is_some() || entry.list.is_some() {
                    return Err("a quote case takes `body`, not `get` or `list`".into());
                }
                let section = self.quote.as_ref().ok_or("[quote] is missing")?;
                let body = entry.body.clone().unwrap_or_else(|| section.body.clone());
                if !body.is_object() {
                    return Err("the quote `body` must be a table".into());
                }
                CanonicalRequest::Quote(body)
            }
        };
        let mut instance = self.instance.clone();
        instance.extend(entry.instance.clone());
        Ok(Some(PlannedCase {
            phase,
            case,
            fixtures: entry.fixtures.clone(),
            request,
            instance,
        }))
    }

    /// The pattern of the vendor's create requests, where the manifest has `[create]`.
    pub fn create_call(&self) -> Option<&CallPattern> {
        self.create.as_ref().map(|c| &c.call)
    }
}

impl PlannedCase {
    /// `phase.case`, for reports.
    pub fn label(&self) -> String {
        format!("{}.{}", self.phase.name(), self.case)
    }

    /// Checks the case's loaded fixtures (in the manifest's order): the last shows the
    /// case's fault, those before it answer normally; a lookup sends no create request; a
    /// create sends at most one, and the fault comes on it or before it as the case needs.
    /// Answers how many create requests the vendor must receive.
    pub fn check_fixtures(
        &self,
        fixtures: &[Exchange],
        create_call: Option<&CallPattern>,
    ) -> Result<usize, String> {
        let (fault, before) = fixtures.split_last().ok_or("has no fixtures")?;
        self.case
            .check_fault(fault)
            .map_err(|e| format!("its last fixture {e}"))?;
        for (name, e) in self.fixtures.iter().zip(before) {
            let slow =
                Duration::from_millis(e.response.delay_ms.unwrap_or(0)) >= TIMEOUT_CASE_LIMIT;
            if e.response.fault.is_some() || slow {
                return Err(format!(
                    "fixture {name} comes before the fault, so it must answer normally"
                ));
            }
        }
        let is_create = |e: &Exchange| create_call.is_some_and(|c| c.matches_fixture(e));
        let creates = fixtures.iter().filter(|e| is_create(e)).count();
        match self.phase {
            Phase::Lookup | Phase::Quote if creates > 0 => Err(format!(
                "a {} case lists a create request among its fixtures",
                self.phase.name()
            )),
            Phase::Lookup | Phase::Quote => Ok(0),
            Phase::Create if creates > 1 => Err(format!(
                "lists {creates} create requests; a create is sent once, never again"
            )),
            Phase::Create => match (self.case.fault_on_create_call(), is_create(fault)) {
                (Some(true), false) => Err(
                    "the fault must come on the create request (its last fixture must match [create].call)"
                        .into(),
                ),
                (Some(false), _) if creates > 0 => Err(
                    "the fault must come before the create request, which is then never sent: \
                     no fixture may match [create].call"
                        .into(),
                ),
                _ => Ok(creates),
            },
        }
    }
}

#[cfg(test)]
mod tests;
