//! Query-string parameters: known names only, each at most once unless it is a list.

use super::problem::ApiError;

pub struct Params(Vec<(String, String)>);

impl Params {
    /// Parses a query string, refusing parameters not in `known`.
    pub fn parse(query: Option<&str>, known: &[&str]) -> Result<Params, ApiError> {
        let params: Vec<(String, String)> =
            url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .into_owned()
                .collect();
        if let Some((name, _)) = params
            .iter()
            .find(|(k, v)| k.chars().chain(v.chars()).any(char::is_control))
        {
            return Err(ApiError::parameter(
                name.chars().filter(|c| !c.is_control()).collect::<String>(),
                "query parameters may not contain control characters",
            ));
        }
        if let Some((name, _)) = params.iter().find(|(k, _)| !known.contains(&k.as_str())) {
            return Err(ApiError::parameter(
                name.clone(),
                format!("unknown parameter `{name}`; known: {}", known.join(", ")),
            ));
        }
        Ok(Params(params))
    }

    pub fn single(&self, name: &str) -> Result<Option<String>, ApiError> {
        let mut values = self
            .0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone());
        let first = values.next();
        if values.next().is_some() {
            return Err(ApiError::parameter(
                name,
                format!("`{name}` may be given once"),
            ));
        }
        Ok(first.filter(|v| !v.is_empty()))
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// `include=raw`.
    pub fn include_raw(&self) -> Result<bool, ApiError> {
        match self.single("include")?.as_deref() {
            None => Ok(false),
            Some("raw") => Ok(true),
            Some(other) => Err(ApiError::parameter(
                "include",
                format!("`include` accepts `raw`, not `{other}`"),
            )),
        }
    }

    /// A parameter parsed with `parse`, or a 400 naming it.
    pub fn parsed<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&str) -> Option<T>,
        expected: &str,
    ) -> Result<Option<T>, ApiError> {
        match self.single(name)? {
            None => Ok(None),
            Some(raw) => parse(&raw)
                .map(Some)
                .ok_or_else(|| ApiError::parameter(name, format!("`{name}` must be {expected}"))),
        }
    }
}
