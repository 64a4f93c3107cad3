//! The provider instance a manifest describes, as the gateway config of one case.

use refund_provider::contract::recorded::{toml_key, toml_value};
use refund_provider::{Capabilities, InstanceName};
use serde_json::{json, Value};

use super::USUAL_TIMEOUT;
use crate::support::{secret_file, ReplayVendor, TestGateway};

/// The provider instance a manifest describes, as gateway config.
pub(crate) struct Instance {
    pub(crate) name: InstanceName,
    /// `key = value` lines of `[providers.<name>]`, secrets already in files.
    settings: String,
    /// The (fake) secret values, which no answer may show.
    pub(crate) secrets: Vec<String>,
}

impl Instance {
    pub(crate) fn new(
        folder: &str,
        table: &serde_json::Map<String, Value>,
    ) -> Result<Instance, String> {
        let name = InstanceName::new(folder)
            .map_err(|e| format!("the folder name is the instance name: {e}"))?;
        let mut settings = String::new();
        let mut secrets = Vec::new();
        for (key, value) in table {
            if ["base_url", "timeout", "connect_timeout", "sandbox"].contains(&key.as_str()) {
                return Err(format!(
                    "[instance] must not set `{key}`: the suite sets it for each case"
                ));
            }
            settings.push_str(&format!(
                "{} = {}\n",
                toml_key(key),
                toml_value(&with_secret_files(value, &mut secrets))?
            ));
        }
        Ok(Instance {
            name,
            settings,
            secrets,
        })
    }

    pub(crate) fn config(&self, base_url: &str, timeout: &str) -> String {
        format!(
            "[providers.{name}]\n{settings}base_url = \"{base_url}\"\ntimeout = \"{timeout}\"\n\
             connect_timeout = \"1s\"\n\n\
             # Unknown outcomes stay as answered: no background lookup during the case.\n\
             [reconcile]\ninterval = \"1h\"\n",
            name = self.name,
            settings = self.settings,
        )
    }

    /// What the provider can do, as the gateway reports it.
    pub(crate) async fn capabilities(&self) -> Capabilities {
        let vendor = ReplayVendor::start(&[]).await;
        let gw = TestGateway::start(&self.config(&vendor.base_url(), USUAL_TIMEOUT)).await;
        let r = gw.get("/v1/providers").await;
        gw.shutdown().await;
        let caps = &r.body["data"][0]["capabilities"];
        let flag = |k: &str| caps[k].as_bool().unwrap_or(false);
        Capabilities {
            create: flag("create"),
            get: flag("get"),
            list: flag("list"),
            quote: flag("quote"),
            ..Capabilities::none()
        }
    }
}

/// `{ secret = "<value>" }` becomes `{ file = "<a file holding value>" }`; the values are
/// kept in `secrets`.
fn with_secret_files(value: &Value, secrets: &mut Vec<String>) -> Value {
    match value {
        Value::Object(map) if map.len() == 1 && map.get("secret").is_some_and(Value::is_string) => {
            let secret = map["secret"].as_str().unwrap_or_default();
            secrets.push(secret.to_string());
            json!({ "file": secret_file(secret) })
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), with_secret_files(v, secrets)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| with_secret_files(v, secrets))
                .collect(),
        ),
        other => other.clone(),
    }
}
