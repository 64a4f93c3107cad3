//! The `refund-gateway` binary: logging, then the CLI.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// mimalloc: the request path allocates many small, short-lived buffers (headers, query
/// parameters, cache keys), which it serves faster than the system allocator, with less
/// contention between the runtime's threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    refund_gateway::cli::run(refund_gateway::cli::Cli::parse()).await
}
