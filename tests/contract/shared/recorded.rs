//! The suite on a folder written by `refund-gateway record` (`[recorded]` in its manifest):
//! every recorded canonical call is replayed through a fresh gateway against its own
//! fixtures and must get the answer it got while recording (so a gateway version that
//! reads the user's real vendor answers differently fails, naming the case and the
//! canonical field); then every shared fault the provider's capabilities call for is
//! played from the recorded calls (`refund_provider::contract::derive`) and must get the
//! contract's answer. A fault the recordings cannot play is reported `not recorded`; a
//! folder without usable recordings fails.

use std::path::Path;

use refund_provider::contract::derive::{derive, Derived, Source};
use refund_provider::contract::recorded::{load_cases, RecordedCase};
use refund_provider::contract::{Manifest, Phase, PlannedCase};
use refund_provider::fixture::Exchange;
use refund_provider::Capabilities;
use serde_json::Value;

use super::{
    load_fixtures, panic_text, replay_vendor, run_case, send, Instance, VendorReport, USUAL_TIMEOUT,
};
use crate::support::TestGateway;

/// A case's fixtures, by name, in order.
type Fixtures = Vec<(String, Exchange)>;

pub(super) async fn run(
    folder: &Path,
    manifest: &Manifest,
    instance: &Instance,
    capabilities: &Capabilities,
    report: &mut VendorReport,
) {
    if manifest.create.is_some() || manifest.lookup.is_some() || manifest.quote.is_some() {
        report.problems.push(
            "a recorded manifest ([recorded]) takes no [create], [lookup] or [quote]: its \
             cases are the recorded calls"
                .into(),
        );
        return;
    }
    let section = manifest.recorded.clone().unwrap_or_default();
    let kind = manifest
        .instance
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let vendor = refund_gateway::fixtures::defaults(kind).contract;
    let cases = match load_cases(&folder.join(&section.cases)) {
        Ok(cases) => cases,
        Err(e) => {
            report.problems.push(e);
            return;
        }
    };
    let mut loaded: Vec<(String, RecordedCase, Fixtures)> = Vec::new();
    for (name, case) in cases {
        match load_fixtures(folder, &case.fixtures) {
            Ok(fixtures) => loaded.push((name, case, fixtures)),
            Err(e) => report.problems.push(format!("recorded case {name}: {e}")),
        }
    }
    if loaded.is_empty() {
        report.problems.push(format!(
            "no usable recorded case in {}: record a walk-through (`refund-gateway record`) \
             that creates, looks up or quotes through this instance",
            folder.join(&section.cases).display()
        ));
        return;
    }

    for (name, case, fixtures) in &loaded {
        let label = format!("recorded.{name} [{}]", case.fixtures.join(", "));
        let outcome = replay(instance, case, fixtures.clone()).await;
        report.recorded += 1;
        report.ran.push((label, outcome));
    }

    let sources: Vec<Source<'_>> = loaded
        .iter()
        .map(|(name, case, fixtures)| Source {
            name,
            case,
            fixtures,
        })
        .collect();
    let create_call = vendor.create_pattern();
    for phase in Phase::ALL.into_iter().filter(|p| p.applies(capabilities)) {
        for &case in phase.cases() {
            let at = format!("{}.{case}", phase.name());
            match derive(phase, case, &sources, &vendor) {
                Derived::Case(derived) => {
                    let names: Vec<String> =
                        derived.fixtures.iter().map(|(n, _)| n.clone()).collect();
                    let planned = PlannedCase {
                        phase,
                        case,
                        fixtures: names.clone(),
                        request: derived.request,
                        instance: manifest.instance.clone(),
                    };
                    let label = format!("{at} [from {}: {}]", derived.from, names.join(", "));
                    let outcome =
                        run_case(instance, &planned, derived.fixtures, create_call.as_ref()).await;
                    *report.counts.entry(phase).or_default() += 1;
                    report.ran.push((label, outcome));
                }
                Derived::NotApplicable(why) => report.not_applicable.push(format!("{at} ({why})")),
                Derived::NotRecorded(why) => report.not_recorded.push(format!("{at} ({why})")),
            }
        }
    }
}

/// Replays one recorded call: the gateway must answer as it did while recording.
async fn replay(
    instance: &Instance,
    case: &RecordedCase,
    fixtures: Fixtures,
) -> Result<(), String> {
    let vendor = replay_vendor(fixtures).await;
    let gw = TestGateway::start(&instance.config(&vendor.base_url(), USUAL_TIMEOUT)).await;
    let response = send(&gw, instance, &case.request).await;
    gw.shutdown().await;
    let mut wrong = Vec::new();
    let differences = case.answer.differences(response.status, &response.body);
    if !differences.is_empty() {
        wrong.push(format!(
            "the answer differs from the recorded one:\n{}",
            differences.join("\n")
        ));
    }
    if instance
        .secrets
        .iter()
        .any(|s| response.text.contains(s.as_str()))
    {
        wrong.push("the answer shows a credential of the instance".into());
    }
    if let Err(e) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| vendor.assert_clean()))
    {
        wrong.push(panic_text(e));
    }
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
