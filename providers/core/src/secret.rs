//! Credentials by reference. Committed TOML names where a secret lives (an environment
//! variable or a file), never the secret; the value is held in `secrecy::SecretString`,
//! whose Debug output is redacted, so it cannot leak through logs or error messages.

use std::path::PathBuf;

use secrecy::SecretString;
use serde::{de, Deserialize, Deserializer};

/// `{ env = "TM_SECRET_KEY" }` or `{ file = "/run/secrets/tm" }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    Env(String),
    File(PathBuf),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretRefTable {
    env: Option<String>,
    file: Option<PathBuf>,
}

impl<'de> Deserialize<'de> for SecretRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Table(SecretRefTable),
            Literal(de::IgnoredAny),
        }
        match Raw::deserialize(d)? {
            Raw::Table(SecretRefTable { env: Some(v), file: None }) => Ok(SecretRef::Env(v)),
            Raw::Table(SecretRefTable { env: None, file: Some(p) }) => Ok(SecretRef::File(p)),
            Raw::Table(_) => Err(de::Error::custom(
                "a secret reference names exactly one of `env` or `file`",
            )),
            Raw::Literal(_) => Err(de::Error::custom(
                "secrets are never written in config: use { env = \"VARIABLE\" } or { file = \"path\" }",
            )),
        }
    }
}

impl SecretRef {
    /// Reads the secret. The error names where it looked, never what it found.
    pub fn resolve(&self) -> Result<SecretString, String> {
        let value = match self {
            SecretRef::Env(var) => std::env::var(var)
                .map_err(|_| format!("environment variable `{var}` is not set"))?,
            SecretRef::File(path) => std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read secret file `{}`: {e}", path.display()))?
                .trim_end_matches(['\n', '\r'])
                .to_string(),
        };
        if value.is_empty() {
            return Err(match self {
                SecretRef::Env(var) => format!("environment variable `{var}` is empty"),
                SecretRef::File(p) => format!("secret file `{}` is empty", p.display()),
            });
        }
        Ok(SecretString::from(value))
    }
}
