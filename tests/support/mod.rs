//! Test harness: the real gateway on loopback, a replay vendor serving recorded fixtures,
//! and a small HTTP client. Shared by the contract and end-to-end test binaries.
#![allow(dead_code)]

pub mod contract_check;
pub mod process;
pub mod redis_server;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use refund_gateway::app::Server;
use refund_gateway::config::Config;
use refund_gateway::replay::{ReceivedRequest, ReplayServer, Reuse};

/// The repository root, so fixture paths can be written as `fixtures/<vendor>/x.json`.
pub fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// A replay vendor on a free loopback port, each fixture answering once.
pub struct ReplayVendor {
    server: ReplayServer,
}

impl ReplayVendor {
    pub async fn start(fixtures: &[&str]) -> ReplayVendor {
        Self::start_with(fixtures, Reuse::Once).await
    }

    /// `names` from `fixtures/<vendor>/<name>.json`, each answering once.
    pub async fn vendor(vendor: &str, names: &[&str]) -> ReplayVendor {
        let paths: Vec<String> = names
            .iter()
            .map(|n| format!("fixtures/{vendor}/{n}.json"))
            .collect();
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        Self::start(&refs).await
    }

    /// Fixtures answer any number of times (load and traffic tests).
    pub async fn start_reusable(fixtures: &[&str]) -> ReplayVendor {
        Self::start_with(fixtures, Reuse::Always).await
    }

    async fn start_with(fixtures: &[&str], reuse: Reuse) -> ReplayVendor {
        let paths: Vec<PathBuf> = fixtures.iter().map(|f| repo_path(f)).collect();
        let loaded = ReplayServer::load(&paths).expect("fixtures load");
        let server = ReplayServer::start("127.0.0.1:0".parse().unwrap(), loaded, reuse)
            .await
            .expect("replay vendor starts");
        ReplayVendor { server }
    }

    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    pub fn received(&self) -> Vec<ReceivedRequest> {
        self.server.received()
    }

    pub fn mismatches(&self) -> Vec<String> {
        self.server.mismatches()
    }

    /// Panics with a readable diff if any request differed from the fixtures, or if a
    /// fixture was never requested.
    pub fn assert_clean(&self) {
        self.server.assert_clean()
    }
}

/// The gateway, started in-process from config text, serving on a free loopback port.
pub struct TestGateway {
    server: Server,
    base: String,
    client: reqwest::Client,
    /// The gateway's served OpenAPI document: every answer is checked against it.
    openapi: serde_json::Value,
}

#[derive(Debug, Clone)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: serde_json::Value,
    pub text: String,
}

impl ApiResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }

    /// The problem `code`, for error responses.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

impl TestGateway {
    /// `config_toml` is a whole config; `[server] listen` defaults to a free port here.
    pub async fn start(config_toml: &str) -> TestGateway {
        let mut text = if config_toml.contains("[server]") {
            config_toml.to_string()
        } else {
            format!("[server]\nlisten = \"127.0.0.1:0\"\n\n{config_toml}")
        };
        if !text.contains("[storage]") {
            text.push_str(&format!("\n[storage]\nurl = \"{}\"\n", temp_database()));
        }
        let config =
            Config::from_toml_str(&text).unwrap_or_else(|e| panic!("test config is invalid: {e}"));
        let server = Server::start(config)
            .await
            .unwrap_or_else(|e| panic!("gateway starts: {e}"));
        let base = format!("http://{}", server.addr());
        let client = reqwest::Client::new();
        let openapi = client
            .get(format!("{base}/openapi.json"))
            .send()
            .await
            .expect("gateway answers")
            .json()
            .await
            .expect("the OpenAPI document is JSON");
        TestGateway {
            server,
            base,
            client,
            openapi,
        }
    }

