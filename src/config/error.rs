//! Config errors name the file, the key and the reason, so an operator can fix the line
//! without reading code.

/// A config problem: where (file or environment), which key, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {}{message}", if key.is_empty() { String::new() } else { format!("{key}: ") })]
pub struct ConfigError {
    pub origin: String,
    pub key: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(
        origin: impl Into<String>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ConfigError {
            origin: origin.into(),
            key: key.into(),
            message: message.into(),
        }
    }

    /// Converts a figment error, prefixing `prefix` (e.g. `providers.tm`) to its key path.
    pub fn from_figment(origin: &str, prefix: &str, error: figment::Error) -> Self {
        let mut path: Vec<String> = Vec::new();
        if !prefix.is_empty() {
            path.push(prefix.to_string());
        }
        path.extend(error.path.iter().cloned());
        let origin = match error.metadata.as_ref().and_then(|m| m.source.as_ref()) {
            Some(figment::Source::File(p)) => p.display().to_string(),
            Some(figment::Source::Custom(c)) => c.clone(),
            _ if error
                .metadata
                .as_ref()
                .is_some_and(|m| m.name.contains("environment")) =>
            {
                "environment".to_string()
            }
            _ => origin.to_string(),
        };
        ConfigError::new(origin, path.join("."), error.kind.to_string())
    }
}
