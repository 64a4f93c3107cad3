//! The shared contract suite: the vendor faults every provider must answer the same way at
//! the canonical API (401, 403, 404, 429 with Retry-After, an HTML 5xx page, truncated
//! JSON, a connection reset before and after the create is sent, HTTP 200 with an error
//! body, an answer slower than the timeout), run for every vendor folder under `fixtures/`
//! from that vendor's own recordings.
//!
//! A folder takes part by having a manifest, `contract.toml` (format:
//! `refund_provider::contract::Manifest`): the provider instance to configure, the
//! canonical request to send, and for each shared case the fixtures that play it. The
//! provider's capabilities, read from `GET /v1/providers`, choose the phases (creates need
//! `create`; lookups need `get` or `list`; quotes need `quote` and reads, and answer the
//! read faults as lookups do); every case of a phase that applies must be in
//! the manifest, with fixtures or marked `not_applicable` with a reason. The expected
//! canonical answers below are the same for every vendor, and strict.
//!
//! `CONTRACT_FIXTURES=<dir>` runs the suite on another directory: a folder of vendor
//! folders, or one vendor folder.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};

use figment::providers::{Format, Toml};
use figment::Figment;
use refund_provider::contract::{
    CallPattern, CanonicalRequest, Case, Manifest, Phase, PlannedCase, TIMEOUT_CASE_LIMIT,
};
use refund_provider::fixture::Exchange;
use refund_provider::{Capabilities, InstanceName, RefundId, VendorRef};
use serde_json::{json, Value};

use crate::support::{repo_path, secret_file, ApiResponse, ReplayVendor, TestGateway};

const MANIFEST: &str = "contract.toml";
/// The instance timeout of every case but the timeout cases: long enough that a slow
/// machine cannot turn an ordinary answer into a timeout.
const USUAL_TIMEOUT: &str = "5s";

