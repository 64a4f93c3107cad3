//! `refund-gateway fixtures verify` as a process, against each vendor's built-in sandbox
//! standing in for the live vendor: fresh recordings verify clean; a fixture whose answer
//! lost a field, changed a type or a status is reported with the exact pointer and exit
//! code 1; noise fields (the vendor's, the config's, `--noise`) do not count; writes are
//! sent only with `--allow-writes`; `--update` rewrites drifted answers, still redacted,
//! and a second run passes; a recording past its `expires_after` is warned about.

use std::path::{Path, PathBuf};
use std::process::Command;

use refund_gateway::app::Server;
use refund_gateway::config::Config;
use refund_gateway::record::{recorded_files, Recorder};
use refund_provider::fixture::Exchange;
use serde_json::json;

use crate::record::{sandbox_config_text, stubbur_login, walk_vendor, walks, Walk};
use crate::support::process::write_config;
use crate::support::unique;

/// The sandbox instance `v` of `walk` (Stubbur logging in with a password, whose value the
/// sandbox ignores), as TOML.
fn config_text(walk: &Walk, dir: &Path, extra: &str) -> String {
    let keys = match walk.kind {
        "stubbur" => format!("sandbox = true\n{}", stubbur_login(dir)),
        _ => "sandbox = true".to_string(),
    };
    format!("{extra}\n{}", sandbox_config_text(walk, &keys))
}

/// Records `walk`'s walk-through against its sandbox into `out`.
async fn record(walk: &Walk, dir: &Path, out: &Path) {
    let config = Config::from_toml_str(&config_text(walk, dir, "")).unwrap();
    let server = Server::start_recording(config, Some(Recorder::new(out).unwrap()))
        .await
        .expect("gateway starts");
    for (status, answer) in walk_vendor(&server, walk).await {
        assert!([200, 201].contains(&status), "{}: {answer:#}", walk.kind);
    }
    server.shutdown().await;
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// A fixture's verdict: the column after its request (method and path).
    fn verdict(&self, fixture: &str) -> String {
        let row = self.row(fixture);
        row.split_whitespace()
            .nth(3)
            .unwrap_or_default()
            .to_string()
    }

    /// The table line of a fixture (and its continuation lines of differences).
    fn row(&self, fixture: &str) -> String {
        let mut lines = self.stdout.lines().skip_while(|l| !l.starts_with(fixture));
        let mut row = lines.next().unwrap_or_default().to_string();
        for more in lines.take_while(|l| l.starts_with(' ')) {
            row.push('\n');
            row.push_str(more);
        }
        row
    }
}

fn verify(config: &Path, dir: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_refund-gateway"))
        .arg("--config")
        .arg(config)
        .args(["fixtures", "verify", "--instance", "v"])
        .arg(dir)
        .args(args)
        .output()
        .expect("the binary runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn fixtures(dir: &Path) -> Vec<(PathBuf, Exchange)> {
    recorded_files(dir)
        .unwrap()
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).unwrap();
            let exchange = Exchange::parse(&f.display().to_string(), &text);
            (f, exchange)
        })
        .collect()
}

fn write(path: &Path, exchange: &Exchange) {
    std::fs::write(path, serde_json::to_string_pretty(exchange).unwrap()).unwrap();
}

