//! `refund-gateway check-config` as a real process: a bad config exits non-zero and names
//! the file, the key and the reason.

use std::process::Command;

use crate::support::repo_path;

fn check(config: &str, env: &[(&str, &str)]) -> (bool, String, String) {
    let dir = std::env::temp_dir().join(format!("rg-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{:x}.toml", fxhash(config)));
    std::fs::write(&path, config).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_refund-gateway"));
    cmd.arg("check-config").arg("--config").arg(&path);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        stderr.contains(&path.display().to_string()) || out.status.success(),
        "error must name the file: {stderr}"
    );
    (out.status.success(), stdout, stderr)
}

fn fxhash(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    })
}

fn assert_refused(config: &str, key: &str, reason: &str) {
    let (ok, _, stderr) = check(config, &[]);
    assert!(!ok, "config must be refused: {config}");
    assert!(stderr.contains(key), "error must name `{key}`: {stderr}");
    assert!(
        stderr.contains(reason),
        "error must say `{reason}`: {stderr}"
    );
}

#[test]
fn the_default_config_checks_and_lists_capabilities() {
    let out = Command::new(env!("CARGO_BIN_EXE_refund-gateway"))
        .args(["check-config", "--config"])
        .arg(repo_path("config/gateway.toml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("ticketmatic-demo (ticketmatic, sandbox): create, get, list"),
        "{stdout}"
    );
}

#[test]
fn unknown_kind() {
    assert_refused(
        "[providers.x]\nkind = \"tickettastic\"\n",
        "providers.x.kind",
        "unknown kind `tickettastic`",
    );
}

#[test]
fn missing_secret_variable() {
    let config = "[providers.tm]\nkind = \"ticketmatic\"\naccount = \"demo\"\n\
                  access_key = { env = \"RG_TEST_SURELY_UNSET_ACCESS\" }\n\
                  secret_key = { env = \"RG_TEST_SURELY_UNSET_SECRET\" }\n";
    assert_refused(
        config,
        "providers.tm.access_key",
        "environment variable `RG_TEST_SURELY_UNSET_ACCESS` is not set",
    );
}

#[test]
fn literal_secret_is_refused() {
    let config =
        "[providers.tm]\nkind = \"ticketmatic\"\naccount = \"demo\"\naccess_key = \"plaintext\"\n";
    assert_refused(
        config,
        "providers.tm.access_key",
        "secrets are never written in config",
    );
}

#[test]
fn malformed_url() {
    let config = "[providers.fv]\nkind = \"fourvenues\"\nbase_url = \"not a url\"\napi_key = { env = \"X\" }\n";
    assert_refused(
        config,
        "providers.fv.base_url",
        "relative URL without a base",
    );
    let config = "[providers.fv]\nkind = \"fourvenues\"\nbase_url = \"ftp://example.com\"\napi_key = { env = \"X\" }\n";
    assert_refused(config, "providers.fv.base_url", "not an http(s) URL");
}

#[test]
fn unknown_keys() {
    assert_refused(
        "[server]\nlisten = \"127.0.0.1:0\"\nlistn = 1\n",
        "server.listn",
        "unknown field",
    );
    assert_refused("[providers.tm]\nkind = \"ticketmatic\"\nsandbox = true\naccount = \"demo\"\nacount = \"x\"\n", "providers.tm.acount", "unknown field");
    assert_refused("[sever]\nlisten = 1\n", "sever", "unknown field");
}

#[test]
fn missing_base_url_and_bad_values() {
    assert_refused(
        "[providers.fv]\nkind = \"fourvenues\"\napi_key = { env = \"X\" }\n",
        "providers.fv.base_url",
        "missing",
    );
    assert_refused("[providers.tm]\nkind = \"ticketmatic\"\nsandbox = true\naccount = \"demo\"\ntimeout = \"soon\"\n", "providers.tm.timeout", "");
    assert_refused(
        "[providers.Bad]\nkind = \"ticketmatic\"\n",
        "providers.Bad",
        "instance name",
    );
}

/// Values that read as config but would overflow a clock or a pace on the request path
/// (not at start-up): refused by `check-config`, naming the key.
#[test]
fn durations_and_rates_past_what_a_clock_holds_are_refused() {
    let tm = "[providers.tm]\nkind = \"ticketmatic\"\nsandbox = true\naccount = \"demo\"\n";
    assert_refused(
        &format!("{tm}circuit = {{ failures = 5, cool_down = \"600000000y\" }}\n"),
        "providers.tm",
        "at most 10 years",
    );
    assert_refused(
        &format!("{tm}rate_limit = {{ per_second = 1e-30 }}\n"),
        "providers.tm.rate_limit",
        "per_second must be a number from 0.001",
    );
    assert_refused(
        &format!("{tm}rate_limit = {{ per_second = 1, lookup_share = 0.0001 }}\n"),
        "providers.tm.rate_limit",
        "lookup_share",
    );
    assert_refused(
        &format!("{tm}rate_limit = {{ per_second = 1, max_wait = \"2d\" }}\n"),
        "providers.tm.rate_limit",
        "max_wait must be at most 1h",
    );
    assert_refused(
        "[server]\nclient_rate_limit = { per_second = -5 }\n",
        "server.client_rate_limit",
        "per_second must be",
    );
    assert_refused(
        "[server]\nrequest_timeout = \"100000000000y\"\n",
        "server.request_timeout",
        "at most 10 years",
    );
}

#[test]
fn environment_overrides_the_file() {
    let config = "[providers.tm]\nkind = \"ticketmatic\"\nsandbox = true\naccount = \"demo\"\n";
    let (ok, _, stderr) = check(
        config,
        &[("REFUND_GATEWAY__PROVIDERS__TM__KIND", "nonsense")],
    );
    assert!(!ok);
    assert!(stderr.contains("unknown kind `nonsense`"), "{stderr}");
}

#[test]
fn every_error_of_a_file_is_reported_at_once() {
    let config = "[server]\nlisten = \"nowhere\"\n\
                  [metrics]\nlisen = \"127.0.0.1:9100\"\n\
                  [tracng]\notlp_endpoint = \"http://127.0.0.1:4318\"\n\
                  [providers.tm]\nkind = \"ticketmatic\"\nsandbox = true\naccount = \"demo\"\nacount = \"x\"\n\
                  [providers.sb]\nkind = \"nosuchvendor\"\n";
    let (ok, _, stderr) = check(config, &[]);
    assert!(!ok);
    for (key, reason) in [
        ("server.listen", "invalid"),
        ("metrics.lisen", "unknown field"),
        ("tracng", "unknown section"),
        ("providers.tm.acount", "unknown field"),
        ("providers.sb", "nosuchvendor"),
    ] {
        assert!(
            stderr
                .lines()
                .any(|l| l.contains(key) && l.contains(reason)),
            "`{key}`: `{reason}` missing from:\n{stderr}"
        );
    }
    assert!(stderr.contains("5 errors"), "{stderr}");
}

#[test]
fn every_instance_that_cannot_be_built_is_reported() {
    // Each instance reads on its own, but two cannot be built (a secret file is missing).
    let config = "[providers.a]\nkind = \"ticketmatic\"\nbase_url = \"https://a.example\"\naccount = \"demo\"\n\
                  access_key = { file = \"/nonexistent/a\" }\nsecret_key = { file = \"/nonexistent/a\" }\n\
                  [providers.b]\nkind = \"ticketmatic\"\nbase_url = \"https://b.example\"\naccount = \"demo\"\n\
                  access_key = { file = \"/nonexistent/b\" }\nsecret_key = { file = \"/nonexistent/b\" }\n";
    let (ok, _, stderr) = check(config, &[]);
    assert!(!ok);
    assert!(
        stderr.contains("providers.a") && stderr.contains("providers.b"),
        "{stderr}"
    );
}

#[test]
fn a_sample_ratio_is_a_share() {
    assert_refused(
        "[tracing]\notlp_endpoint = \"http://127.0.0.1:4318\"\nsample_ratio = 2\n",
        "tracing.sample_ratio",
        "not a share",
    );
}
