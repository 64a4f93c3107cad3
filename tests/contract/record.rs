//! `refund-gateway record`: a create and a lookup against the Ticketmatic sandbox (standing
//! in for the live vendor) are written as fixtures holding none of the instance's secrets,
//! and replaying them through the gateway gives the same canonical answers.

use std::path::{Path, PathBuf};

use refund_gateway::app::Server;
use refund_gateway::config::Config;
use refund_gateway::record::{recorded_files, Recorder};
use refund_gateway::replay::{ReplayServer, Reuse};
use refund_provider::fixture::{Exchange, Fault};
use serde_json::{json, Value};

use crate::support::process::{write_config, GatewayProcess};
use crate::support::{temp_database, unique};

const SECRETS: &[&str] = &[
    provider_ticketmatic::SANDBOX_ACCESS_KEY,
    provider_ticketmatic::SANDBOX_SECRET_KEY,
];

pub(crate) fn secret_file(dir: &Path, name: &str, value: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, value).unwrap();
    path
}

/// The instance table: the sandbox's own credentials configured as file references, so
/// they are the instance's configured secrets.
fn config(dir: &Path, vendor: &str) -> Config {
    let access = secret_file(dir, "access", provider_ticketmatic::SANDBOX_ACCESS_KEY);
    let secret = secret_file(dir, "secret", provider_ticketmatic::SANDBOX_SECRET_KEY);
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n[reconcile]\ninterval = \"1h\"\n[storage]\nurl = \"{}\"\n\
         [providers.tm]\nkind = \"ticketmatic\"\naccount = \"demo\"\ntimeout = \"30s\"\n{vendor}\n\
         access_key = {{ file = \"{}\" }}\nsecret_key = {{ file = \"{}\" }}\n",
        temp_database(),
        access.display(),
        secret.display()
    );
    Config::from_toml_str(&text).unwrap_or_else(|e| panic!("config: {e}"))
}

/// A create, then a live lookup of the same order; the answers without what differs per
/// run (ledger ids, times).
/// (Through the client that checks each answer against the gateway's served document.)
async fn walk(base: &str) -> (Value, Value) {
    let client = crate::support::process::CheckedClient::of(base).await;
    let key = unique("record-walk");
    let created = client
        .post(
            "/v1/refunds",
            &json!({"provider": "tm", "target": {"order": "1269434"}, "amount": {"value": "1.00", "currency": "EUR"}}),
            &[("idempotency-key", &key)],
        )
        .await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let listed = client
        .send(
            client
                .http()
                .get(client.url("/v1/refunds?provider=tm&order=1269434"))
                .header("cache-control", "no-cache"),
        )
        .await;
    assert_eq!(listed.status, 200, "{:#}", listed.body);
    (stable(created.body), stable(listed.body))
}

fn stable(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, v)| {
                    !k.ends_with("_at") && !v.as_str().is_some_and(|s| s.starts_with("rfg_"))
                })
                .map(|(k, v)| (k, stable(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(stable).collect()),
        other => other,
    }
}

