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
    let (text, json) = match format {
        LogFormat::Text => (Some(fmt::layer().with_writer(std::io::stderr)), None),
        LogFormat::Json => (
            None,
            Some(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_writer(std::io::stderr),
            ),
        ),
    };
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
    tracing_subscriber::registry()
        .with(otel)
        .with(text.with_filter(filter()))
        .with(json.with_filter(filter()))
        .init();
    let code = refund_gateway::cli::run(cli).await;
    if let Some(exporter) = exporter {
        tokio::task::block_in_place(|| exporter.shutdown());
    }
    code
}
