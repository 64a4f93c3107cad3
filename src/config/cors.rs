//! `[server] cors_origins`: the browser origins allowed to call the API across origins.

use serde::{Deserialize, Deserializer};

/// One allowed origin, exactly as browsers send it in `Origin`: `scheme://host[:port]`,
/// no path, no trailing slash, no wildcard (the API takes credentials, so `*` is never
/// right).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsOrigin(String);

impl CorsOrigin {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for CorsOrigin {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let url = url::Url::parse(&text).map_err(|e| {
            serde::de::Error::custom(format!(
                "`{text}` is not an origin (scheme://host[:port]): {e}"
            ))
        })?;
        let origin = url.origin().ascii_serialization();
        if !matches!(url.scheme(), "http" | "https") || origin != text {
            return Err(serde::de::Error::custom(format!(
                "`{text}` is not an origin: write it as `{origin}` (scheme://host[:port], no path)"
            )));
        }
        Ok(CorsOrigin(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<CorsOrigin, serde_json::Error> {
        serde_json::from_value(serde_json::Value::String(text.into()))
    }

    #[test]
    fn origins_are_read_as_browsers_send_them() {
        assert_eq!(
            parse("https://app.example.com").unwrap().as_str(),
            "https://app.example.com"
        );
        assert!(parse("http://127.0.0.1:3000").is_ok());
        for bad in [
            "*",
            "https://app.example.com/",
            "https://a.example/x",
            "app.example",
            "ftp://a.example",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
