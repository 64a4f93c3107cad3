//! The gateway as a real process (crash tests, several gateways on one database), a client
//! for it whose every answer is checked against that process's served OpenAPI document (as
//! `TestGateway` checks its own), and a vendor sandbox served from the test process with a
//! request log that survives the gateway.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use refund_gateway::config::Config;
use refund_gateway::loopback::LoopbackServer;
use refund_gateway::sandbox_host::{serve_observed, Observer};

use super::{contract_check, ApiResponse};

/// A gateway child process; killed when dropped.
pub struct GatewayProcess {
    child: Child,
    pub base_url: String,
    /// Its stderr lines, when spawned with `spawn_logged`.
    stderr: Option<CapturedStderr>,
    /// Its checked client, made at the first `client()`.
    checked: tokio::sync::OnceCell<CheckedClient>,
}

/// A child's stderr lines, and the thread that reads them.
type CapturedStderr = (Arc<Mutex<Vec<String>>>, std::thread::JoinHandle<()>);

impl GatewayProcess {
    pub fn spawn(config: &Path) -> GatewayProcess {
        let mut command = Command::new(env!("CARGO_BIN_EXE_refund-gateway"));
        command.args(["serve", "--config"]).arg(config);
        Self::spawn_command(command)
    }

    /// `refund-gateway <args>`, for any command whose first line of output ends with the
    /// address it serves on (`serve`, `record`, `replay`).
    pub fn spawn_args(args: &[&std::ffi::OsStr]) -> GatewayProcess {
        let mut command = Command::new(env!("CARGO_BIN_EXE_refund-gateway"));
        command.args(args);
        Self::spawn_command(command)
    }

    /// A gateway process allowed at most `files` open files (`ulimit -n`).
    pub fn spawn_with_file_limit(config: &Path, files: u32) -> GatewayProcess {
        let mut command = Command::new("bash");
        command
            .arg("-c")
            .arg(format!(
                "ulimit -n {files} && exec \"$0\" serve --config \"$1\""
            ))
            .arg(env!("CARGO_BIN_EXE_refund-gateway"))
            .arg(config);
        Self::spawn_command(command)
    }

    /// A gateway whose stderr is kept (returned by `terminate_logged`), logging with the
    /// filter `rust_log`.
    pub fn spawn_logged(config: &Path, rust_log: &str) -> GatewayProcess {
        let mut command = Command::new(env!("CARGO_BIN_EXE_refund-gateway"));
        command
            .args(["serve", "--config"])
            .arg(config)
            .env("RUST_LOG", rust_log)
            .stderr(Stdio::piped());
        let mut process = Self::spawn_command(command);
        let stderr = process.child.stderr.take().expect("stderr");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        process.stderr = Some((lines, reader));
        process
    }

    /// SIGTERM, waits for the process to stop, and returns every line it wrote to stderr.
    pub fn terminate_logged(mut self) -> Vec<String> {
        let (lines, reader) = self.stderr.take().expect("spawned with spawn_logged");
        self.terminate_in_place();
        reader.join().expect("stderr reader");
        let lines = lines.lock().unwrap().clone();
        lines
    }

