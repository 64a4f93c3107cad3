//! `check-config` reports every error of a config at once, not only the first: each
//! section is read on its own (serde stops at a section's first error, so one per section
//! at worst), each provider instance on its own, unknown top-level sections are named, and
//! the caller then builds each instance alone (`app::check_each`).

use std::collections::BTreeMap;
use std::path::Path;

use figment::providers::{Env, Format, Toml};
use figment::value::Dict;
use figment::{Figment, Provider};
use serde::de::DeserializeOwned;

use super::{
    BatchConfig, ClientConfig, ConfigError, CoordinationConfig, EventsConfig, FixturesConfig,
    IdempotencyConfig, InstanceSpec, LogConfig, MetricsConfig, ReconcileConfig, ServerConfig,
    StorageConfig, TracingConfig, WebhookConfig, ENV_PREFIX,
};

/// The top-level sections a config may have: `RawConfig`'s fields (a test holds the two alike).
const SECTIONS: &[&str] = &[
    "server",
    "storage",
    "idempotency",
    "reconcile",
    "batches",
    "clients",
    "log",
    "metrics",
    "tracing",
    "providers",
    "fixtures",
    "events",
    "webhooks",
    "coordination",
];

/// Every error `Config::load` could stop at, and the provider instances that read (for the
/// caller to build each one: `app::check_instances`).
pub fn every_error(path: &Path) -> (Vec<ConfigError>, Vec<InstanceSpec>) {
    let origin = path.display().to_string();
    let figment = Figment::new()
        .merge(Toml::file_exact(path))
        .merge(Env::prefixed(ENV_PREFIX).split("__"));
    let data = match figment.data() {
        Ok(data) => data,
        Err(e) => return (vec![ConfigError::from_figment(&origin, "", e)], Vec::new()),
    };
    let mut errors = Vec::new();
    for dict in data.values() {
        for key in dict.keys().filter(|k| !SECTIONS.contains(&k.as_str())) {
            errors.push(ConfigError::new(
                &origin,
                key.as_str(),
                format!("unknown section; expected one of {}", SECTIONS.join(", ")),
            ));
        }
    }
    let mut section = |name: &str, check: fn(&Figment, &str) -> Result<(), Box<figment::Error>>| {
        if let Err(e) = check(&figment, name) {
            errors.extend((*e).into_iter().map(|mut e| {
                // An inner extraction's path ends with the section's name: key it as the
                // whole-file load does (`metrics.lisen`).
                if e.path.last().is_some_and(|last| last == name) {
                    e.path.pop();
                }
                e.path.retain(|p| p != name);
                ConfigError::from_figment(&origin, name, e)
            }));
        }
    };
    section("server", read::<ServerConfig>);
    section("storage", read::<StorageConfig>);
    section("idempotency", read::<IdempotencyConfig>);
    section("reconcile", read::<ReconcileConfig>);
    section("batches", read::<BatchConfig>);
    section("clients", read::<Vec<ClientConfig>>);
    section("log", read::<LogConfig>);
    section("metrics", read::<MetricsConfig>);
    section("tracing", read::<TracingConfig>);
    section("fixtures", read::<FixturesConfig>);
    section("events", read::<EventsConfig>);
    section("webhooks", read::<Vec<WebhookConfig>>);
    section("coordination", read::<CoordinationConfig>);
    let mut specs = Vec::new();
    match figment.extract_inner::<BTreeMap<String, Dict>>("providers") {
        Ok(providers) => {
            for (name, dict) in providers {
                match InstanceSpec::parse(&origin, &name, dict) {
                    Ok(spec) => specs.push(spec),
                    Err(e) => errors.push(e),
                }
            }
        }
        Err(e) if e.missing() => {}
        Err(e) => errors.push(ConfigError::from_figment(&origin, "providers", e)),
    }
    (errors, specs)
}

/// Reads one section (absent is its default).
fn read<T: DeserializeOwned>(figment: &Figment, name: &str) -> Result<(), Box<figment::Error>> {
    match figment.extract_inner::<T>(name) {
        Ok(_) => Ok(()),
        Err(e) if e.missing() => Ok(()),
        Err(e) => Err(Box::new(e)),
    }
}

#[cfg(test)]
mod tests {
    use figment::providers::{Format, Toml};
    use figment::Figment;

    /// serde lists a struct's fields when it refuses an unknown one: `SECTIONS` must name
    /// the same, or `check-config` would call a real section unknown (or miss a typo).
    #[test]
    fn the_sections_are_the_fields_of_the_config() {
        let Err(error) =
            Figment::from(Toml::string("not_a_section = 1")).extract::<super::super::RawConfig>()
        else {
            panic!("an unknown section is refused");
        };
        let message = error.to_string();
        // "unknown field: found `x`, expected `one of `server`, `storage`, ...`": the names
        // after "expected", each between backticks.
        let (_, expected) = message
            .split_once("expected")
            .unwrap_or_else(|| panic!("{message}"));
        let mut fields: Vec<&str> = expected
            .split('`')
            .filter(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .collect();
        let mut sections = super::SECTIONS.to_vec();
        fields.sort_unstable();
        sections.sort_unstable();
        assert_eq!(fields, sections, "{message}");
    }
}
