//! The `refund-gateway` binary: logging, then the CLI.

use std::process::ExitCode;

use clap::Parser;
use refund_gateway::config::{Config, LogFormat};
use tracing::Level;
use tracing_subscriber::filter::{filter_fn, FilterExt, Targets};
use tracing_subscriber::prelude::*;
use tracing_subscriber::{fmt, EnvFilter};

/// mimalloc: the request path allocates many small, short-lived buffers (headers, query
/// parameters, cache keys), which it serves faster than the system allocator, with less
/// contention between the runtime's threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = refund_gateway::cli::Cli::parse();
    // The log format and span export are read from the config (a config that does not load
    // is reported by the command itself, in the default format).
    let config = Config::load(&cli.config).ok();
    let format = config.as_ref().map(|c| c.log.format).unwrap_or_default();
    let tracing_config = config.map(|c| c.tracing).unwrap_or_default();
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Exported spans are the gateway's own at `info`, whatever `RUST_LOG` lets into the log;
    // events (the access line, vendor call lines) stay in the log, not copied onto spans.
    let exported = Targets::new()
        .with_target("refund_gateway", Level::INFO)
        .and(filter_fn(|metadata| metadata.is_span()));
    let (otel, exporter) = match refund_gateway::telemetry::otlp_layer(&tracing_config) {
        Ok(Some((layer, exporter))) => (Some(layer.with_filter(exported)), Some(exporter)),
        Ok(None) => (None, None),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    // A macro, not a closure: each arm's layer is typed by the stack it joins.
    macro_rules! text {
        () => {
            fmt::layer().with_writer(std::io::stderr)
        };
    }
    let registry = tracing_subscriber::registry();
    // Without export the log's filter is global, so spans and events it leaves out are
    // never built (per-layer filters would make the registry build every request's span:
    // a quarter of a cached lookup's cost, measured with bench/lookups.sh).
    match (otel, format) {
        (None, LogFormat::Text) => registry.with(filter()).with(text!()).init(),
        (None, LogFormat::Json) => registry
            .with(filter())
            .with(text!().json().flatten_event(true))
            .init(),
        (Some(otel), LogFormat::Text) => registry
            .with(otel)
            .with(text!().with_filter(filter()))
            .init(),
        (Some(otel), LogFormat::Json) => registry
            .with(otel)
            .with(text!().json().flatten_event(true).with_filter(filter()))
            .init(),
    }
    let code = refund_gateway::cli::run(cli).await;
    if let Some(exporter) = exporter {
        tokio::task::block_in_place(|| exporter.shutdown());
    }
    code
}