#[tokio::test]
async fn recordings_hold_no_secret_and_replay_to_the_same_answers() {
    let dir = std::env::temp_dir().join(unique("record"));
    let out = dir.join("recorded");
    std::fs::create_dir_all(&dir).unwrap();

    let recorder = Recorder::new(&out).unwrap();
    let server = Server::start_recording(config(&dir, "sandbox = true"), Some(recorder))
        .await
        .expect("gateway starts");
    let live = walk(&format!("http://{}", server.addr())).await;
    server.shutdown().await;

    let files = recorded_files(&out).unwrap();
    assert!(files.len() >= 2, "a create and a lookup: {files:?}");
    let name = regex::Regex::new(r"^tm-\d{3}-(get|post)-\d{3}\.json$").unwrap();
    let mut methods = Vec::new();
    for file in &files {
        let file_name = file.file_name().unwrap().to_string_lossy();
        assert!(name.is_match(&file_name), "{file_name}");
        let text = std::fs::read_to_string(file).unwrap();
        for secret in SECRETS {
            assert!(
                !text.contains(secret),
                "{secret} written in {file_name}:\n{text}"
            );
        }
        let exchange = Exchange::parse(&file_name, &text);
        assert!(exchange.source.contains("`tm`"), "{}", exchange.source);
        assert!(
            exchange.request.headers.contains_key("authorization"),
            "every header is kept, credentials as a shape: {text}"
        );
        methods.push(exchange.request.method.clone());
    }
    assert!(methods.iter().any(|m| m == "POST"), "{methods:?}");

    // Replay the recordings, each once and in order, through a gateway configured for them.
    let fixtures = ReplayServer::load(&files).unwrap();
    let vendor = ReplayServer::start("127.0.0.1:0".parse().unwrap(), fixtures, Reuse::Once)
        .await
        .unwrap();
    let replay_dir = dir.join("replay");
    std::fs::create_dir_all(&replay_dir).unwrap();
    let server = Server::start(config(
        &replay_dir,
        &format!("base_url = \"{}\"", vendor.base_url()),
    ))
    .await
    .expect("gateway starts");
    let replayed = walk(&format!("http://{}", server.addr())).await;
    server.shutdown().await;
    vendor.assert_clean();
    assert_eq!(replayed, live);
    let _ = std::fs::remove_dir_all(&dir);
}

/// One vendor's walk for the every-sandbox test: its instance keys (beside `kind` and the
/// sandbox or base URL), a create body if it creates, a lookup query if it lists.
pub(crate) struct Walk {
    pub(crate) kind: &'static str,
    keys: &'static str,
    create: Option<Value>,
    lookup: Option<&'static str>,
    pub(crate) secrets: &'static [&'static str],
}

impl Walk {
    pub(crate) fn create_body(&self) -> Option<&Value> {
        self.create.as_ref()
    }

    pub(crate) fn lookup_query(&self) -> Option<&'static str> {
        self.lookup
    }
}

pub(crate) fn walks() -> Vec<Walk> {
    vec![
        Walk {
            kind: "ticketmatic",
            keys: "account = \"demo\"",
            create: Some(
                json!({"target": {"order": "1269434"}, "amount": {"value": "1.00", "currency": "EUR"}}),
            ),
            lookup: Some("order=1269434"),
            secrets: SECRETS,
        },
        Walk {
            kind: "fourvenues",
            keys: "",
            create: Some(
                json!({"target": {"tickets": ["5f8d0f8b9d2b3b0017b6d8a0"]}, "amount": {"value": "10", "currency": "EUR"}}),
            ),
            lookup: Some("ticket=5f8d0f8b9d2b3b0017b6d8a0"),
            secrets: &[provider_fourvenues::sandbox::SANDBOX_API_KEY],
        },
        Walk {
            kind: "stubbur",
            keys: "",
            create: Some(
                json!({"target": {"event": "1001", "all_for_event": true}, "reason": "event cancelled"}),
            ),
            lookup: None,
            secrets: &[
                provider_stubbur::sandbox::SANDBOX_TOKEN,
                provider_stubbur::sandbox::SANDBOX_PASSWORD,
            ],
        },
        Walk {
            kind: "ivvy",
            keys: "currency = \"AUD\"",
            create: Some(
                json!({"target": {"venue": "2", "booking": "2"}, "amount": {"value": "100.00", "currency": "AUD"}, "reason": "date moved"}),
            ),
            lookup: Some("venue=2&booking=2"),
            secrets: &[
                provider_ivvy::SANDBOX_API_KEY,
                provider_ivvy::SANDBOX_API_SECRET,
            ],
        },
        Walk {
            kind: "paylogic",
            keys: "language = \"en\"",
            create: None,
            // The order as its full Shopping API URL: a bare id is expanded with the instance's
            // base URL, which differs between the sandbox and the replay server.
            lookup: Some(
                "order=https://shopping-api.paylogic.com/orders/a9211319a7bf4c1d82b78d536c92de58",
            ),
            secrets: &[
                provider_paylogic::sandbox::SANDBOX_APP,
                provider_paylogic::sandbox::SANDBOX_SECRET,
                provider_paylogic::sandbox::SANDBOX_TOKEN,
            ],
        },
    ]
}

