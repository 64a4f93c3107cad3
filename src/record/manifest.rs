//! The manifest of a recorded instance folder (`<out>/<instance>/contract.toml`), so the
//! shared contract suite runs on it as it is: the instance's kind and vendor settings, with
//! every secret reference replaced by a `{ secret = "recorded-..." }` placeholder (the
//! recorded requests match credentials by shape, so any value of that shape replays), and
//! `[recorded]`, which tells the suite to replay the recorded cases and derive the faults.
//! A sandbox instance gets the placeholders its vendor crate declares for the credentials
//! the sandbox used in place of configured ones.

use std::path::Path;

use refund_provider::contract::recorded::{toml_key, toml_value, MANIFEST};
use refund_provider::SecretRef;
use serde_json::{json, Map, Value};

use crate::config::InstanceSpec;

/// Writes the manifest of `spec`'s recordings into `folder`.
pub fn write(folder: &Path, spec: &InstanceSpec, kind: &str) -> std::io::Result<()> {
    let settings: Value = spec
        .vendor_settings
        .deserialize()
        .unwrap_or_else(|_| Value::Object(Map::new()));
    let mut instance = Map::new();
    instance.insert("kind".into(), json!(kind));
    if let Value::Object(settings) = placeholders(&settings, "") {
        instance.extend(settings);
    }
    if spec.common.sandbox {
        for (key, text) in crate::fixtures::defaults(kind).contract.sandbox_credentials {
            if let (false, Ok(value)) = (
                instance.contains_key(*key),
                serde_json::from_str::<Value>(text),
            ) {
                instance.insert(key.to_string(), value);
            }
        }
    }
    let mut text = format!(
        "# Written by `refund-gateway record`: the shared contract suite replays the recorded\n\
         # cases (cases/) and plays its faults from them (README, \"Contract testing with your\n\
         # own vendor account\"). Credentials are placeholders: the recordings match them by shape.\n\
         description = {}\n\n[instance]\n",
        toml_key(&format!(
            "Recorded from instance `{}` ({kind}) by `refund-gateway record`",
            spec.name
        ))
    );
    for (key, value) in &instance {
        let value = toml_value(value).map_err(std::io::Error::other)?;
        text.push_str(&format!("{} = {value}\n", toml_key(key)));
    }
    text.push_str("\n[recorded]\ncases = \"cases\"\n");
    std::fs::create_dir_all(folder)?;
    std::fs::write(folder.join(MANIFEST), text)
}

/// `settings` with each secret reference (`{ file = .. }`, `{ env = .. }`) replaced by a
/// placeholder named after its key.
fn placeholders(value: &Value, at: &str) -> Value {
    match value {
        Value::Object(map)
            if map.len() == 1 && serde_json::from_value::<SecretRef>(value.clone()).is_ok() =>
        {
            json!({ "secret": format!("recorded-{at}-0123456789") })
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let at = if at.is_empty() {
                        k.replace('_', "-")
                    } else {
                        format!("{at}-{}", k.replace('_', "-"))
                    };
                    (k.clone(), placeholders(v, &at))
                })
                .collect(),
        ),
        other => other.clone(),
    }
}