    fn spawn_command(mut command: Command) -> GatewayProcess {
        if command.get_envs().all(|(k, _)| k != "RUST_LOG") {
            command.env("RUST_LOG", "warn").stderr(Stdio::inherit());
        }
        let mut child = command
            .stdout(Stdio::piped())
            .spawn()
            .expect("gateway starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("gateway prints its address");
        let base_url = line
            .trim()
            .rsplit(' ')
            .next()
            .unwrap_or_default()
            .to_string();
        assert!(
            base_url.starts_with("http://"),
            "gateway did not start: {line}"
        );
        GatewayProcess {
            child,
            base_url,
            stderr: None,
            checked: tokio::sync::OnceCell::new(),
        }
    }

    /// A client for this gateway checking every answer against the OpenAPI document this
    /// process serves (fetched at the first call, once). It outlives the process, for
    /// requests that a killed gateway leaves unanswered.
    pub async fn client(&self) -> CheckedClient {
        self.checked
            .get_or_init(|| CheckedClient::of(&self.base_url))
            .await
            .clone()
    }

    /// SIGTERM, then waits for the process to stop by itself.
    pub fn terminate(mut self) {
        self.terminate_in_place()
    }

    fn terminate_in_place(&mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let _ = self.child.wait();
    }

    /// SIGKILL: no shutdown of any kind.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A gateway's HTTP client whose answers must be what its document promises: a status its
/// operation documents, only documented headers, and a documented problem `code`.
#[derive(Clone)]
pub struct CheckedClient {
    http: reqwest::Client,
    pub base_url: String,
    openapi: Arc<serde_json::Value>,
}

impl CheckedClient {
    /// The client of the gateway serving at `base_url`, with the document it serves.
    pub async fn of(base_url: &str) -> CheckedClient {
        let http = reqwest::Client::new();
        let openapi = http
            .get(format!("{base_url}/openapi.json"))
            .send()
            .await
            .expect("gateway answers")
            .json()
            .await
            .expect("the OpenAPI document is JSON");
        CheckedClient {
            http,
            base_url: base_url.to_string(),
            openapi: Arc::new(openapi),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The underlying client, to build a request for `send`.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub async fn get(&self, path: &str) -> ApiResponse {
        self.send(self.http.get(self.url(path))).await
    }

    /// A JSON POST.
    pub async fn post(
        &self,
        path: &str,
        body: &serde_json::Value,
        headers: &[(&str, &str)],
    ) -> ApiResponse {
        let mut request = self.http.post(self.url(path)).json(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request).await
    }

    /// Sends a request built from `http()`; panics if the gateway does not answer, or
    /// answers what its document does not promise.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> ApiResponse {
        self.try_send(request).await.expect("gateway answers")
    }

    /// As `send`, for a request the gateway may not answer (a gateway being killed).
    pub async fn try_send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<ApiResponse, reqwest::Error> {
        let request = request.build()?;
        let method = request.method().to_string();
        let path = request.url().path().to_string();
        let answer = super::read(self.http.execute(request).await?).await;
        if let Some(why) = contract_check::undocumented(
            &self.openapi,
            &method,
            &path,
            answer.status,
            &answer.headers,
            &answer.body,
        ) {
            panic!("{why}\n{}", answer.text);
        }
        Ok(answer)
    }
}

/// One request a vendor sandbox answered.
#[derive(Debug, Clone)]
pub struct Logged {
    pub method: String,
    pub path: String,
    /// The query string, where there was one (iVvy names its action there).
    pub query: Option<String>,
    pub status: u16,
    /// When the request reached the vendor (the kernel's receive stamp).
    pub at: Instant,
    /// When this process got round to logging it: later than `at` by however long this
    /// process waited for a core (compared in `tests/cluster/budgets.rs`).
    pub logged_at: Instant,
}

/// A vendor's sandbox served from the test process: it outlives gateway processes.
pub struct VendorSandbox {
    server: LoopbackServer,
    log: Arc<Mutex<Vec<Logged>>>,
}

impl VendorSandbox {
    /// The sandbox of the vendor of `kind` (instance settings in `settings`, TOML).
    pub async fn start(kind: &str, settings: &str) -> VendorSandbox {
        let config = Config::from_toml_str(&format!(
            "[providers.v]\nkind = \"{kind}\"\nsandbox = true\n{settings}\n"
        ))
        .expect("sandbox config");
        let sandbox = refund_gateway::instances::sandbox_of(&config.providers[0])
            .expect("vendor has a sandbox");
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        let observer: Observer = Arc::new(move |request, response| {
            sink.lock().unwrap().push(Logged {
                method: request.method.to_string(),
                path: request.path.clone(),
                query: request.query.clone(),
                status: response.status,
                // When the request reached the vendor (the kernel's stamp), not when this
                // process got round to answering it.
                at: refund_gateway::loopback::arrival().unwrap_or_else(Instant::now),
                logged_at: Instant::now(),
            });
        });
        let server = serve_observed(SocketAddr::from(([127, 0, 0, 1], 0)), sandbox, observer)
            .await
            .expect("sandbox serves");
        VendorSandbox { server, log }
    }

    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    pub fn log(&self) -> Vec<Logged> {
        self.log.lock().unwrap().clone()
    }
}

/// A config file for gateway processes.
pub fn write_config(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("refund-gateway-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{}.toml", super::unique(name)));
    std::fs::write(&path, text).unwrap();
    path
}