fn sandbox_config(walk: &Walk, vendor: &str) -> Config {
    let text = sandbox_config_text(walk, vendor);
    Config::from_toml_str(&text).unwrap_or_else(|e| panic!("config: {e}"))
}

/// The config of `sandbox_config`, as TOML (for processes).
pub(crate) fn sandbox_config_text(walk: &Walk, vendor: &str) -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n[reconcile]\ninterval = \"1h\"\n[storage]\nurl = \"{}\"\n\
         [providers.v]\nkind = \"{}\"\ntimeout = \"30s\"\n{}\n{vendor}\n",
        temp_database(),
        walk.kind,
        walk.keys
    )
}

/// Every creating vendor: a create; every listing vendor: a live lookup (answers without
/// ledger ids and times).
pub(crate) async fn walk_vendor(server: &Server, walk: &Walk) -> Vec<(u16, Value)> {
    let base = format!("http://{}", server.addr());
    let client = reqwest::Client::new();
    let mut answers = Vec::new();
    if let Some(create) = &walk.create {
        let mut body = create.clone();
        body["provider"] = json!("v");
        let r = client
            .post(format!("{base}/v1/refunds"))
            .header("idempotency-key", unique("record-walk"))
            .json(&body)
            .send()
            .await
            .unwrap();
        answers.push((r.status().as_u16(), stable(r.json().await.unwrap())));
    }
    if let Some(lookup) = walk.lookup {
        let r = client
            .get(format!("{base}/v1/refunds?provider=v&{lookup}"))
            .header("cache-control", "no-cache")
            .send()
            .await
            .unwrap();
        answers.push((r.status().as_u16(), stable(r.json().await.unwrap())));
    }
    answers
}

/// Every vendor's built-in sandbox, with no credential configured: the sandbox's own
/// credentials are redacted, and the recordings replay to the same canonical answers.
#[tokio::test]
async fn every_sandbox_records_without_its_credentials_and_replays_the_same() {
    for walk in walks() {
        let kind = walk.kind;
        let out = std::env::temp_dir().join(unique(&format!("record-{kind}")));
        // Stubbur logs in (a password, then session cookies); the others use the sandbox's
        // own credentials, none configured.
        let login = std::env::temp_dir().join(unique("record-login"));
        let recording_keys = match kind {
            "stubbur" => {
                std::fs::create_dir_all(&login).unwrap();
                format!("sandbox = true\n{}", stubbur_login(&login))
            }
            _ => "sandbox = true".to_string(),
        };
        let server = Server::start_recording(
            sandbox_config(&walk, &recording_keys),
            Some(Recorder::new(&out).unwrap()),
        )
        .await
        .expect("gateway starts");
        let live = walk_vendor(&server, &walk).await;
        server.shutdown().await;
        for (status, answer) in &live {
            // 202 would be an unknown outcome: not what the sandbox answers.
            assert!([200, 201].contains(status), "{kind}: {status} {answer:#}");
        }

        let files = recorded_files(&out).unwrap();
        assert!(!files.is_empty(), "{kind}: nothing recorded");
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            let exchange = Exchange::parse(&file.display().to_string(), &text);
            if let Some(body) = &exchange.response.body {
                let mut leaked = Vec::new();
                personal_values(body, &mut leaked);
                assert!(
                    leaked.is_empty(),
                    "{kind}: personal data recorded: {leaked:?}"
                );
            }
            for secret in walk.secrets {
                assert!(
                    !text.contains(secret),
                    "{kind}: {secret} written in {}:\n{text}",
                    file.display()
                );
            }
        }

        let fixtures = ReplayServer::load(&files).unwrap();
        let vendor = ReplayServer::start("127.0.0.1:0".parse().unwrap(), fixtures, Reuse::Once)
            .await
            .unwrap();
        // Credentials the replay server cannot tell from the real ones: only their shape is
        // recorded.
        let dir = std::env::temp_dir().join(unique(&format!("replay-{kind}")));
        std::fs::create_dir_all(&dir).unwrap();
        let fake = |name: &str| {
            format!(
                "{{ file = \"{}\" }}",
                secret_file(&dir, name, &format!("fake-{name}-0123456789")).display()
            )
        };
        let credentials = match kind {
            "ticketmatic" => format!("access_key = {}\nsecret_key = {}", fake("a"), fake("s")),
            "fourvenues" => format!("api_key = {}", fake("k")),
            "ivvy" => format!("api_key = {}\napi_secret = {}", fake("k"), fake("s")),
            "stubbur" => stubbur_login(&dir),
            "paylogic" => format!(
                "auth = {{ mode = \"basic\", app = {}, secret = {} }}",
                fake("a"),
                fake("s")
            ),
            _ => unreachable!(),
        };
        let server = Server::start(sandbox_config(
            &walk,
            &format!("base_url = \"{}\"\n{credentials}", vendor.base_url()),
        ))
        .await
        .unwrap_or_else(|e| panic!("{kind}: gateway starts: {e}"));
        let replayed = walk_vendor(&server, &walk).await;
        server.shutdown().await;
        if !vendor.unused().is_empty() || !vendor.mismatches().is_empty() {
            panic!(
                "{kind}: {:?} {:?}\nreplayed {replayed:#?}\nlive {live:#?}",
                vendor.mismatches(),
                vendor.unused()
            );
        }
        assert_eq!(replayed, live, "{kind}");
        let _ = std::fs::remove_dir_all(&out);
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_dir_all(&login);
    }
}

