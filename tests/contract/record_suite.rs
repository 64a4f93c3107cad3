//! `refund-gateway record` output is a folder the shared contract suite runs on as it is:
//! a walk-through against each vendor's built-in sandbox (standing in for the user's live
//! account) is recorded, then the suite replays its recorded calls and plays the shared
//! faults from them; a recorded vendor answer changed afterwards makes the suite fail,
//! naming the recorded case and the canonical field that differs.

use std::path::{Path, PathBuf};

use refund_gateway::app::Server;
use refund_gateway::config::Config;
use refund_gateway::record::Recorder;
use refund_provider::contract::recorded::load_cases;
use refund_provider::contract::Phase;
use serde_json::{json, Value};

use crate::record::{sandbox_config_text, stubbur_login, walk_vendor, walks, Walk};
use crate::shared::{run_suite, VendorReport};
use crate::support::unique;

/// Records `walk` against its sandbox into a fresh folder; answers the folder and what the
/// gateway answered.
async fn record(walk: &Walk) -> (PathBuf, Vec<(u16, Value)>) {
    let out = std::env::temp_dir().join(unique(&format!("record-suite-{}", walk.kind)));
    let keys = match walk.kind {
        "stubbur" => {
            let login = out.join("login");
            std::fs::create_dir_all(&login).unwrap();
            format!("sandbox = true\n{}", stubbur_login(&login))
        }
        _ => "sandbox = true".to_string(),
    };
    let config = Config::from_toml_str(&sandbox_config_text(walk, &keys)).unwrap();
    let server =
        Server::start_recording(config, Some(Recorder::new(out.join("recorded")).unwrap()))
            .await
            .expect("gateway starts");
    let mut live = Vec::new();
    if let Some(mut body) = quote_body(walk.kind) {
        body["provider"] = json!("v");
        let r = reqwest::Client::new()
            .post(format!("http://{}/v1/refund-quotes", server.addr()))
            // Recorded as an uncompressed answer, whatever the client accepts.
            .header("accept-encoding", "gzip")
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        live.push((status, r.json::<Value>().await.unwrap()));
        assert_eq!(status, 200, "{}: {live:?}", walk.kind);
    }
    live.extend(walk_vendor(&server, walk).await);
    server.shutdown().await;
    (out, live)
}

/// A quote of the walk's target, made before the walk's create (which changes what is
/// refundable), for the vendors that quote.
fn quote_body(kind: &str) -> Option<Value> {
    Some(match kind {
        "ticketmatic" => {
            json!({"target": {"order": "1269434"}, "amount": {"value": "1.00", "currency": "EUR"}})
        }
        "fourvenues" => {
            json!({"target": {"tickets": ["5f8d0f8b9d2b3b0017b6d8a0"]}, "amount": {"value": "10", "currency": "EUR"}})
        }
        "ivvy" => {
            json!({"target": {"venue": "2", "booking": "2"}, "amount": {"value": "100.00", "currency": "AUD"}})
        }
        "paylogic" => {
            json!({"target": {"order": "https://shopping-api.paylogic.com/orders/a9211319a7bf4c1d82b78d536c92de58"}})
        }
        _ => return None,
    })
}

fn one_report(reports: Vec<VendorReport>) -> VendorReport {
    assert_eq!(reports.len(), 1, "one instance recorded");
    reports.into_iter().next().unwrap()
}