#[tokio::test]
async fn shared_contract_suite_runs_for_every_vendor_folder() {
    let root = std::env::var_os("CONTRACT_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_path("fixtures"));
    let folders = vendor_folders(&root);
    assert!(
        !folders.is_empty(),
        "no vendor folders under {}",
        root.display()
    );
    // Vendors run side by side; each vendor's cases run one after another.
    let runs: Vec<_> = folders
        .into_iter()
        .map(|folder| {
            let name = folder_name(&folder);
            (name, tokio::spawn(run_vendor(folder)))
        })
        .collect();
    let mut reports = Vec::new();
    for (name, run) in runs {
        reports.push(run.await.unwrap_or_else(|e| VendorReport {
            vendor: name,
            problems: vec![format!("the suite itself failed: {}", panic_text(e))],
            ..VendorReport::default()
        }));
    }
    let mut summary = Vec::new();
    let mut failures = Vec::new();
    for report in &reports {
        let line = report.summary();
        eprintln!("{line}");
        summary.push(line);
        failures.extend(
            report
                .problems
                .iter()
                .map(|p| format!("{}: {p}", report.vendor)),
        );
        for (label, outcome) in &report.ran {
            if let Err(why) = outcome {
                failures.push(format!("{} {label}: {why}", report.vendor));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "shared contract suite: {} failure(s)\n\n{}\n\nwhat ran:\n{}",
        failures.len(),
        failures.join("\n\n"),
        summary.join("\n")
    );
}

/// Each folder of `root` that holds fixtures (or `root` itself, if it is one).
fn vendor_folders(root: &Path) -> Vec<PathBuf> {
    if root.join(MANIFEST).is_file() {
        return vec![root.to_path_buf()];
    }
    let mut folders: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", root.display()))
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    folders
}

fn folder_name(folder: &Path) -> String {
    folder
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[derive(Default)]
struct VendorReport {
    vendor: String,
    /// `phase.case [fixtures]` and whether the gateway answered as the contract says.
    ran: Vec<(String, Result<(), String>)>,
    counts: BTreeMap<Phase, usize>,
    not_applicable: Vec<String>,
    /// Problems of the manifest or the folder, which stop the vendor's run.
    problems: Vec<String>,
}

impl VendorReport {
    fn summary(&self) -> String {
        let count = |p: Phase| self.counts.get(&p).copied().unwrap_or(0);
        let failed = self.ran.iter().filter(|(_, r)| r.is_err()).count();
        let mut line = format!(
            "shared contract suite: {} ran {} cases (create: {}, lookup: {}, quote: {})",
            self.vendor,
            self.ran.len(),
            count(Phase::Create),
            count(Phase::Lookup),
            count(Phase::Quote)
        );
        if failed > 0 {
            line.push_str(&format!(", {failed} FAILED"));
        }
        if !self.problems.is_empty() {
            line.push_str(", manifest or folder INVALID");
        }
        if !self.not_applicable.is_empty() {
            line.push_str(&format!(
                "; not applicable: {}",
                self.not_applicable.join("; ")
            ));
        }
        for phase in Phase::ALL {
            let cases: Vec<String> = self
                .ran
                .iter()
                .filter(|(label, _)| label.starts_with(&format!("{}.", phase.name())))
                .map(|(label, outcome)| {
                    let name = label.split([' ', '.']).nth(1).unwrap_or(label);
                    match outcome {
                        Ok(()) => name.to_string(),
                        Err(_) => format!("{name} (FAILED)"),
                    }
                })
                .collect();
            if !cases.is_empty() {
                line.push_str(&format!("\n    {}: {}", phase.name(), cases.join(", ")));
            }
        }
        line
    }
}

async fn run_vendor(folder: PathBuf) -> VendorReport {
    let mut report = VendorReport {
        vendor: folder_name(&folder),
        ..VendorReport::default()
    };
    let manifest_path = folder.join(MANIFEST);
    if !manifest_path.is_file() {
        report.problems.push(format!(
            "{} is missing: every vendor folder runs the shared suite (see README, \
             \"Fixtures and contract tests\")",
            manifest_path.display()
        ));
        return report;
    }
    let manifest: Manifest = match Figment::from(Toml::file(&manifest_path)).extract() {
        Ok(m) => m,
        Err(e) => {
            report
                .problems
                .push(format!("{} is malformed: {e}", manifest_path.display()));
            return report;
        }
    };
    let instance = match Instance::new(&report.vendor, &manifest.instance) {
        Ok(i) => i,
        Err(e) => {
            report.problems.push(e);
            return report;
        }
    };
    let capabilities = instance.capabilities().await;
    let plan = match manifest.plan(&capabilities) {
        Ok(plan) => plan,
        Err(errors) => {
            report.problems.extend(
                errors
                    .into_iter()
                    .map(|e| format!("{}: {e}", manifest_path.display())),
            );
            return report;
        }
    };
    report.not_applicable = plan
        .not_applicable
        .iter()
        .map(|s| format!("{}.{} ({})", s.phase.name(), s.case, s.reason))
        .collect();
    for planned in &plan.cases {
        let label = format!("{} [{}]", planned.label(), planned.fixtures.join(", "));
        let outcome = match Instance::new(&report.vendor, &planned.instance) {
            Ok(instance) => run_case(&instance, &folder, planned, manifest.create_call()).await,
            Err(e) => Err(e),
        };
        *report.counts.entry(planned.phase).or_default() += 1;
        report.ran.push((label, outcome));
    }
    report
}

/// The provider instance a manifest describes, as gateway config.
struct Instance {
    name: InstanceName,
    /// `key = value` lines of `[providers.<name>]`, secrets already in files.
    settings: String,
    /// The (fake) secret values, which no answer may show.
    secrets: Vec<String>,
}

impl Instance {
    fn new(folder: &str, table: &serde_json::Map<String, Value>) -> Result<Instance, String> {
        let name = InstanceName::new(folder)
            .map_err(|e| format!("the folder name is the instance name: {e}"))?;
        let mut settings = String::new();
        let mut secrets = Vec::new();
        for (key, value) in table {
            if ["base_url", "timeout", "connect_timeout", "sandbox"].contains(&key.as_str()) {
                return Err(format!(
                    "[instance] must not set `{key}`: the suite sets it for each case"
                ));
            }
            settings.push_str(&format!(
                "{} = {}\n",
                toml_key(key),
                toml_value(&with_secret_files(value, &mut secrets))?
            ));
        }
        Ok(Instance {
            name,
            settings,
            secrets,
        })
    }

    fn config(&self, base_url: &str, timeout: &str) -> String {
        format!(
            "[providers.{name}]\n{settings}base_url = \"{base_url}\"\ntimeout = \"{timeout}\"\n\
             connect_timeout = \"1s\"\n\n\
             # Unknown outcomes stay as answered: no background lookup during the case.\n\
             [reconcile]\ninterval = \"1h\"\n",
            name = self.name,
            settings = self.settings,
        )
    }

    /// What the provider can do, as the gateway reports it.
    async fn capabilities(&self) -> Capabilities {
        let vendor = ReplayVendor::start(&[]).await;
        let gw = TestGateway::start(&self.config(&vendor.base_url(), USUAL_TIMEOUT)).await;
        let r = gw.get("/v1/providers").await;
        gw.shutdown().await;
        let caps = &r.body["data"][0]["capabilities"];
        let flag = |k: &str| caps[k].as_bool().unwrap_or(false);
        Capabilities {
            create: flag("create"),
            get: flag("get"),
            list: flag("list"),
            quote: flag("quote"),
            ..Capabilities::none()
        }
    }
}

/// `{ secret = "<value>" }` becomes `{ file = "<a file holding value>" }`; the values are
/// kept in `secrets`.
fn with_secret_files(value: &Value, secrets: &mut Vec<String>) -> Value {
    match value {
        Value::Object(map) if map.len() == 1 && map.get("secret").is_some_and(Value::is_string) => {
            let secret = map["secret"].as_str().unwrap_or_default();
            secrets.push(secret.to_string());
            json!({ "file": secret_file(secret) })
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), with_secret_files(v, secrets)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| with_secret_files(v, secrets))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn toml_key(key: &str) -> String {
    serde_json::to_string(key).unwrap_or_default()
}

/// A JSON value as a TOML value (tables inline).
fn toml_value(value: &Value) -> Result<String, String> {
    Ok(match value {
        Value::Null => return Err("[instance] cannot hold a null value".into()),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(toml_value)
                .collect::<Result<Vec<_>, _>>()?
                .join(", ")
        ),
        Value::Object(map) => format!(
            "{{ {} }}",
            map.iter()
                .map(|(k, v)| Ok(format!("{} = {}", toml_key(k), toml_value(v)?)))
                .collect::<Result<Vec<_>, String>>()?
                .join(", ")
        ),
    })
}

async fn run_case(
    instance: &Instance,
    folder: &Path,
    planned: &PlannedCase,
    create_call: Option<&CallPattern>,
) -> Result<(), String> {
    let paths: Vec<String> = planned
        .fixtures
        .iter()
        .map(|f| folder.join(format!("{f}.json")).display().to_string())
        .collect();
    let mut exchanges = Vec::new();
    for path in &paths {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        exchanges.push(
            serde_json::from_str::<Exchange>(&text)
                .map_err(|e| format!("{path} is malformed: {e}"))?,
        );
    }
    let creates_expected = planned.check_fixtures(&exchanges, create_call)?;
    let fault = exchanges.last().ok_or("no fixtures")?;

    let path_refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    let vendor = ReplayVendor::start(&path_refs).await;
    let timeout = if planned.case == Case::Timeout {
        format!("{}ms", TIMEOUT_CASE_LIMIT.as_millis())
    } else {
        USUAL_TIMEOUT.to_string()
    };
    let gw = TestGateway::start(&instance.config(&vendor.base_url(), &timeout)).await;
    let response = match &planned.request {
        CanonicalRequest::Create(body) => {
            let mut body = body.clone();
            body["provider"] = json!(instance.name.as_str());
            gw.post("/v1/refunds", body).await
        }
        CanonicalRequest::Get(vendor_ref) => {
            let id = RefundId::for_vendor(&instance.name, &VendorRef::new(vendor_ref.as_str()));
            gw.get(&format!("/v1/refunds/{id}")).await
        }
        CanonicalRequest::List(params) => {
            let query = {
                let mut query = url::form_urlencoded::Serializer::new(String::new());
                query.append_pair("provider", instance.name.as_str());
                for (k, v) in params {
                    query.append_pair(k, v);
                }
                query.finish()
            };
            gw.get(&format!("/v1/refunds?{query}")).await
        }
        CanonicalRequest::Quote(body) => {
            let mut body = body.clone();
            body["provider"] = json!(instance.name.as_str());
            gw.post_with("/v1/refund-quotes", body, &[]).await
        }
    };

    let mut wrong = check_answer(planned, fault, &response);
    for secret in &instance.secrets {
        if response.text.contains(secret.as_str()) {
            wrong.push("the answer shows a credential of the instance".into());
        }
    }
    if planned.phase == Phase::Create {
        let creates = vendor
            .received()
            .iter()
            .filter(|r| create_call.is_some_and(|c| c.matches(&r.method, &r.path, &r.query)))
            .count();
        if creates != creates_expected {
            wrong.push(format!(
                "the vendor received the create request {creates} time(s), expected \
                 {creates_expected}: a create is sent once, never again"
            ));
        }
    }
    if let Err(e) = std::panic::catch_unwind(AssertUnwindSafe(|| vendor.assert_clean())) {
        wrong.push(panic_text(e));
    }
    gw.shutdown().await;
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}\n    the gateway answered {}: {}",
            wrong.join("\n    "),
            response.status,
            response.text
        ))
    }
}

