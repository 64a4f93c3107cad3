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
//! canonical answers (`expected.rs`) are the same for every vendor, and strict.
//!
//! A folder written by `refund-gateway record` (its manifest has `[recorded]`) runs the
//! same way from the user's own recordings (`recorded.rs`): each recorded canonical call is
//! replayed and must get the answer it got, and the shared faults are played from the
//! recorded calls.
//!
//! `CONTRACT_FIXTURES=<dir>` runs the suite on another directory: a folder of vendor
//! folders, or one vendor folder; `run_suite` runs it on a path from a test.

mod expected;
mod instance;
mod recorded;
mod report;

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Format, Toml};
use figment::Figment;
use refund_gateway::replay::{ReplayServer, Reuse};
use refund_provider::contract::{
    CallPattern, CanonicalRequest, Case, Manifest, Phase, PlannedCase,
};
use refund_provider::fixture::Exchange;
use refund_provider::{RefundId, VendorRef};
use serde_json::json;

use crate::support::{repo_path, ApiResponse, TestGateway};
use expected::check_answer;
use instance::Instance;
pub(crate) use report::VendorReport;

const MANIFEST: &str = "contract.toml";
/// The instance timeout of every case but the timeout cases: long enough that a slow
/// machine cannot turn an ordinary answer into a timeout.
const USUAL_TIMEOUT: &str = "5s";
/// The instance timeout of the timeout cases. The timeout applies to every exchange of the
/// case, not only the faulted one: `TIMEOUT_CASE_LIMIT` (500 ms) could turn an ordinary
/// read before the fault into a timeout on a loaded machine, so the suite gives these
/// cases 2 s and plays the faulted answer at least `TIMEOUT_CASE_DELAY` late (the
/// recording's own delay only says it is slower than `TIMEOUT_CASE_LIMIT`).
const TIMEOUT_CASE_TIMEOUT: Duration = Duration::from_secs(2);
/// The least delay the faulted answer of a timeout case is played with: well past
/// `TIMEOUT_CASE_TIMEOUT`, so that a slow machine cannot turn the case into a success.
const TIMEOUT_CASE_DELAY: Duration = Duration::from_secs(5);

#[tokio::test]
async fn shared_contract_suite_runs_for_every_vendor_folder() {
    let root = std::env::var_os("CONTRACT_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_path("fixtures"));
    let reports = run_suite(&root).await;
    let summary: Vec<String> = reports.iter().map(VendorReport::summary).collect();
    let failures: Vec<String> = reports.iter().flat_map(VendorReport::failures).collect();
    assert!(
        failures.is_empty(),
        "shared contract suite: {} failure(s)\n\n{}\n\nwhat ran:\n{}",
        failures.len(),
        failures.join("\n\n"),
        summary.join("\n")
    );
}

/// Runs the suite on `root` (a folder of vendor folders, or one vendor folder) and prints
/// each vendor's summary line.
pub(crate) async fn run_suite(root: &Path) -> Vec<VendorReport> {
    let folders = vendor_folders(root);
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
        let report = run.await.unwrap_or_else(|e| VendorReport {
            vendor: name,
            problems: vec![format!("the suite itself failed: {}", panic_text(e))],
            ..VendorReport::default()
        });
        eprintln!("{}", report.summary());
        reports.push(report);
    }
    reports
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
    if manifest.recorded.is_some() {
        recorded::run(&folder, &manifest, &instance, &capabilities, &mut report).await;
        return report;
    }
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
        let outcome = match (
            Instance::new(&report.vendor, &planned.instance),
            load_fixtures(&folder, &planned.fixtures),
        ) {
            (Ok(instance), Ok(fixtures)) => {
                run_case(&instance, planned, fixtures, manifest.create_call()).await
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
        *report.counts.entry(planned.phase).or_default() += 1;
        report.ran.push((label, outcome));
    }
    report
}

/// The fixtures `names` of `folder`, loaded in order.
fn load_fixtures(folder: &Path, names: &[String]) -> Result<Vec<(String, Exchange)>, String> {
    names
        .iter()
        .map(|name| {
            let path = folder.join(format!("{name}.json"));
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let exchange = serde_json::from_str::<Exchange>(&text)
                .map_err(|e| format!("{} is malformed: {e}", path.display()))?;
            Ok((name.clone(), exchange))
        })
        .collect()
}

/// A replay vendor serving `fixtures`, each once.
async fn replay_vendor(fixtures: Vec<(String, Exchange)>) -> ReplayServer {
    ReplayServer::start("127.0.0.1:0".parse().unwrap(), fixtures, Reuse::Once)
        .await
        .expect("replay vendor starts")
}

/// Runs one fault case against `fixtures` (the last shows the fault).
async fn run_case(
    instance: &Instance,
    planned: &PlannedCase,
    fixtures: Vec<(String, Exchange)>,
    create_call: Option<&CallPattern>,
) -> Result<(), String> {
    let exchanges: Vec<Exchange> = fixtures.iter().map(|(_, e)| e.clone()).collect();
    let creates_expected = planned.check_fixtures(&exchanges, create_call)?;
    let fault = exchanges.last().ok_or("no fixtures")?;

    let mut fixtures = fixtures;
    let timeout = if planned.case == Case::Timeout {
        // Only the faulted (last) exchange is slow; see `TIMEOUT_CASE_TIMEOUT`.
        if let Some((_, slow)) = fixtures.last_mut() {
            let delay = slow.response.delay_ms.unwrap_or(0);
            slow.response.delay_ms = Some(delay.max(TIMEOUT_CASE_DELAY.as_millis() as u64));
        }
        format!("{}ms", TIMEOUT_CASE_TIMEOUT.as_millis())
    } else {
        USUAL_TIMEOUT.to_string()
    };
    let vendor = replay_vendor(fixtures).await;
    let gw = TestGateway::start(&instance.config(&vendor.base_url(), &timeout)).await;
    let response = send(&gw, instance, &planned.request).await;

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

/// Sends a canonical request for `instance` to the gateway.
async fn send(gw: &TestGateway, instance: &Instance, request: &CanonicalRequest) -> ApiResponse {
    match request {
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
