//! The `refund-gateway` binary: logging, then the CLI.

use std::process::ExitCode;

use clap::Parser;
use refund_gateway::config::{Config, LogFormat};
use tracing_subscriber::EnvFilter;

/// mimalloc: the request path allocates many small, short-lived buffers (headers, query
/// parameters, cache keys), which it serves faster than the system allocator, with less
/// contention between the runtime's threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = refund_gateway::cli::Cli::parse();
    // The log format is read from the config (a config that does not load is reported by
    // the command itself, in the default format).
    let format = Config::load(&cli.config)
        .map(|c| c.log.format)
        .unwrap_or_default();
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    match format {
        LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_writer(std::io::stderr)
            .init(),
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_env_filter(filter())
            .with_writer(std::io::stderr)
            .init(),
    }
    refund_gateway::cli::run(cli).await
}
