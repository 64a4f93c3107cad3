//! The command line's words: every subcommand and option, as clap parses them.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config;

#[derive(Parser)]
#[command(
    name = "refund-gateway",
    version,
    about = "One refund API in front of ticketing vendors"
)]
pub struct Cli {
    /// Config file (TOML). Environment variables REFUND_GATEWAY__SECTION__KEY override it.
    #[arg(long, global = true, default_value_os_t = config::default_path())]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the gateway (the default).
    Serve,
    /// Load and validate a config, print its provider instances and their capabilities.
    CheckConfig,
    /// Serve one instance's vendor sandbox alone (for load tests and demos), logging every
    /// request it answers as a JSON line.
    Sandbox {
        /// A provider instance of the config (its vendor's sandbox is served).
        #[arg(long)]
        instance: String,
        #[arg(long, default_value = "127.0.0.1:9901")]
        listen: SocketAddr,
        /// Append `{"at_ms", "method", "path", "status"}` lines here.
        #[arg(long)]
        log: Option<PathBuf>,
    },
    /// Run the gateway as `serve` does, writing every vendor exchange as a redacted fixture
    /// into `--out` (replay them with `replay --once DIR`).
    Record {
        /// The folder for the recorded fixtures (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Record only this instance (repeatable); default: every instance.
        #[arg(long = "instance")]
        instances: Vec<String>,
    },
    /// Run the ledger's database migrations and exit.
    Migrate,
    /// Work with recorded fixtures (`fixtures verify`).
    Fixtures {
        #[command(subcommand)]
        command: FixturesCommand,
    },
    /// Serve recorded fixtures as a stand-in vendor, for exploring or for another client's tests.
    Replay {
        /// Fixture files or folders of them (none: load them with `POST /__replay/fixtures`).
        fixtures: Vec<PathBuf>,
        #[arg(long, default_value = "127.0.0.1:9900")]
        listen: SocketAddr,
        /// Each fixture answers once, in load order: several fixtures for the same request are
        /// a scenario, answered one after the other (`POST /__replay/reset` re-arms them).
        /// Without it every fixture answers any number of times.
        #[arg(long)]
        once: bool,
        /// `loose`: only the headers a fixture names must match; `strict`: the request may
        /// carry no other header either. A fixture's own `header_match` wins.
        #[arg(long, default_value = "loose", value_parser = ["loose", "strict"])]
        headers: String,
    },
}

#[derive(Subcommand)]
pub enum FixturesCommand {
    /// Send each fixture's recorded request to the instance's vendor again and compare the
    /// answers: status, content type, JSON shape (noise fields ignored). Prints a table;
    /// exits 1 on drift, 2 when a fixture could not be checked.
    Verify {
        /// The provider instance of the config to send the requests to.
        #[arg(long)]
        instance: String,
        /// The folder of fixtures (`*.json`).
        dir: PathBuf,
        /// Also send requests that may write (for a vendor test account).
        #[arg(long)]
        allow_writes: bool,
        /// Rewrite each drifted fixture's answer with the live one, redacted as `record` does.
        #[arg(long)]
        update: bool,
        /// Another answer field to ignore: a JSON pointer, `*` for any index (repeatable).
        #[arg(long = "noise")]
        noise: Vec<String>,
    },
}
