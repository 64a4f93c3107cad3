//! Redis for the tests of gateways sharing budgets: the shared server `.ci/redis.sh`
//! starts (`REFUND_GATEWAY_TEST_REDIS`), else one started here for this test process, and
//! private servers for tests that stop Redis midway. Tests namespace their keys with a
//! unique `key_prefix`, so parallel tests never share a budget.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A `redis-server` child on a free loopback port; killed when dropped.
pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    /// Serving TLS only (`start_tls`): the URL is `rediss://`.
    tls: bool,
}

impl RedisServer {
    pub fn start() -> RedisServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut server = RedisServer {
            child: None,
            port,
            tls: false,
        };
        server.restart(&[]);
        server
    }

    /// A server speaking TLS only (no plaintext port), with the certificate and key of
    /// `certs` (`TestCertificates`); clients are not asked for certificates.
    pub fn start_tls(certs: &TestCertificates) -> RedisServer {
        let mut server = RedisServer::start();
        server.stop();
        server.tls = true;
        let (cert, key) = (certs.server_cert(), certs.server_key());
        server.restart(&[
            "--tls-cert-file",
            &cert,
            "--tls-key-file",
            &key,
            "--tls-ca-cert-file",
            &certs.ca(),
            "--tls-auth-clients",
            "no",
        ]);
        server
    }

    /// A server that wants this password (`requirepass`).
    pub fn start_with_password(password: &str) -> RedisServer {
        let mut server = RedisServer::start();
        server.stop();
        server.restart(&["--requirepass", password]);
        server
    }

    /// (Re)starts the server on its port, empty.
    pub fn restart(&mut self, args: &[&str]) {
        let port = self.port.to_string();
        let ports: [&str; 4] = if self.tls {
            ["--port", "0", "--tls-port", &port]
        } else {
            ["--port", &port, "--tls-port", "0"]
        };
        let port = self.port;
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1"])
            .args(ports)
            .args(["--save", "", "--appendonly", "no"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs (bash .ci/redis.sh installs it)");
        self.child = Some(child);
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self) -> String {
        let scheme = if self.tls { "rediss" } else { "redis" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// SIGKILL: Redis is gone, as in a crash.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The Redis every test may share (keys namespaced per test).
pub fn shared_url() -> String {
    static OWN: OnceLock<RedisServer> = OnceLock::new();
    match std::env::var("REFUND_GATEWAY_TEST_REDIS") {
        Ok(url) => url,
        Err(_) => OWN.get_or_init(RedisServer::start).url(),
    }
}

/// A `[coordination]` section on `url` with a key prefix of its own.
pub fn coordination(url: &str, expected_gateways: u32, extra: &str) -> String {
    format!(
        "[coordination]\nredis = {{ url = \"{url}\" }}\nexpected_gateways = {expected_gateways}\n\
         key_prefix = \"{}\"\n{extra}\n",
        super::unique("rg-test")
    )
}

/// A command to Redis, its answer as text.
pub fn command(url: &str, args: &[&str]) -> redis::Value {
    let mut conn = redis::Client::open(url)
        .and_then(|c| c.get_connection())
        .expect("Redis reachable");
    let mut cmd = redis::cmd(args[0]);
    for arg in &args[1..] {
        cmd.arg(*arg);
    }
    cmd.query(&mut conn).expect("Redis answers")
}

/// A CA and a server certificate it signed for 127.0.0.1 (and one more, unrelated CA), made
/// with the `openssl` command (`.ci/redis.sh` installs it) in a directory of their own.
pub struct TestCertificates {
    dir: std::path::PathBuf,
}

impl Drop for TestCertificates {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl TestCertificates {
    pub fn generate() -> TestCertificates {
        let dir = std::env::temp_dir().join(super::unique("refund-gateway-tls"));
        std::fs::create_dir_all(&dir).expect("a directory for the certificates");
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(&dir)
                .output()
                .expect("openssl runs (bash .ci/redis.sh installs it)");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        for ca in ["ca", "other-ca"] {
            let (key, crt, subject) = (
                format!("{ca}.key"),
                format!("{ca}.crt"),
                format!("/CN=refund-gateway test {ca}"),
            );
            let mut args = vec!["req", "-x509", "-days", "2", "-subj", &subject];
            args.extend(ec);
            args.extend(["-keyout", &key, "-out", &crt]);
            args.extend(["-addext", "basicConstraints=critical,CA:TRUE"]);
            args.extend(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
            openssl(&args);
        }
        let mut request = vec!["req", "-new", "-subj", "/CN=127.0.0.1"];
        request.extend(ec);
        request.extend(["-keyout", "server.key", "-out", "server.csr"]);
        openssl(&request);
        std::fs::write(
            dir.join("server.ext"),
            "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
        )
        .unwrap();
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.crt",
        ]);
        TestCertificates { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    /// The CA that signed the server's certificate (PEM file).
    pub fn ca(&self) -> String {
        self.path("ca.crt")
    }

    /// A CA that signed nothing the server has.
    pub fn other_ca(&self) -> String {
        self.path("other-ca.crt")
    }

    pub fn server_cert(&self) -> String {
        self.path("server.crt")
    }

    pub fn server_key(&self) -> String {
        self.path("server.key")
    }
}
