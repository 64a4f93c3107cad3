//! The command line: `serve` (default), `record`, `check-config`, `replay`, `sandbox`,
//! `migrate`, `fixtures verify`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::app::{self, Server};
use crate::config::{self, Config};
use crate::replay::{ReplayServer, Reuse};
use refund_provider::fixture::HeaderMatch;

mod args;

pub use args::{Cli, Command, FixturesCommand};

pub async fn run(cli: Cli) -> ExitCode {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&cli.config, None).await,
        Command::Record { out, instances } => match crate::record::Recorder::new(&out) {
            Ok(recorder) => {
                let recorder = recorder.only(instances);
                // On stderr: stdout's first line stays the address, as for `serve`.
                eprintln!("recording vendor exchanges into {}", out.display());
                serve(&cli.config, Some(recorder)).await
            }
            Err(e) => fail(&format!("cannot create {}: {e}", out.display())),
        },
        Command::CheckConfig => check_config(&cli.config).await,
        Command::Replay {
            fixtures,
            listen,
            once,
            headers,
        } => {
            let headers = if headers == "strict" {
                HeaderMatch::Strict
            } else {
                HeaderMatch::Loose
            };
            replay(
                fixtures,
                listen,
                if once { Reuse::Once } else { Reuse::Always },
                headers,
            )
            .await
        }
        Command::Sandbox {
            instance,
            listen,
            log,
        } => sandbox(&cli.config, &instance, listen, log).await,
        Command::Migrate => migrate(&cli.config).await,
        Command::Fixtures {
            command:
                FixturesCommand::Verify {
                    instance,
                    dir,
                    allow_writes,
                    update,
                    noise,
                },
        } => {
            let options = crate::fixtures::verify::Options {
                instance,
                dir,
                allow_writes,
                update,
                noise,
            };
            verify(&cli.config, &options).await
        }
    }
}

async fn serve(path: &std::path::Path, record: Option<crate::record::Recorder>) -> ExitCode {
    let config = match Config::load(path) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    let server = match Server::start_recording(config, record).await {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    tracing::info!(addr = %server.addr(), "refund-gateway listening");
    println!("refund-gateway listening on http://{}", server.addr());
    shutdown_signal().await;
    tracing::info!("shutting down");
    server.shutdown().await;
    ExitCode::SUCCESS
}

async fn check_config(path: &std::path::Path) -> ExitCode {
    let config = match Config::load(path) {
        Ok(c) => c,
        Err(first) => {
            let (mut all, specs) = config::every_error(path);
            all.extend(app::check_instances(&specs).await);
            return fail_all(first, all);
        }
    };
    match app::check(&config).await {
        Ok(instances) => {
            println!(
                "{}: ok, {} provider instance(s)",
                config.origin,
                instances.len()
            );
            for i in instances.iter() {
                let c = i.provider.capabilities();
                let mut can = Vec::new();
                for (on, name) in [
                    (c.create, "create"),
                    (c.get, "get"),
                    (c.list, "list"),
                    (c.partial_amounts, "partial"),
                    (c.bulk, "bulk"),
                ] {
                    if on {
                        can.push(name);
                    }
                }
                let currencies: Vec<&str> = c.currencies.iter().map(|c| c.code()).collect();
                println!(
                    "  {} ({}{}): {} [{}]",
                    i.name,
                    i.kind,
                    if i.sandbox { ", sandbox" } else { "" },
                    can.join(", "),
                    currencies.join(", ")
                );
            }
            if let Some(c) = &config.coordination {
                println!(
                    "  coordination: Redis at {} answers; limits shared by {} gateway(s), on_unavailable = {:?}",
                    c.describe_url(),
                    c.expected_gateways,
                    c.on_unavailable
                );
            }
            ExitCode::SUCCESS
        }
        Err(first) => fail_all(first, app::check_each(&config).await),
    }
}

/// Reports every error found (`first` is the one the start would stop at; it is among the
/// others when the full check found it too).
fn fail_all(first: config::ConfigError, mut all: Vec<config::ConfigError>) -> ExitCode {
    if !all.contains(&first) {
        all.insert(0, first);
    }
    for error in &all {
        eprintln!("error: {error}");
    }
    if all.len() > 1 {
        eprintln!("{} errors", all.len());
    }
    ExitCode::FAILURE
}

async fn replay(
    paths: Vec<PathBuf>,
    listen: SocketAddr,
    reuse: Reuse,
    headers: HeaderMatch,
) -> ExitCode {
    let mut files = Vec::new();
    for path in paths {
        // A folder: its fixtures and those of the instance folders `record` writes.
        match crate::record::recorded_files(&path) {
            Ok(found) => files.extend(found),
            Err(_) => files.push(path),
        }
    }
    let fixtures = match ReplayServer::load(&files) {
        Ok(f) => f,
        Err(e) => return fail(&e),
    };
    let count = fixtures.len();
    let server = match ReplayServer::start_with_headers(listen, fixtures, reuse, headers).await {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    println!("replaying {count} fixture(s) on {}", server.base_url());
    shutdown_signal().await;
    for mismatch in server.mismatches() {
        eprintln!("{mismatch}");
    }
    ExitCode::SUCCESS
}

async fn sandbox(
    path: &std::path::Path,
    instance: &str,
    listen: SocketAddr,
    log: Option<PathBuf>,
) -> ExitCode {
    let config = match Config::load(path) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    let Some(spec) = config
        .providers
        .iter()
        .find(|p| p.name.as_str() == instance)
    else {
        return fail(&format!(
            "{}: no provider instance `{instance}`",
            config.origin
        ));
    };
    let sandbox = match crate::instances::sandbox_of(spec) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    let log = match log
        .map(|p| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
        })
        .transpose()
    {
        Ok(file) => file.map(std::sync::Mutex::new),
        Err(e) => return fail(&e),
    };
    let observer: crate::sandbox_host::Observer = std::sync::Arc::new(move |request, response| {
        if let Some(file) = &log {
            use std::io::Write;
            let line = serde_json::json!({
                "at_ms": chrono::Utc::now().timestamp_millis(),
                "method": request.method.as_str(),
                "path": request.path,
                "status": response.status,
            });
            if let Ok(mut f) = file.lock() {
                let _ = writeln!(f, "{line}");
            }
        }
    });
    let server = match crate::sandbox_host::serve_observed(listen, sandbox, observer).await {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    println!(
        "sandbox for `{instance}` listening on {}",
        server.base_url()
    );
    shutdown_signal().await;
    ExitCode::SUCCESS
}

/// Exit codes: 0 no drift, 1 drift, 2 a fixture or the run could not be checked.
async fn verify(path: &std::path::Path, options: &crate::fixtures::verify::Options) -> ExitCode {
    let unchecked = |e: &dyn std::fmt::Display| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    };
    let config = match Config::load(path) {
        Ok(c) => c,
        Err(e) => return unchecked(&e),
    };
    match crate::fixtures::verify::run(&config, options).await {
        Ok(report) => {
            print!("{}", report.table());
            for warning in &report.warnings {
                eprintln!("warning: {warning}");
            }
            ExitCode::from(report.exit_code())
        }
        Err(e) => unchecked(&e),
    }
}

async fn migrate(path: &std::path::Path) -> ExitCode {
    let config = match Config::load(path) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    match crate::storage::Storage::migrate(&config.storage.url).await {
        Ok(()) => {
            println!("{}: ledger migrated", config.storage.redacted_url());
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!(
            "cannot migrate the ledger at {}: {e}",
            config.storage.redacted_url()
        )),
    }
}

fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::FAILURE
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