#[tokio::test]
async fn fresh_recordings_of_every_sandbox_verify_clean() {
    for walk in walks() {
        let kind = walk.kind;
        let dir = std::env::temp_dir().join(unique(&format!("verify-{kind}")));
        let out = dir.join("recorded");
        std::fs::create_dir_all(&dir).unwrap();
        record(&walk, &dir, &out).await;
        let config = write_config("verify", &config_text(&walk, &dir, ""));

        // Reads only: every write is skipped, every read verifies.
        let run = verify(&config, &out, &[]);
        assert_eq!(run.code, 0, "{kind}:\n{}{}", run.stdout, run.stderr);
        for (file, exchange) in fixtures(&out) {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            let row = run.row(&name);
            let read = exchange.request.method == "GET"
                || exchange.request.path == "/auth/credentials"
                || exchange
                    .request
                    .query
                    .get("action")
                    .is_some_and(|a| a.starts_with("get"));
            let want = if read { "ok" } else { "skipped" };
            assert_eq!(
                run.verdict(&name),
                want,
                "{kind}: {name}: {row}\n{}",
                run.stdout
            );
        }

        // Writes too, in recording order: the sandbox goes through the same states. A write
        // whose body holds a value the recording did not keep (`{{any}}`) cannot be sent as
        // recorded, and says so; one holding the gateway's refund id (iVvy's notes:
        // `{{refund_id}}`) is sent with a fresh id.
        let run = verify(&config, &out, &["--allow-writes"]);
        assert_eq!(run.code, 0, "{kind}:\n{}{}", run.stdout, run.stderr);
        let mut fresh_ids = 0;
        for (file, exchange) in fixtures(&out) {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            let kept = !serde_json::to_string(&exchange.request.body)
                .unwrap()
                .contains("{{any}}")
                || exchange.request.path == "/auth/credentials";
            let want = if kept { "ok" } else { "skipped" };
            assert_eq!(run.verdict(&name), want, "{kind}: {name}\n{}", run.stdout);
            if serde_json::to_string(&exchange.request.body)
                .unwrap()
                .contains("{{refund_id}}")
            {
                fresh_ids += 1;
            }
        }
        if kind == "ivvy" {
            assert!(
                fresh_ids > 0,
                "iVvy's notes carry the refund id\n{}",
                run.stdout
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[tokio::test]
async fn drift_is_named_noise_is_not_writes_wait_and_update_mends() {
    let walk = walks()
        .into_iter()
        .find(|w| w.kind == "ticketmatic")
        .unwrap();
    let dir = std::env::temp_dir().join(unique("verify-drift"));
    let out = dir.join("recorded");
    std::fs::create_dir_all(&dir).unwrap();
    record(&walk, &dir, &out).await;
    let recorded = fixtures(&out);
    let (_, read) = recorded
        .iter()
        .rev()
        .find(|(_, e)| e.request.method == "GET")
        .expect("a lookup was recorded")
        .clone();
    let (_, write_fixture) = recorded
        .iter()
        .find(|(_, e)| e.request.method == "POST")
        .expect("a create was recorded")
        .clone();

    // One folder of fixtures, each changed in one way from the lookup the sandbox answers.
    let checked = dir.join("checked");
    std::fs::create_dir_all(&checked).unwrap();
    let changed = |name: &str, change: &dyn Fn(&mut Exchange)| {
        let mut e = read.clone();
        change(&mut e);
        write(&checked.join(name), &e);
    };
    let body = |e: &mut Exchange| e.response.body.as_mut().unwrap().clone();
    changed("a-field-removed.json", &|e| {
        let mut b = body(e);
        b["vanished"] = json!("the vendor no longer sends this");
        e.response.body = Some(b);
    });
    changed("b-type-changed.json", &|e| {
        let mut b = body(e);
        b["totalamount"] = json!("50.00");
        e.response.body = Some(b);
    });
    changed("c-status-changed.json", &|e| e.response.status = 203);
    changed("d-noise-only.json", &|e| {
        let mut b = body(e);
        b["createdts"] = json!(20141001); // the vendor's noise
        b["payments"][0]["paidts"] = json!(false); // the vendor's, in a list
        b["nbroftickets"] = json!("two"); // the config's
        b["webskinid"] = json!([1]); // the command line's
        e.response.body = Some(b);
    });
    changed("e-expired.json", &|e| {
        e.source = "Recorded by `refund-gateway record` at 2020-01-01T00:00:00Z".into();
        e.expires_after = Some("90d".into());
    });
    write(&checked.join("f-create.json"), &write_fixture);

    let config = write_config(
        "verify-drift",
        &config_text(&walk, &dir, "[fixtures]\nnoise = [\"/nbroftickets\"]"),
    );
    let run = verify(&config, &checked, &["--noise", "/webskinid"]);
    let report = format!("{}{}", run.stdout, run.stderr);
    assert_eq!(run.code, 1, "{report}");
    let a = run.row("a-field-removed.json");
    assert!(
        a.contains("DRIFT") && a.contains("/vanished: removed (was string)"),
        "{report}"
    );
    let b = run.row("b-type-changed.json");
    assert!(
        b.contains("DRIFT") && b.contains("/totalamount: type changed from string to number"),
        "{report}"
    );
    let c = run.row("c-status-changed.json");
    assert!(
        c.contains("DRIFT") && c.contains("status: recorded 203, live 200"),
        "{report}"
    );
    for fresh in ["d-noise-only.json", "e-expired.json"] {
        assert_eq!(run.verdict(fresh), "ok", "{fresh}: {report}");
    }
    assert!(
        run.row("f-create.json").contains("--allow-writes"),
        "{report}"
    );
    assert!(run
        .stdout
        .contains("6 fixture(s): 2 ok, 3 drift, 0 updated, 1 skipped, 0 error"));
    assert!(
        run.stderr.contains("warning: e-expired.json") && run.stderr.contains("expires_after 90d"),
        "{report}"
    );
    assert!(!run.stderr.contains("a-field-removed.json"), "{report}");

    // Without the config's and the command line's noise, those fields count.
    let plain = write_config("verify-plain", &config_text(&walk, &dir, ""));
    let strict = verify(&plain, &checked, &[]);
    let d = strict.row("d-noise-only.json");
    assert!(
        d.contains("/nbroftickets: type changed from string to number")
            && d.contains("/webskinid: type changed from array to number")
            && !d.contains("createdts")
            && !d.contains("paidts"),
        "{}",
        strict.stdout
    );

    // --update mends what drifted, still redacted; a second run passes.
    let run = verify(&config, &checked, &["--noise", "/webskinid", "--update"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    for name in [
        "a-field-removed.json",
        "b-type-changed.json",
        "c-status-changed.json",
    ] {
        assert!(run.row(name).contains("updated"), "{}", run.stdout);
        let text = std::fs::read_to_string(checked.join(name)).unwrap();
        for secret in walk.secrets {
            assert!(!text.contains(secret), "{secret} in {name}:\n{text}");
        }
        let e = Exchange::parse(name, &text);
        assert!(e.source.contains("--update"), "{}", e.source);
        let body = e.response.body.unwrap();
        assert_eq!(body["firstname"], "REDACTED", "{name}: {body:#}");
        assert_eq!(body["deliveryaddress"]["street1"], "REDACTED", "{name}");
        assert_eq!(e.response.status, 200);
        assert_eq!(e.request.path, read.request.path, "the request stays");
    }
    let run = verify(&config, &checked, &["--noise", "/webskinid"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("5 ok, 0 drift"), "{}", run.stdout);

    // With --allow-writes the create is sent and answers as recorded.
    let run = verify(
        &config,
        &checked,
        &["--noise", "/webskinid", "--allow-writes"],
    );
    assert_eq!(run.verdict("f-create.json"), "ok", "{}", run.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A config file that does not name the instance, or a folder that is not there, is an
/// error of the run (exit 2), not drift.
#[tokio::test]
async fn a_run_that_cannot_check_exits_2() {
    let walk = walks().into_iter().find(|w| w.kind == "paylogic").unwrap();
    let dir = std::env::temp_dir().join(unique("verify-missing"));
    std::fs::create_dir_all(&dir).unwrap();
    let config = write_config("verify-missing", &config_text(&walk, &dir, ""));
    let run = verify(&config, &dir.join("absent"), &[]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("absent"), "{}", run.stderr);
    let broken = dir.join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("x.json"), "{not json").unwrap();
    let run = verify(&config, &broken, &[]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.row("x.json").contains("ERROR"), "{}", run.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `replay` warns, when it loads them, about fixtures past their `expires_after`, and only
/// about those.
#[tokio::test]
async fn replay_warns_about_expired_fixtures_when_loading() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;

    let dir = std::env::temp_dir().join(unique("replay-expiry"));
    std::fs::create_dir_all(&dir).unwrap();
    let fixture = |source: &str, expires_after: &str| {
        json!({
            "description": "d", "source": source, "expires_after": expires_after,
            "request": {"method": "GET", "path": "/x"}, "response": {"status": 200}
        })
        .to_string()
    };
    std::fs::write(
        dir.join("old.json"),
        fixture("Recorded at 2020-01-01T00:00:00Z", "30d"),
    )
    .unwrap();
    let now = refund_provider::chrono::Utc::now().to_rfc3339();
    std::fs::write(
        dir.join("fresh.json"),
        fixture(&format!("Recorded at {now}"), "30d"),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_refund-gateway"))
        .arg("replay")
        .arg(&dir)
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("replaying 2 fixture(s)"), "{first}");
    child.kill().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let _ = child.wait();
    assert!(
        stderr.contains("old.json") && stderr.contains("expires_after 30d"),
        "{stderr}"
    );
    assert!(!stderr.contains("fresh.json"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