pub(crate) fn stubbur_login(dir: &Path) -> String {
    let password = secret_file(dir, "password", "fake-password-0123456789");
    format!(
        "auth = {{ mode = \"credentials\", username = \"{}\", password = {{ file = \"{}\" }} }}",
        provider_stubbur::sandbox::SANDBOX_USERNAME,
        password.display()
    )
}

/// The commands themselves: `record --out DIR` as a process, then `replay --once DIR` as
/// one, with a gateway process pointed at it; the replay server's admin API lists what the
/// gateway sent, one request per recording.
#[tokio::test]
async fn the_record_and_replay_commands_round_trip() {
    let dir = std::env::temp_dir().join(unique("record-cli"));
    let out = dir.join("recorded");
    std::fs::create_dir_all(&dir).unwrap();
    let instance =
        "[providers.tm]\nkind = \"ticketmatic\"\naccount = \"demo\"\ntimeout = \"30s\"\n";
    let recording = write_config(
        "record-cli",
        &format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n[reconcile]\ninterval = \"1h\"\n[storage]\nurl = \"{}\"\n{instance}sandbox = true\n",
            temp_database()
        ),
    );
    let gateway = GatewayProcess::spawn_args(&[
        "--config".as_ref(),
        recording.as_os_str(),
        "record".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    let live = walk(&gateway.base_url).await;
    gateway.terminate();
    let files = recorded_files(&out).unwrap();
    assert!(files.len() >= 2, "{files:?}");
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for secret in SECRETS {
            assert!(!text.contains(secret), "{secret} in {}", file.display());
        }
    }

    // Strict header matching: the recordings hold every header the gateway sends.
    let replay = GatewayProcess::spawn_args(&[
        "replay".as_ref(),
        "--once".as_ref(),
        "--headers".as_ref(),
        "strict".as_ref(),
        out.as_os_str(),
        "--listen".as_ref(),
        "127.0.0.1:0".as_ref(),
    ]);
    let access = secret_file(&dir, "access", "fake-access-key-0123456789");
    let secret = secret_file(&dir, "secret", "fake-secret-key-0123456789");
    let replaying = write_config(
        "replay-cli",
        &format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n[reconcile]\ninterval = \"1h\"\n[storage]\nurl = \"{}\"\n{instance}\
             base_url = \"{}\"\naccess_key = {{ file = \"{}\" }}\nsecret_key = {{ file = \"{}\" }}\n",
            temp_database(),
            replay.base_url,
            access.display(),
            secret.display()
        ),
    );
    let gateway = GatewayProcess::spawn(&replaying);
    let replayed = walk(&gateway.base_url).await;
    gateway.terminate();
    assert_eq!(replayed, live);
    let listed: Value = reqwest::get(format!("{}/__replay/requests", replay.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let requests = listed["requests"].as_array().unwrap();
    assert_eq!(requests.len(), files.len(), "{listed:#}");
    assert!(
        requests
            .iter()
            .all(|r| r["headers"]["authorization"] == "***"),
        "{listed:#}"
    );
    replay.kill();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `record --instance NAME`: only that instance's exchanges are written; a name the config
/// does not have stops the start, naming it.
#[tokio::test]
async fn only_the_chosen_instances_are_recorded() {
    let out = std::env::temp_dir().join(unique("record-only"));
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n[reconcile]\ninterval = \"1h\"\n[storage]\nurl = \"{}\"\n\
         [providers.tm]\nkind = \"ticketmatic\"\nsandbox = true\naccount = \"demo\"\n\
         [providers.fv]\nkind = \"fourvenues\"\nsandbox = true\n",
        temp_database()
    );
    let config = || Config::from_toml_str(&text).unwrap();
    let recorder = Recorder::new(&out).unwrap().only(vec!["fv".to_string()]);
    let server = Server::start_recording(config(), Some(recorder))
        .await
        .expect("gateway starts");
    let base = format!("http://{}", server.addr());
    for (provider, order) in [
        ("tm", "order=1269434"),
        ("fv", "ticket=5f8d0f8b9d2b3b0017b6d8a0"),
    ] {
        let r = reqwest::Client::new()
            .get(format!("{base}/v1/refunds?provider={provider}&{order}"))
            .header("cache-control", "no-cache")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{provider}");
    }
    server.shutdown().await;
    let names: Vec<String> = recorded_files(&out)
        .unwrap()
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(!names.is_empty());
    assert!(names.iter().all(|n| n.starts_with("fv-")), "{names:?}");

    let unknown = Recorder::new(&out).unwrap().only(vec!["nope".to_string()]);
    let error = Server::start_recording(config(), Some(unknown))
        .await
        .err()
        .expect("an unknown instance stops the start")
        .to_string();
    assert!(
        error.contains("nope") && error.contains("--instance"),
        "{error}"
    );
    let _ = std::fs::remove_dir_all(&out);
}

/// Values of personal-data fields (emails, people's names) in a recorded answer that are
/// not the redaction mark.
fn personal_values(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = k.to_ascii_lowercase();
                let personal = key.contains("email")
                    || ["firstname", "lastname", "holdername", "customername"]
                        .contains(&key.as_str());
                match v {
                    Value::String(s) if personal && s != "REDACTED" => {
                        out.push(format!("{k}: {s}"))
                    }
                    _ => personal_values(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| personal_values(v, out)),
        Value::String(s) if s.contains('@') && s != provider_stubbur::sandbox::SANDBOX_USERNAME => {
            out.push(s.clone())
        }
        _ => {}
    }
}

/// `[fixtures] personal_data` adds pointers to the vendor's own: the Fourvenues sandbox's QR
/// codes are recorded only without it.
#[tokio::test]
async fn configured_personal_data_is_not_recorded() {
    let walk = walks()
        .into_iter()
        .find(|w| w.kind == "fourvenues")
        .unwrap();
    let qr = "ABCDE12345";
    for (extra, kept) in [
        ("", true),
        ("[fixtures]\npersonal_data = [\"/data/qr_code\"]", false),
    ] {
        let out = std::env::temp_dir().join(unique("record-personal"));
        let text = format!("{extra}\n{}", sandbox_config_text(&walk, "sandbox = true"));
        let config = Config::from_toml_str(&text).unwrap();
        let server = Server::start_recording(config, Some(Recorder::new(&out).unwrap()))
            .await
            .expect("gateway starts");
        walk_vendor(&server, &walk).await;
        server.shutdown().await;
        let texts: String = recorded_files(&out)
            .unwrap()
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect();
        assert_eq!(texts.contains(qr), kept, "{extra}:\n{texts}");
        let _ = std::fs::remove_dir_all(&out);
    }
}

/// A lookup the vendor never answers in time and one whose connection it resets are
/// recorded as such (`...-timeout.json`, `...-reset.json`, `fault: reset`), and replaying
/// the recordings gives the gateway's same answers: 504 `provider_timeout`, 502
/// `provider_unavailable`.
#[tokio::test]
async fn unanswered_exchanges_are_recorded_and_replay_the_same() {
    let dir = std::env::temp_dir().join(unique("record-unanswered"));
    let out = dir.join("recorded");
    std::fs::create_dir_all(&dir).unwrap();
    let shipped = ReplayServer::load(&[
        crate::support::repo_path("fixtures/ticketmatic/timeout-get-order.json"),
        crate::support::repo_path("fixtures/ticketmatic/fault-reset-get-order.json"),
    ])
    .unwrap();
    let config = |base: &str| {
        let text = format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n[reconcile]\ninterval = \"1h\"\n[storage]\nurl = \"{}\"\n\
             [providers.tm]\nkind = \"ticketmatic\"\naccount = \"demo\"\ntimeout = \"500ms\"\n\
             base_url = \"{base}\"\naccess_key = {{ file = \"{}\" }}\nsecret_key = {{ file = \"{}\" }}\n",
            temp_database(),
            secret_file(&dir, "a", "fake-access-key-0123456789").display(),
            secret_file(&dir, "s", "fake-secret-key-0123456789").display(),
        );
        Config::from_toml_str(&text).unwrap()
    };
    async fn lookups(server: &Server) -> Vec<(u16, String)> {
        let mut answers = Vec::new();
        for _ in 0..2 {
            let r = reqwest::Client::new()
                .get(format!(
                    "http://{}/v1/refunds?provider=tm&order=1269434",
                    server.addr()
                ))
                .header("cache-control", "no-cache")
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap();
            answers.push((
                status,
                body["code"].as_str().unwrap_or_default().to_string(),
            ));
        }
        answers
    }

    let vendor = ReplayServer::start("127.0.0.1:0".parse().unwrap(), shipped, Reuse::Once)
        .await
        .unwrap();
    let server = Server::start_recording(
        config(&vendor.base_url()),
        Some(Recorder::new(&out).unwrap()),
    )
    .await
    .unwrap();
    let live = lookups(&server).await;
    server.shutdown().await;
    assert_eq!(
        live,
        vec![
            (504, "provider_timeout".to_string()),
            (502, "provider_unavailable".to_string())
        ]
    );
    let files = recorded_files(&out).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["tm-001-get-timeout.json", "tm-002-get-reset.json"]);
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let e = Exchange::parse(&file.display().to_string(), &text);
        assert_eq!(e.response.fault, Some(Fault::Reset), "{text}");
    }
    let timeout = Exchange::parse("t", &std::fs::read_to_string(&files[0]).unwrap());
    assert!(timeout.response.delay_ms.unwrap() >= 1000, "{timeout:?}");

    let replay = ReplayServer::start(
        "127.0.0.1:0".parse().unwrap(),
        ReplayServer::load(&files).unwrap(),
        Reuse::Once,
    )
    .await
    .unwrap();
    let server = Server::start(config(&replay.base_url())).await.unwrap();
    let replayed = lookups(&server).await;
    server.shutdown().await;
    replay.assert_clean();
    assert_eq!(replayed, live);
    let _ = std::fs::remove_dir_all(&dir);
}