#[tokio::test]
async fn every_sandbox_recording_passes_the_shared_suite_as_recorded() {
    for walk in walks() {
        let kind = walk.kind;
        let (out, live) = record(&walk).await;
        let recorded = out.join("recorded");
        // Nothing written (fixtures, cases, manifest) holds a credential of the sandbox.
        for file in files_under(&recorded) {
            let text = std::fs::read_to_string(&file).unwrap();
            for secret in walk.secrets {
                assert!(
                    !text.contains(secret),
                    "{kind}: {secret} in {}",
                    file.display()
                );
            }
        }
        let report = one_report(run_suite(&recorded).await);
        let failures = report.failures();
        assert!(
            failures.is_empty(),
            "{kind}: {}\n\n{}",
            failures.join("\n\n"),
            report.summary()
        );
        assert_eq!(report.recorded, live.len(), "{kind}: {}", report.summary());
        // The faults of each phase the walk went through are played from it.
        let phases = [
            (Phase::Create, walk_creates(&walk)),
            (Phase::Lookup, walk_looks_up(&walk)),
            (Phase::Quote, quote_body(kind).is_some()),
        ];
        for (phase, walked) in phases {
            let ran = report.counts.get(&phase).copied().unwrap_or(0);
            if walked {
                let cases = phase.cases().len();
                assert!(
                    ran + report.not_applicable.len() + report.not_recorded.len() >= cases
                        && ran >= cases - 2,
                    "{kind}: {} of {cases} {} faults played: {}",
                    ran,
                    phase.name(),
                    report.summary()
                );
            }
        }
        // A fault the walk cannot play is reported, never passed.
        for missing in &report.not_recorded {
            assert!(
                report.summary().contains(missing.as_str()),
                "{}",
                report.summary()
            );
        }
        let _ = std::fs::remove_dir_all(&out);
    }
}

/// Every file under `dir`, at any depth.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn walk_creates(walk: &Walk) -> bool {
    walk.create_body().is_some()
}

fn walk_looks_up(walk: &Walk) -> bool {
    walk.lookup_query().is_some()
}

/// A recorded vendor answer whose amount is changed afterwards (a gateway that read it
/// differently would give the same difference): the suite fails, naming the recorded case
/// and the canonical field.
#[tokio::test]
async fn a_changed_recorded_answer_fails_naming_the_case_and_field() {
    let walk = walks()
        .into_iter()
        .find(|w| w.kind == "ticketmatic")
        .unwrap();
    let (out, _) = record(&walk).await;
    let folder = out.join("recorded").join("v");
    let cases = load_cases(&folder.join("cases")).unwrap();
    let (name, lookup) = cases
        .iter()
        .find(|(_, c)| c.request.phase() == Phase::Lookup)
        .expect("a recorded lookup");
    let read = lookup.fixtures.last().unwrap();
    change_amounts(&folder.join(format!("{read}.json")));

    let report = one_report(run_suite(&folder).await);
    let failures = report.failures();
    let failure = failures
        .iter()
        .find(|f| f.contains(&format!("recorded.{name}")))
        .unwrap_or_else(|| panic!("no failure of {name}: {failures:#?}"));
    eprintln!("{failure}");
    assert!(
        failure.contains("differs from the recorded one")
            && failure.contains("/amount/value: expected \"1.00\", got \"2.00\""),
        "{failure}"
    );
    let _ = std::fs::remove_dir_all(&out);
}

/// Doubles every `amount` number of a fixture's recorded answer.
fn change_amounts(path: &Path) {
    fn walk(value: &mut Value, changed: &mut usize) {
        match value {
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    match v {
                        Value::Number(n) if k.to_ascii_lowercase().contains("amount") => {
                            *v = Value::from(n.as_f64().unwrap_or(0.0) * 2.0);
                            *changed += 1;
                        }
                        _ => walk(v, changed),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, changed)),
            _ => {}
        }
    }
    let mut fixture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut changed = 0;
    walk(&mut fixture["response"]["body"], &mut changed);
    assert!(changed > 0, "no amount in {}", path.display());
    std::fs::write(path, serde_json::to_string_pretty(&fixture).unwrap()).unwrap();
}

/// A recorded folder whose recordings hold no canonical call the suite can replay (here:
/// none at all) fails, rather than passing with nothing run.
#[tokio::test]
async fn a_recorded_folder_without_usable_recordings_fails() {
    let folder = std::env::temp_dir()
        .join(unique("record-suite-empty"))
        .join("v");
    std::fs::create_dir_all(folder.join("cases")).unwrap();
    std::fs::write(
        folder.join("contract.toml"),
        "[instance]\nkind = \"fourvenues\"\napi_key = { secret = \"recorded-api-key-0123456789\" }\n\n[recorded]\ncases = \"cases\"\n",
    )
    .unwrap();
    let report = one_report(run_suite(&folder).await);
    let failures = report.failures();
    assert!(
        failures
            .iter()
            .any(|f| f.contains("no usable recorded case")),
        "{failures:#?}"
    );
    assert!(report.ran.is_empty(), "{}", report.summary());
    let _ = std::fs::remove_dir_all(folder.parent().unwrap());
}