/// What the canonical API must answer for a case.
enum Expected {
    /// A problem+json answer with this status and code.
    Problem { status: u16, code: &'static str },
    /// The vendor stated an error of its own (HTTP 200 with an error body): a 4xx problem
    /// whose code depends on what it said, but never `provider_bad_response` (its words
    /// were read, not taken for garbage).
    VendorError,
    /// A create the vendor may have applied: 202, the refund in status `unknown`.
    Unknown { code: &'static str },
}

fn expected(planned: &PlannedCase) -> Expected {
    use Expected::{Problem, Unknown};
    let create = planned.phase == Phase::Create;
    match planned.case {
        Case::Unauthorized | Case::Forbidden => Problem {
            status: 502,
            code: "provider_unauthorized",
        },
        Case::NotFound => Problem {
            status: 404,
            code: "not_found",
        },
        Case::RateLimited => Problem {
            status: 503,
            code: "provider_rate_limited",
        },
        Case::Html5xx if create => Unknown {
            code: "provider_unavailable",
        },
        Case::Html5xx => Problem {
            status: 502,
            code: "provider_unavailable",
        },
        Case::TruncatedJson if create => Unknown {
            code: "provider_bad_response",
        },
        Case::TruncatedJson => Problem {
            status: 502,
            code: "provider_bad_response",
        },
        Case::ConnectionReset | Case::ResetBeforeCreate => Problem {
            status: 502,
            code: "provider_unavailable",
        },
        Case::ResetAfterCreate => Unknown {
            code: "provider_unavailable",
        },
        Case::ErrorBody200 => Expected::VendorError,
        Case::Timeout if create => Unknown {
            code: "provider_timeout",
        },
        Case::Timeout => Problem {
            status: 504,
            code: "provider_timeout",
        },
    }
}

/// Every way the answer differs from the contract; empty when it keeps it.
fn check_answer(planned: &PlannedCase, fault: &Exchange, r: &ApiResponse) -> Vec<String> {
    let mut wrong = Vec::new();
    let mut want = |ok: bool, what: String| {
        if !ok {
            wrong.push(what);
        }
    };
    // The vendor's HTTP status is kept whenever the vendor answered.
    let vendor_status = match planned.case {
        Case::ConnectionReset
        | Case::ResetBeforeCreate
        | Case::ResetAfterCreate
        | Case::Timeout => None,
        _ => Some(fault.response.status),
    };
    let (status_field, message_field) = match expected(planned) {
        expectation @ (Expected::Problem { .. } | Expected::VendorError) => {
            let (ok, wanted) = match expectation {
                Expected::Problem { status, code } => (
                    r.status == status && r.code() == code,
                    format!("{status} {code}"),
                ),
                _ => (
                    (400..500).contains(&r.status)
                        && !r.code().is_empty()
                        && r.code() != "provider_bad_response",
                    "a 4xx problem with the vendor's own error (not provider_bad_response)".into(),
                ),
            };
            want(ok, format!("expected {wanted}, got {}", outline(r)));
            want(
                r.header("content-type") == Some("application/problem+json"),
                format!(
                    "expected content-type application/problem+json, got {:?}",
                    r.header("content-type")
                ),
            );
            if planned.phase == Phase::Create {
                want(
                    r.body["outcome"] == "not_applied",
                    format!(
                        "expected outcome not_applied (the vendor cannot have applied it), got {}",
                        r.body["outcome"]
                    ),
                );
            }
            if planned.case == Case::RateLimited {
                let recorded = fault
                    .response
                    .headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
                    .map(|(_, v)| v.trim().to_string());
                want(
                    r.header("retry-after").map(str::to_string) == recorded,
                    format!(
                        "expected Retry-After {recorded:?} as the vendor sent, got {:?}",
                        r.header("retry-after")
                    ),
                );
                want(
                    recorded.as_deref().and_then(|s| s.parse::<u64>().ok())
                        == r.body["retry_after"].as_u64(),
                    format!(
                        "expected retry_after {recorded:?} in the body, got {}",
                        r.body["retry_after"]
                    ),
                );
            }
            (&r.body["vendor_status"], &r.body["vendor_message"])
        }
        Expected::Unknown { code } => {
            want(
                r.status == 202 && r.body["status"] == "unknown",
                format!(
                    "expected 202 with the refund in status unknown (the vendor may have \
                     applied it), got {}",
                    outline(r)
                ),
            );
            want(
                r.body["id"]
                    .as_str()
                    .is_some_and(|id| id.starts_with("rfg_")),
                format!("expected the ledger's rfg_ id, got {}", r.body["id"]),
            );
            want(
                r.body["status_reason"]["code"] == code,
                format!(
                    "expected status_reason.code {code}, got {}",
                    r.body["status_reason"]["code"]
                ),
            );
            (
                &r.body["status_reason"]["vendor_status"],
                &r.body["status_reason"]["vendor_message"],
            )
        }
    };
    want(
        status_field.as_u64() == vendor_status.map(u64::from),
        format!(
            "expected vendor_status {}, got {status_field}",
            vendor_status.map_or("absent (the vendor never answered)".into(), |s| s
                .to_string())
        ),
    );
    if vendor_status.is_some() {
        want(
            message_field.as_str().is_some_and(|m| !m.trim().is_empty()),
            format!("expected the vendor's words in vendor_message, got {message_field}"),
        );
    }
    wrong
}

/// The status and code of a problem, or the status and refund status of a refund.
fn outline(r: &ApiResponse) -> String {
    if r.code().is_empty() {
        format!("{} with refund status {}", r.status, r.body["status"])
    } else {
        format!("{} {}", r.status, r.code())
    }
}

fn panic_text(e: impl Into<PanicPayload>) -> String {
    let payload = e.into().0;
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a panic without a message".into())
}

struct PanicPayload(Box<dyn std::any::Any + Send>);

impl From<Box<dyn std::any::Any + Send>> for PanicPayload {
    fn from(p: Box<dyn std::any::Any + Send>) -> Self {
        PanicPayload(p)
    }
}

impl From<tokio::task::JoinError> for PanicPayload {
    fn from(e: tokio::task::JoinError) -> Self {
        match e.try_into_panic() {
            Ok(p) => PanicPayload(p),
            Err(e) => PanicPayload(Box::new(e.to_string())),
        }
    }
}
