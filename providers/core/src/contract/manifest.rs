//! `fixtures/<vendor>/contract.toml`: the manifest format, and how it is planned into the
//! cases to run for a provider's capabilities.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Case, Phase, Plan, PlannedCase, Skipped};
use crate::capabilities::Capabilities;
use crate::fixture::Exchange;

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
    /// Written by `refund-gateway record`: the folder's cases are the recorded canonical
    /// calls (`super::recorded`) and the faults derived from them, not sections above.
    #[serde(default)]
    pub recorded: Option<super::recorded::RecordedSection>,
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

/// The canonical request of one case (in a recorded case file: `{"create": {..}}`,
/// `{"get": ".."}`, `{"list": {..}}`, `{"quote": {..}}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
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

impl CanonicalRequest {
    /// The phase whose cases this request plays.
    pub fn phase(&self) -> Phase {
        match self {
            CanonicalRequest::Create(_) => Phase::Create,
            CanonicalRequest::Get(_) | CanonicalRequest::List(_) => Phase::Lookup,
            CanonicalRequest::Quote(_) => Phase::Quote,
        }
    }
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
