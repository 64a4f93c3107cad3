//! The cases `refund-gateway record` writes beside its fixtures, so the shared contract
//! suite can run on a user's own recordings: per canonical call the gateway served while
//! recording, the canonical request, the fixtures it caused (in order) and the canonical
//! answer it gave. The suite replays each through a fresh gateway and requires the same
//! answer, so a gateway version that reads the user's real vendor answers differently
//! fails on them.
//!
//! A recorded folder is a vendor folder whose `contract.toml` has `[recorded]` (and an
//! `[instance]` with `{ secret = .. }` placeholders in place of the real credentials); the
//! cases are `<cases>/NNN-<phase>.json`.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::CanonicalRequest;
use crate::fixture_match::json_differences;

/// The file name of a vendor folder's manifest.
pub const MANIFEST: &str = "contract.toml";

/// `[recorded]` of a recorded folder's manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedSection {
    /// The folder (relative to the manifest) holding the recorded cases.
    #[serde(default = "default_cases")]
    pub cases: String,
}

fn default_cases() -> String {
    "cases".to_string()
}

impl Default for RecordedSection {
    fn default() -> Self {
        RecordedSection {
            cases: default_cases(),
        }
    }
}

/// One canonical call as it was recorded.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedCase {
    /// What was called and when; free text.
    pub description: String,
    /// The canonical request, without `provider` (the folder is the instance).
    pub request: CanonicalRequest,
    /// The vendor exchanges it caused, in order: fixture file names without `.json`.
    pub fixtures: Vec<String>,
    /// What the gateway answered.
    pub answer: RecordedAnswer,
}

/// A canonical answer: its status and JSON body, where `"{{any}}"` stands for a value that
/// differs per run (the ledger's ids, times) or that the recording did not keep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedAnswer {
    pub status: u16,
    pub body: Value,
}

impl RecordedAnswer {
    /// Every way `status` and `body` differ from this answer, one line per canonical field
    /// (a JSON pointer); empty when they are the same.
    pub fn differences(&self, status: u16, body: &Value) -> Vec<String> {
        let mut out = Vec::new();
        if status != self.status {
            out.push(format!("  status: recorded {}, got {status}", self.status));
        }
        out.extend(json_differences(&self.body, body));
        out
    }
}

/// The recorded cases of `dir`, by file name (sorted: the order they were recorded in).
pub fn load_cases(dir: &Path) -> Result<Vec<(String, RecordedCase)>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut paths: Vec<_> = entries
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let case: RecordedCase = serde_json::from_str(&text)
                .map_err(|e| format!("{} is malformed: {e}", path.display()))?;
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            Ok((name, case))
        })
        .collect()
}

/// A JSON value as a TOML value (tables inline), for manifests written by the gateway and
/// the suite's gateway configs; TOML has no null.
pub fn toml_value(value: &Value) -> Result<String, String> {
    Ok(match value {
        Value::Null => return Err("TOML cannot hold a null value".into()),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(toml_value)
                .collect::<Result<Vec<_>, _>>()?
                .join(", ")
        ),
        Value::Object(map) => format!(
            "{{ {} }}",
            map.iter()
                .map(|(k, v)| Ok(format!("{} = {}", toml_key(k), toml_value(v)?)))
                .collect::<Result<Vec<_>, String>>()?
                .join(", ")
        ),
    })
}

/// A TOML key, quoted.
pub fn toml_key(key: &str) -> String {
    serde_json::to_string(key).unwrap_or_default()
}