    /// `GET /metrics` of a separate metrics listener (`[metrics] listen`).
    pub fn metrics_url(&self) -> Option<String> {
        self.server
            .metrics_addr()
            .map(|addr| format!("http://{addr}/metrics"))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> ApiResponse {
        self.read(
            "GET",
            self.client
                .get(self.url(path))
                .send()
                .await
                .expect("gateway answers"),
        )
        .await
    }

    /// A GET with extra headers (e.g. `Cache-Control: no-cache`).
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> ApiResponse {
        let mut req = self.client.get(self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.read("GET", req.send().await.expect("gateway answers"))
            .await
    }

    /// A JSON POST; creates get a fresh `Idempotency-Key` (use `post_with` to choose one).
    pub async fn post(&self, path: &str, body: serde_json::Value) -> ApiResponse {
        let key = unique("test-key");
        self.post_with(path, body, &[("idempotency-key", &key)])
            .await
    }

    pub async fn post_with(
        &self,
        path: &str,
        body: serde_json::Value,
        headers: &[(&str, &str)],
    ) -> ApiResponse {
        let mut req = self.client.post(self.url(path)).json(&body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.read("POST", req.send().await.expect("gateway answers"))
            .await
    }

    /// A POST with any bytes and content type, for malformed-input tests.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> ApiResponse {
        let req = self
            .client
            .post(self.url(path))
            .header("content-type", content_type)
            .header("idempotency-key", unique("test-key"))
            .body(body);
        self.read("POST", req.send().await.expect("gateway answers"))
            .await
    }

    /// A request to build (bearer keys, bodies of any type) for `send`.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// Sends a request built with `request`, checking the answer like every other here.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> ApiResponse {
        let request = request.build().expect("a valid request");
        let method = request.method().to_string();
        let response = self.client.execute(request).await.expect("gateway answers");
        self.read(&method, response).await
    }

    /// The gateway's ledger, for tests that take its database away.
    pub fn storage(&self) -> &refund_gateway::storage::Storage {
        self.server.storage()
    }

    pub async fn shutdown(self) {
        self.server.shutdown().await
    }

    /// Reads an answer, checking it against the served OpenAPI document first.
    async fn read(&self, method: &str, response: reqwest::Response) -> ApiResponse {
        let path = response.url().path().to_string();
        let answer = read(response).await;
        if let Some(why) = contract_check::undocumented(
            &self.openapi,
            method,
            &path,
            answer.status,
            &answer.headers,
            &answer.body,
        ) {
            panic!("{why}\n{}", answer.text);
        }
        answer
    }
}

/// Reads an answer whole (its body as JSON when it is JSON).
pub(crate) async fn read(response: reqwest::Response) -> ApiResponse {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body reads");
    let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    ApiResponse {
        status,
        headers,
        body,
        text,
    }
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// This test process, among every run on this machine: its id and when it started. A
/// process id alone comes back (ledger files and PostgreSQL databases of earlier runs
/// stay behind, and an old one holding fixed idempotency keys would answer replays).
fn run_id() -> &'static str {
    static RUN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    RUN.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        format!("{}-{:x}", std::process::id(), nanos % (1 << 40))
    })
}

/// A name no other call in this test process, nor any earlier run, gets.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}",
        run_id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("refund-gateway-tests-{}", run_id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Fresh ledger databases to run a test against: SQLite and PostgreSQL, always.
pub async fn ledger_databases() -> Vec<String> {
    vec![temp_database(), postgres_database(&postgres_admin()).await]
}

/// The PostgreSQL test server's admin URL: `REFUND_GATEWAY_TEST_POSTGRES` (`./tests.sh`
/// sets it), else the server `.ci/postgres.sh` starts (installing it when missing). A test
/// that needs PostgreSQL fails without it; it never skips.
pub fn postgres_admin() -> String {
    static ADMIN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ADMIN
        .get_or_init(|| {
            if let Ok(admin) = std::env::var("REFUND_GATEWAY_TEST_POSTGRES") {
                return admin;
            }
            let out = std::process::Command::new("bash")
                .arg(repo_path(".ci/postgres.sh"))
                .output()
                .expect(".ci/postgres.sh runs");
            let text = String::from_utf8_lossy(&out.stdout);
            text.trim()
                .strip_prefix("export REFUND_GATEWAY_TEST_POSTGRES=")
                .unwrap_or_else(|| panic!("no PostgreSQL test server: {text}"))
                .to_string()
        })
        .clone()
}

/// A new, empty PostgreSQL database on the server of `admin`.
pub async fn postgres_database(admin: &str) -> String {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let name = unique("rg_test").replace('-', "_");
    let mut conn = sqlx::AnyConnection::connect(admin)
        .await
        .expect("PostgreSQL test server reachable");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("test database created");
    let mut url = url::Url::parse(admin).expect("admin URL");
    url.set_path(&name);
    url.to_string()
}

/// Adds a `[storage]` section using `database` to a config.
pub fn with_storage(config: &str, database: &str) -> String {
    format!("{config}\n[storage]\nurl = \"{database}\"\n")
}

/// A fresh SQLite ledger file URL.
pub fn temp_database() -> String {
    format!(
        "sqlite://{}",
        temp_dir()
            .join(format!("{}.db", unique("ledger")))
            .display()
    )
}

/// A problem+json answer with this status and code.
pub fn assert_problem(r: &ApiResponse, status: u16, code: &str) {
    assert_eq!((r.status, r.code()), (status, code), "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
}

/// A create whose vendor call may have been applied: 202 with the refund in status
/// `unknown`, the reason's `code`, and (where the vendor answered) its HTTP status.
pub fn assert_unknown_outcome(r: &ApiResponse, code: &str, vendor_status: Option<u16>) {
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.body["status"], "unknown", "{}", r.text);
    assert!(
        r.body["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("rfg_")),
        "{}",
        r.text
    );
    let reason = &r.body["status_reason"];
    assert_eq!(reason["code"], code, "{}", r.text);
    assert_eq!(
        reason["vendor_status"].as_u64(),
        vendor_status.map(u64::from),
        "{}",
        r.text
    );
}

/// Writes a secret to a fresh file and returns its path, for `{ file = "<path>" }`.
pub fn secret_file(value: &str) -> String {
    let path = temp_dir().join(unique("secret"));
    std::fs::write(&path, value).expect("secret file written");
    path.display().to_string()
}
